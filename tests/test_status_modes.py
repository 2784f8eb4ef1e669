"""Custody or watch-only (`custody patent watch` / `custody patent custody`), on SQLite and PostgreSQL: each change
is kept in the patent's history; a watch-only patent gets no fee reminders (planned ones are cancelled, the
planner plans none) and its status changes go into the watching enterprise's digest; nobody decides its fees."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

import cli
from custody.models.reminders import Reminder, ReminderItem
from custody.reasons import shown_reason
from custody.reminder_settings import ReminderSettings
from custody.ruleset import default_rules
from custody.status_vocab import StatusBatch, StatusRecord
from custody.store.calendar import calendar_from
from custody.store.modes import set_mode
from custody.store.planner import plan
from custody.store.reports import enterprise_by_code
from custody.store.status import NotInCustody, decide, history, ingest
from custody.store.status_notices import plan_watch_digests
from tests.support.cli import hand_to_cli
from tests.test_status_portfolio import ENTERPRISES, NOW, P1, P5, SHANGHAI, TODAY, A, C, build_portfolio

RULES = default_rules()
# P1 (A, custody): year 9 due 2025-08-01, so the 30-days-before email tier fires on 2025-07-02.
TIER_DAY = datetime(2025, 7, 2, 9, 30, tzinfo=SHANGHAI)


def _watch(session: Session, number: str, code: str, patents) -> list:
    effects = set_mode(session, patents[number], "watch", enterprise_by_code(session, code), "张三", NOW, TODAY)
    session.commit()
    return effects


@pytest.mark.parametrize(("mode", "planned"), [
    pytest.param("custody", True, id="custody-patent-is-reminded"),
    pytest.param("watch", False, id="watch-only-patent-is-not"),
])
def test_a_watch_only_patent_gets_no_fee_reminders(session: Session, mode: str, planned: bool) -> None:
    patents = build_portfolio(session)
    if mode == "watch":
        _watch(session, P1, A, patents)
    plan(session, ReminderSettings(), RULES, calendar_from(session), TIER_DAY)
    session.commit()
    items = session.exec(select(ReminderItem).where(ReminderItem.patent_id == patents[P1].id)).all()
    assert bool(items) is planned


def test_making_a_patent_watch_only_cancels_its_planned_reminders_and_says_why(session: Session) -> None:
    patents = build_portfolio(session)
    reminder = Reminder(key="test:p1", kind="fee", channel="email", recipient="zhang@a.example",
                        enterprise_id=patents[P1].enterprise_id, day=TODAY, not_before=NOW)
    session.add(reminder)
    session.flush()
    item = ReminderItem(reminder_id=reminder.id, patent_id=patents[P1].id, fee_year=9, tier="before_due:due-30",
                        channel="email", recipient="zhang@a.example", kind="fee", due_date=date(2025, 8, 1),
                        fee=Decimal(300), full_fee=Decimal(2000), late_fee=Decimal(0), late_fee_rate=Decimal(0),
                        pay_by=date(2025, 8, 1))
    session.add(item)
    session.commit()
    effects = _watch(session, P1, C, patents)
    session.expire_all()
    assert (item.state, shown_reason(item.cancel_reason)) == ("cancelled", "watch-only patent: no fee reminders")
    assert [e.code for e in effects] == ["mode_watch"]
    assert effects[0].message == (f"watch-only, watched by {ENTERPRISES[C]} ({C}), set by 张三; was with "
                                  f"{ENTERPRISES[A]} ({A}): no fee reminders; its status changes go into "
                                  f"{ENTERPRISES[C]}'s digest")
    assert history(session, patents[P1])[-2:] == [
        {"date": TODAY, "what": "effect: mode_watch", "detail": effects[0].message},
        {"date": TODAY, "what": "reminder: cancelled", "detail": "year 9 fee reminder (30 days before the due date) by "
                                                                  "email to z***@a.example: cancelled (watch-only "
                                                                  "patent: no fee reminders)",
         "source": "cause: year 9 fee due 2025-08-01"}]


def test_a_watched_patents_status_change_goes_into_the_watching_enterprises_digest(session: Session) -> None:
    patents = build_portfolio(session)
    ingest(session, StatusBatch("old", (StatusRecord(P1, date(2020, 6, 5), "授权", "", "old.csv:2"),)), RULES,
           calendar_from(session), NOW)
    session.commit()
    _watch(session, P1, C, patents)
    ingest(session, StatusBatch("new", (StatusRecord(P1, TODAY, "专利权的主动放弃", "", "new.csv:2"),)), RULES,
           calendar_from(session), NOW)
    planned = plan_watch_digests(session, TODAY, NOW)
    session.commit()
    # The grant from before the watch began is history, not news: only the abandonment goes out, to C.
    assert planned == [{"enterprise": ENTERPRISES[C], "events": 1, "recipients": 1}]
    digest = session.exec(select(Reminder).where(Reminder.key.startswith("digest:"))).one()
    assert digest.recipient == "zhao@c.example" and "专利权的主动放弃" in digest.body and "授权" not in digest.body


def test_back_in_custody_is_recorded_and_setting_the_same_mode_again_changes_nothing(session: Session) -> None:
    patents = build_portfolio(session)
    c = enterprise_by_code(session, C)
    effects = set_mode(session, patents[P5], "custody", c, "李四", NOW, TODAY)
    again = set_mode(session, patents[P5], "custody", c, "李四", NOW, TODAY)
    session.commit()
    assert [e.code for e in effects] == ["mode_custody"] and again == []
    assert patents[P5].mode == "custody" and history(session, patents[P5])[-1]["what"] == "effect: mode_custody"


def test_a_fee_decision_on_a_watch_only_patent_is_refused(session: Session) -> None:
    patents = build_portfolio(session)
    with pytest.raises(NotInCustody, match=f"{P5} is watch-only: the platform pays no fees on it"):
        decide(session, patents[P5], "abandon", None, "张三", NOW, TODAY, RULES, calendar_from(session))


# ---------------------------------------------------------------------------------------------- command line


@pytest.fixture
def cli_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    build_portfolio(session)
    hand_to_cli(session, db_url, monkeypatch, tmp_path)
    return db_url


@freeze_time("2025-06-16 01:30:00")
def test_patent_watch_and_custody_from_the_command_line(cli_db: str, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(["patent", "watch", P1, "--enterprise", C, "--by", "张三"]) == 0
    assert capsys.readouterr().out.startswith(f"{P1}: 仅监控，由 {ENTERPRISES[C]} ({C}) 监控（张三 设置")
    assert cli.run(["patent", "watch", P1, "--enterprise", C]) == 0
    assert capsys.readouterr().out.strip() == f"{P1}：已是 {ENTERPRISES[C]}（{C}）仅监控的专利，未作更改"
    assert cli.run(["patent", "custody", P1, "--enterprise", A, "--by", "李四"]) == 0
    assert capsys.readouterr().out.startswith(f"{P1}: 由 {ENTERPRISES[A]} ({A}) 托管（李四 设置")
    assert cli.run(["patent", "history", P1, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == ["影响：转为仅监控", "影响：转为托管"]  # as the table says


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["patent", "watch", P1, "--enterprise", "91350100M000100Y44"], "没有统一社会信用代码为",
                 id="unknown-enterprise"),
    pytest.param(["patent", "custody", "201710000099.9"], "托管中没有专利 201710000099.9", id="unknown-patent"),
    pytest.param(["decide", P5, "--abandon"], f"{P5} 仅监控：平台不为其缴费",
                 id="decide-on-a-watch-only-patent"),
])
def test_mode_and_decision_mistakes_are_one_error_line(cli_db: str, capsys: pytest.CaptureFixture, args: list,
                                                       message: str) -> None:
    assert cli.run(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"错误：{message}") and len(err.strip().splitlines()) == 1
