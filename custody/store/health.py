"""What `custody health` checks: each tick succeeded recently, no message is stuck or late, no channel is
paused, every enterprise with patents in custody has someone who receives before-due reminders; and, for the
record, the messages failed in the last day and the SMS whose delivery receipt never came.

For a monitoring probe (exit 1 when a check fails). Thresholds are [reminders.health] in config.toml.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.i18n import label, tr
from custody.models.reminders import ChannelPause, Reminder
from custody.reminder_settings import ReminderSettings
from custody.store.outbox import NO_RECEIPT
from custody.store.reach import enterprise_reach
from custody.store.ticks import tick_runs


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _when(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else tr("never")


def _tick_check(runs, name: str, max_age_minutes: int, now: datetime) -> Check:
    row = runs.get(name)
    last = row.last_success_at if row else None
    ok = last is not None and now - last <= timedelta(minutes=max_age_minutes)
    detail = tr("last success {when} (limit {n} min)", when=_when(last), n=max_age_minutes)
    if row is not None and row.last_failure_at and (last is None or row.last_failure_at > last):
        detail += tr("; last failure {when}: {error}", when=_when(row.last_failure_at), error=row.last_error)
    return Check(f"tick {name}", ok, detail)


def _count(session: Session, *where) -> tuple[int, datetime | None]:
    query = sa.select(sa.func.count(), sa.func.min(Reminder.not_before)).where(*where)
    count, oldest = session.execute(query).one()
    return count, oldest


def _late_by_channel(session: Session, before: datetime) -> tuple[dict[str, int], datetime | None]:
    """Planned messages due before `before`, per channel, and the oldest due time: messages nobody sends (a
    channel whose secrets no running process has) show up here."""
    query = (sa.select(Reminder.channel, sa.func.count(), sa.func.min(Reminder.not_before))
             .where(Reminder.state == "planned", Reminder.not_before < before).group_by(Reminder.channel))
    rows = session.execute(query).all()
    return {channel: count for channel, count, _ in rows}, min((oldest for *_, oldest in rows), default=None)


def _recipients_check(session: Session, settings: ReminderSettings, shown: int = 10) -> Check:
    """Enterprises with patents in custody and nobody who receives before-due reminders: they would hear of a
    fee only once it is overdue."""
    unreached = [e for e in enterprise_reach(session, settings, unreached_only=True) if e.custody_patents]
    if not unreached:
        return Check("before-due recipients", True, tr("every enterprise with patents in custody has one"))
    names = ", ".join(tr("{name} ({code}, {n} in custody)", name=e.name, code=e.credit_code, n=e.custody_patents)
                      for e in unreached[:shown])
    more = tr(" and {n} more", n=len(unreached) - shown) if len(unreached) > shown else ""
    return Check("before-due recipients", False, tr("{n} enterprise(s) with patents in custody have nobody who "
                                                    "receives before-due reminders: {names}{more} (custody enterprise "
                                                    "list --no-recipient)", n=len(unreached), names=names, more=more))


def health_checks(session: Session, settings: ReminderSettings, now: datetime,
                  expects_receipts: bool = True) -> list[Check]:
    limits, runs = settings.health, tick_runs(session)
    checks = [_tick_check(runs, "plan", limits.plan_max_age_minutes, now),
              _tick_check(runs, "dispatch", limits.dispatch_max_age_minutes, now)]
    if expects_receipts:
        checks.append(_tick_check(runs, "receipts", limits.receipts_max_age_minutes, now))
    late, oldest = _late_by_channel(session, now - timedelta(minutes=limits.overdue_minutes))
    per_channel = ", ".join(f"{channel} {count}" for channel, count in sorted(late.items()))
    checks.append(Check("overdue messages", not late, tr("{n} planned messages more than {limit} min late "
                                                         "({channels}; oldest due {when})", n=sum(late.values()),
                                                         limit=limits.overdue_minutes, channels=per_channel,
                                                         when=_when(oldest)) if late else tr("none")))
    stuck, _ = _count(session, Reminder.state.in_(["sending", "unknown"]),
                      Reminder.claimed_at < now - timedelta(seconds=2 * settings.claim_timeout_seconds))
    checks.append(Check("stuck claims", stuck == 0, tr("{n} messages claimed and not settled", n=stuck) if stuck
                        else tr("none")))
    paused = list(session.execute(sa.select(ChannelPause).where(ChannelPause.until > now)).scalars())
    checks.append(Check("channels", not paused, "; ".join(tr("{channel} paused until {when}: {why}",
                                                              channel=label("channel", p.channel),
                                                              when=_when(p.until), why=p.reason)
                                                           for p in paused) or tr("none paused")))
    checks.append(_recipients_check(session, settings))
    failed, _ = _count(session, Reminder.state == "failed", Reminder.updated_at > now - timedelta(days=1))
    checks.append(Check("failed in 24 h", True, tr("{n} (each alerted; see `custody remind list --state failed`)",
                                                   n=failed)))
    unconfirmed, _ = _count(session, Reminder.state == "sent", Reminder.last_code == NO_RECEIPT,
                            Reminder.updated_at > now - timedelta(days=7))
    checks.append(Check("no receipt in 7 days", True, tr("{n} SMS without a delivery receipt after {hours} h (each "
                                                         "alerted; `custody remind list --state sent`: {code})",
                                                         n=unconfirmed, hours=settings.receipts_hours,
                                                         code=NO_RECEIPT)))
    return checks
