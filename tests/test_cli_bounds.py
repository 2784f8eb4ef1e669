"""Every numeric (and date) option of the command line is bounded: a value out of range is one `Error:` line and
exit 2 before any work, never an unexpected failure (`report kpi --year 99999` was a ValueError deep in the
date arithmetic, `remind list --limit` with 20 digits an OverflowError in the database driver)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cli import run


@pytest.mark.parametrize(("args", "message"), [
    (["report", "kpi", "--year", "99999"], "--year 99999：年份应在 1985 至 2199 之间"),
    (["report", "kpi", "--year", "-3"], "--year：'-3' 不是年份"),
    (["report", "forecast", "--years", "0"], "'--years' 的值无效：应不"),
    (["report", "forecast", "--years", "31"], "'--years' 的值无效：应不"),
    (["remind", "list", "--limit", "99999999999999999999"], "'--limit' 的值无效：应不"),
    (["remind", "list", "--limit", "0"], "'--limit' 的值无效：应不"),
    (["decide", "201710601862.3", "--pay", "--year", "99999"], "'--year' 的值无效：应不大于 30"),
    (["report", "due", "--within", "99999999d"], "--within：99999999d 超过 3660 天"),
    (["report", "due", "--within", "9" * 5000], "超过 3660 天"),
    (["report", "due", "--as-of", "0001-01-01"], "--as-of：0001-01-01 不在 1985—2199 年之间"),
    (["report", "deliveries", "--from", "0001-01-01"], "--from：0001-01-01 不在 1985—2199 年之间"),
    (["status", "review", "--since", "9999-12-31"], "--since：9999-12-31 不在 1985—2199 年之间"),
], ids=lambda v: " ".join(v)[:60] if isinstance(v, list) else None)
def test_an_option_out_of_range_is_a_usage_error(args: list[str], message: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)  # no database: the option is refused before one is opened
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and message in err and err.count("\n") == 1, err
    assert "unexpected failure" not in err and "意外故障" not in err
