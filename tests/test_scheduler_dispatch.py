"""Dispatch against the real local servers (Aliyun gateway with the real SDK, aiosmtpd, a group robot), on SQLite
and PostgreSQL: once and only once, under concurrency, crashes, flaky gateways and permanent failures."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine

from custody.models import Contact, Patent
from custody.models.reminders import ChannelPause, ReminderAttempt
from custody.reasons import read_reason, reason, reason_code, shown_reason
from custody.reminder_policy import Tier
from custody.reminder_settings import CallListEntry, SendWindow
from custody.store.db import session_for
from custody.store.patents import add_payment
from scheduler.dispatch import dispatch
from scheduler.receipts import pull_receipts
from scheduler.ticks import plan_now, run_once
from tests.support.aliyun_gateway import AMOUNT_NOT_ENOUGH, MOBILE_ILLEGAL, accepted_then, business, timeout
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

pytest_plugins = ["tests.support.fixtures"]  # also in tests/conftest.py; registering twice is harmless


@pytest.fixture
def robot() -> Iterator[RobotServer]:
    with RobotServer() as server:
        yield server


@pytest.fixture
def channels(sms_transport, email_transport, robot) -> dict:
    return channels_on(sms_transport, email_transport, robot)


def states(engine: Engine, kind: str | None = None) -> Counter:
    return Counter(m.state for m in outbox(engine) if kind is None or m.kind == kind)


def out_ids(gateway) -> Counter:
    return Counter(message.out_id for message in gateway.accepted())


def test_every_tick_run_twice_sends_once(engine: Engine, channels, aliyun_gateway, smtp_server) -> None:
    world(engine, lambda s: [add_patent(s, e) for e in [add_enterprise(s)] for _ in range(2)])
    ticks = ticks_for(engine, channels)
    with freeze_time("2025-04-18 10:00:00+08:00"):
        run_once(ticks)
        run_once(ticks)
    with freeze_time("2025-04-18 10:20:00+08:00"):
        run_once(ticks)
        run_once(ticks)
    assert len(aliyun_gateway.accepted()) == 1 and len(smtp_server.received) == 1
    sms = aliyun_gateway.accepted()[0]
    assert sms.params["number"].endswith("等2件") and sms.out_id == f"custody-{outbox(engine, channel='sms')[0].id}"
    assert states(engine) == {"delivered": 1, "sent": 1}  # the SMS receipt came back; email has none


def _many(engine: Engine, count: int) -> None:
    def build(s):
        for n in range(count):
            add_patent(s, add_enterprise(s, f"公司{n}", mobile=f"139{n:08d}", email=None))
    world(engine, build)
    with freeze_time("2025-04-18 08:00:00+08:00"):
        plan_now(ticks_for(engine, {}, _sms_only()))


def _many_today(engine: Engine, count: int) -> Clock:
    """`count` SMS reminders due now by the real clock (the gateway dates what it records by the real clock, and
    a look-up by OutId asks for a day), planned with a tier for every one of the 30 days before the due date."""
    from custody.clock import now as real_now

    start = real_now()
    filed = start.date() + timedelta(days=10)
    filed = filed.replace(year=filed.year - 8) if (filed.month, filed.day) != (2, 29) else filed - timedelta(days=1)

    def build(s):
        for n in range(count):
            add_patent(s, add_enterprise(s, f"公司{n}", mobile=f"139{n:08d}", email=None), filed=filed)
    world(engine, build)
    settings = fast_settings(tiers=(Tier("sms", "due_date", tuple(range(-30, 0)), ("sms",), ("ip_manager",)),))
    plan_now(ticks_for(engine, {}, settings, Clock(start)))
    return Clock(start)


def test_two_dispatchers_at_once_send_each_of_1000_reminders_exactly_once(engine: Engine, sms_settings,
                                                                           aliyun_gateway, db_url) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from custody.store.db import engine_for
    from notifiers.aliyun_sms import AliyunSms
    from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET

    # About two dispatchers, not timeouts: the in-process gateway, starved of the GIL on a loaded machine, may take
    # longer than the fixtures' 1 s read timeout, and a timed-out SMS is rightly left 'unknown' to be looked up.
    sms_transport = AliyunSms(replace(sms_settings, read_timeout=30.0), key_id=KEY_ID, key_secret=KEY_SECRET)

    _many(engine, 1000)
    assert states(engine) == {"planned": 1000}
    clock = Clock(at("2025-04-18", "10:00"))
    engines = [engine_for(db_url), engine_for(db_url)]
    workers = [ticks_for(e, {"sms": sms_transport}, fast_settings(batch_size=20), clock) for e in engines]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(dispatch, workers))
    for e in engines:
        e.dispose()
    assert all(d.get("sent", 0) > 0 for d in done), done  # both really worked
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 1000 and max(sent.values()) == 1  # none lost, none twice
    assert states(engine) == {"sent": 1000}


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_a_claim_takes_at_most_its_batch(engine: Engine, limit: int) -> None:
    from custody.store.outbox import claim

    _many(engine, 4)
    with session_for(engine) as session:  # PostgreSQL once took two for a batch of one (`IN (... LIMIT)`)
        assert len(claim(session, "w1", at("2025-04-18", "10:00"), ["sms"], limit)) == limit
    assert states(engine) == {"sending": limit, "planned": 4 - limit}


def test_a_gateway_failing_30_percent_delivers_everything_in_the_end_nothing_twice(
        engine: Engine, sms_transport, aliyun_gateway) -> None:
    _many(engine, 200)
    aliyun_gateway.fail_at_random(0.3, seed=4)  # some are accepted and then answered 504: looked up, not resent
    clock = Clock(at("2025-04-18", "10:00"))
    aliyun_gateway.message_clock = clock  # look-ups ask for the day of the test's clock
    ticks = ticks_for(engine, {"sms": sms_transport}, fast_settings(), clock)
    for _ in range(30):
        dispatch(ticks)
        if states(engine) == {"sent": 200}:
            break
        clock.now += timedelta(minutes=2)
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 200 and max(sent.values()) == 1
    assert states(engine) == {"sent": 200}
    refused = [r for r in aliyun_gateway.requests if r.code != "OK"]
    assert len(refused) > 30  # the gateway really failed about 30 % of the requests
    assert any(r.status == 504 for r in refused)  # including answers lost after acceptance


# A dispatcher in a process of its own (to be killed): argv is the database URL, the gateway, now, the batch size.
CHILD = """
import sys
from datetime import datetime
from custody.reminder_settings import ReminderSettings
from custody.ruleset import default_rules
from custody.store.db import engine_for
from notifiers.aliyun_sms import AliyunSms, SmsSettings
from scheduler.dispatch import dispatch
from scheduler.ticks import Ticks
from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET
url, endpoint, now, batch_size = sys.argv[1:5]
sms = AliyunSms(SmsSettings(enabled=True, endpoint=endpoint, protocol="http", sign_name="专利托管",
                            templates={"due_soon": "SMS_1", "overdue": "SMS_2", "lapsed": "SMS_3",
                                       "lapsed_due": "SMS_4", "overdue_final": "SMS_5"},
                            read_timeout=120), key_id=KEY_ID, key_secret=KEY_SECRET)
settings = ReminderSettings(send_windows={}, batch_size=int(batch_size))
dispatch(Ticks(engine_for(url), settings, default_rules(), {"sms": sms}, clock=lambda: datetime.fromisoformat(now)))
"""


def test_a_dispatcher_killed_between_claim_and_send_is_recovered_without_loss(
        engine: Engine, db_url: str, sms_transport, aliyun_gateway) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    now = _many_today(engine, 3).now
    assert states(engine) == {"planned": 3}
    # The first message reaches the gateway, which records it and never answers: the worker hangs after the
    # provider took it; the two others are claimed and never tried. Then the worker is killed.
    aliyun_gateway.fail_next(timeout(record=True, delay=120))
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, aliyun_gateway.endpoint, now.isoformat(), "3"],
                             cwd=os.getcwd())
    deadline = time.monotonic() + 60
    while len(aliyun_gateway.accepted()) < 1 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert states(engine) == {"sending": 3}
    clock = Clock(now + timedelta(minutes=5))
    ticks = ticks_for(engine, {"sms": sms_transport}, fast_settings(), clock)
    dispatch(ticks)
    assert states(engine) == {"sending": 3}  # a claim younger than the timeout may still be alive
    clock.now = now + timedelta(minutes=11)
    summary = dispatch(ticks)
    assert summary["reconciled"] == 3
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 3 and max(sent.values()) == 1  # the one the gateway took was looked up, not resent
    assert states(engine) == {"sent": 3}
    # The dead worker's attempts are closed with what reconciliation found, none left without an end.
    with engine.connect() as connection:
        attempts = connection.execute(sa.select(ReminderAttempt.worker, ReminderAttempt.outcome,
                                                ReminderAttempt.finished_at)).all()
    dead = sorted(outcome for worker, outcome, _ in attempts if worker.endswith(str(child.pid)) or ":" + str(
        child.pid) + ":" in worker)
    assert all(finished is not None for _, _, finished in attempts)
    assert dead == ["not_sent", "not_sent", "sent"]


def test_an_unknown_outcome_is_looked_up_before_any_resend(engine: Engine, sms_transport, aliyun_gateway) -> None:
    clock = _many_today(engine, 1)
    aliyun_gateway.fail_next(timeout(record=True, delay=3))  # the SDK gives up after 1 s
    ticks = ticks_for(engine, {"sms": sms_transport}, fast_settings(), clock)
    dispatch(ticks)
    assert states(engine) == {"unknown": 1}
    clock.now += timedelta(minutes=5)
    dispatch(ticks)
    assert len(aliyun_gateway.accepted()) == 1
    assert states(engine) == {"sent": 1}


def test_a_gateway_5xx_after_acceptance_is_looked_up_not_resent(engine: Engine, sms_transport,
                                                               aliyun_gateway) -> None:
    _many(engine, 2)
    clock = Clock(at("2025-04-18", "10:00"))
    aliyun_gateway.message_clock = clock
    aliyun_gateway.fail_next(accepted_then(504), accepted_then(502))
    ticks = ticks_for(engine, {"sms": sms_transport}, fast_settings(), clock)
    dispatch(ticks)
    assert states(engine) == {"unknown": 2} and len(aliyun_gateway.accepted()) == 2
    clock.now += timedelta(minutes=3)
    assert dispatch(ticks)["reconciled"] == 2
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 2 and max(sent.values()) == 1  # found by OutId: never sent twice
    assert states(engine) == {"sent": 2}


def _sms_only(**changes):
    tiers = (Tier("sms", "due_date", (-7,), ("sms",), ("ip_manager",)),)
    return fast_settings(tiers=tiers, **changes)


def test_a_permanent_failure_sends_the_fallback_and_alerts_the_operator(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.fail_next(MOBILE_ILLEGAL)
    ticks = ticks_for(engine, channels, _sms_only())
    with freeze_time("2025-04-18 10:00:00+08:00"):
        run_once(ticks)
        run_once(ticks)
    failed = outbox(engine, channel="sms")[0]
    assert (failed.state, failed.last_code) == ("failed", "isv.MOBILE_NUMBER_ILLEGAL")
    fallback = outbox(engine, channel="email")[0]
    assert (fallback.state, fallback.fallback_of, fallback.recipient) == ("sent", failed.id, "ip@example.com")
    [mail] = smtp_server.messages
    assert "201700" in mail.get_body(("plain",)).get_content() or "2017" in mail["Subject"]
    [alert] = robot.texts
    assert "提醒发送失败" in alert and "138****0001" in alert and "13800000001" not in alert
    assert "已改用email发送" in alert


def test_a_failed_fallback_asks_for_a_person_instead_of_falling_back_again(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.fail_next(MOBILE_ILLEGAL, MOBILE_ILLEGAL)
    smtp_server.refuse("ip@example.com", 550)
    ticks = ticks_for(engine, channels, _sms_only())
    with freeze_time("2025-04-18 10:00:00+08:00"):
        for _ in range(3):
            run_once(ticks)
    assert [(m.channel, m.state, m.fallback_of is not None) for m in outbox(engine, kind="fee")] == [
        ("sms", "failed", False), ("email", "failed", True)]  # SMS -> email, and no email -> SMS -> ... loop
    assert len(robot.texts) == 2 and "备用渠道也发送失败，请人工联系" in robot.texts[1]


def test_a_message_failed_at_the_carrier_counts_as_failed(engine: Engine, channels, aliyun_gateway, smtp_server,
                                                          robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.carrier_rejects("13800000001")
    ticks = ticks_for(engine, channels, _sms_only())
    with freeze_time("2025-04-18 10:00:00+08:00"):
        plan_now(ticks)
        dispatch(ticks)
    assert outbox(engine, channel="sms")[0].state == "sent"  # the gateway took it
    with freeze_time("2025-04-18 10:10:00+08:00"):
        assert pull_receipts(ticks)["failed"] == 1
        run_once(ticks)
    assert outbox(engine, channel="sms")[0].state == "failed"
    assert len(smtp_server.received) == 1 and len(robot.texts) == 1


def test_an_email_refused_for_good_falls_back_to_sms(engine: Engine, channels, aliyun_gateway, smtp_server,
                                                     robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    smtp_server.refuse("ip@example.com", 550)
    ticks = ticks_for(engine, channels)
    with freeze_time("2025-02-24 10:00:00+08:00"):  # 60 days before: an email-only tier
        run_once(ticks)
        run_once(ticks)
    assert [(m.channel, m.state) for m in outbox(engine) if m.kind == "fee"] == [("email", "failed"),
                                                                                  ("sms", "delivered")]
    assert aliyun_gateway.accepted()[0].params["number"].startswith("2017")
    assert len(robot.texts) == 1


@pytest.mark.parametrize("batch_size", [1, 50])
def test_a_configuration_error_fails_the_message_sends_the_fallback_and_pauses_the_channel(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot, batch_size: int) -> None:
    world(engine, lambda s: [add_patent(s, add_enterprise(s)),
                             add_patent(s, add_enterprise(s, "乙公司", mobile="13800000002", email="b@example.com"))])
    # The template stays wrong: every SMS tried would fail the same way (so a batch must not try the others).
    aliyun_gateway.fail_next(*[business("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法")] * 2)
    ticks = ticks_for(engine, channels, _sms_only(batch_size=batch_size))
    with freeze_time("2025-04-18 10:00:00+08:00"):
        run_once(ticks)
        run_once(ticks)
    # Reference: configuration errors are "permanent; alert the operator". The SMS fails for good, so the fallback
    # email goes at once; the channel rests (the other SMS waits, it would fail the same way).
    sms = outbox(engine, channel="sms", kind="fee")
    assert [(m.state, m.last_code, m.attempts) for m in sms] == [("failed", "isv.SMS_TEMPLATE_ILLEGAL", 1),
                                                                  ("planned", None, 0)]
    assert len(aliyun_gateway.requests) == 1
    fallback = outbox(engine, fallback_of=sms[0].id)
    assert [(m.channel, m.state) for m in fallback] == [("email", "sent")] and len(smtp_server.received) == 1
    assert any("提醒发送失败" in t for t in robot.texts) and any("sms通道已暂停" in t for t in robot.texts)
    with engine.connect() as connection:
        assert connection.execute(sa.select(ChannelPause.channel)).scalars().all() == ["sms"]


def test_an_account_problem_pauses_the_channel_and_alerts_once(engine: Engine, channels, aliyun_gateway,
                                                              robot) -> None:
    _many(engine, 3)
    aliyun_gateway.fail_next(AMOUNT_NOT_ENOUGH)
    clock = Clock(at("2025-04-18", "10:00"))
    ticks = ticks_for(engine, channels, fast_settings(), clock)
    dispatch(ticks)
    assert states(engine, "fee") == {"planned": 3} and len(aliyun_gateway.accepted()) == 0
    assert len(robot.texts) == 1 and "sms通道已暂停" in robot.texts[0]
    clock.now += timedelta(minutes=30)
    dispatch(ticks)
    assert len(aliyun_gateway.accepted()) == 0  # still resting
    clock.now += timedelta(minutes=31)
    dispatch(ticks)
    assert states(engine, "fee") == {"sent": 3} and len(robot.texts) == 1


def test_sms_planned_at_night_goes_out_the_next_morning(engine: Engine, channels, aliyun_gateway,
                                                        smtp_server) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    from datetime import time

    ticks = ticks_for(engine, channels, fast_settings(send_windows={"sms": SendWindow(time(9), time(20))}))
    with freeze_time("2025-04-18 23:00:00+08:00"):  # the -7 tier, planned late at night
        run_once(ticks)
    assert len(smtp_server.received) == 1 and len(aliyun_gateway.accepted()) == 0  # email has no quiet hours
    with freeze_time("2025-04-19 08:59:00+08:00"):
        run_once(ticks)
    assert len(aliyun_gateway.accepted()) == 0
    with freeze_time("2025-04-19 09:00:00+08:00"):
        run_once(ticks)
    assert len(aliyun_gateway.accepted()) == 1 and len(smtp_server.received) == 1


def test_a_payment_or_an_opt_out_after_planning_stops_the_message(engine: Engine, channels, aliyun_gateway,
                                                                  smtp_server) -> None:
    patent = world(engine, lambda s: add_patent(s, add_enterprise(s)))
    ticks = ticks_for(engine, channels)
    with freeze_time("2025-04-18 08:00:00+08:00"):
        plan_now(ticks)
    with freeze_time("2025-04-18 08:30:00+08:00"), session_for(engine) as session:
        contact = session.execute(sa.select(Contact)).scalar_one()
        contact.consent_email = False  # the contact opts out of email
    with freeze_time("2025-04-18 09:00:00+08:00"):
        dispatch(ticks)
    assert len(smtp_server.received) == 0 and len(aliyun_gateway.accepted()) == 1
    assert read_reason(outbox(engine, channel="email")[0].cancel_reason) == reason("consent_withdrawn", channel="email")
    with freeze_time("2025-04-24 08:00:00+08:00"):
        plan_now(ticks)
    with freeze_time("2025-04-24 08:30:00+08:00"), session_for(engine) as session:
        add_payment(session, session.get(Patent, patent.id), 9, 300, date(2025, 4, 24), "test")
    with freeze_time("2025-04-24 09:00:00+08:00"):
        dispatch(ticks)  # no planning in between: dispatch itself sees the payment
    assert len(aliyun_gateway.accepted()) == 1
    assert outbox(engine, channel="sms")[-1].state == "cancelled"
    assert {reason_code(i.cancel_reason) for i in items(engine, channel="sms", tier="before_due_sms:due-1")} == {"paid"}


def test_a_message_only_lists_its_own_enterprises_patents(engine: Engine, channels, aliyun_gateway,
                                                          smtp_server) -> None:
    def build(s):
        first, second = add_enterprise(s, "甲公司"), add_enterprise(s, "乙公司", mobile="13800000002",
                                                                    email="b@example.com")
        mine, theirs = add_patent(s, first), add_patent(s, second)
        moving = add_patent(s, first)
        return mine, theirs, moving, second
    mine, theirs, moving, second = world(engine, build)
    call_list = (CallListEntry("值班", mobile="13900000000", email="ops@example.com"),)
    ticks = ticks_for(engine, channels, fast_settings(call_list=call_list))
    with freeze_time("2025-10-24 08:00:00+08:00"):  # grace_end-3: everyone, and the operator's call list
        plan_now(ticks)
    with session_for(engine) as session:  # one patent changes hands after planning
        session.get(Patent, moving.id).enterprise_id = second.id
    with freeze_time("2025-10-24 09:00:00+08:00"):
        dispatch(ticks)
    operator = [m for m in aliyun_gateway.accepted() if m.phone == "13900000000"]
    assert sorted(m.params["name"] for m in operator) == ["乙公司", "甲公司"]  # one message per enterprise
    for message in smtp_server.messages:
        body = message.get_body(("plain",)).get_content()
        company = "甲公司" if "甲公司" in message["Subject"] else "乙公司"
        assert (mine.application_number in body) == (company == "甲公司")
        assert (theirs.application_number in body) == (company == "乙公司")
        assert moving.application_number not in body  # planned for 甲, now 乙's: dropped, not leaked
        # The operator's copy names the enterprise; the enterprise's own says "贵司".
        is_copy = message["To"] == "ops@example.com"
        assert message["Subject"].startswith("【运营副本】") == is_copy and ("贵司" in body) != is_copy


def test_the_daily_cap_per_number_defers_the_rest(engine: Engine, sms_transport, aliyun_gateway) -> None:
    def build(s):
        for n in range(3):
            add_patent(s, add_enterprise(s, f"公司{n}", mobile=None, email=None))
    world(engine, build)
    call_list = (CallListEntry("值班", mobile="13900000000"),)
    settings = fast_settings(call_list=call_list, daily_cap={"sms": 2})
    clock = Clock(at("2025-10-24", "10:00"))
    ticks = ticks_for(engine, {"sms": sms_transport}, settings, clock)
    with freeze_time("2025-10-24 08:00:00+08:00"):
        plan_now(ticks)
    dispatch(ticks)
    assert len(aliyun_gateway.accepted()) == 2
    deferred = [m for m in outbox(engine) if m.channel == "sms" and m.state == "planned"]
    assert len(deferred) == 1 and deferred[0].not_before == at("2025-10-25", "10:00")
    clock.now = at("2025-10-25", "10:01")
    dispatch(ticks)
    assert len(aliyun_gateway.accepted()) == 3


def test_amounts_sent_are_those_of_the_day(engine: Engine, channels, aliyun_gateway) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    with freeze_time("2025-07-26 10:00:00+08:00"):
        run_once(ticks_for(engine, channels))
    # 2000 fee + 15 % of 2000 late fee (Rule 115) on the day it rose to 15 %.
    [sms] = aliyun_gateway.accepted()
    assert sms.template_code == "SMS_465100002" and sms.params["amount"] == "2,300.00"
    assert Decimal(items(engine, channel="sms")[0].late_fee) == 300


def test_texts_are_made_to_fit_each_channels_limits_or_fail_with_the_reason(engine: Engine, robot, tmp_path) -> None:
    from notifiers.base import ChannelLimits
    from notifiers.file_outbox import FileOutbox
    from notifiers.webhook import WEBHOOK_LIMITS, AlertSettings, RobotWebhook

    world(engine, lambda s: add_patent(s, add_enterprise(s, "某" * 40)))
    # An SMS channel whose variables take at most 12 characters: the company name is cut (still true), the
    # application number "2017…等N件" cannot be (it would be false): that message fails for good, with why.
    sms = FileOutbox(tmp_path, limits=ChannelLimits(max_chars=500, per_recipient_per_day=None, per_second=None,
                                                     max_param_chars=12))
    alerts = RobotWebhook(AlertSettings(enabled=True), url=robot.url)
    ticks = ticks_for(engine, {"sms": sms, "webhook": alerts}, _sms_only())
    with freeze_time("2025-04-18 10:00:00+08:00"):
        run_once(ticks)
        run_once(ticks)
    [failed] = outbox(engine, channel="sms")
    assert (failed.state, failed.last_code) == ("failed", "local.TOO_LONG")
    assert failed.last_error == "SMS variable number is 14 characters, over the channel's limit of 12"
    assert not (tmp_path / "messages.jsonl").exists()  # nothing was sent
    # The operator alert about it is long (the reason and the fallback): cut to the robot's declared limit.
    [alert] = [m for m in outbox(engine, kind="alert") if m.state == "sent"]
    assert len(alert.body) <= WEBHOOK_LIMITS.max_chars and robot.texts


def test_a_too_long_alert_is_cut_to_the_robots_limit_with_a_mark(engine: Engine, robot) -> None:
    from custody.messages import CUT_MARK
    from custody.store.outbox import plan_alert
    from notifiers.webhook import WEBHOOK_LIMITS, AlertSettings, RobotWebhook

    with session_for(engine) as session:
        plan_alert(session, fast_settings(), "long", at("2025-04-18"), "很长的告警", ["细节" * 600])
    ticks = ticks_for(engine, {"webhook": RobotWebhook(AlertSettings(enabled=True), url=robot.url)},
                      clock=Clock(at("2025-04-18")))
    dispatch(ticks)
    [alert] = outbox(engine)
    assert alert.state == "sent" and len(alert.body) == WEBHOOK_LIMITS.max_chars and alert.body.endswith(CUT_MARK)
    assert robot.texts[0].endswith(CUT_MARK)


def test_an_alert_planned_again_is_neither_repeated_nor_logged_again(engine: Engine, caplog) -> None:
    from custody.store.outbox import plan_alert

    for _ in range(3):  # e.g. one planning tick per cron run, each finding the same enterprise with nobody to remind
        with session_for(engine) as session:
            plan_alert(session, fast_settings(), "nobody:1", at("2025-04-18"), "无人可提醒")
    assert len(outbox(engine, kind="alert")) == 1
    logged = [r.getMessage() for r in caplog.records if "operator alert" in r.getMessage()]
    assert logged == ["operator alert: 无人可提醒"]


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_process_without_a_channels_secret_leaves_its_messages_for_one_that_has_it(
        engine: Engine, channel: str, sms_settings, email_settings, sms_transport, email_transport, aliyun_gateway,
        smtp_server, monkeypatch, tmp_path) -> None:
    from custody.store.health import health_checks
    from notifiers.aliyun_sms import KEY_ID_ENV, KEY_SECRET_ENV, AliyunSms
    from notifiers.email_smtp import PASSWORD_ENV, SmtpEmail
    from notifiers.file_outbox import FileOutbox

    for name in (KEY_ID_ENV, KEY_SECRET_ENV, PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)
    world(engine, lambda s: [add_patent(s, add_enterprise(s, f"公司{n}", mobile=f"139{n:08d}",
                                                          email=f"c{n}@example.com")) for n in range(3)])
    clock = Clock(at("2025-04-18", "10:00"))
    settings = fast_settings(tiers=(Tier(channel, "due_date", (-7,), (channel,), ("ip_manager",)),))
    # A cron `run-once` started without the secrets file builds the channel from config.toml, without its secret.
    keyless = {"sms": AliyunSms(sms_settings), "email": SmtpEmail(email_settings)}[channel]
    cron = ticks_for(engine, {channel: keyless, "file": FileOutbox(tmp_path)}, settings, clock)
    plan_now(cron)
    summary = dispatch(cron)
    dispatch(cron)
    secret = {"sms": f"{KEY_ID_ENV} / {KEY_SECRET_ENV}", "email": PASSWORD_ENV}[channel]
    assert summary["left_unclaimed"] == {channel: f"3 due, left for a process that has it: {secret} not set"}
    # Not claimed at all: not failed with config.NO_KEYS, no fallback, the channel not paused for everyone.
    assert states(engine) == {"planned": 3} and not aliyun_gateway.requests and not smtp_server.received
    assert outbox(engine, kind="alert") == [] and _pauses(engine) == []
    clock.now += timedelta(minutes=31)  # if no process has the secret, `custody health` shows them late
    with session_for(engine) as session:
        [late] = [c for c in health_checks(session, settings, clock.now) if c.name == "overdue messages"]
    assert not late.ok and f"({channel} 3;" in late.detail
    daemon = ticks_for(engine, {"sms": sms_transport, "email": email_transport}, settings, clock)
    assert dispatch(daemon)["sent"] == 3 and "left_unclaimed" not in dispatch(daemon)
    assert states(engine) == {"sent": 3}


def _pauses(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return connection.execute(sa.select(ChannelPause.channel)).scalars().all()


def test_a_batch_that_outlives_the_claim_timeout_sends_each_message_once(engine: Engine, sms_settings,
                                                                         aliyun_gateway) -> None:
    """A slow gateway (4 minutes a message) and a second dispatcher 16 minutes into the first one's batch of 6,
    past the 10-minute claim timeout: the messages the first has not reached yet look like dead claims."""
    from dataclasses import replace

    from notifiers.aliyun_sms import AliyunSms
    from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET

    _many(engine, 6)
    start = at("2025-04-18", "10:00")
    clock = Clock(start)
    aliyun_gateway.message_clock = clock
    patient = replace(sms_settings, read_timeout=60)  # the first dispatcher waits out its slow answers
    settings = fast_settings(batch_size=6)
    first, second = (ticks_for(engine, {"sms": AliyunSms(patient, KEY_ID, KEY_SECRET)}, settings, clock)
                     for _ in range(2))
    assert settings.claim_timeout_seconds == 600
    second_run: list[dict] = []

    def slowly(params) -> None:
        clock.now += timedelta(minutes=4)
        if clock.now - start >= timedelta(minutes=16) and not second_run:
            second_run.append({})
            second_run[0] = dispatch(second)  # while the first waits for the answer to its 4th message

    aliyun_gateway.while_sending = slowly
    done = dispatch(first)
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 6 and max(sent.values()) == 1
    assert states(engine) == {"sent": 6}
    assert second_run[0]["reconciled"] == 2 and second_run[0]["sent"] == 2  # the two not reached yet
    assert done["sent"] == 4 and done["lost"] == 2  # and the first did not send them too


def test_a_fee_only_planned_on_the_fallback_channel_does_not_count_as_told(engine: Engine, channels,
                                                                           aliyun_gateway, smtp_server,
                                                                           robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.fail_next(MOBILE_ILLEGAL)
    smtp_server.refuse("ip@example.com", 451)  # the day's email waits for a retry: planned, not sent
    ticks = ticks_for(engine, channels)  # 04-18: email (before_due) and SMS (before_due_sms), the same fee
    with freeze_time("2025-04-18 10:00:00+08:00"):
        plan_now(ticks)
        dispatch(ticks)
    sms = outbox(engine, channel="sms")[0]
    [own] = outbox(engine, channel="email", fallback_of=None)
    [fallback] = outbox(engine, fallback_of=sms.id)  # the fee goes by email, whatever else is planned
    assert sms.state == "failed" and fallback.channel == "email"
    # The day's own email, waiting for its retry, would tell the same fee again: it gives way to the fallback.
    assert (own.state, shown_reason(own.cancel_reason)) == (
        "cancelled", f"duplicate: carried by the fallback custody-{fallback.id}")
    [alert] = robot.texts
    assert "已改用email发送" in alert and "已通过email收到" not in alert


def test_no_fallback_is_planned_on_a_channel_that_cannot_send(engine: Engine, channels, aliyun_gateway,
                                                              robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.fail_next(MOBILE_ILLEGAL)
    ticks = ticks_for(engine, channels, _sms_only(sending_channels=frozenset({"sms", "file", "webhook"})))
    with freeze_time("2025-04-18 10:00:00+08:00"):
        run_once(ticks)
    assert [(m.channel, m.state) for m in outbox(engine, kind="fee")] == [("sms", "failed")]
    [alert] = robot.texts
    assert "备用渠道email未启用，请人工联系" in alert


def test_an_sms_without_a_receipt_in_time_is_marked_alerted_once_and_counted(engine: Engine, channels,
                                                                             aliyun_gateway, robot) -> None:
    from custody.report_figures import deliveries_report
    from custody.store.health import health_checks
    from custody.store.reports import delivery_counts

    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    aliyun_gateway.carrier_silent.add("13800000001")  # the carrier never reports on it
    clock = Clock(at("2025-04-18", "10:00"))
    aliyun_gateway.message_clock = clock
    ticks = ticks_for(engine, {"sms": channels["sms"], "webhook": channels["webhook"]}, _sms_only(), clock)
    plan_now(ticks)
    dispatch(ticks)
    clock.now = at("2025-04-21", "09:59")  # still within the 72 hours: asked, waiting
    assert (pull_receipts(ticks)["waiting"], pull_receipts(ticks)["no_receipt"]) == (1, 0)
    clock.now = at("2025-04-21", "10:01")
    assert pull_receipts(ticks)["no_receipt"] == 1
    assert pull_receipts(ticks)["no_receipt"] == 0  # once
    dispatch(ticks)
    [sms] = outbox(engine, channel="sms")
    assert (sms.state, sms.last_code) == ("sent", "local.NO_RECEIPT")  # it may have arrived: not failed
    [alert] = robot.texts
    assert "1条sms超过72小时仍无送达回执" in alert and "138****0001" in alert and "13800000001" not in alert
    with session_for(engine) as session:
        counts = delivery_counts(session, date(2025, 4, 1), date(2025, 4, 30))
        checks = {c.name: c for c in health_checks(session, ticks.settings, clock.now)}
    [row] = [r for r in deliveries_report(counts, "April").rows if r["channel"] == "sms"]
    assert (row["sent"], row["undelivered"], row["no_receipt"], row["delivered"]) == (1, 1, 1, 0)
    assert checks["no receipt in 7 days"].detail.startswith("1 SMS without a delivery receipt after 72 h")


def test_messages_planned_on_a_channel_disabled_since_are_cancelled_and_sent_by_the_fallback(
        engine: Engine, channels, aliyun_gateway, smtp_server, robot) -> None:
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    with freeze_time("2025-04-18 08:00:00+08:00"):  # planned for 09:00, when the SMS window opens
        plan_now(ticks_for(engine, channels, _sms_only(send_windows={"sms": SendWindow(time(9), time(20))})))
    # Then [sms] enabled = false: this process has no SMS transport, and nobody ever will send that row.
    email_only = _sms_only(sending_channels=frozenset({"email", "file", "webhook"}))
    ticks = ticks_for(engine, {c: t for c, t in channels.items() if c != "sms"}, email_only)
    with freeze_time("2025-04-18 08:30:00+08:00"):
        first = run_once(ticks)
        again = run_once(ticks)
    assert (first["plan"]["rerouted"], again["plan"]["rerouted"]) == (1, 0)
    [sms] = outbox(engine, channel="sms")
    assert (sms.state, shown_reason(sms.cancel_reason)) == ("cancelled", "SMS cannot send (not enabled)")
    assert {(i.state, read_reason(i.cancel_reason)) for i in items(engine, reminder_id=sms.id)} == {
        ("cancelled", reason("not_enabled", channel="sms"))}
    [fallback] = outbox(engine, fallback_of=sms.id)
    assert (fallback.channel, fallback.recipient, fallback.state) == ("email", "ip@example.com", "sent")
    assert len(smtp_server.messages) == 1 and not aliyun_gateway.requests
    [alert] = [text for text in robot.texts if "无法经sms发出" in text]  # (and the SMS-only tier is now silent)
    assert "1 条待发提醒无法经sms发出" in alert and "138****0001" in alert and "已改用email发送" in alert


@pytest.mark.parametrize("tick", ["plan", "dispatch"])
def test_messages_no_process_has_the_secret_for_are_rerouted_once_they_are_late(
        engine: Engine, tick: str, sms_settings, email_transport, aliyun_gateway, smtp_server, tmp_path,
        monkeypatch) -> None:
    """By the planning tick, and by the dispatch tick too: a daemon started without the keys plans once a day."""
    from notifiers.aliyun_sms import KEY_ID_ENV, KEY_SECRET_ENV, AliyunSms
    from notifiers.file_outbox import FileOutbox

    for name in (KEY_ID_ENV, KEY_SECRET_ENV):
        monkeypatch.delenv(name, raising=False)

    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    clock = Clock(at("2025-04-18", "10:00"))
    # Only a cron `run-once` started without the Aliyun keys: its SMS would wait for ever for a daemon that has them.
    cron = ticks_for(engine, {"sms": AliyunSms(sms_settings, key_id=None, key_secret=None),
                              "email": email_transport, "file": FileOutbox(tmp_path)}, _sms_only(), clock)
    assert cron.unready() and run_once(cron)["plan"]["rerouted"] == 0
    clock.now += timedelta(minutes=25)  # a daemon with the keys would have sent it by now; maybe it is restarting
    assert run_once(cron)["plan"]["rerouted"] == 0 and states(engine) == {"planned": 1}
    clock.now += timedelta(minutes=10)  # 35 min late (health.overdue_minutes = 30): nobody has the keys
    if tick == "plan":
        assert plan_now(cron).rerouted == 1
        dispatch(cron)
    else:
        assert dispatch(cron)["rerouted"] == 1
    [sms] = outbox(engine, channel="sms")
    assert sms.state == "cancelled" and "no process has" in shown_reason(sms.cancel_reason)
    assert [(m.channel, m.state) for m in outbox(engine, fallback_of=sms.id)] == [("email", "sent")]
    assert len(smtp_server.messages) == 1 and not aliyun_gateway.requests
    [alert] = outbox(engine, kind="alert")
    assert "无法经sms发出" in alert.subject


def test_an_email_about_a_provisional_due_date_says_so(engine: Engine, channels, aliyun_gateway,
                                                       smtp_server) -> None:
    # Year 11 falls due 2027-04-25, a Sunday, moved to 2027-04-26 on 2027's provisional calendar.
    world(engine, lambda s: add_patent(s, add_enterprise(s), paid_through=10))
    with freeze_time("2027-04-19 10:00:00+08:00"):
        run_once(ticks_for(engine, channels))
    email = next(m for m in outbox(engine, channel="email"))
    assert "2027年4月26日（暂定）" in email.body
