"""A batch's bookkeeping is one transaction at its end: what a crash or an interruption in the middle of a batch
leaves, and that recovery neither loses a message nor sends one blind again (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from custody.models.reminders import ReminderAttempt
from scheduler.dispatch import dispatch
from tests.test_remind_world import Clock, fast_settings, ticks_for
from tests.test_scheduler_dispatch import CHILD, _many_today, out_ids, states

pytest_plugins = ["tests.support.fixtures"]


@pytest.mark.parametrize("killed_at", [1, 3, 5], ids=["first-message", "mid-batch", "last-message"])
def test_a_dispatcher_killed_mid_batch_is_recovered_by_look_up_without_loss_or_blind_resend(
        engine: Engine, db_url: str, sms_transport, aliyun_gateway, killed_at: int) -> None:
    """Five SMS in one batch. The gateway takes the first `killed_at` messages (answering all but the last of
    them) and then holds its answer: the dispatcher is killed there, with the outcomes it has received still in
    memory (they are recorded when the batch ends). Every message is left 'sending'; after the claim timeout each
    is looked up by OutId: those the gateway took are marked sent, never resent; the others go once."""
    now = _many_today(engine, 5).now
    held, seen = threading.Event(), []

    def hold_the_last(params) -> None:
        seen.append(params.get("OutId"))
        if len(seen) == killed_at:
            held.wait(60)  # answered only after the kill (when the test ends)

    aliyun_gateway.while_sending = hold_the_last
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, aliyun_gateway.endpoint, now.isoformat(), "10"],
                             cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 60
        while len(seen) < killed_at and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        held.set()
    aliyun_gateway.while_sending = None
    assert len(aliyun_gateway.accepted()) == killed_at
    assert states(engine) == {"sending": 5}  # written before the first send; no outcome recorded yet
    clock = Clock(now + timedelta(minutes=11))
    summary = dispatch(ticks_for(engine, {"sms": sms_transport}, fast_settings(), clock))
    assert summary["reconciled"] == 5
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 5 and max(sent.values()) == 1  # the ones the gateway took were looked up, not resent
    assert states(engine) == {"sent": 5}
    with engine.connect() as connection:
        attempts = connection.execute(sa.select(ReminderAttempt.worker, ReminderAttempt.outcome,
                                                ReminderAttempt.finished_at)).all()
    assert all(finished is not None for _, _, finished in attempts)
    dead = sorted(outcome for worker, outcome, _ in attempts if f":{child.pid}:" in worker)
    assert dead == sorted(["sent"] * killed_at + ["not_sent"] * (5 - killed_at))


class Interrupted(BaseException):
    """What SIGINT raises in the dispatching thread (KeyboardInterrupt), without stopping pytest itself."""


class InterruptedAfter:
    """The real SMS transport, interrupted (as by Ctrl-C) when it is asked to send message number `count` + 1."""

    def __init__(self, transport, count: int) -> None:
        self.transport, self.count = transport, count
        self.name, self.limits, self.missing_secret = transport.name, transport.limits, None

    def send(self, message):
        if self.count == 0:
            raise Interrupted
        self.count -= 1
        return self.transport.send(message)

    def lookup(self, message, sent_on):
        return self.transport.lookup(message, sent_on)

    def delivery_reports(self, mobile, sent_on, provider_id):
        return self.transport.delivery_reports(mobile, sent_on, provider_id)


def test_an_interrupted_batch_records_what_it_sent_and_leaves_the_rest_to_reconciliation(
        engine: Engine, sms_transport, aliyun_gateway) -> None:
    """Interrupted at its third message, a batch still records the two outcomes it holds (its bookkeeping runs on
    the way out); the three not sent stay 'sending' and go once after the claim timeout."""
    clock = _many_today(engine, 5)
    now = clock.now
    ticks = ticks_for(engine, {"sms": InterruptedAfter(sms_transport, 2)}, fast_settings(), clock)
    with pytest.raises(Interrupted):
        dispatch(ticks)
    assert len(aliyun_gateway.accepted()) == 2
    assert states(engine) == {"sent": 2, "sending": 3}
    clock.now = now + timedelta(minutes=11)
    summary = dispatch(ticks_for(engine, {"sms": sms_transport}, fast_settings(), clock))
    assert summary["reconciled"] == 3
    sent = out_ids(aliyun_gateway)
    assert len(sent) == 5 and max(sent.values()) == 1
    assert states(engine) == {"sent": 5}


def _emails_today(engine: Engine, count: int):
    """`count` email reminders due now (one enterprise each, an email contact and no mobile)."""
    from custody.clock import now as real_now
    from custody.reminder_policy import Tier
    from scheduler.ticks import plan_now
    from tests.test_remind_world import Clock, add_enterprise, add_patent, world

    start = real_now()
    filed = start.date() + timedelta(days=10)
    filed = filed.replace(year=filed.year - 8) if (filed.month, filed.day) != (2, 29) else filed - timedelta(days=1)

    def build(s):
        for n in range(count):
            add_patent(s, add_enterprise(s, f"公司{n}", mobile=None, email=f"ip{n}@example.com"), filed=filed)
    world(engine, build)
    settings = fast_settings(tiers=(Tier("mail", "due_date", tuple(range(-30, 0)), ("email",), ("ip_manager",)),))
    plan_now(ticks_for(engine, {}, settings, Clock(start)))
    return Clock(start)


class WatchingEmail:
    """The real email transport; before each send it notes how many messages the database already has as sent."""

    def __init__(self, transport, engine: Engine) -> None:
        self.transport, self.engine, self.sent_before = transport, engine, []
        self.name, self.limits, self.missing_secret = transport.name, transport.limits, None

    def send(self, message):
        self.sent_before.append(states(self.engine).get("sent", 0))
        return self.transport.send(message)

    def close(self) -> None:
        self.transport.close()


def test_each_email_outcome_is_recorded_before_the_next_email_goes(engine: Engine, email_transport,
                                                                   smtp_server) -> None:
    """Email cannot be looked up after a crash, so batching its bookkeeping would let a crash resend a whole batch:
    each accepted email is recorded before the next goes (at most one resent, as before batches)."""
    clock = _emails_today(engine, 4)
    watching = WatchingEmail(email_transport, engine)
    dispatch(ticks_for(engine, {"email": watching}, fast_settings(), clock))
    assert watching.sent_before == [0, 1, 2, 3]
    assert states(engine) == {"sent": 4}
