"""A fallback that is true (issue 10, point 5), against the real local servers on SQLite and PostgreSQL, judged by
the outbox rows: a person refused on both channels is a call on the operator's list, never a false "already
received"; a fee only planned on the other channel still gets the fallback and the later duplicate is not sent;
after a dispatch outage one person gets one digest, not one per missed day. Every alert's wording is checked
against the outbox it describes (`assert_alerts_are_true`)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine

from custody.models.reminders import Reminder, ReminderItem
from custody.reasons import read_reason, reason, shown_reason
from custody.reminder_policy import Tier
from custody.reminder_settings import RetryPolicy
from custody.store.db import session_for
from custody.store.outbox import claim
from scheduler.dispatch import dispatch
from scheduler.ticks import plan_now, run_once
from tests.support.aliyun_gateway import http_500
from tests.test_remind_world import (
    Clock,
    RobotServer,
    add_enterprise,
    add_patent,
    at,
    channels_on,
    fast_settings,
    items,
    outbox,
    ticks_for,
    world,
)

MOBILE, MAILBOX = "13800000001", "ip@example.com"  # add_enterprise's contact 张经理 (ip_manager)
GRACE_DAY = "2025-10-12 10:00:00+08:00"  # 15 days before the year-9 grace end: SMS and email, the same tier
DUE_DAY = "2025-04-18 10:00:00+08:00"  # 7 days before the due date: email before_due, SMS before_due_sms


@pytest.fixture
def robot() -> Iterator[RobotServer]:
    with RobotServer() as server:
        yield server


@pytest.fixture
def channels(sms_transport, email_transport, robot) -> dict:
    return channels_on(sms_transport, email_transport, robot)


CLAIM = re.compile(r"已通过(\w+)收到[^（]*（[^，]*，([^）]*)）")
REF = re.compile(r"custody-(\d+)")


def assert_alerts_are_true(engine: Engine) -> None:
    """Each alert's claims hold in the outbox: a delivery it claims is a sent or receipted message on that channel
    to the person it names, carrying those fees; a fallback it announces exists; a person it says no channel reached
    got nothing that day."""
    rows = {m.id: m for m in outbox(engine)}
    sent_items = {(i.reminder_id, i.patent_id, i.fee_year) for i in items(engine) if i.state == "sent"}
    for alert in (m for m in rows.values() if m.kind == "alert"):
        body = alert.body or ""
        for channel, refs in CLAIM.findall(body):
            for ref in map(int, REF.findall(refs)):
                told = rows[ref]
                assert told.state in ("sent", "delivered") and told.channel == channel, (body, told.state)
                assert any(rid == ref for rid, _, _ in sent_items)
        for ref in map(int, re.findall(r"已改用\w+发送（[^，]*，custody-(\d+)）", body)):
            assert rows[ref].fallback_of is not None
        if body.startswith("无法送达"):
            failed = [int(r) for r in re.findall(r"custody-(\d+)，已失败", body)]
            person = {rows[r].contact_id for r in failed}
            assert all(rows[r].state == "failed" for r in failed)
            assert not [m for m in rows.values() if m.kind != "alert" and m.contact_id in person
                        and m.state in ("sent", "delivered") and m.day == rows[failed[0]].day]


def fee_rows(engine: Engine) -> list[tuple]:
    return [(m.channel, m.state, m.fallback_of is not None) for m in outbox(engine) if m.kind != "alert"]


@pytest.mark.parametrize("first", ["email", "sms"])
@pytest.mark.parametrize("day", [pytest.param(GRACE_DAY, id="same-tier-on-both-channels"),
                                 pytest.param(DUE_DAY, id="before-due-email-and-sms-tiers")])
def test_a_person_refused_on_both_channels_is_a_call_not_a_false_already_received(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot, day: str, first: str) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s, "福州闽江智能装备有限公司")))
    aliyun_gateway.refuse(MOBILE)  # isv.MOBILE_NUMBER_ILLEGAL, whatever is sent
    smtp_server.refuse(MAILBOX, 550)
    ticks = ticks_for(engine, channels)
    with freeze_time(day):
        plan_now(ticks)
        dispatch(ticks_for(engine, {first: channels[first], "webhook": channels["webhook"]}))
        for _ in range(2):
            run_once(ticks)
    assert not aliyun_gateway.accepted() and not smtp_server.received
    second = "sms" if first == "email" else "email"
    # The first failure planned the fee on the other channel, where the person's own message, still waiting, gave
    # way to it; that fallback failed too: each channel tried once, nothing left waiting, no loop back.
    rows = outbox(engine)
    assert sorted((m.channel, m.state, m.fallback_of is not None) for m in rows if m.kind != "alert") == sorted([
        (first, "failed", False), (second, "cancelled", False), (second, "failed", True)])
    [own] = [m for m in rows if m.channel == second and m.fallback_of is None]
    [fallback] = [m for m in rows if m.fallback_of is not None]
    assert read_reason(own.cancel_reason) == reason("fallback_duplicate", message=fallback.id)
    _assert_called_for(engine, robot.texts, second)


def test_a_person_refused_on_both_channels_in_one_batch_gets_the_waiting_fallback_cancelled(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s, "福州闽江智能装备有限公司")))
    aliyun_gateway.refuse(MOBILE)
    smtp_server.refuse(MAILBOX, 550)
    with freeze_time(GRACE_DAY):
        for _ in range(3):
            run_once(ticks_for(engine, channels))  # both claimed together, the email first
    assert not aliyun_gateway.accepted() and not smtp_server.received
    assert [(m.channel, m.state, m.fallback_of is not None) for m in outbox(engine) if m.kind != "alert"] == [
        ("email", "failed", False), ("sms", "failed", False), ("sms", "cancelled", True)]
    [fallback] = outbox(engine, fallback_of=outbox(engine, channel="email")[0].id)
    # it would only fail again
    assert shown_reason(fallback.cancel_reason).startswith("SMS refused this person for good")
    _assert_called_for(engine, robot.texts, "sms")


def _assert_called_for(engine: Engine, texts: list[str], fallback_channel: str) -> None:
    assert not [t for t in texts if "已通过" in t and "收到" in t]
    [call] = [t for t in texts if t.startswith("无法送达")]
    assert "福州闽江智能装备有限公司" in call and "张经理（专利联系人）" in call and "人工联系" in call
    assert "138****0001" in call and "i***@example.com" in call and MOBILE not in call and MAILBOX not in call
    assert re.search(r"专利2017\d{8}\.X 第9年度年费：缴费期限 2025-04-25，宽限期至 2025-10-27", call)
    assert "isv.MOBILE_NUMBER_ILLEGAL" in call and "550" in call
    assert len(texts) == 2 and f"已改用{fallback_channel}发送" in texts[0]  # true when said: it was planned
    assert_alerts_are_true(engine)


def test_the_other_channel_having_delivered_the_fee_is_said_and_true(engine: Engine, channels, aliyun_gateway,
                                                                      smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.refuse(MOBILE)
    with freeze_time(DUE_DAY):
        plan_now(ticks_for(engine, channels))
        dispatch(ticks_for(engine, {"email": channels["email"], "webhook": channels["webhook"]}))  # email first
        dispatch(ticks_for(engine, channels))
    assert fee_rows(engine) == [("email", "sent", False), ("sms", "failed", False)]  # no fallback: told
    [alert] = robot.texts
    assert "同一联系人已通过email收到这些年费的提醒" in alert
    assert len(smtp_server.received) == 1
    assert_alerts_are_true(engine)


def test_a_fee_only_planned_on_the_other_channel_gets_the_fallback_and_the_later_duplicate_is_not_sent(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.refuse(MOBILE)
    clock = Clock(at("2025-10-12", "10:00"))  # grace_end-15: SMS and email, the same tier label
    ticks = ticks_for(engine, channels, clock=clock)
    plan_now(ticks)
    [own_email] = outbox(engine, channel="email")
    with session_for(engine) as session:  # another dispatcher holds the person's own email, not sent yet
        assert claim(session, "elsewhere", clock.now, ["email"], 10) == [own_email.id]
    dispatch(ticks)  # the SMS fails for good: the fee goes by email at once, the own email still held
    [sms] = outbox(engine, channel="sms")
    [fallback] = outbox(engine, fallback_of=sms.id)
    assert (sms.state, fallback.channel, fallback.state) == ("failed", "email", "sent")
    clock.now += timedelta(minutes=11)  # the other dispatcher died; its claim is taken over and checked again
    dispatch(ticks)
    own = outbox(engine, id=own_email.id)[0]
    assert own.state == "cancelled"
    assert {shown_reason(i.cancel_reason) for i in items(engine, reminder_id=own.id)} == {
        f"duplicate: already sent in custody-{fallback.id}"}
    assert len(smtp_server.received) == 1  # the fee told once by email, not twice
    assert_alerts_are_true(engine)


def _three_fees_a_day_apart(session) -> None:
    enterprise = add_enterprise(session, email=None)
    for filed in (date(2017, 4, 22), date(2017, 4, 23), date(2017, 4, 24)):  # due Tue, Wed, Thu 2025-04-22..24
        add_patent(session, enterprise, filed=filed)


@pytest.mark.parametrize("retry_hours", [pytest.param(0, id="dispatch-down"),
                                         pytest.param(6, id="older-digests-waiting-for-a-retry")])
def test_after_a_dispatch_outage_one_person_gets_one_digest_not_one_per_missed_day(
        engine: Engine, sms_transport, aliyun_gateway, robot, retry_hours: int) -> None:
    world(engine, _three_fees_a_day_apart)
    tiers = (Tier("sms", "due_date", (-7,), ("sms",), ("ip_manager",)),)
    settings = fast_settings(tiers=tiers, retry=RetryPolicy(base_seconds=retry_hours * 3600 or 1, factor=1,
                                                            max_seconds=max(retry_hours, 1) * 3600))
    transports = {"sms": sms_transport, "webhook": channels_on(None, None, robot)["webhook"]}
    clock = Clock(at("2025-04-15", "10:00"))
    ticks = ticks_for(engine, transports, settings, clock)
    for day in ("2025-04-15", "2025-04-16", "2025-04-17"):  # the planning tick runs daily; sending does not
        clock.now = at(day, "10:00")
        plan_now(ticks)
        if retry_hours:  # the gateway is down: each day's digest fails and waits hours for its retry
            aliyun_gateway.fail_next(http_500())
            dispatch(ticks)
    assert len({m.day for m in outbox(engine, channel="sms")}) == 3 and not aliyun_gateway.accepted()
    clock.now = at("2025-04-17", "10:30")  # the recovery: the latest digest is due, the older ones may wait
    if retry_hours:
        with session_for(engine) as session:
            session.execute(sa.update(Reminder).where(Reminder.day == date(2025, 4, 17))
                            .values(not_before=clock.now))
    dispatch(ticks)
    [sent] = aliyun_gateway.accepted()
    assert sent.params["number"].endswith("等3件")
    messages = outbox(engine, channel="sms")
    [kept] = [m for m in messages if m.state == "sent"]
    assert kept.day == date(2025, 4, 17)
    # Each day's digest took in the one before it (down: all at once at the recovery; failing: day by day).
    merged = {shown_reason(m.cancel_reason).split(":")[0] for m in messages if m.id != kept.id}
    assert {m.state for m in messages if m.id != kept.id} == {"cancelled"}
    assert merged <= {f"merged into custody-{m.id}" for m in messages} and f"merged into custody-{kept.id}" in merged
    assert {(i.reminder_id, i.state) for i in items(engine)} == {(kept.id, "sent")}
    assert_alerts_are_true(engine)


def test_a_fallback_item_never_collides_with_the_persons_own_row(engine: Engine, channels, aliyun_gateway,
                                                                 smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.refuse(MOBILE)
    with freeze_time(GRACE_DAY):  # both channels have the tier grace_end:grace_end-15 for the same fee
        plan_now(ticks_for(engine, channels))
        dispatch(ticks_for(engine, {"sms": channels["sms"], "webhook": channels["webhook"]}))  # the SMS first
        dispatch(ticks_for(engine, channels))
    # The fallback's copy has a tier of its own, so the insert no longer collides with the person's own email row
    # (the collision used to leave the fallback empty and the alert claiming the email had gone)...
    assert {(i.channel, i.tier, i.state) for i in items(engine)} == {
        ("sms", "grace_end:grace_end-15", "failed"), ("email", "grace_end:grace_end-15>fallback", "sent"),
        ("email", "grace_end:grace_end-15", "cancelled")}  # ...and the own email, still waiting, gave way
    with session_for(engine) as session:
        fallback = session.execute(sa.select(Reminder).where(Reminder.fallback_of.is_not(None))).scalar_one()
        assert session.execute(sa.select(sa.func.count()).select_from(ReminderItem)
                               .where(ReminderItem.reminder_id == fallback.id)).scalar() == 1
    assert len(smtp_server.received) == 1 and "已改用email发送" in robot.texts[0]
    assert_alerts_are_true(engine)
