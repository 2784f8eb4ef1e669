import gc

import pytest

from custody.collector import collector_paused


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_paused_in_the_block_and_as_it_was_after_it(enabled_before):
    (gc.enable if enabled_before else gc.disable)()
    try:
        with collector_paused():
            with collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()


def test_an_error_in_the_block_leaves_the_collector_on():
    gc.enable()
    with pytest.raises(ZeroDivisionError), collector_paused():
        raise ZeroDivisionError
    assert gc.isenabled()
