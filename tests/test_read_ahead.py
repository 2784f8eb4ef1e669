"""custody.read_ahead: the next chunks are read in a thread while the current one is written."""
from __future__ import annotations

import threading

import pytest

from custody.read_ahead import read_ahead


def test_items_come_in_order_and_all_of_them():
    assert list(read_ahead(iter(range(1000)), depth=2)) == list(range(1000))


def test_the_reader_runs_at_most_depth_items_ahead():
    produced = []

    def items():
        for i in range(10):
            produced.append(i)
            yield i

    ahead = read_ahead(items(), depth=2)
    assert next(ahead) == 0
    threading.Event().wait(0.3)  # let the reader fill what it may
    # Item 0 taken, items 1 and 2 queued, item 3 made and waiting for room: never more.
    assert len(produced) <= 4
    ahead.close()


def test_an_error_in_the_reader_is_raised_at_its_place():
    def items():
        yield 1
        yield 2
        raise ValueError("row 3 unreadable")

    seen = []
    with pytest.raises(ValueError, match="row 3 unreadable"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_consumer_that_stops_early_stops_the_reader_and_closes_its_source():
    closed = threading.Event()

    def items():
        try:
            yield from range(10**9)
        finally:
            closed.set()

    for item in read_ahead(items()):
        if item == 5:
            break
    assert closed.wait(5)
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_a_consumer_that_fails_stops_the_reader():
    def items():
        yield from range(10**9)

    with pytest.raises(RuntimeError):
        for item in read_ahead(items()):
            if item == 3:
                raise RuntimeError("the write failed")
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]
