"""`custody init`, `db upgrade`, `pay`, `patent show` and `calendar load` on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cli import run
from custody.domain import PROVISIONAL_MARK, PatentType, Reduction
from custody.models import Patent, PatentChange, Payment
from custody.models.reminders import Reminder, ReminderItem
from custody.reasons import reason_code
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
    out = capsys.readouterr().out
    assert out.startswith("配置：内置默认配置\n数据库：sqlite:///") and out.endswith("（已新建）\n"), out
    assert run(["init"]) == 0
    assert "（此前已初始化）" in capsys.readouterr().out
    assert run(["db", "upgrade"]) == 0
    assert "（未变）" in capsys.readouterr().out


def test_commands_refuse_an_uninitialised_database(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.sqlite3'}")
    assert run(["patent", "show", "201710601862.3"]) == 1
    assert "custody init" in capsys.readouterr().err


def test_pay_defaults_to_the_amount_due_and_advances_paid_through(invention, capsys):
    # Year 9 due 2025-04-25: 2000 full, 85 % reduction -> 300, paid on time.
    assert run(["pay", "ZL201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert "已缴至第9年" in capsys.readouterr().out
    assert payments(invention) == [(9, "300.00", date(2025, 4, 20))]


def test_pay_refuses_a_wrong_amount_and_shows_the_expected_one(invention, capsys):
    # Paid 2025-07-01, in the 10 % band: 300 + 10 % of the full 2000 = 500.
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-07-01", "--amount", "300"]) == 1
    assert "应为 500.00 元，而不是 300.00 元" in capsys.readouterr().err
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
    assert "已全额缴纳" in capsys.readouterr().err


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "forced"])
def test_pay_after_the_grace_end_is_refused_even_with_force(invention, capsys, force):
    # Year 9 grace end 2025-10-27: after it the patent has lapsed; restoring (Rule 6) is a separate request:
    # 300 + 25 % of 2000 + 1000 = 1800.
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-11-03", "--amount", "300", *force]) == 1
    err = capsys.readouterr().err
    assert "专利权已终止" in err and "恢复权利（细则第六条）需缴 1800.00 元" in err
    assert payments(invention) == []


@pytest.mark.parametrize(
    "year, message",
    [
        ("8", "第8年度已缴（记录为已缴至第8年度）"),
        ("3", "第3年度已缴"),
        ("2", "第 2 年不在该专利的年费年度 3-20 内"),
        ("0", "第 0 年不在该专利的年费年度 3-20 内"),
        ("21", "第 21 年不在该专利的年费年度 3-20 内"),
        ("nine", "--year 'nine' 不是整数"),
    ],
    ids=["already-paid", "grant-year-already-paid", "before-the-grant-year", "year-0", "after-expiry",
         "not-a-number"],
)
def test_pay_refuses_years_that_cannot_be_paid_even_with_force(invention, capsys, year, message):
    assert run(["pay", "201710601862.3", "--year", year, "--paid-on", "2025-04-20", "--amount", "300",
                "--force"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()] and captured.err.startswith("错误：")
    assert message in captured.err and "unexpected failure" not in captured.err and "意外故障" not in captured.err
    assert payments(invention) == []


def audit(url: str) -> list[tuple[str, str | None, str | None, str]]:
    engine = engine_for(url)
    with Session(engine) as session:
        rows = [(c.field, c.old_value, c.new_value, c.source)
                for c in session.exec(select(PatentChange).order_by(PatentChange.id))]
    engine.dispose()
    return rows


def test_a_recorded_payment_is_in_the_audit_trail(invention, capsys):
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert audit(invention) == [("payment", None, "year 9: 300.00 paid on 2025-04-20", "cli"),
                                ("paid_through", "8", "9", "cli")]


def add_reminder(url: str, *items: tuple[int, str]) -> None:
    """One planned SMS digest with an item per (fee year, state)."""
    engine = engine_for(url)
    now = datetime(2025, 4, 1, tzinfo=UTC)
    with Session(engine) as session:
        patent = session.exec(select(Patent)).one()
        reminder = Reminder(key="test", kind="fee", channel="sms", recipient="13800000001", day=date(2025, 4, 1),
                            not_before=now)
        session.add(reminder)
        session.flush()
        for year, state in items:
            session.add(ReminderItem(reminder_id=reminder.id, patent_id=patent.id, fee_year=year, tier=f"t{year}",
                                     channel="sms", recipient="13800000001", kind="fee", state=state,
                                     due_date=date(2016 + year, 4, 25), fee=Decimal(300), full_fee=Decimal(2000),
                                     late_fee=Decimal(0), late_fee_rate=Decimal(0), pay_by=date(2016 + year, 4, 25)))
        session.commit()
    engine.dispose()


def reminder_states(url: str) -> tuple[str, dict[int, tuple[str, str | None]]]:
    engine = engine_for(url)
    with Session(engine) as session:
        message = session.exec(select(Reminder)).one().state
        items = {i.fee_year: (i.state, reason_code(i.cancel_reason)) for i in session.exec(select(ReminderItem))}
    engine.dispose()
    return message, items


def test_a_recorded_payment_cancels_that_fees_planned_reminders_at_once(invention, capsys):
    add_reminder(invention, (9, "planned"), (10, "planned"))
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert reminder_states(invention) == ("planned", {9: ("cancelled", "paid"), 10: ("planned", None)})


def test_a_message_left_with_nothing_planned_is_cancelled_too(invention, capsys):
    add_reminder(invention, (9, "planned"))
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert reminder_states(invention) == ("cancelled", {9: ("cancelled", "paid")})


def test_patent_show_table_lists_the_payments(invention, capsys):
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20", "--note", "银行回单"]) == 0
    capsys.readouterr()
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-07-01"]) == 0
    out = capsys.readouterr().out
    assert "缴费记录" in out and "2025-04-20" in out and "¥300" in out and "银行回单" in out


def test_patent_show_refuses_csv_as_a_usage_error(invention, capsys):
    assert run(["patent", "show", "201710601862.3", "--format", "csv"]) == 2


def test_a_stored_reduction_recording_date_is_applied(invention, capsys):
    engine = engine_for(invention)
    with Session(engine) as session:
        patent = session.exec(select(Patent)).one()
        patent.reduction_recorded_on = date(2025, 3, 1)  # less than 3 months before the year-9 due date
        session.add(patent)
        session.commit()
    engine.dispose()
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-01-10", "--format", "json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert (view["next_due"]["fee"], view["patent"]["reduction_recorded_on"]) == (2000, "2025-03-01")
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert payments(invention) == [(9, "2000.00", date(2025, 4, 20))]


def test_the_packaged_holiday_schedules_reach_a_stored_patent(invention, capsys, tmp_path, monkeypatch):
    import custody.workdays

    packaged = tmp_path / "packaged"
    packaged.mkdir()
    (packaged / "2027.toml").write_text(SAMPLE_2027.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(custody.workdays, "CALENDAR_DIR", packaged)
    assert run(["patent", "show", "201710601862.3", "--as-of", "2027-01-01", "--format", "json"]) == 0
    years = {y["year"]: y for y in json.loads(capsys.readouterr().out)["years"]}
    assert years[11]["provisional"] is False


@pytest.mark.parametrize("command", [["patent", "show", "201710601862.3"], ["pay", "201710601862.3", "--year", "9"]],
                         ids=["patent-show", "pay"])
def test_a_missing_sqlite_file_is_not_created(monkeypatch, tmp_path, capsys, command):
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "custody.sqlite3"
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{database}")
    assert run(command) == 1
    assert "custody init" in capsys.readouterr().err
    assert not database.exists()


# Every command that opens the database, and the two that create it.
SETUP_COMMANDS = [["init"], ["db", "upgrade"], ["patent", "show", "201710601862.3"],
                  ["pay", "201710601862.3", "--year", "9"], ["report", "due"], ["remind", "list"], ["health"],
                  ["calendar", "list"]]


@pytest.mark.parametrize(
    "url, message",
    [
        ("bogus://nowhere", "错误：数据库地址："),
        ("not a url", "错误：数据库地址："),
        ("postgresql+psycopg2://custody:pw@127.0.0.1/custody", "错误：数据库地址 postgresql+psycopg2://custody:"),
        ("mysql://custody@127.0.0.1/custody", "错误：数据库地址 mysql://custody@127.0.0.1/custody：其驱动"),
        ("postgresql+psycopg://postgres@127.0.0.1:9/none", "错误：无法打开数据库："),
        ("sqlite:///{tmp}/a-file/custody.sqlite3", "错误：无法在 "),
        ("sqlite:///{tmp}/a-file/sub/custody.sqlite3", "错误：无法在 "),
    ],
    ids=["unknown-dialect", "unparsable", "psycopg2-not-installed", "mysql-not-installed",
         "unreachable-postgresql", "sqlite-under-a-file",
         "sqlite-deep-under-a-file"],
)
@pytest.mark.parametrize("command", SETUP_COMMANDS, ids=" ".join)
def test_a_database_that_cannot_be_opened_is_one_configuration_error_line(monkeypatch, tmp_path, capsys, url,
                                                                          message, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CUSTODY_DATABASE_URL", url.format(tmp=tmp_path))
    assert run(command) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()] and captured.err.startswith(message)
    assert "unexpected failure" not in captured.err and "意外故障" not in captured.err


@pytest.mark.parametrize("args, message", [
    (["pay", "201710601862.3", "--year", "9", "--amount", "lots"], "不是金额"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "1e30", "--force"], "请不要用科学计数法"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "3e2", "--force"], "请不要用科学计数法"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "NaN", "--force"], "不是金额"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "inf", "--force"], "不是金额"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "-300", "--force"], "金额为负"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "300.005", "--force"], "小数超过 2 位"),
    (["pay", "201710601862.3", "--year", "9", "--amount", "99999999999999999999", "--force"],
     "不是合理的金额"),
    (["pay", "201810601862.3", "--year", "9"], "申请号 201810601862.3：校验位应为 8"),
    (["pay", "201710601863.8", "--year", "9"], "托管中没有专利 201710601863.8"),
    (["pay", "201710601862.3", "--year", "25", "--paid-on", "2025-01-01"], "不在该专利的年费年度"),
    (["pay", "201710601862.3", "--year", "0", "--force", "--amount", "1"], "不在该专利的年费年度"),
], ids=["amount-not-a-number", "amount-exponent", "amount-small-exponent", "amount-nan", "amount-inf",
        "amount-negative", "amount-fractions-of-a-fen", "amount-absurd", "bad-check-digit", "unknown-patent",
        "year-past-expiry", "year-0-forced"])
def test_pay_bad_input_is_one_error_line(invention, capsys, args, message):
    assert run(args) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()] and captured.err.startswith("错误：")
    assert message in captured.err and "unexpected failure" not in captured.err and "意外故障" not in captured.err


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
    view = json.loads(capsys.readouterr().out)
    assert view["next_due"]["provisional"] is True and view["custody"]["grace_end_provisional"] is True
    assert run(["patent", "show", "201710601862.3", "--as-of", "2027-01-01"]) == 0
    custody_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("托管方式"))
    assert f"宽限期至 {view['custody']['grace_end']}{PROVISIONAL_MARK}" in custody_line
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


SAMPLE_LINES = SAMPLE_2027.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("lines, encoding, message", [
    (SAMPLE_LINES, "gbk", ":4：不是 UTF-8 文本（GBK？）：请将文件另存为 UTF-8"),
    ([*SAMPLE_LINES[:4], 'holidays = [["2027-01-01" "2027-01-03"]]', *SAMPLE_LINES[5:]], "utf-8",
     ":5：TOML 格式有误"),
    ([*SAMPLE_LINES[:5], 'workdays = ["2028-01-08"]'], "utf-8",
     ":6: workdays[0]：2028-01-08 不在 2027 年内"),
    ([*SAMPLE_LINES[:4], 'holidays = [["2027-01-01", "2027-01-03"], ["2026-12-31", "2027-01-01"]]',
      *SAMPLE_LINES[5:]], "utf-8", ":5: holidays[1][0]：2026-12-31 不在 2027 年内"),
], ids=["gbk", "malformed-line", "workday-outside-the-year", "holiday-outside-the-year"])
def test_a_bad_schedule_file_names_its_line_and_loads_nothing(cli_db, tmp_path, capsys, lines, encoding, message):
    bad = tmp_path / "schedule-2027.toml"
    bad.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    assert run(["calendar", "load", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith(f"错误：{bad}{message}")
    assert run(["calendar", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("paid_on, message", [
    ("2017-04-24", "201710601862.3 第9年度：缴费日 2017-04-24 早于申请日 2017-04-25"),
    ("2025-01-24", "缴费日 2025-01-24 过早：第 9 年年费最早可于 2025-01-25 缴纳，即周年日 2025-04-25 前 3 个月"),
], ids=["before-filing", "too-early-in-advance"])
def test_pay_refuses_an_implausible_date_unless_forced(invention, capsys, paid_on, message):
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", paid_on]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()] and message in captured.err
    assert "--force" in captured.err and payments(invention) == []
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", paid_on, "--amount", "300", "--force"]) == 0
    assert payments(invention) == [(9, "300.00", date.fromisoformat(paid_on))]


def test_pay_refuses_a_date_after_today_in_shanghai_unless_forced(invention, capsys):
    from freezegun import freeze_time

    with freeze_time("2025-04-19 15:59:00"):  # 23:59 on 19 April in Shanghai
        assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 1
        assert "缴费日 2025-04-20 晚于今天（北京时间 2025-04-19）" in capsys.readouterr().err
    with freeze_time("2025-04-19 16:00:00"):  # midnight in Shanghai, still the 19th in UTC
        assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    assert payments(invention) == [(9, "300.00", date(2025, 4, 20))]


def test_pay_takes_the_first_day_of_the_advance_window(invention, capsys):
    assert run(["pay", "201710601862.3", "--year", "9", "--paid-on", "2025-01-25"]) == 0
    assert payments(invention) == [(9, "300.00", date(2025, 1, 25))]


def test_the_advance_window_is_a_setting(invention, capsys, tmp_path):
    config = tmp_path / "wide.toml"
    config.write_text("[rules]\nadvance_payment_months = 12\n", encoding="utf-8")
    assert run(["--config", str(config), "pay", "201710601862.3", "--year", "9", "--paid-on", "2024-04-25"]) == 0
    config.write_text("[rules]\nadvance_payment_months = 13\n", encoding="utf-8")
    assert run(["--config", str(config), "pay", "201710601862.3", "--year", "10", "--paid-on", "2025-04-25"]) == 2
    assert "advance_payment_months" in capsys.readouterr().err


def test_pay_takes_a_number_without_its_check_character_with_a_warning(invention, capsys):
    assert run(["pay", "201710601862", "--year", "9", "--paid-on", "2025-04-20"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("警告：201710601862 没有校验位：按 201710601862.3 处理（请与证书核对）")
    assert payments(invention) == [(9, "300.00", date(2025, 4, 20))]


@pytest.mark.parametrize("command", SETUP_COMMANDS, ids=" ".join)
def test_a_database_migrated_by_a_newer_version_is_a_configuration_error(cli_db, capsys, command):
    engine = engine_for(cli_db)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    engine.dispose()
    assert run(command) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith("错误：数据库版本为 0099_from_the_future，比本版 custody 所知的更新")


def test_a_read_only_database_is_a_configuration_error_when_written(cli_db, capsys, monkeypatch):
    if not cli_db.startswith("sqlite"):
        pytest.skip("a read-only SQLite file: mode=ro")
    from sqlalchemy.engine import make_url

    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///file:{make_url(cli_db).database}?mode=ro&uri=true")
    assert run(["calendar", "load", str(SAMPLE_2027)]) == 2
    assert capsys.readouterr().err.strip() == "错误：数据库出错：attempt to write a readonly database"


def _paid_through_10(url: str) -> None:
    engine = engine_for(url)
    with Session(engine) as session:
        patent = session.exec(select(Patent)).one()
        patent.paid_through = 10
        session.add(patent)
        session.commit()
    engine.dispose()


def test_a_provisional_due_date_is_marked_in_every_report_format(invention, capsys, tmp_path, monkeypatch):
    # Year 11 is due 2027-04-25 (a Sunday) -> moved on 2027's provisional calendar.
    _paid_through_10(invention)
    report = ["report", "due", "--as-of", "2027-03-01", "--within", "90d"]
    assert run([*report, "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert (row["due_date"], row["provisional_dates"]) == ("2027-04-26", ["due_date", "grace_end"])
    assert run([*report, "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert "2027-04-26*" in out.out and "暂定" in out.err
    monkeypatch.setenv("COLUMNS", "400")  # the table unsqueezed
    assert run([*report]) == 0
    assert "2027-04-26*" in capsys.readouterr().out
    assert run([*report, "--format", "xlsx", "--out", str(tmp_path / "due.xlsx")]) == 0
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "due.xlsx").active
    headings = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=headings.index("缴费截止日") + 1)
    assert cell.value.date() == date(2027, 4, 26) and cell.number_format == 'yyyy-mm-dd"*"'


def test_a_final_due_date_is_not_marked(invention, capsys):
    assert run(["report", "due", "--as-of", "2025-03-01", "--within", "90d", "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert (row["due_date"], row["provisional_dates"]) == ("2025-04-25", [])


def test_late_fee_bands_in_a_provisional_year_are_marked(invention, capsys):
    _paid_through_10(invention)
    assert run(["patent", "show", "201710601862.3", "--as-of", "2026-06-01", "--format", "json"]) == 0
    years = {y["year"]: y for y in json.loads(capsys.readouterr().out)["years"]}
    assert all(b["provisional"] for b in years[11]["late_fee_bands"])
    assert not any(b["provisional"] for b in years[10]["late_fee_bands"])


def test_patent_show_names_the_enterprise_mode_reduction_and_open_licences(invention, capsys, monkeypatch):
    from custody.models import Enterprise, OpenLicence

    engine = engine_for(invention)
    with Session(engine) as session:
        enterprise = Enterprise(credit_code="91350100M000100Y43", name="示例科技有限公司")
        session.add(enterprise)
        session.flush()
        patent = session.exec(select(Patent)).one()
        patent.enterprise_id, patent.mode, patent.reduction_recorded_on = enterprise.id, "watch", date(2019, 1, 2)
        session.add_all([patent, OpenLicence(patent_id=patent.id, start=date(2024, 6, 1))])
        session.commit()
    engine.dispose()
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-01-01", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)["patent"]
    assert shown["enterprise"] == {"credit_code": "91350100M000100Y43", "name": "示例科技有限公司"}
    assert (shown["mode"], shown["reduction"]) == ("watch", "85")
    assert shown["open_licences"] == [{"start": "2024-06-01", "end": None}]
    monkeypatch.setenv("COLUMNS", "400")
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-01-01"]) == 0
    out = capsys.readouterr().out
    assert "企业：示例科技有限公司（91350100M000100Y43）    开放许可：2024-06-01 至 今" in out
    assert "托管方式：仅监控" in out and "费减85%（备案日 2019-01-02）" in out


def test_patent_show_without_an_enterprise_says_so(invention, capsys):
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-01-01", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)["patent"]
    assert (shown["enterprise"], shown["mode"], shown["open_licences"]) == (None, "custody", [])
    assert run(["patent", "show", "201710601862.3", "--as-of", "2025-01-01"]) == 0
    out = capsys.readouterr().out
    assert "企业：—    开放许可：无" in out and "托管方式：托管" in out
