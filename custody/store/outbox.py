"""The outbox is the truth: atomic claims, attempts, outcomes, fallbacks, operator alerts and cancellations.

A message moves planned -> sending by a conditional UPDATE (`... WHERE state = 'planned'`, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL), so two dispatchers, or the daemon and a cron run, never both take it.
Every later transition is conditional on the state it leaves, so a worker whose claim was reconciled away
cannot overwrite what another worker recorded. Retry times live in the row (`not_before`), so they survive
restarts. A permanent failure plans the fallback channel and alerts the operator; nothing is ever dropped.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.i18n import tr
from custody.masking import mask_text
from custody.messages import KIND_STAGE, render_alert
from custody.models.core import Enterprise
from custody.models.reminders import ChannelPause, Reminder, ReminderAttempt, ReminderItem
from custody.reasons import Reason, reason, stored
from custody.reminder_settings import ReminderSettings
from custody.store.bulk import insert_ignore
from custody.store.fallback import enterprise_name, plan_fallback

log = logging.getLogger(__name__)
# Our code on an SMS still 'sent' when its delivery report did not come within [reminders].receipts_hours: it
# may have arrived or not; nobody asks again. Counted apart by `custody report deliveries` and `custody health`.
NO_RECEIPT = "local.NO_RECEIPT"
# Re-exported: the legal-status notices plan their rows with insert_ignore; enterprise_name is used by the CLI.
__all__ = ["enterprise_name", "insert_ignore", "plan_fallback"]
REMINDER = Reminder.__table__
ITEM = ReminderItem.__table__
STATEMENT = "statement"  # custody.statement.STATEMENT_KIND: an enterprise statement's email (no fee items)
UNFOLDED = ("alert", STATEMENT)  # not digests: never folded into a person's digest of the day


class SendOutcome(Protocol):
    """notifiers.base.SendResult, by structure (custody never imports notifiers)."""

    outcome: Any  # a StrEnum: "sent", "retry", "permanent", "pause_channel", "misconfigured" or "unknown"
    provider_id: str | None
    code: str | None
    detail: str
    retry_after_seconds: float | None


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def transition(session: Session, reminder_id: int, from_states: Iterable[str], worker: str | None = None,
               **values: Any) -> bool:
    """Move one message on only if it is still in one of `from_states` (and claimed by `worker`, if given)."""
    query = sa.update(REMINDER).where(REMINDER.c.id == reminder_id, REMINDER.c.state.in_(list(from_states)))
    if worker is not None:
        query = query.where(REMINDER.c.claimed_by == worker)
    return session.execute(query.values(**values)).rowcount == 1


# ---------------------------------------------------------------------------------------------- claims

# What a claim returns of each message: enough to fold a person's missed digests into it.
_DIGEST = (REMINDER.c.id, REMINDER.c.enterprise_id, REMINDER.c.channel, REMINDER.c.recipient, REMINDER.c.day,
           REMINDER.c.kind)


def claim(session: Session, worker: str, now: datetime, channels: Iterable[str], limit: int) -> list[int]:
    """Take up to `limit` due messages on `channels` for `worker`: state planned -> sending, attempts + 1."""
    due = (sa.select(REMINDER.c.id)
           .where(REMINDER.c.state == "planned", REMINDER.c.not_before <= now, REMINDER.c.channel.in_(list(channels)))
           .order_by(REMINDER.c.not_before, REMINDER.c.id).limit(limit)
           .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's IMMEDIATE transaction already excludes
           # Chosen once: as a plain `IN (subquery)` PostgreSQL may run the LIMIT subquery more than once and
           # claim more than `limit` (seen: limit 1 claimed 2, so a channel paused meanwhile still sent).
           .cte("due").prefix_with("MATERIALIZED", dialect="postgresql"))
    query = (sa.update(REMINDER).where(REMINDER.c.id.in_(sa.select(due.c.id)), REMINDER.c.state == "planned")
             .values(state="sending", claimed_by=worker, claimed_at=now, attempts=REMINDER.c.attempts + 1,
                     updated_at=now)
             .returning(*_DIGEST))
    return fold_missed_digests(session, now, sorted(session.execute(query).all(), key=lambda row: row.id))


def fold_missed_digests(session: Session, now: datetime, claimed: Sequence[Any]) -> list[int]:
    """One digest per person and day, also after a dispatch outage: planning goes on making each day's digest
    while nothing is sent, and the recovery morning would bring one message per missed day. So each digest this
    worker has just claimed takes in the planned items of the other digests of the same enterprise, channel and
    person for today or earlier (waiting for a retry, a morning window or a claim), which are cancelled; of
    several claimed together the latest day's takes in the others. `claimed`: the claimed rows (`_DIGEST`).
    Returns the claimed ids still to send."""
    ids = [row.id for row in claimed]
    mine = [row for row in claimed if row.kind not in UNFOLDED]
    if not mine:
        return ids
    waiting = [row for channel in {m.channel for m in mine} for row in session.execute(
        # By ix_reminder_recipient_sent_at (unsent: sent_at IS NULL), not by state: a large day's planned rows
        # would be read again for every batch. State is checked here.
        sa.select(*_DIGEST, REMINDER.c.state).where(
            REMINDER.c.channel == channel, REMINDER.c.recipient.in_({m.recipient for m in mine}),
            REMINDER.c.sent_at.is_(None), REMINDER.c.kind.not_in(UNFOLDED), REMINDER.c.day <= local_day(now)))
        if row.state == "planned"]
    groups: dict[tuple, list[Any]] = {}
    for row in [*mine, *waiting]:
        groups.setdefault((row.enterprise_id, row.channel, row.recipient), []).append(row)
    folded: set[int] = set()
    for rows in groups.values():
        ours = [r for r in rows if r.id in ids]
        if len(rows) > 1 and ours:
            target = max(ours, key=lambda r: (r.day, -r.id))
            folded |= _fold_into(session, target, [r for r in rows if r.id != target.id], now)
    return [i for i in ids if i not in folded]


def _fold_into(session: Session, target: Any, others: list[Any], now: datetime) -> set[int]:
    """Move the planned items of `others` into `target` and cancel them; returns the ids cancelled."""
    ids = [r.id for r in others]
    session.execute(sa.update(ITEM).where(ITEM.c.reminder_id.in_(ids), ITEM.c.state == "planned")
                    .values(reminder_id=target.id))
    why = reason("merged", message=target.id).stored()
    done = {r.id for r in others if transition(session, r.id, ["planned", "sending"], None, state="cancelled",
                                               cancel_reason=why, updated_at=now)}
    kind = max([target.kind, *(r.kind for r in others)], key=KIND_STAGE.__getitem__)
    if kind != target.kind:  # a lapse notice joining fee reminders: the digest is known by its latest stage
        session.execute(sa.update(REMINDER).where(REMINDER.c.id == target.id).values(kind=kind))
    return done


def take_over(session: Session, reminder: Reminder, worker: str, now: datetime) -> bool:
    """Claim a stale message (read by `stale_claims`) for `worker` to reconcile, only if its claim is untouched
    since: a worker still sending renews its claim before each send, and another reconciler may have been first."""
    held_since = (REMINDER.c.claimed_at.is_(None) if reminder.claimed_at is None
                  else REMINDER.c.claimed_at == reminder.claimed_at)
    query = (sa.update(REMINDER)
             .where(REMINDER.c.id == reminder.id, REMINDER.c.state == reminder.state, held_since,
                    REMINDER.c.claimed_by.is_(None) if reminder.claimed_by is None
                    else REMINDER.c.claimed_by == reminder.claimed_by)
             .values(claimed_by=worker, claimed_at=now, updated_at=now))
    return session.execute(query).rowcount == 1


def due_counts(session: Session, now: datetime, channels: Iterable[str]) -> dict[str, int]:
    """How many planned messages are due by `now`, per channel among `channels`."""
    query = (sa.select(REMINDER.c.channel, sa.func.count())
             .where(REMINDER.c.state == "planned", REMINDER.c.not_before <= now,
                    REMINDER.c.channel.in_(list(channels)))
             .group_by(REMINDER.c.channel))
    return {channel: count for channel, count in session.execute(query)}


def stale_claims(session: Session, now: datetime, settings: ReminderSettings) -> list[Reminder]:
    """Claims whose worker died ('sending' too long) and sends whose outcome was unknown, due for a look-up."""
    dead = now - timedelta(seconds=settings.claim_timeout_seconds)
    unsure = now - timedelta(seconds=settings.unknown_recheck_seconds)
    query = sa.select(Reminder).where(sa.or_(
        sa.and_(Reminder.state == "sending", Reminder.claimed_at < dead),
        sa.and_(Reminder.state == "unknown", Reminder.not_before <= now, Reminder.claimed_at < unsure)))
    return list(session.execute(query.order_by(Reminder.id)).scalars())


def close_open_attempts(session: Session, reminder_id: int, now: datetime, outcome: str, detail: str) -> int:
    """Complete the attempts a dead worker left open (no `finished_at`): what reconciliation found out."""
    table = ReminderAttempt.__table__
    query = sa.update(table).where(table.c.reminder_id == reminder_id, table.c.finished_at.is_(None))
    return session.execute(query.values(finished_at=now, outcome=outcome[:16], detail=mask_text(detail)[:2000])
                           ).rowcount


def finish_attempt(session: Session, attempt_id: int, result: SendOutcome | None, now: datetime,
                   outcome: str | None = None) -> None:
    values = {"finished_at": now, "outcome": outcome or str(result.outcome) if result else outcome}
    if result is not None:
        values.update(code=result.code, detail=mask_text(result.detail or "")[:2000], provider_id=result.provider_id)
    table = ReminderAttempt.__table__
    session.execute(sa.update(table).where(table.c.id == attempt_id).values(**values))


def finish_attempts(session: Session, finished: Sequence[tuple[int, SendOutcome]], now: datetime) -> None:
    """`finish_attempt` for a batch's sends, in one statement: [(attempt id, what the transport answered)]."""
    if not finished:
        return
    table = ReminderAttempt.__table__
    query = (sa.update(table).where(table.c.id == sa.bindparam("attempt"))
             .values(finished_at=now, outcome=sa.bindparam("said"), code=sa.bindparam("said_code"),
                     detail=sa.bindparam("said_detail"), provider_id=sa.bindparam("said_id")))
    session.execute(query, [dict(attempt=attempt, said=str(result.outcome), said_code=result.code,
                                 said_detail=mask_text(result.detail or "")[:2000], said_id=result.provider_id)
                            for attempt, result in finished])


def held_by(session: Session, reminder_ids: Iterable[int], worker: str) -> set[int]:
    """Of `reminder_ids`, those still being sent under `worker`'s claim; on PostgreSQL locked until the transaction
    ends (SQLite's transaction already holds the write lock), so what is recorded for them next cannot be lost."""
    query = (sa.select(REMINDER.c.id)
             .where(REMINDER.c.id.in_(list(reminder_ids)), REMINDER.c.state.in_(["sending", "unknown"]),
                    REMINDER.c.claimed_by == worker)
             .with_for_update())
    return set(session.execute(query).scalars())


def record_sent(session: Session, sent: Sequence[tuple[Reminder, SendOutcome]], now: datetime, worker: str
                ) -> set[int]:
    """`record_outcome` for a batch's accepted messages in three statements, whatever their number: each becomes
    'sent' with its provider id, and its planned items too, only if `worker` still holds its claim. Returns the ids
    recorded (the others were reconciled by another worker meanwhile: "lost")."""
    mine = held_by(session, [reminder.id for reminder, _ in sent], worker) if sent else set()
    if not mine:
        return mine
    query = (sa.update(REMINDER)
             .where(REMINDER.c.id == sa.bindparam("reminder"), REMINDER.c.claimed_by == worker,
                    # not IN (...): an executemany takes no expanding parameters
                    sa.or_(REMINDER.c.state == "sending", REMINDER.c.state == "unknown"))
             .values(state="sent", sent_at=now, updated_at=now, provider_id=sa.bindparam("said_id"),
                     last_code=sa.bindparam("said_code"), last_error=None))
    session.execute(query, [dict(reminder=reminder.id, said_id=result.provider_id, said_code=result.code)
                            for reminder, result in sent if reminder.id in mine])
    session.execute(sa.update(ITEM).where(ITEM.c.reminder_id.in_(sorted(mine)), ITEM.c.state == "planned")
                    .values(state="sent"))
    return mine


# ---------------------------------------------------------------------------------------------- outcomes


def record_outcome(session: Session, reminder: Reminder, result: SendOutcome, now: datetime,
                   settings: ReminderSettings, worker: str | None) -> str:
    """Store what the provider said; returns the message's new state (or "lost" if the claim was taken away)."""
    outcome, code, detail = str(result.outcome), result.code, mask_text(result.detail or "")
    from_states = ["sending", "unknown"]
    if outcome == "sent":
        ok = transition(session, reminder.id, from_states, worker, state="sent", sent_at=now, updated_at=now,
                        provider_id=result.provider_id, last_code=code, last_error=None)
        if ok:
            session.execute(sa.update(ITEM).where(ITEM.c.reminder_id == reminder.id, ITEM.c.state == "planned")
                            .values(state="sent"))
        return "sent" if ok else "lost"
    if outcome == "misconfigured":
        # Configuration or credentials (reference: "permanent; alert the operator"): this message fails for good,
        # so its fallback goes at once, and the channel rests, since every other message would fail the same way.
        pause_channel(session, reminder.channel, now + timedelta(minutes=settings.pause_minutes),
                      f"{code}: {detail}", now, settings)
        return "failed" if fail(session, reminder, now, settings, code, detail, worker) else "lost"
    if outcome == "permanent" or (outcome == "retry" and reminder.attempts >= settings.retry.max_attempts):
        why = detail if outcome == "permanent" else reason("gave_up", attempts=reminder.attempts, detail=detail)
        return "failed" if fail(session, reminder, now, settings, code, why, worker) else "lost"
    if outcome == "pause_channel":
        until = now + timedelta(minutes=settings.pause_minutes)
        pause_channel(session, reminder.channel, until, f"{code}: {detail}", now, settings)
        ok = transition(session, reminder.id, from_states, worker, state="planned", not_before=until,
                        attempts=reminder.attempts - 1, last_code=code, last_error=detail, updated_at=now)
        return "paused" if ok else "lost"
    delay = settings.retry.delay(reminder.attempts, result.retry_after_seconds)
    state = "unknown" if outcome == "unknown" else "planned"
    ok = transition(session, reminder.id, from_states, worker, state=state, not_before=now + delay,
                    last_code=code, last_error=detail, updated_at=now)
    return state if ok else "lost"


def fail(session: Session, reminder: Reminder, now: datetime, settings: ReminderSettings, code: str | None,
         why: Reason | str, worker: str | None = None, from_states: Sequence[str] = ("sending", "unknown")) -> bool:
    """Failed for good: plan the fallback channel (when there is one) and alert the operator (custody.store.fallback:
    what the alert says is what the outbox holds). `why`: a reason of ours (stored as data, custody.reasons), or
    what the provider said (stored as it is)."""
    detail = str(why)
    items = list(session.execute(sa.select(ITEM.c.id).where(ITEM.c.reminder_id == reminder.id,
                                                            ITEM.c.state.in_(["planned", "sent"]))).scalars())
    if not transition(session, reminder.id, from_states, worker, state="failed", last_code=code,
                      last_error=stored(why), updated_at=now):
        return False
    session.execute(sa.update(ITEM).where(ITEM.c.id.in_(items), ITEM.c.state.in_(["planned", "sent"]))
                    .values(state="failed"))
    if reminder.kind == "alert" and reminder.contact_id is None:
        # An operator alert that cannot be delivered must not plan another one: the log and `custody health`.
        log.error("operator alert %s could not be delivered: %s %s", reminder.key, code, detail)
        return True
    if reminder.kind == "alert":  # a notice of the legal-status watch: no fee items to fall back with
        plan_alert(session, settings, f"failed:{reminder.id}", now,
                   f"提醒发送失败：{enterprise_name(session, reminder.enterprise_id)} {reminder.channel} "
                   f"{mask_text(reminder.recipient)}（{code}）", [detail, "请人工联系"])
        return True
    if reminder.kind == STATEMENT:  # a document, not a fee: no SMS can carry it; the operator sends it another way
        plan_alert(session, settings, f"failed:{reminder.id}", now, *statement_failure(session, reminder, code, detail))
        return True
    outcome = plan_fallback(session, reminder, now, settings, items, code, detail)
    plan_alert(session, settings, outcome.key, now, outcome.headline, outcome.details)
    return True


def statement_failure(session: Session, reminder: Reminder, code: str | None, detail: str) -> tuple[str, list[str]]:
    """The operator alert's headline and lines for a statement email that failed for good."""
    enterprise = session.get(Enterprise, reminder.enterprise_id)
    headline = tr("Statement email failed: {name} {recipient} ({code})", name=enterprise.name if enterprise else "",
                  recipient=mask_text(reminder.recipient), code=code or "")
    hint = tr("Please send the statement by another way (custody statement {code} --out FILE.pdf)",
              code=enterprise.credit_code if enterprise else "")
    return headline, [*([detail] if detail else []), f"custody-{reminder.id}", hint]


def plan_alert(session: Session, settings: ReminderSettings, key: str, now: datetime, headline: str,
               details: Sequence[str] = (), dry_run: bool = False) -> None:
    """An operator alert through the outbox (so it is retried like any message); the same key is one alert.
    In a dry run (whose transaction is rolled back) the log says it would alert: nothing is saved."""
    key = f"alert:{key}"[:255]
    if session.execute(sa.select(REMINDER.c.id).where(REMINDER.c.key == key)).first() is not None:
        return  # planned (or sent) before: logging it again at every tick would have cron mail it every run
    rendered = render_alert(headline, details)
    # Marked, not recognised by its words (they are the operator's language): a command that says the same on
    # its own lines keeps this copy off the terminal.
    log.warning("%s", tr("{what}: {alert}", alert=rendered.text, what=tr(
        "would alert the operator (dry run, not saved)") if dry_run else tr("operator alert")),
        extra={"operator_alert": not dry_run})
    insert_ignore(session, REMINDER, [dict(
        key=key, kind="alert", channel=settings.alert_channel, recipient="operator",
        recipient_name="operator", day=local_day(now), state="planned", not_before=now, attempts=0,
        subject=rendered.subject, body=rendered.text, created_at=now, updated_at=now)], ["key"])


def stranded_reasons(session: Session, settings: ReminderSettings, now: datetime,
                     unready: Mapping[str, str]) -> dict[int, Reason]:
    """{message id: why} for planned messages no process will ever send: on a channel the configuration no longer
    sends on (disabled since they were planned), or on one whose secret this process lacks (`unready`: {channel:
    the secret}) and that nobody else has sent either, `health.overdue_minutes` after it was due. The second test
    keeps a cron run without the secrets file off the messages of a daemon that has them: that one sends within
    minutes. Operator alerts are left alone: they go to the file outbox when their channel cannot send."""
    dead = sorted(c for c in _planned_channels(session) if not settings.can_send(c))
    late = now - timedelta(minutes=settings.health.overdue_minutes)
    where = [REMINDER.c.channel.in_(dead)] if dead else []
    # A paused channel's messages wait for the pause to end, however late: not stranded.
    waiting = paused_channels(session, now)
    where += [sa.and_(REMINDER.c.channel == c, REMINDER.c.not_before < late) for c in unready
              if c not in dead and c not in waiting]
    if not where:
        return {}
    query = (sa.select(REMINDER.c.id, REMINDER.c.channel)
             .where(REMINDER.c.state == "planned", REMINDER.c.kind != "alert", sa.or_(*where)).order_by(REMINDER.c.id))
    return {row.id: (reason("not_enabled", channel=row.channel) if row.channel in dead else
                     reason("stranded", channel=row.channel, minutes=settings.health.overdue_minutes,
                            secret=unready[row.channel])) for row in session.execute(query)}


def _planned_channels(session: Session) -> set[str]:
    query = sa.select(REMINDER.c.channel).where(REMINDER.c.state == "planned", REMINDER.c.kind != "alert").distinct()
    return set(session.execute(query).scalars())


def reroute_stranded(session: Session, settings: ReminderSettings, now: datetime,
                     unready: Mapping[str, str] = {}, dry_run: bool = False) -> int:  # noqa: B006 - read only
    """Cancel the planned messages no process will send (`stranded_reasons`), each with its reason, plan their
    fallback channel so no fee goes untold, and alert the operator once per run and channel. Returns how many."""
    reasons = stranded_reasons(session, settings, now, unready)
    follow_ups: dict[Reason, list[str]] = {}
    for reminder_id, why in reasons.items():
        reminder = session.get(Reminder, reminder_id)
        if not transition(session, reminder_id, ["planned"], state="cancelled", cancel_reason=why.stored(),
                          updated_at=now):
            continue  # claimed meanwhile by a process that can send it after all
        items = list(session.execute(sa.select(ITEM.c.id).where(ITEM.c.reminder_id == reminder_id,
                                                                ITEM.c.state == "planned")).scalars())
        session.execute(sa.update(ITEM).where(ITEM.c.id.in_(items), ITEM.c.state == "planned")
                        .values(state="cancelled", cancel_reason=why.stored()))
        follow = (statement_failure(session, reminder, None, "")[1][-1] if reminder.kind == STATEMENT
                  else plan_fallback(session, reminder, now, settings, items).summary)
        follow_ups.setdefault(why, []).append(
            f"{enterprise_name(session, reminder.enterprise_id)} {mask_text(reminder.recipient)}：{follow}")
    for why, lines in follow_ups.items():
        channel = why.fields["channel"]
        more = [f"……另 {len(lines) - 50} 条，见 custody remind list --state cancelled"] if len(lines) > 50 else []
        plan_alert(session, settings, f"stranded:{channel}:{now.isoformat()}", now,
                   f"{len(lines)} 条待发提醒无法经{channel}发出，已取消，逐条改用备用渠道",
                   [str(why), *lines[:50], *more], dry_run=dry_run)
    return sum(len(lines) for lines in follow_ups.values())


def pause_channel(session: Session, channel: str, until: datetime, reason: str, now: datetime,
                  settings: ReminderSettings) -> None:
    existing = session.get(ChannelPause, channel)
    if existing is not None and existing.until >= until:
        return
    session.merge(ChannelPause(channel=channel, until=until, reason=mask_text(reason), created_at=now))
    if channel != settings.alert_channel:
        plan_alert(session, settings, f"pause:{channel}:{local_day(now)}", now,
                   f"{channel}通道已暂停，需要运营人员处理（至 {until.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）", [reason])


def paused_channels(session: Session, now: datetime) -> set[str]:
    return set(session.execute(sa.select(ChannelPause.channel).where(ChannelPause.until > now)).scalars())


def mark_no_receipt(session: Session, channel: str, now: datetime, settings: ReminderSettings) -> int:
    """Messages sent more than `receipts_hours` ago whose delivery report never came: marked (they stay 'sent',
    they may well have arrived) and the operator is alerted once, with who to check with. Returns how many."""
    hours = settings.receipts_hours
    query = (sa.select(Reminder).where(Reminder.channel == channel, Reminder.state == "sent",
                                       Reminder.sent_at <= now - timedelta(hours=hours),
                                       sa.or_(Reminder.last_code.is_(None), Reminder.last_code != NO_RECEIPT))
             .order_by(Reminder.id))
    found = list(session.execute(query).scalars())
    if not found:
        return 0
    why = reason("no_receipt", hours=hours).stored()
    session.execute(sa.update(REMINDER).where(REMINDER.c.id.in_([r.id for r in found]), REMINDER.c.state == "sent")
                    .values(last_code=NO_RECEIPT, last_error=why, updated_at=now))
    shown = [f"{enterprise_name(session, r.enterprise_id)} {mask_text(r.recipient)}（{r.kind}，发送于 "
             f"{r.sent_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}，custody-{r.id}）" for r in found[:10]]
    more = [f"另有{len(found) - 10}条，见 custody remind list --state sent"] if len(found) > 10 else []
    plan_alert(session, settings, f"noreceipt:{channel}:{found[0].id}:{len(found)}", now,
               f"{len(found)}条{channel}超过{hours}小时仍无送达回执，请人工确认是否收到", [*shown, *more])
    return len(found)


def mark_delivered(session: Session, reminder_id: int, at: datetime | None, now: datetime) -> bool:
    return transition(session, reminder_id, ["sent"], state="delivered", delivered_at=at or now, updated_at=now)
