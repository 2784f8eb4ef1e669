"""Restoration reminders (issue 5), end to end on SQLite and PostgreSQL: a termination notice for non-payment comes in
through the legal-status watch, planning then reminds the enterprise's contacts and the operator from the notice
until the last day to request restoration (Rule 6 ¶2), quoting the fee, the 25 % late fee and the restoration fee;
the real local servers receive it.

The reference patent (tests/test_remind_world.py): year-9 fee 2000 CNY, grace end 2025-10-27. CNIPA's notice
dated 2025-12-12 gives until 2026-02-12 to request restoration: 2000 + 500 + 1000 = 3500 CNY.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from custody.models import Patent
from custody.reasons import reason_code
from custody.reminder_settings import CallListEntry
from custody.status_vocab import StatusBatch, StatusRecord
from custody.store.db import session_for
from custody.store.patents import add_payment
from scheduler.status_tick import sync_source
from scheduler.ticks import plan_now, run_once
from tests.test_remind_world import (
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

NOTICE = date(2025, 12, 12)
OPERATOR = CallListEntry("值班运营", mobile="13900000000", email="ops@example.com")


@pytest.fixture
def robot() -> Iterator[RobotServer]:
    with RobotServer() as server:
        yield server


def _terminated(engine: Engine, patent: Patent, moment: str) -> None:
    """CNIPA's termination notice for non-payment, as a legal-status export gives it, applied by the watch."""
    record = StatusRecord(patent.application_number, NOTICE, "专利权的终止", "未缴年费专利权终止", "status.csv:2")
    with freeze_time(moment):
        result = sync_source(engine, lambda: StatusBatch("file:status.csv", (record,)), "file:status.csv",
                             ticks_for(engine, {}).rules, at(moment[:10]))
    assert "restoration_reminders_started" in {e["code"] for e in result.effects}


def test_a_termination_notice_starts_restoration_reminders_to_the_enterprise_and_the_operator(
        engine: Engine, sms_transport, email_transport, robot, aliyun_gateway, smtp_server) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    _terminated(engine, patent, "2025-12-15 09:00:00+08:00")
    ticks = ticks_for(engine, channels_on(sms_transport, email_transport, robot),
                      fast_settings(call_list=(OPERATOR,), lapse_notice_days=0))
    with freeze_time("2025-12-15 10:00:00+08:00"):
        run_once(ticks)
        run_once(ticks)  # run twice: sends once
    restore = items(engine, kind="restore")
    assert sorted((i.tier, i.channel, i.recipient) for i in restore) == [
        ("restoration_notice:notice+0", "email", "ip@example.com"),
        ("restoration_notice:notice+0", "email", "ops@example.com"),
        ("restoration_notice:notice+0", "sms", "13800000001"),
        ("restoration_notice:notice+0", "sms", "13900000000")]
    assert {(i.fee_year, i.pay_by) for i in restore} == {(9, date(2026, 2, 12))}
    assert {m.state for m in outbox(engine, kind="restore")} <= {"sent", "delivered"}
    assert len(outbox(engine, kind="restore")) == 4
    # What the enterprise reads: the deadline and what restoring costs (Rule 6 ¶2).
    mail = next(m for m in smtp_server.messages if m["To"] == "ip@example.com")
    body = mail.get_body(("plain",)).get_content()
    assert "【专利失效通知】" in mail["Subject"]
    assert "恢复所需合计：3,500.00元（年费2,000.00元 + 滞纳金500.00元 + 恢复费1,000.00元）" in body
    assert "已收到终止通知，请于2026年2月12日前请求恢复" in body
    assert {m.template_code for m in aliyun_gateway.accepted()} == {"SMS_465100003"}  # the "lapsed" template
    assert len(aliyun_gateway.accepted()) == 2 and len(smtp_server.received) == 2
    # The operator also hears of it once through the alert robot, with the cost.
    [alert] = [t for t in robot.texts if "可请求恢复" in t]
    assert "请求恢复截止 2026-02-12" in alert and "3,500.00 元" in alert


def test_restoration_reminders_follow_their_tiers_until_the_deadline_then_stop(engine: Engine) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    _terminated(engine, patent, "2025-12-20 09:00:00+08:00")  # the notice reached us late: catch up once
    ticks = ticks_for(engine, {}, fast_settings(lapse_notice_days=0))

    def plan(moment: str) -> set[str]:
        with freeze_time(moment):
            plan_now(ticks)
        return {i.tier for i in items(engine, kind="restore")}

    assert plan("2025-12-20 10:00:00+08:00") == {"restoration_notice:notice+0"}
    assert plan("2026-01-12 10:00:00+08:00") == {"restoration_notice:notice+0"}  # restore_by-30 is 01-13
    assert plan("2026-01-13 10:00:00+08:00") == {"restoration_notice:notice+0", "restoration:restore_by-30"}
    assert len(outbox(engine, kind="alert")) == 1  # the operator alert once per notice, not per tier
    before = len(items(engine))
    plan("2026-02-13 10:00:00+08:00")  # the day after the deadline: nothing more, and what was left is cancelled
    assert len(items(engine)) == before
    assert {m.state for m in outbox(engine, kind="restore")} == {"cancelled"}


def test_paying_the_restoration_stops_its_reminders(engine: Engine) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    _terminated(engine, patent, "2025-12-15 09:00:00+08:00")
    ticks = ticks_for(engine, {}, fast_settings(lapse_notice_days=0))
    with freeze_time("2025-12-15 10:00:00+08:00"):
        plan_now(ticks)
    with freeze_time("2026-01-05 10:00:00+08:00"), session_for(engine) as session:
        add_payment(session, session.get(Patent, patent.id), 9, 3500, date(2026, 1, 5), "test")
    with freeze_time("2026-01-13 10:00:00+08:00"):
        result = plan_now(ticks)
    assert result.items == 0 and {reason_code(i.cancel_reason) for i in items(engine, kind="restore")} == {"paid"}
