"""The operator's commands (issue 11), on SQLite and PostgreSQL where the store is involved: lists that stream
(patent, enterprise, contact), enterprise show, ending custody (patent remove, enterprise end) and taking it back by
re-import, the import log, patent history with payments, imports and field changes, `fees APPNO` from the stored
patent, types and periods in either language, 申请号 beside 专利号, remind preview (the dispatcher's own text),
what `remind send` holds for quiet hours, and the forecast in December."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

import cli
from custody.domain import PatentType
from custody.forecast_periods import forecast_span
from custody.models import Patent
from custody.models.imports import PatentChange
from custody.models.reminders import Reminder, ReminderItem
from custody.options import OptionError, patent_type, period_days
from custody.reminder_settings import ReminderSettings
from custody.ruleset import default_rules
from custody.store.calendar import calendar_from
from custody.store.patent_list import COLUMNS, PatentFilter, patent_rows
from custody.store.planner import plan
from custody.store.portfolio_read import Scope, chunks
from tests.support.cli import hand_to_cli
from tests.test_status_portfolio import NOW, P1, P2, P3, P4, P5, P6, P7, SHANGHAI, TODAY, A, B, C, build_portfolio

RULES = default_rules()
FROZEN = "2025-06-16 01:30:00"  # 09:30 in Shanghai, TODAY
TIER_DAY = datetime(2025, 7, 2, 9, 30, tzinfo=SHANGHAI)  # P1's 30-days-before email tier fires


# ---------------------------------------------------------------------------------------------- pure parsing


@pytest.mark.parametrize(("text", "expected"), [
    ("invention", PatentType.INVENTION), ("发明", PatentType.INVENTION), (" 实用新型 ", PatentType.UTILITY_MODEL),
    ("外观设计", PatentType.DESIGN), ("utility model", PatentType.UTILITY_MODEL), ("Design", PatentType.DESIGN),
])
def test_a_patent_type_in_either_language(text: str, expected: PatentType) -> None:
    assert patent_type(text) == expected


@pytest.mark.parametrize(("text", "start", "days"), [
    ("90", date(2025, 6, 16), 90), ("90d", date(2025, 6, 16), 90), ("12w", date(2025, 6, 16), 84),
    ("3m", date(2025, 6, 16), 92), ("3个月", date(2025, 6, 16), 92), ("3 月", date(2025, 6, 16), 92),
    # Rule 5's way: 30 November plus three months is 28 February.
    ("3个月", date(2025, 11, 30), 90), ("1m", date(2024, 1, 31), 29), ("10天", date(2025, 6, 16), 10),
    ("2周", date(2025, 6, 16), 14), ("120m", date(2025, 6, 16), 3652),
])
def test_a_period_in_days_weeks_or_calendar_months(text: str, start: date, days: int) -> None:
    assert period_days(text, start) == days


@pytest.mark.parametrize(("text", "message"), [
    ("soon", "is not a period"), ("-3m", "is not a period"), ("3y", "is not a period"),
    ("121m", "more than 3660 days"), ("9" * 5000, "more than 3660 days"),
])
def test_a_period_that_is_not_one_is_refused_with_what_would_be(text: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        period_days(text, date(2025, 6, 16))


def test_an_unknown_type_names_the_types_in_both_languages() -> None:
    with pytest.raises(OptionError, match="invention/发明, utility_model/实用新型, design/外观设计"):
        patent_type("gadget")


@pytest.mark.parametrize(("today", "rolling", "first_heading"), [
    (date(2025, 6, 16), False, "2025"), (date(2025, 11, 30), False, "2025"),
    (date(2025, 12, 1), True, "2025-12~2026-11"), (date(2025, 12, 31), True, "2025-12~2026-12"),
])
def test_the_forecast_looks_at_the_next_twelve_months_when_the_year_is_nearly_over(
        today: date, rolling: bool, first_heading: str) -> None:
    span = forecast_span(today, 3)
    assert (span.rolling, span.heading(0)) == (rolling, first_heading)
    # Every day of the first period is in period 0, the next day in period 1, by both the scalar and array rule.
    first, last = span.bounds(0)
    days = [first, last, last + timedelta(days=1)]
    assert [span.index_of(d) for d in days] == [0, 0, 1]
    import numpy as np

    numbers = np.array([(d - date(1970, 1, 1)).days for d in days], np.int64)
    assert span.indexes(numbers).tolist() == [0, 0, 1]


# ---------------------------------------------------------------------------------------------- store


def _listed(session: Session, wanted: PatentFilter = PatentFilter(), size: int = 50_000,  # noqa: B008
            scope: Scope = Scope(), today: date = TODAY) -> list[dict]:  # noqa: B008
    blocks = patent_rows(chunks(session, scope, size=size), RULES, calendar_from(session), today, wanted)
    keys = [key for key, _ in COLUMNS]
    return [dict(zip(keys, row, strict=True)) for block in blocks for row in block]


def test_the_patent_list_streams_the_same_rows_in_small_chunks_as_in_one(session: Session) -> None:
    build_portfolio(session, spares=True)
    whole = _listed(session)
    assert len(whole) == 17
    assert _listed(session, size=3) == whole


@pytest.mark.parametrize(("wanted", "numbers"), [
    pytest.param(PatentFilter(type=PatentType.INVENTION), {P1, P3, P5, P6, P7}, id="type"),
    pytest.param(PatentFilter(state="in_grace"), {P2, P5}, id="state"),  # P5 watch-only: listed too
    pytest.param(PatentFilter(due_within=92), {P1, P6}, id="due-within-3-months"),
    pytest.param(PatentFilter(type=PatentType.DESIGN, state="lapsed"), {P4}, id="type-and-state"),
])
def test_the_patent_list_filters(session: Session, wanted: PatentFilter, numbers: set[str]) -> None:
    build_portfolio(session)
    assert {row["application_number"] for row in _listed(session, wanted)} == numbers


def test_the_patent_list_states_what_report_due_states(session: Session) -> None:
    from custody.i18n import set_language

    set_language("zh")  # the operator's language (tests start in English: conftest)
    build_portfolio(session)
    row = next(r for r in _listed(session) if r["application_number"] == P1)
    assert (row["state"], row["year"], row["due_date"], row["mode"], row["type"]) == (
        "有效", 9, "2025-08-01", "托管", "发明")


# ---------------------------------------------------------------------------------------------- command line


@pytest.fixture
def cli_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    build_portfolio(session)
    return hand_to_cli(session, db_url, monkeypatch, tmp_path)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@freeze_time(FROZEN)
def test_patent_list_from_the_command_line_in_either_language(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["patent", "list", "--enterprise", A, "--type", "发明", "--due-within", "3个月",
                    "--format", "csv"]) == 0
    assert [r["application_number"] for r in _csv(capsys.readouterr().out)] == [P1, P6]
    assert cli.run(["patent", "list", "--state", "滞纳期（宽限期）内", "--format", "json"]) == 0
    assert [r["application_number"] for r in json.loads(capsys.readouterr().out)] == [P2, P5]
    assert cli.run(["patent", "list", "--format", "csv"]) == 0
    titles = {r["application_number"]: r["title"] for r in _csv(capsys.readouterr().out)}
    # Titles come from files: one a spreadsheet would run as a formula is neutralised, as in the reports.
    assert (titles[P2], titles[P3], titles[P1]) == ("\'=HYPERLINK(\"http://evil.example\",\"点击\")电池外壳",
                                                    "\'+一种基站天线", "一种电池管理方法")
    assert cli.run(["patent", "list", "--format", "table"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("申请号"))  # after a note on left-out columns
    assert header.split()[0] == "申请号" and "下笔年费缴费期限" in header, out
    assert all(n in out for n in (P1, P2, P3, P4, P5, P6, P7))
    assert cli.run(["patent", "list", "--state", "gone"]) == 1
    assert "错误：--state 'gone' 不是专利状态" in capsys.readouterr().err
    assert cli.run(["patent", "list", "--due-within", "soon"]) == 2
    assert "错误：--due-within：'soon' 不是期间（请写作 90d、12w、3m、3个月 或 90）" in capsys.readouterr().err


@freeze_time(FROZEN)
def test_a_flagged_patent_is_listed_with_its_import_flag(cli_db: Path, session: Session,
                                                          capsys: pytest.CaptureFixture) -> None:
    patent = session.exec(select(Patent).where(Patent.application_number == P3)).one()
    patent.paid_through_inferred = True
    session.add(patent)
    session.commit()
    session.close()
    assert cli.run(["patent", "list", "--flag", "--format", "csv"]) == 0
    assert [(r["application_number"], r["flag"]) for r in _csv(capsys.readouterr().out)] == [(P3, "已缴年度为推定")]


def _planned_item(session: Session, number: str, fee_year: int, due: date) -> ReminderItem:
    patent = session.exec(select(Patent).where(Patent.application_number == number)).one()
    reminder = Reminder(key=f"test:{number}", kind="fee", channel="email", recipient="zhang@a.example",
                        enterprise_id=patent.enterprise_id, day=TODAY, not_before=NOW)
    session.add(reminder)
    session.flush()
    item = ReminderItem(reminder_id=reminder.id, patent_id=patent.id, fee_year=fee_year, tier="before_due:due-60",
                        channel="email", recipient="zhang@a.example", kind="fee", due_date=due, fee=Decimal(300),
                        full_fee=Decimal(2000), late_fee=Decimal(0), late_fee_rate=Decimal(0), pay_by=due)
    session.add(item)
    session.commit()
    return item


def _write_patents_file(folder: Path, *numbers_and_dates: tuple[str, str]) -> Path:
    path = folder / "again.csv"
    lines = ["申请号,申请日,授权年度,统一社会信用代码"] + [f"{n},{d},3,{A}" for n, d in numbers_and_dates]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@freeze_time(FROZEN)
def test_removing_a_patent_cancels_its_reminders_keeps_its_history_and_a_reimport_takes_it_back(
        cli_db: Path, session: Session, capsys: pytest.CaptureFixture) -> None:
    item = _planned_item(session, P1, 9, date(2025, 8, 1))
    session.close()
    assert cli.run(["patent", "remove", P1, "--by", "张三"]) == 0
    assert capsys.readouterr().out.strip() == (f"{P1}：托管已终止；已取消待发送提醒 1 条；"
                                               "历史记录保留（重新导入即恢复托管）")
    with Session(session.get_bind()) as check:
        assert check.get(ReminderItem, item.id).state == "cancelled"
        assert check.get(Reminder, item.reminder_id).state == "cancelled"
        patent = check.exec(select(Patent).where(Patent.application_number == P1)).one()
        assert patent.mode == "ended"
        assert [(c.field, c.old_value, c.new_value, c.source) for c in check.exec(
            select(PatentChange).where(PatentChange.patent_id == patent.id))] == [
            ("mode", "custody", "ended", "cli:张三")]
        # Ended custody plans nothing, whatever tier fires.
        plan(check, ReminderSettings(), RULES, calendar_from(check), TIER_DAY)
        check.commit()
        planned = check.exec(select(ReminderItem).where(ReminderItem.patent_id == patent.id,
                                                        ReminderItem.state == "planned")).all()
        assert planned == []
    assert cli.run(["patent", "remove", P1]) == 0
    assert "托管早已终止" in capsys.readouterr().out
    assert cli.run(["decide", P1, "--pay", "--by", "张三"]) == 1
    assert f"{P1}：托管已结束，无需决定" in capsys.readouterr().err
    with freeze_time("2025-06-16 02:30:00"):  # an hour later
        assert cli.run(["import", "patents", str(_write_patents_file(cli_db, (P1, "2017-08-01")))]) == 0
    capsys.readouterr()
    assert cli.run(["patent", "history", P1, "--format", "csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert [(r["what"], r["detail"]) for r in rows if r["what"].startswith(("变更", "影响"))] == [
        ("变更：托管方式", "托管 → 托管已终止"),
        ("影响：托管终止", "托管已由 张三 终止（custody patent remove）：已取消待发提醒，历史保留；"
                           "再次导入该专利即恢复托管"),
        ("变更：托管方式", "托管已终止 → 托管")]
    assert [r["source"] for r in rows if r["what"] == "变更：托管方式"] == ["命令行 张三", "导入 again.csv（#1）"]


@freeze_time(FROZEN)
def test_ending_an_enterprise_ends_every_patent_of_it_and_no_other(cli_db: Path, session: Session,
                                                                  capsys: pytest.CaptureFixture) -> None:
    _planned_item(session, P6, 8, date(2025, 9, 1))
    session.close()
    assert cli.run(["enterprise", "end", A, "--by", "李四"]) == 0
    assert "3 件专利托管已终止（另有 0 件此前已终止）；已取消待发送提醒 1 条" in capsys.readouterr().out
    assert cli.run(["patent", "list", "--format", "csv"]) == 0
    modes = {r["application_number"]: r["mode"] for r in _csv(capsys.readouterr().out)}
    assert {n for n, m in modes.items() if m == "托管已终止"} == {P1, P2, P6}
    assert cli.run(["enterprise", "list", "--format", "csv"]) == 0
    assert [(r["credit_code"], r["custody_patents"], r["watch_patents"], r["ended_patents"])
            for r in _csv(capsys.readouterr().out)] == [(C, "0", "1", "0"), (A, "0", "0", "3"), (B, "3", "0", "0")]
    assert cli.run(["enterprise", "show", A, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["patents"] == {"custody": 0, "watch": 0, "ended": 3}
    assert cli.run(["enterprise", "show", B, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["patents"] == {"custody": 3, "watch": 0, "ended": 0}


@freeze_time(FROZEN)
def test_enterprise_show_and_contact_list_mask_addresses(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["enterprise", "show", A]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == ["福州甲科技有限公司（91350100M000100Y43）",
                                    "专利：托管 3 件，仅监控 0 件，托管已终止 0 件"]
    assert "13800000001" not in out and "zhang@a.example" not in out
    assert cli.run(["contact", "list", "--enterprise", A, "--format", "csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert [(r["name"], r["role"], r["mobile"], r["email"]) for r in rows] == [
        ("张三", "专利联系人", "138****0001", "z***@a.example"),
        ("招商银行 李经理", "质权人", "139****0009", "l***@bank.example")]
    assert cli.run(["contact", "list", "--format", "json"]) == 0
    assert {r["credit_code"] for r in json.loads(capsys.readouterr().out)} == {A, B, C}
    assert cli.run(["enterprise", "show", "91350100M000100Y44"]) == 1


@freeze_time(FROZEN)
def test_the_import_log_lists_each_import_newest_first_and_by_file(cli_db: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    first = _write_patents_file(cli_db, (P1, "2017-08-01"))
    assert cli.run(["import", "patents", str(first), "--dry-run"]) == 0
    other = cli_db / "other.csv"
    other.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli.run(["import", "patents", str(other)]) == 0
    capsys.readouterr()
    assert cli.run(["import", "log", "--format", "csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert [(r["file_name"], r["dry_run"], r["kind"]) for r in rows] == [("other.csv", "否", "专利"),
                                                                         ("again.csv", "是", "专利")]
    assert cli.run(["import", "log", "--file", "again", "--format", "json"]) == 0
    assert [r["file_name"] for r in json.loads(capsys.readouterr().out)] == ["again.csv"]


@freeze_time(FROZEN)
def test_patent_history_shows_payments(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["pay", P1, "--year", "9", "--paid-on", "2025-06-10"]) == 0
    capsys.readouterr()
    assert cli.run(["patent", "history", P1, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["date"], r["what"], r["source"]) for r in rows] == [
        ("2025-06-10", "缴费", "cli"), ("2025-06-16", "变更：已缴至年度", "cli")]
    assert rows[0]["detail"] == "第9年度：2025-06-10 缴纳 300.00 元"
    assert rows[1]["detail"] == "8 → 9"


@freeze_time(FROZEN)
def test_fees_appno_reads_the_stored_patent_and_says_what_the_options_override(
        cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["fees", P1, "--format", "json"]) == 0
    stored = capsys.readouterr()
    assert stored.err.strip() == f"{P1}：按库中该专利的著录项目计算"
    assert cli.run(["fees", P1, "--filed", "2017-08-01", "--grant-year", "3", "--paid-through", "8",
                    "--reduction", "85", "--format", "json", "--type", "发明"]) == 0
    explicit = capsys.readouterr()
    assert json.loads(stored.out) == json.loads(explicit.out)
    assert explicit.err.strip() == f"{P1}：按库中该专利的著录项目计算"  # the same facts: nothing overridden
    assert cli.run(["fees", P1, "--reduction", "none", "--paid-through", "9", "--format", "json"]) == 0
    overridden = capsys.readouterr()
    assert overridden.err.strip() == (f"{P1}：按库中该专利的著录项目计算，以下项目以命令行给出的为准："
                                      "paid_through, reduction")
    assert json.loads(overridden.out)["next_due"]["year"] == 10
    assert cli.run(["fees", "201810640027.5"]) == 1
    assert "库中没有该专利：请给出 --filed" in capsys.readouterr().err


@freeze_time(FROZEN)
def test_report_due_takes_months(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["report", "due", "--within", "3个月", "--format", "csv"]) == 0
    assert P1 in capsys.readouterr().out
    assert cli.run(["report", "due", "--within", "1m", "--format", "csv"]) == 0
    assert P1 not in capsys.readouterr().out


def test_the_forecast_in_december_starts_with_the_next_twelve_months(cli_db: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["report", "forecast", "--years", "2", "--as-of", "2025-12-10", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    header = captured.out.lstrip("\ufeff").splitlines()[0]
    assert "2025-12~2026-12" in header and "2026-12~2027-12" in header and ",2025," not in header
    assert "2025 年即将结束：预测按自 2025-12-10 起的十二个月分期（第一期：2025-12-10 至 2026-12-09）" in captured.err


# ---------------------------------------------------------------------------------------------- 申请号 and 专利号


def _twins(folder: Path, second: str) -> Path:
    path = folder / "twins.csv"
    path.write_text(f"申请号,专利号,申请日,授权年度,统一社会信用代码\n{P1},ZL{P1},2017-08-01,3,{A}\n"
                    f"{P6},{second},2018-09-01,3,{A}\n", encoding="utf-8")
    return path


@freeze_time(FROZEN)
def test_a_file_whose_two_number_columns_agree_needs_no_profile(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["import", "patents", str(_twins(cli_db, P6.replace(".", "")[:-1] + "." + P6[-1]))]) == 0
    assert "ambiguous" not in capsys.readouterr().err


@freeze_time(FROZEN)
def test_two_number_columns_that_disagree_are_a_located_error(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["import", "patents", str(_twins(cli_db, P7))]) == 1
    out = capsys.readouterr()
    assert f"twins.csv:3:专利号: 专利号 为 {P7}，而 申请号 为 {P6}：两列须为同一件专利" in out.out + out.err


# ---------------------------------------------------------------------------------------------- reminders


@pytest.fixture
def outbox_cli(cli_db: Path) -> Path:
    (cli_db / "config.toml").write_text(f'[outbox]\ndir = "{cli_db / "outbox"}"\nreplace = true\n',
                                        encoding="utf-8")
    return cli_db / "outbox"


def test_remind_preview_prints_exactly_what_the_dispatcher_then_sends(outbox_cli: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    with freeze_time(TIER_DAY):
        assert cli.run(["remind", "preview", "--enterprise", A, "--format", "json"]) == 0
        previewed = json.loads(capsys.readouterr().out)
        assert cli.run(["remind", "list", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out) == []  # nothing saved
        assert not (outbox_cli / "messages.jsonl").exists()  # nothing sent
        assert {p["channel"] for p in previewed} == {"email", "sms"}
        assert any(P1 in p["text"] for p in previewed)
        assert cli.run(["remind", "plan"]) == 0
        assert cli.run(["remind", "send"]) == 0
    capsys.readouterr()
    sent = [json.loads(line) for line in (outbox_cli / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
    enterprise_a = {"13800000001", "zhang@a.example", "13900000009", "li@bank.example"}
    mine = sorted((m["subject"] or "", m["text"]) for m in sent if m["recipient"] in enterprise_a)
    assert mine == sorted((p["subject"] or "", p["text"]) for p in previewed)


def test_remind_preview_of_another_day(outbox_cli: Path, capsys: pytest.CaptureFixture) -> None:
    with freeze_time(FROZEN):
        assert cli.run(["remind", "preview", "--date", "2025-07-02"]) == 0
    captured = capsys.readouterr()
    assert P1 in captured.out and "发给 z***@a.example" in captured.out
    assert "2025-07-02 将发出" in captured.err
    with freeze_time(FROZEN):
        assert cli.run(["remind", "preview", "--date", "2025-06-15"]) == 1
    assert "错误：--date 2025-06-15 已过去" in capsys.readouterr().err


def test_remind_send_says_what_waits_for_the_sending_hours(outbox_cli: Path, session: Session,
                                                           capsys: pytest.CaptureFixture) -> None:
    with Session(session.get_bind()) as setup:
        patent = setup.exec(select(Patent).where(Patent.application_number == P1)).one()
        for n in range(3):
            setup.add(Reminder(key=f"test:sms{n}", kind="fee", channel="sms", recipient=f"1380000000{n}",
                               enterprise_id=patent.enterprise_id, day=TODAY,
                               not_before=datetime(2025, 6, 16, 9, 0, tzinfo=SHANGHAI)))
        setup.commit()
    with freeze_time("2025-06-15 23:30:00"):  # 07:30 in Shanghai
        assert cli.run(["remind", "send", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"outcome": "免打扰时段暂缓：短信，至 2025-06-16 09:00 发送", "count": 3} in rows


def test_a_patent_whose_custody_ended_spends_no_ops_quota(session: Session) -> None:
    from custody.models.ops import OpsPatent
    from custody.ops_schedule import OpsSettings
    from custody.store.custody_end import end_patent
    from custody.store.ops_watch import enrol_watched

    patents = build_portfolio(session)
    end_patent(session, patents[P1], "张三", NOW, TODAY)
    enrol_watched(session, OpsSettings(), NOW)
    session.commit()
    watched = set(session.exec(select(OpsPatent.patent_id)).all())
    assert patents[P1].id not in watched and patents[P6].id in watched
