"""The dispatch tick: reconcile dead claims, then claim, send and record, batch after batch.

Per batch: (1) in one transaction, up to `batch_size` due messages are claimed ('sending', this worker, now), given
their last checks and rendered text, and their attempt rows written: all of it committed before the first network
call; (2) before each send, a claim older than a quarter of `claim_timeout_seconds` (a slow batch) is renewed, only
if this worker still holds it, in a transaction that also records the outcomes received so far, so a batch that
outlives the claim timeout never sends what another dispatcher has taken over meanwhile; (3) the transport sends;
(4) the outcomes, kept in memory, are recorded together in one transaction when the batch ends (also when it is
interrupted), each only if this worker still holds the claim, with the messages handed back unsent; an email's
outcome (it cannot be looked up) is recorded, with those waiting, before the next message goes.
A worker killed between (1) and (4) leaves its batch 'sending': `reconcile` finds each row after the claim timeout
and takes it over (only if its claim was not renewed since): SMS is looked up by OutId (QuerySendDetails) before
any resend; email cannot be asked, and the one email whose acceptance was not yet recorded is sent again (a
duplicate is tolerable where a lost reminder is not).

A channel whose secrets this process lacks (`missing_secret`: a cron run started without them) is not claimed,
reconciled or asked for receipts here: its messages are left for a process that has them, and the tick result
says how many wait.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from custody.masking import mask_text
from custody.models.reminders import Reminder
from custody.reasons import Reason, reason
from custody.store.compose import Prepared, envelope_of, prepare_batch
from custody.store.db import session_for
from custody.store.outbox import (
    claim,
    close_open_attempts,
    due_counts,
    finish_attempt,
    finish_attempts,
    local_day,
    paused_channels,
    record_outcome,
    record_sent,
    reroute_stranded,
    stale_claims,
    take_over,
    transition,
)
from custody.store.statements import statement_mail
from scheduler.context import Ticks
from scheduler.ports import Reconciling, Result, Transport

log = logging.getLogger(__name__)
TICK_BUDGET_SECONDS = 50.0  # the tick runs every minute: leave room, the next one carries on
# A claim older than claim_timeout_seconds / RENEW_AFTER_PART is renewed before its message goes (a slow batch).
RENEW_AFTER_PART = 4


@dataclass(frozen=True)
class LocalResult:
    """A result made here (the transport raised, which it should never do)."""

    outcome: str
    provider_id: str | None = None
    code: str | None = None
    detail: str = ""
    retry_after_seconds: float | None = None


def transport_for(ticks: Ticks, channel: str) -> Transport | None:
    found = ticks.transports.get(channel)
    if found is None and channel == ticks.settings.alert_channel:
        # No group robot configured: operator alerts still land somewhere visible, the file outbox.
        return ticks.transports.get("file")
    return found


def unready(ticks: Ticks) -> dict[str, str]:
    return ticks.unready()


def _lookup_days(reminder: Reminder, today: date) -> list[date]:
    claimed = local_day(reminder.claimed_at) if reminder.claimed_at else today
    return sorted({claimed, today})


def _look_up(transport: Reconciling, reminder: Reminder, today: date) -> Result | None:
    envelope = envelope_of(reminder)
    for day in _lookup_days(reminder, today):
        found = transport.lookup(envelope, day)
        if found is not None:
            return found
    return None


def reconcile(ticks: Ticks, worker: str) -> int:
    """Claims whose worker died and sends of unknown outcome: find out before resending; never drop one.

    Each is taken over first (`take_over`), only if its claim is as stale as when it was read: a worker still
    sending renews its claim before each send, and then keeps it."""
    now, skip = ticks.clock(), unready(ticks)
    with session_for(ticks.engine) as session:
        stale = [r for r in stale_claims(session, now, ticks.settings) if r.channel not in skip]
    done = 0
    for reminder in stale:
        with session_for(ticks.engine) as session:
            if not take_over(session, reminder, worker, now):
                continue
        done += _reconciled(ticks, reminder, worker, now)
    return done


def _reconciled(ticks: Ticks, reminder: Reminder, worker: str, now) -> bool:
    transport = transport_for(ticks, reminder.channel)
    found = _look_up(transport, reminder, local_day(now)) if isinstance(transport, Reconciling) else None
    outcome = str(found.outcome) if found is not None else None
    with session_for(ticks.engine) as session:
        if found is None:
            # The provider has no record (or the channel cannot be asked): sending again is safe.
            _close(session, reminder, now, "not_sent", "reconciled: the provider has no record; sent again")
            return transition(session, reminder.id, ["sending", "unknown"], worker, state="planned", not_before=now,
                              last_error=reason("reconciled_resend").stored(), updated_at=now)
        if outcome in ("sent", "permanent"):
            _close(session, reminder, now, outcome, f"reconciled: found by our key ({found.code or ''})")
            return record_outcome(session, reminder, found, now, ticks.settings, worker) != "lost"
        # The look-up itself failed: ask again later.
        _close(session, reminder, now, "unknown", f"reconciled: look-up failed ({found.code}); asked later")
        why = reason("lookup_failed", code=found.code or "", detail=mask_text(found.detail or ""))
        transition(session, reminder.id, ["sending", "unknown"], worker, state="unknown",
                   not_before=now + ticks.settings.retry.delay(1, found.retry_after_seconds),
                   last_error=why.stored(), updated_at=now)
        return False


def _close(session, reminder: Reminder, now, outcome: str, detail: str) -> None:
    """A claim whose worker died left its attempt open: close it with what the look-up said."""
    if reminder.state == "sending":
        close_open_attempts(session, reminder.id, now, outcome, f"the worker died mid-send; {detail}")


class _Throttle:
    """Keeps each channel under its declared rate (ChannelLimits.per_second)."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}

    def wait(self, channel: str, per_second: float | None) -> None:
        if not per_second:
            return
        gap = 1.0 / per_second - (time.monotonic() - self.last.get(channel, 0.0))
        if gap > 0:
            time.sleep(gap)
        self.last[channel] = time.monotonic()


def _send(transport: Transport, envelope) -> Result:
    try:
        return transport.send(envelope)
    except Exception as exc:  # noqa: BLE001 - transports return outcomes; if one raises, we cannot know
        log.error("transport %s raised %s", transport.name, type(exc).__name__)
        return LocalResult("unknown", code="local.EXCEPTION", detail=type(exc).__name__, retry_after_seconds=60)


def _caps(ticks: Ticks) -> dict[str, int | None]:
    """Per channel, the tighter of the provider's declared daily cap per recipient and the configured one."""
    caps = {}
    for channel, transport in ticks.transports.items():
        declared = getattr(transport.limits, "per_recipient_per_day", None)
        caps[channel] = min(filter(None, (declared, ticks.settings.daily_cap.get(channel))), default=None)
    return caps


def _limits(ticks: Ticks) -> dict[str, object]:
    """Each channel's declared limits (text length, variable length), for fitting texts before sending."""
    channels = set(ticks.transports) | {ticks.settings.alert_channel}
    found = {channel: transport_for(ticks, channel) for channel in channels}
    return {channel: transport.limits for channel, transport in found.items() if transport is not None}


def send_limits(ticks: Ticks) -> tuple[dict[str, int | None], dict[str, object]]:
    """(daily caps, text limits) per channel, as a dispatch applies them (`custody remind preview` too)."""
    return _caps(ticks), _limits(ticks)


class _Book:
    """The bookkeeping of one batch: outcomes wait here, in memory, and are recorded together in one transaction
    when the batch ends (with the messages handed back unsent), or earlier when a claim has to be renewed."""

    def __init__(self, ticks: Ticks, worker: str, counts: dict[str, int], claimed_at: datetime) -> None:
        self.ticks, self.worker, self.counts, self.claimed_at = ticks, worker, counts, claimed_at
        self.renew_after = timedelta(seconds=ticks.settings.claim_timeout_seconds / RENEW_AFTER_PART)
        self.sent: list[tuple[Prepared, Result]] = []

    def is_mine(self, prepared: Prepared) -> bool:
        """True when `prepared` may be sent: its claim is young (no dispatcher takes over a claim younger than
        claim_timeout_seconds), or, past a quarter of that, this worker still holds it and has just renewed it, in
        the transaction that records the outcomes sent so far (they were claimed earlier still)."""
        now = self.ticks.clock()
        if now - self.claimed_at <= self.renew_after:
            return True
        with session_for(self.ticks.engine) as session:
            self._record(session, now)
            if transition(session, prepared.reminder.id, ["sending"], self.worker, claimed_at=now, updated_at=now):
                return True
            finish_attempt(session, prepared.attempt_id, None, now, outcome="not_tried")
        log.warning("reminder %s: another dispatcher took it over before it was sent; left to it",
                    prepared.reminder.id)
        self._count("lost", 1)
        return False

    def flush(self) -> None:
        """Record the outcomes waiting now, in one transaction."""
        with session_for(self.ticks.engine) as session:
            self._record(session, self.ticks.clock())

    def close(self, unsent: list[tuple[Prepared, Reason]]) -> None:
        """One transaction: every outcome not recorded yet, and the messages handed back unsent (with why)."""
        if not self.sent and not unsent:
            return
        now = self.ticks.clock()
        with session_for(self.ticks.engine) as session:
            self._record(session, now)
            for prepared, why in unsent:
                finish_attempt(session, prepared.attempt_id, None, now, outcome="not_tried")
                self._count("released", transition(
                    session, prepared.reminder.id, ["sending"], self.worker, state="planned", not_before=now,
                    attempts=Reminder.__table__.c.attempts - 1, last_error=why.stored(), updated_at=now))

    def _record(self, session, now: datetime) -> None:
        """The outcomes waiting (step 4 of the module docstring): accepted ones in a few statements for all of
        them, the others (retries, failures with their fallbacks, pauses) one by one as before."""
        sent, self.sent = self.sent, []
        finish_attempts(session, [(prepared.attempt_id, result) for prepared, result in sent], now)
        accepted = [(prepared.reminder, result) for prepared, result in sent if str(result.outcome) == "sent"]
        mine = record_sent(session, accepted, now, self.worker)
        self._count("sent", len(mine))
        self._lost([reminder.id for reminder, _ in accepted if reminder.id not in mine])
        for prepared, result in sent:
            if str(result.outcome) != "sent":
                state = record_outcome(session, prepared.reminder, result, now, self.ticks.settings, self.worker)
                self._lost([prepared.reminder.id] if state == "lost" else [])
                self._count(state, state != "lost")

    def _lost(self, ids: list[int]) -> None:
        for reminder_id in ids:
            log.warning("reminder %s: the claim was reconciled by another worker while sending", reminder_id)
        self._count("lost", len(ids))

    def _count(self, what: str, how_many: int) -> None:
        if how_many:
            self.counts[what] = self.counts.get(what, 0) + how_many


def _send_batch(ticks: Ticks, batch: list[Prepared], claimed_at: datetime, worker: str, throttle: _Throttle,
                counts: dict[str, int]) -> None:
    try:
        _send_prepared(ticks, batch, claimed_at, worker, throttle, counts)
    finally:  # a transport that keeps its connection through a batch (SMTP) closes it when the batch ends
        for transport in ticks.transports.values():
            close = getattr(transport, "close", None)
            if callable(close):
                close()


def _send_prepared(ticks: Ticks, batch: list[Prepared], claimed_at: datetime, worker: str, throttle: _Throttle,
                   counts: dict[str, int]) -> None:
    """Steps 2 to 4 of the module docstring for a prepared batch; its outcomes are recorded together at the end."""
    book = _Book(ticks, worker, counts, claimed_at)
    resting: set[str] = set()
    unsent: list[tuple[Prepared, Reason]] = []
    try:
        for index, prepared in enumerate(batch):
            if ticks.stop.is_set():
                unsent += [(p, reason("stopping")) for p in batch[index:]]
                break
            if prepared.envelope.channel in resting:
                unsent.append((prepared, reason("channel_paused")))
                continue
            if not book.is_mine(prepared):
                continue
            transport = transport_for(ticks, prepared.envelope.channel)
            throttle.wait(prepared.envelope.channel, transport.limits.per_second)
            result = _send(transport, prepared.envelope)
            if str(result.outcome) in ("pause_channel", "misconfigured"):
                # An account or configuration error: every other message of the channel would meet it too. The rest
                # of the batch goes back unclaimed (the channel now rests); only the message that met it failed
                # (misconfigured: fallback and alert) or waits (pause).
                resting.add(prepared.envelope.channel)
            book.sent.append((prepared, result))
            if not isinstance(transport, Reconciling):
                # An email cannot be looked up after a crash: its outcome is recorded before the next message
                # goes, so a crash resends at most the one email whose acceptance was not yet written.
                book.flush()
    finally:  # also when this thread is interrupted: what was sent is recorded, what was not stays 'sending'
        book.close(unsent)


def _claimed_batch(ticks: Ticks, worker: str, channels: list[str], counts: dict[str, int]
                   ) -> tuple[list[Prepared], datetime] | None:
    """Step 1 of the module docstring for a whole batch, in one transaction: claim up to `batch_size` due messages,
    make the last checks, render them and write their attempts. None when nothing was due."""
    now = ticks.clock()
    with session_for(ticks.engine) as session:
        ids = claim(session, worker, now, channels, ticks.settings.batch_size)
        if not ids:
            return None
        batch = prepare_batch(session, ids, worker, now, ticks.settings, _caps(ticks), ticks.restoration,
                              _limits(ticks), partial(statement_mail, rules=ticks.rules, settings=ticks.statements))
    if len(ids) > len(batch):
        counts["held_or_cancelled"] = counts.get("held_or_cancelled", 0) + len(ids) - len(batch)
    return batch, now


def _channels(ticks: Ticks) -> list[str]:
    with session_for(ticks.engine) as session:
        paused = paused_channels(session, ticks.clock())
    channels = set(ticks.transports) | ({ticks.settings.alert_channel} if "file" in ticks.transports else set())
    return sorted(channels - paused - set(unready(ticks)))


def reroute(ticks: Ticks) -> int:
    """Messages on a channel whose secret this process lacks, late past what a process that has it would take:
    no process has it. Rerouted here too (as by the planning tick), since a daemon started without the secret plans
    only once a day; their fallbacks then go in this same tick."""
    missing = unready(ticks)
    if not missing:
        return 0
    with session_for(ticks.engine) as session:
        return reroute_stranded(session, ticks.settings, ticks.clock(), missing)


def left_for_others(ticks: Ticks) -> dict[str, str]:
    """{channel: why} for the due messages this process leaves unclaimed for lack of the channel's secret."""
    missing = unready(ticks)
    if not missing:
        return {}
    with session_for(ticks.engine) as session:
        due = due_counts(session, ticks.clock(), missing)
    left = {channel: f"{count} due, left for a process that has it: {missing[channel]}"
            for channel, count in sorted(due.items())}
    for channel, why in left.items():
        log.warning("%s: %s", channel, why)
    return left


def dispatch(ticks: Ticks, budget_seconds: float = TICK_BUDGET_SECONDS) -> dict[str, Any]:
    """Reconcile, then send due messages until none are left, the budget is spent, or a stop is asked for."""
    worker, throttle, started = ticks.worker(), _Throttle(), time.monotonic()
    counts: dict[str, Any] = {"reconciled": reconcile(ticks, worker)}
    rerouted = reroute(ticks)
    if rerouted:
        counts["rerouted"] = rerouted
    while not ticks.stop.is_set() and time.monotonic() - started < budget_seconds:
        channels = _channels(ticks)
        claimed = _claimed_batch(ticks, worker, channels, counts) if channels else None
        if claimed is None:
            break
        _send_batch(ticks, *claimed, worker, throttle, counts)
    left = left_for_others(ticks)
    if left:
        counts["left_unclaimed"] = left
    return counts
