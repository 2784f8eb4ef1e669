"""Planning on SQLite and PostgreSQL: each tier once, digests, catch-up after downtime, cancellations, consent,
standing instructions, and the operator alerted when nobody can be reminded."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine

from custody.appno import check_character
from custody.clock import SHANGHAI
from custody.domain import PatentFacts, PatentType
from custody.fees import fact_problems
from custody.models import FeeDecision, Patent
from custody.models.reminders import PatentDue, Reminder
from custody.reasons import read_reason, reason, shown_reason
from custody.reminder_settings import CallListEntry, SendWindow
from custody.ruleset import default_rules
from custody.store.calendar import calendar_from
from custody.store.cancel import cancel_planned_for
from custody.store.db import session_for
from custody.store.patents import add_payment
from custody.store.standing import set_instructions
from custody.store.status import decide
from scheduler.ticks import plan_now
from tests.test_remind_world import (
    add_contact,
    add_enterprise,
    add_patent,
    at,
    fast_settings,
    items,
    outbox,
    ticks_for,
    world,
)


def plan_at(engine: Engine, moment: str, settings=None, **kw):
    with freeze_time(moment):
        return plan_now(ticks_for(engine, {}, settings), **kw)


def labels(engine: Engine, **where) -> list[tuple]:
    return sorted((i.patent_id, i.tier, i.channel, i.recipient) for i in items(engine, **where))


def test_planning_twice_adds_nothing(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    first = plan_at(engine, "2025-03-26 10:00:00+08:00")
    again = plan_at(engine, "2025-03-26 10:05:00+08:00")
    late = plan_at(engine, "2025-03-26 23:00:00+08:00")
    assert (first.items, first.messages) == (2, 2)
    assert (again.items, late.items) == (0, 0)
    assert [(i.tier, i.channel) for i in items(engine)] == [
        ("before_due:due-30", "email"), ("before_due_sms:due-30", "sms")]


def test_one_digest_per_enterprise_channel_and_day(engine: Engine) -> None:
    def build(s):
        first, second = add_enterprise(s), add_enterprise(s, "第二公司", mobile="13800000002", email="b@example.com")
        for _ in range(3):
            add_patent(s, first)
        add_patent(s, second)
    world(engine, build)
    plan_at(engine, "2025-03-26 10:00:00+08:00")
    messages = outbox(engine)
    assert len(messages) == 4  # two enterprises x (sms, email)
    per_message = {(m.enterprise_id, m.channel): len(items(engine, reminder_id=m.id)) for m in messages}
    assert sorted(per_message.values()) == [1, 1, 3, 3]


def test_a_lapse_notice_and_a_fee_reminder_for_one_person_on_one_day_are_one_message(engine: Engine) -> None:
    def build(s):
        enterprise = add_enterprise(s)
        return add_patent(s, enterprise), add_patent(s, enterprise, filed=date(2017, 11, 4))
    lapsed, due_soon = world(engine, build)  # grace ended 2025-10-27; the other falls due on 2025-11-04
    plan_at(engine, "2025-10-28 10:00:00+08:00")
    messages = outbox(engine)
    assert sorted(m.channel for m in messages) == ["email", "sms"]  # not four: one digest per channel and day
    for message in messages:
        kinds = {(i.patent_id, i.kind) for i in items(engine, reminder_id=message.id)}
        assert kinds == {(lapsed.id, "lapse"), (due_soon.id, "fee")}
        assert message.kind == "lapse"  # known by its most urgent part


def test_three_days_of_downtime_give_one_catch_up_per_fee_not_a_burst(engine: Engine) -> None:
    world(engine, lambda s: [add_patent(s, e) for e in [add_enterprise(s)] for _ in range(2)])
    for day in range(20, 24):  # daily runs up to 05-23, then down 05-24, 05-25, 05-26
        plan_at(engine, f"2025-05-{day} 10:00:00+08:00")
    before = len(items(engine))
    result = plan_at(engine, "2025-05-27 10:00:00+08:00")
    new = items(engine)[before:]
    # rise5-3 (05-24) fired while down; only the latest still meaningful, rise5+0 (05-27), goes out.
    assert sorted({(i.tier, i.channel) for i in new}) == [("late_fee_rise:rise5+0", "email"),
                                                           ("late_fee_rise:rise5+0", "sms")]
    assert len(new) == 4  # 2 fees x 2 channels, one recipient each
    assert result.messages == 2  # one digest per channel
    assert {i.late_fee_rate for i in new} == {Decimal("0.05")}  # the rate of the day it rose


def test_a_newly_imported_patent_gets_only_its_latest_tier(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-04-19 10:00:00+08:00")
    assert [(i.tier, i.channel) for i in items(engine)] == [("before_due:due-7", "email"),
                                                             ("before_due_sms:due-7", "sms")]


def test_the_snapshot_quotes_the_late_fee_of_the_day(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-07-26 10:00:00+08:00")
    item = items(engine, channel="email")[0]
    # Invention year 9: 2000 in full, no reduction; Rule 115: 15 % of the full fee from 07-26.
    assert (item.tier, item.fee, item.late_fee, item.late_fee_rate) == ("late_fee_rise:rise15+0", 2000, 300,
                                                                         Decimal("0.15"))
    assert (item.pay_by, item.next_rate) == (date(2025, 8, 25), Decimal("0.20"))


def test_legal_representative_and_call_list_join_when_it_gets_serious(engine: Engine) -> None:
    def build(s):
        enterprise = add_enterprise(s)
        add_contact(s, enterprise, "legal_rep", mobile="13800000009", email="boss@example.com")
        add_patent(s, enterprise)
    world(engine, build)
    call_list = (CallListEntry("值班", mobile="13900000000", email="ops@example.com"),)
    settings = fast_settings(call_list=call_list)
    plan_at(engine, "2025-06-26 10:00:00+08:00", settings)  # the rise to 10 %
    assert "13800000009" not in {i.recipient for i in items(engine)}
    plan_at(engine, "2025-07-26 10:00:00+08:00", settings)  # the rise to 15 %: legal representative too
    assert {"13800000009", "boss@example.com"} <= {i.recipient for i in items(engine)}
    plan_at(engine, "2025-10-24 10:00:00+08:00", settings)  # 3 days before the grace end: the call list too
    last = {i.recipient for i in items(engine) if i.tier == "grace_end:grace_end-3"}
    assert last == {"13800000001", "ip@example.com", "13800000009", "boss@example.com", "13900000000",
                    "ops@example.com"}


def test_a_payment_cancels_what_is_planned_and_not_sent(engine: Engine) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    with freeze_time("2025-04-18 11:00:00+08:00"), session_for(engine) as session:
        add_payment(session, session.get(Patent, patent.id), 9, 300, date(2025, 4, 18), "test")
    result = plan_at(engine, "2025-04-18 12:00:00+08:00")
    assert result.cancelled == 2
    assert {m.state for m in outbox(engine)} == {"cancelled"}
    assert {read_reason(i.cancel_reason) for i in items(engine)} == {reason("paid")}
    assert plan_at(engine, "2025-04-24 10:00:00+08:00").items == 0  # paid through year 9 now


def test_the_cancel_seam_cancels_a_paid_fee_at_once_and_leaves_the_rest(engine: Engine) -> None:
    def build(s):
        enterprise = add_enterprise(s)
        return add_patent(s, enterprise), add_patent(s, enterprise)
    paid, other = world(engine, build)
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    with session_for(engine) as session:  # what recording a payment for year 9 calls (custody pay)
        assert cancel_planned_for(session, paid.id, reason("paid"), at("2025-04-18", "10:30"), year=8) == 0
        assert cancel_planned_for(session, paid.id, reason("paid"), at("2025-04-18", "10:30"), year=9) == 2
    assert {(i.patent_id, i.state, read_reason(i.cancel_reason)) for i in items(engine)} == {
        (paid.id, "cancelled", reason("paid")), (other.id, "planned", None)}
    assert {m.state for m in outbox(engine)} == {"planned"}  # the digests still carry the other patent
    with session_for(engine) as session:
        cancel_planned_for(session, other.id, reason("paid"), at("2025-04-18", "10:31"), year=9)
    assert {(m.state, shown_reason(m.cancel_reason)) for m in outbox(engine)} == {("cancelled", "the fee was paid")}


def test_the_cancel_seam_never_touches_a_message_being_sent(engine: Engine) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    with engine.begin() as connection:  # a dispatcher has claimed the SMS: it may be on the wire
        connection.execute(sa.update(Reminder).where(Reminder.channel == "sms").values(state="sending"))
    with session_for(engine) as session:
        assert cancel_planned_for(session, patent.id, reason("paid"), at("2025-04-18", "10:30"), year=9) == 1
    assert {(m.channel, m.state) for m in outbox(engine)} == {("sms", "sending"), ("email", "cancelled")}
    assert {(i.channel, i.state) for i in items(engine)} == {("sms", "planned"), ("email", "cancelled")}


def test_watch_only_and_abandoned_patents_are_not_reminded(engine: Engine) -> None:
    def build(s):
        enterprise = add_enterprise(s)
        add_patent(s, enterprise, mode="watch")
        abandoned = add_patent(s, enterprise)
        s.add(FeeDecision(patent_id=abandoned.id, year=9, choice="abandon", effective_on=date(2025, 4, 1),
                          decided_by="operator", decided_at=datetime(2025, 4, 1, tzinfo=SHANGHAI)))
    world(engine, build)
    result = plan_at(engine, "2025-04-18 10:00:00+08:00", keep_lines=True)
    assert result.items == 0
    # The watch-only patent is not even read (patent_due holds custody patents only); the abandoned one is
    # read and skipped with its reason, once per channel.
    assert [line.outcome.split(":")[:2] for line in result.lines] == [["skipped", " abandoned by the enterprise"]] * 2


@pytest.mark.parametrize(("skip_abandoned", "immediately", "cancelled"), [
    pytest.param(False, True, True, id="abandon-now"),
    pytest.param(True, False, True, id="marked-to-abandon-with-the-skip-instruction"),
    pytest.param(False, False, False, id="abandon-after-the-grace-end-leaves-them"),
])
def test_an_abandon_decision_cancels_what_the_gate_now_stops_at_once(engine: Engine, skip_abandoned: bool,
                                                                     immediately: bool, cancelled: bool) -> None:
    def build(s):
        enterprise = add_enterprise(s)
        set_instructions(s, enterprise, skip_abandoned=skip_abandoned)
        return add_patent(s, enterprise)
    patent = world(engine, build)
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    with session_for(engine) as session:  # `custody decide` (no planning, no dispatch in between)
        decide(session, session.get(Patent, patent.id), "abandon", None, "张三", at("2025-04-18", "11:00"),
               date(2025, 4, 18), default_rules(), calendar_from(session), immediately=immediately)
    assert {m.state for m in outbox(engine)} == ({"cancelled"} if cancelled else {"planned"})
    reasons = {shown_reason(i.cancel_reason) for i in items(engine)}
    assert reasons == {""} if not cancelled else all(
        r.startswith("abandoned by the enterprise" if immediately else "marked to abandon") for r in reasons)


def test_consent_and_standing_instructions_are_honoured(engine: Engine) -> None:
    def build(s):
        no_sms_consent = add_enterprise(s, consent_sms=False)
        add_patent(s, no_sms_consent)
        no_sms = add_enterprise(s, "第二公司", mobile="13800000002", email="b@example.com")
        set_instructions(s, no_sms, no_sms=True)
        add_patent(s, no_sms)
    world(engine, build)
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    assert {i.channel for i in items(engine)} == {"email"}


def test_nobody_to_remind_alerts_the_operator_once(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s, mobile=None, email=None)))
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    plan_at(engine, "2025-04-18 11:00:00+08:00")
    alerts = outbox(engine, kind="alert")
    assert len(alerts) == 2  # one per channel nobody can be reached on
    assert all("无人可提醒" in a.subject for a in alerts)


def test_sms_planned_at_night_goes_out_the_next_morning(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-04-18 22:30:00+08:00", fast_settings(send_windows={"sms": SendWindow(time(9), time(20))}))
    sms = outbox(engine, channel="sms")[0]
    assert sms.not_before == at("2025-04-19", "09:00")
    assert sms.day == date(2025, 4, 19)
    assert outbox(engine, channel="email")[0].day == date(2025, 4, 18)


def test_a_digest_already_sending_is_not_added_to(engine: Engine) -> None:
    enterprise = world(engine, lambda s: add_enterprise(s))
    world(engine, lambda s: add_patent(s, enterprise))
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    with session_for(engine) as session:
        session.execute(sa.update(Reminder.__table__).values(state="sending"))
    world(engine, lambda s: add_patent(s, s.merge(enterprise)))
    plan_at(engine, "2025-04-18 11:00:00+08:00")
    later = [m for m in outbox(engine) if m.state == "planned"]
    assert {m.day for m in later} == {date(2025, 4, 19)}
    assert all(m.not_before == at("2025-04-19", "09:00") for m in later)


def test_only_changed_patents_are_refreshed(engine: Engine) -> None:
    with freeze_time("2025-04-01 10:00:00+08:00"):
        patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    assert plan_at(engine, "2025-04-18 10:00:00+08:00").refresh.full
    quiet = plan_at(engine, "2025-04-19 10:00:00+08:00").refresh
    assert (quiet.full, quiet.patents) == (False, 0)
    with freeze_time("2025-04-19 12:00:00+08:00"), session_for(engine) as session:
        session.get(Patent, patent.id).paid_through = 9
    changed = plan_at(engine, "2025-04-19 13:00:00+08:00").refresh
    assert (changed.patents, changed.rows) == (1, 1)
    with session_for(engine) as session:
        assert session.get(PatentDue, patent.id).fee_year == 10


def test_planning_reads_due_rows_through_the_index(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL picks its plan by table statistics; the index exists on both (migration test)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM patent_due WHERE next_fire_on <= '2025-04-18'").all()
    assert "ix_patent_due_next_fire_on" in " ".join(str(row) for row in plan)


def test_after_the_lapse_window_nothing_more_is_planned(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-10-28 10:00:00+08:00")
    assert {i.tier for i in items(engine)} == {"lapsed:grace_end+1"}
    assert {m.kind for m in outbox(engine)} == {"lapse"}
    with session_for(engine) as session:
        nxt = session.execute(sa.select(PatentDue.next_fire_on)).scalar()
    assert nxt is None or nxt > date(2025, 10, 28) + timedelta(days=60)


def test_nothing_is_planned_on_a_channel_that_cannot_send_and_a_silent_tier_alerts_once(engine: Engine) -> None:
    world(engine, lambda s: [add_patent(s, add_enterprise(s)),
                             add_patent(s, add_enterprise(s, "乙公司", mobile="13800000002", email="b@example.com"))])
    email_only = fast_settings(sending_channels=frozenset({"email", "file"}))  # [sms] enabled = false
    first = plan_at(engine, "2025-04-18 10:00:00+08:00", email_only)  # before_due (email) and before_due_sms: -7
    plan_at(engine, "2025-04-24 10:00:00+08:00", email_only)  # -1: the SMS-only tier fires again
    assert {m.channel for m in outbox(engine, kind="fee")} == {"email"}  # no SMS row left planned for ever
    assert (first.items, first.skipped) == (2, 2)
    [alert] = outbox(engine, kind="alert")  # before_due_sms has no channel that can send: said once
    assert alert.subject == "提醒层级 before_due_sms 的渠道（sms）均未启用：该层级的提醒不会发出"
    # A tier with one channel that can send is not a configuration problem: only the SMS half is left out.
    plan_at(engine, "2025-10-12 10:00:00+08:00", email_only)  # grace_end-15: sms and email
    assert len(outbox(engine, kind="alert")) == 1
    assert {i.channel for i in items(engine, tier="grace_end:grace_end-15")} == {"email"}


def test_enabling_a_channel_plans_the_tiers_live_today_on_it(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-04-18 10:00:00+08:00", fast_settings(sending_channels=frozenset({"email", "file"})))
    plan_at(engine, "2025-04-18 11:00:00+08:00", fast_settings(sending_channels=frozenset({"sms", "email", "file"})))
    assert sorted((i.tier, i.channel) for i in items(engine)) == [("before_due:due-7", "email"),
                                                                  ("before_due_sms:due-7", "sms")]


def _numbered(session, enterprise, digits: str, filed: date) -> Patent:
    patent = add_patent(session, enterprise, filed=filed)
    patent.application_number = f"{digits}.{check_character(digits)}"
    session.flush()
    return patent


def test_a_patent_the_fee_engine_refuses_is_not_reminded_and_the_operator_is_told_once(engine: Engine) -> None:
    def build(s):
        enterprise = add_enterprise(s)
        # Filed in 2017 under a 2016 number: impossible (ZC 0006-2003). Filed in 2017 under a 2018 number: a
        # divisional keeps its parent's filing date (Rule 49), normal.
        granted_early = add_patent(s, enterprise)  # granted before it was filed: the grant year cannot be inferred
        granted_early.grant_year, granted_early.granted_on = None, date(2017, 1, 10)
        return (_numbered(s, enterprise, "201610601862", date(2017, 4, 25)),
                _numbered(s, enterprise, "201810601862", date(2017, 4, 25)), granted_early)
    refused, divisional, granted_early = world(engine, build)
    first = plan_at(engine, "2025-04-18 10:00:00+08:00", keep_lines=True)
    plan_at(engine, "2025-04-19 10:00:00+08:00", full_refresh=True)
    assert {i.patent_id for i in items(engine)} == {divisional.id}
    facts = PatentFacts(type=PatentType.INVENTION, filing_date=date(2017, 4, 25), grant_year=3, paid_through=8,
                        application_number=refused.application_number)
    [problem] = fact_problems(facts, default_rules())  # what the fee engine (and so every report) says
    alerts = {a.subject: a.body for a in outbox(engine, kind="alert")}
    assert problem in alerts[f"年费数据有误，未安排提醒：福建测试科技有限公司 专利{refused.application_number}"]
    early = alerts[f"年费数据有误，未安排提醒：福建测试科技有限公司 专利{granted_early.application_number}"]
    assert "grant date 2017-01-10 is before the filing date 2017-04-25" in early
    assert len(alerts) == 2 and first.screened == 2 and first.summary()["screened"] == 2
    assert (refused.application_number, f"skipped: fee facts refused: {problem}") in [
        (line.application_number, line.outcome) for line in first.lines if line.fee_year is None]


def test_reminders_planned_before_the_facts_became_impossible_are_cancelled(engine: Engine) -> None:
    patent = world(engine, lambda s: _numbered(s, add_enterprise(s), "201710601862", date(2017, 4, 25)))
    plan_at(engine, "2025-04-18 10:00:00+08:00")
    assert {i.state for i in items(engine)} == {"planned"}
    with freeze_time("2025-04-18 12:00:00+08:00"), session_for(engine) as session:
        session.get(Patent, patent.id).filing_date = date(2018, 4, 25)  # a bad correction: after the number's year
    result = plan_at(engine, "2025-04-18 13:00:00+08:00")
    assert {(i.state, shown_reason(i.cancel_reason)) for i in items(engine)} == {
        ("cancelled", f"fee facts refused: filing date 2018-04-25 is after the year of application number "
                      f"{patent.application_number}")}
    assert {m.state for m in outbox(engine, kind="fee")} == {"cancelled"}
    assert result.cancelled == 2 and len(outbox(engine, kind="alert")) == 1


def test_after_dispatch_downtime_a_message_left_unsent_gives_way_to_the_latest_tier(engine: Engine) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    plan_at(engine, "2025-04-18 10:00:00+08:00")  # due-7 (SMS and email); then nothing is sent for six days
    result = plan_at(engine, "2025-04-24 10:00:00+08:00")  # due-1: the latest tier still meaningful
    live = [m for m in outbox(engine) if m.state == "planned"]
    assert sorted((m.channel, m.day) for m in live) == [("email", date(2025, 4, 24)), ("sms", date(2025, 4, 24))]
    assert {(i.tier, i.state, read_reason(i.cancel_reason)) for i in items(engine) if i.state != "planned"} == {
        ("before_due:due-7", "cancelled", reason("superseded", tier="before_due:due-1")),
        ("before_due_sms:due-7", "cancelled", reason("superseded", tier="before_due_sms:due-1"))}
    assert result.cancelled == 2
    assert {m.state for m in outbox(engine) if m.day == date(2025, 4, 18)} == {"cancelled"}


def test_a_full_refresh_leaves_fees_planned_already_alone_until_the_tiers_change(engine: Engine) -> None:
    world(engine, lambda s: [add_patent(s, add_enterprise(s)) for _ in range(3)])
    first = plan_at(engine, "2025-03-26 10:00:00+08:00")
    again = plan_at(engine, "2025-03-26 11:00:00+08:00", full_refresh=True)
    # The same fees and dates under the same tiers: their next firing day is kept, nothing is looked at again.
    assert (first.due_rows, first.items) == (3, 6)
    assert (again.refresh.full, again.refresh.rows, again.due_rows, again.items) == (True, 3, 0, 0)
    changed = replace(fast_settings(), tiers=tuple(t for t in fast_settings().tiers if t.name != "before_due_sms"))
    walked = plan_at(engine, "2025-03-26 12:00:00+08:00", settings=changed)
    assert (walked.refresh.full, walked.due_rows, walked.items) == (True, 3, 0)  # new tiers: every live fee again
