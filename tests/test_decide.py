"""`custody decide`: an enterprise's instruction about a fee (pay, abandon, undecided), recorded with who and when;
abandoning stops the patent's reminders after the fee's grace end, or at once with --now."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

import cli
from custody.decisions import Decision, decision_year, effective_on, latest_decision
from custody.domain import PatentFacts, PatentType, Reduction
from custody.eligibility import Standing, reminder_block_reason
from custody.fees import FeeInputError, fee_schedule
from custody.models.reminders import Reminder, ReminderItem
from custody.models.status import FeeDecision
from custody.reasons import shown_reason
from custody.ruleset import default_rules
from custody.store.calendar import calendar_from
from custody.store.status import decide, history, latest_decisions
from custody.workdays import WorkCalendar
from tests.support.cli import hand_to_cli
from tests.test_status_portfolio import NOW, P6, TODAY, build_portfolio

RULES = default_rules()
# P6 of the known portfolio: year 8 due 2025-09-01; its grace period ends 2026-03-02 (1 March 2026 is a Sunday).
P6_SCHEDULE = fee_schedule(PatentFacts(PatentType.INVENTION, date(2018, 9, 1), grant_year=3, paid_through=7,
                                       reduction=Reduction.R85), RULES, WorkCalendar())
GRANT_YEAR_UNPAID = fee_schedule(PatentFacts(PatentType.INVENTION, date(2020, 5, 6), grant_year=5, paid_through=4),
                                 RULES, WorkCalendar())


@pytest.mark.parametrize(("schedule", "choice", "today", "now", "starts"), [
    pytest.param(P6_SCHEDULE, "abandon", TODAY, False, date(2026, 3, 3), id="abandon-after-the-grace-end"),
    pytest.param(P6_SCHEDULE, "abandon", TODAY, True, TODAY, id="abandon-now"),
    pytest.param(P6_SCHEDULE, "abandon", date(2026, 5, 1), False, date(2026, 5, 1), id="grace-already-over"),
    pytest.param(GRANT_YEAR_UNPAID, "abandon", date(2024, 1, 2), False, date(2024, 5, 7),
                 id="grant-year-fee-has-no-grace-so-day-after-its-due-date"),
    pytest.param(P6_SCHEDULE, "pay", TODAY, False, TODAY, id="pay-at-once"),
    pytest.param(P6_SCHEDULE, "undecided", TODAY, False, TODAY, id="undecided-at-once"),
])
def test_when_a_decision_takes_effect(schedule, choice: str, today: date, now: bool, starts: date) -> None:
    year = decision_year(schedule, None)
    assert effective_on(schedule, choice, year, today, now) == starts


@pytest.mark.parametrize(("year", "message"), [
    pytest.param(7, "the year 7 fee is already paid", id="paid-year"),
    pytest.param(25, "year 25 is outside this patent's fee years 3-20", id="outside-the-term"),
])
def test_a_year_that_cannot_be_decided_is_refused(year: int, message: str) -> None:
    with pytest.raises(FeeInputError, match=message):
        decision_year(P6_SCHEDULE, year)


def test_the_latest_decision_is_in_force_so_pay_undoes_abandon() -> None:
    abandon = Decision("abandon", 8, date(2026, 3, 3), "张三", datetime(2025, 6, 10, 9), None)
    pay = Decision("pay", 8, TODAY, "李四", datetime(2025, 6, 12, 9), "改变主意")
    assert latest_decision([pay, abandon]) is pay


@pytest.mark.parametrize(("day", "blocked"), [
    pytest.param(date(2026, 3, 2), False, id="grace-end-day-still-reminded"),
    pytest.param(date(2026, 3, 3), True, id="day-after-grace-end-stopped"),
])
def test_abandon_stops_reminders_after_the_grace_end(day: date, blocked: bool) -> None:
    decision = Decision("abandon", 8, date(2026, 3, 3), "张三", datetime(2025, 6, 10, 9), None)
    reason = reminder_block_reason(Standing(decision=decision), "fee", day)
    assert (reason is not None) is blocked


def _planned(session: Session, patent) -> ReminderItem:
    reminder = Reminder(key="test:p6", kind="fee", channel="sms", recipient="13800000001",
                        enterprise_id=patent.enterprise_id, day=TODAY, not_before=NOW)
    session.add(reminder)
    session.flush()
    item = ReminderItem(reminder_id=reminder.id, patent_id=patent.id, fee_year=8, tier="t:due-90", channel="sms",
                        recipient="13800000001", kind="fee", due_date=date(2025, 9, 1), fee=Decimal(300),
                        full_fee=Decimal(2000), late_fee=Decimal(0), late_fee_rate=Decimal(0), pay_by=date(2025, 9, 1))
    session.add(item)
    session.commit()
    return item


def test_a_decision_is_recorded_with_who_when_and_why(session: Session) -> None:
    patent = build_portfolio(session)[P6]
    row, effects = decide(session, patent, "abandon", None, "张三", NOW, TODAY, RULES, calendar_from(session),
                          note="产品线停产")
    session.commit()
    stored = session.exec(select(FeeDecision)).one()
    assert (stored.year, stored.choice, stored.effective_on, stored.decided_by, stored.note) == (
        8, "abandon", date(2026, 3, 3), "张三", "产品线停产")
    assert stored.decided_at == NOW
    assert effects[0].message == ("decision: abandon year 8 (decided 2025-06-16 by 张三: 产品线停产); reminders stop "
                                  "from 2026-03-03, after the grace period")
    assert history(session, patent)[-1]["what"] == "decision: abandon"


def test_abandon_now_cancels_the_planned_reminders_at_once(session: Session) -> None:
    patent = build_portfolio(session)[P6]
    item = _planned(session, patent)
    decide(session, patent, "abandon", None, "张三", NOW, TODAY, RULES, calendar_from(session), immediately=True)
    session.commit()
    session.refresh(item)
    assert item.state == "cancelled"
    assert shown_reason(item.cancel_reason).startswith("abandoned by the enterprise: abandon year 8")


def test_abandon_after_the_grace_period_leaves_planned_reminders_alone(session: Session) -> None:
    patent = build_portfolio(session)[P6]
    item = _planned(session, patent)
    decide(session, patent, "abandon", None, "张三", NOW, TODAY, RULES, calendar_from(session))
    session.commit()
    session.refresh(item)
    assert item.state == "planned"


def test_a_later_pay_decision_is_the_one_in_force(session: Session) -> None:
    patent = build_portfolio(session)[P6]
    decide(session, patent, "abandon", None, "张三", NOW, TODAY, RULES, calendar_from(session))
    decide(session, patent, "pay", None, "李四", NOW + timedelta(hours=1), TODAY, RULES, calendar_from(session))
    session.commit()
    assert latest_decisions(session, [patent.id])[patent.id].choice == "pay"


# ---------------------------------------------------------------------------------------------- command line


@pytest.fixture
def cli_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    build_portfolio(session)
    hand_to_cli(session, db_url, monkeypatch, tmp_path)
    return db_url


@freeze_time("2025-06-16 01:30:00")
def test_decide_from_the_command_line_shows_the_effect(cli_db: str, capsys: pytest.CaptureFixture) -> None:
    code = cli.run(["decide", P6, "--abandon", "--now", "--note", "产品线停产", "--by", "张三"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip() == f"{P6}: 企业决定：第8年放弃（张三 于 2025-06-16 决定：产品线停产）；提醒立即（--now）停止"


@pytest.mark.parametrize(("args", "message", "code"), [
    pytest.param([], "--pay、--abandon、--undecided 须且只能给一个", 2, id="no-choice"),
    pytest.param(["--pay", "--abandon"], "--pay、--abandon、--undecided 须且只能给一个", 2, id="two-choices"),
    pytest.param(["--pay", "--now"], "--now 只能与 --abandon 一起用", 2, id="now-without-abandon"),
    pytest.param(["--pay", "--year", "7"], "第 7 年年费已缴纳", 1, id="paid-year"),
])
def test_a_wrong_decision_is_one_error_line_exit_2_for_usage_1_for_input(cli_db: str, capsys: pytest.CaptureFixture,
                                                                        args: list, message: str, code: int) -> None:
    assert cli.run(["decide", P6, *args]) == code
    assert capsys.readouterr().err.strip() == f"错误：{message}"
