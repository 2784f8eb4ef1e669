"""`custody init`, `db upgrade`, `pay`, `patent show` and `calendar load` on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cli import run
from custody.domain import PatentType, Reduction
from custody.models import Patent, Payment
from custody.store.db import engine_for

SAMPLE_2027 = Path(__file__).parent / "data" / "calendar-2027-sample.toml"


@pytest.fixture
def cli_db(db_url, monkeypatch, tmp_path):
    """The migrated test database as the CLI's configured database, run from an empty directory."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    monkeypatch.delenv("CUSTODY_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return db_url


@pytest.fixture
def invention(cli_db):
    """Invention 201710601862.3 filed 2017-04-25, granted in year 3, 85 % reduction, paid through year 8."""
    engine = engine_for(cli_db)
    with Session(engine) as session:
        session.add(Patent(application_number="201710601862.3", type=PatentType.INVENTION, title="一种测试装置",
                           owners="示例科技有限公司", filing_date=date(2017, 4, 25), grant_year=3, paid_through=8,
                           reduction=Reduction.R85))
        session.commit()
    engine.dispose()
    return cli_db


def payments(url: str) -> list[tuple[int, str, date]]:
    engine = engine_for(url)
    with Session(engine) as session:
        rows = [(p.year, str(p.amount), p.paid_on) for p in session.exec(select(Payment).order_by(Payment.id))]
    engine.dispose()
    return rows


def test_init_creates_the_database_once_then_says_it_exists(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'custody.sqlite3'}")
    assert run(["init"]) == 0
    assert "(created)" in capsys.readouterr().out
    assert run(["init"]) == 0
    assert "already initialised" in capsys.readouterr().out
    assert run(["db", "upgrade"]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_commands_refuse_an_uninitialised_database(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.sqlite3'}")
    assert run(["patent", "show", "201710601862.3"]) == 1
    assert "custody init" in capsys.readouterr().err


def test_pay_defaults_to_the_amount_due_and_advances_paid_through(invention, capsys):
    # Year 9 due 2025-04-25: 2000 full, 85 % reduction -> 300, paid on time.
    assert run(["pay", "ZL201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert "paid through year 9" in capsys.readouterr().out
    assert payments(invention) == [(9, "300.00", date(2025, 4, 20))]


def test_pay_refuses_a_wrong_amount_and_shows_the_expected_one(invention, capsys):
    # Paid 2025-07-01, in the 10 % band: 300 + 10 % of the full 2000 = 500.
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-07-01", "--amount", "300"]) == 1
    assert "should be 500.00 yuan, not 300.00" in capsys.readouterr().err
    assert payments(invention) == []
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-07-01", "--amount", "¥300",
                "--force"]) == 0
    assert payments(invention) == [(9, "300.00", date(2025, 7, 1))]


def test_a_top_up_is_charged_at_the_band_of_its_own_date(invention, capsys):
    # GL V-9 §2.2.1.3: the late fee is owed at the band of the top-up date, less what was paid before.
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-06-10", "--amount", "300",
                "--force"]) == 0
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-07-01"]) == 0
    assert payments(invention)[-1] == (9, "200.00", date(2025, 7, 1))
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-07-01"]) == 1
    assert "already paid in full" in capsys.readouterr().err


def test_pay_after_the_grace_end_is_refused(invention, capsys):
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-11-03"]) == 1
    assert "lapsed" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["pay", "201710601862.3", "--year", "9", "--amount", "lots"], "is not an amount"),
    (["pay", "201810601862.3", "--year", "9"], "check digit"),
    (["pay", "201710601863.8", "--year", "9"], "no patent 201710601863.8"),
    (["pay", "201710601862.3", "--year", "25", "--paid-on", "2025-01-01"], "outside this patent's fee years"),
], ids=["amount-not-a-number", "bad-check-digit", "unknown-patent", "year-past-expiry"])
def test_pay_bad_input_is_one_error_line(invention, capsys, args, message):
    assert run(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_patent_show_prints_the_stored_patent_and_schedule(invention, capsys):
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-07-01", "--format", "json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["patent"]["title"] == "一种测试装置"
    assert view["state"] == "in_grace"
    assert view["next_due"]["total"] == 500
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-07-01"]) == 0
    assert "一种测试装置" in capsys.readouterr().out


def test_loaded_calendar_makes_a_year_final_for_the_engine(invention, capsys):
    # The fee for year 11 is due 2027-04-25 (a Sunday) -> provisional until the 2027 schedule is loaded.
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert run(["pay", "201710601862.3", "--year", "10", "--paid-on", "2026-04-20"]) == 0
    capsys.readouterr()
    assert run(["patent", "show", "201710601862.3", "--as-of", "2027-01-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["next_due"]["provisional"] is True
    assert run(["calendar", "load", str(SAMPLE_2027)]) == 0
    assert "2027" in capsys.readouterr().out
    assert run(["patent", "show", "201710601862.3", "--as-of", "2027-01-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["next_due"]["provisional"] is False
    assert run(["calendar", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["year"] == 2027


def test_a_malformed_schedule_file_is_refused_with_its_name(cli_db, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('year = 2027\nsource = "x"\nholidays = [["2028-01-01", "2028-01-01"]]\n', encoding="utf-8")
    assert run(["calendar", "load", str(bad)]) == 1
    assert "bad.toml" in capsys.readouterr().err
