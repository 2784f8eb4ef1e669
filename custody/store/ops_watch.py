"""The OPS legal-status watch in the database: which patents are due, how each check went, the volume downloaded
(counted per day, so the weekly quota survives restarts), the pause OPS asked for, and what `custody status
ops-usage`, `custody status review` and `custody health` show of it.

The schedule itself is custody.ops_schedule (pure); this module only reads and writes the tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from custody.clock import SHANGHAI
from custody.i18n import tr
from custody.models import Patent
from custody.models.ops import OpsPatent, OpsState, OpsUsage
from custody.models.reminders import PatentDue
from custody.models.status import PatentWatch
from custody.ops_schedule import (
    QUOTA_WINDOW_DAYS,
    OpsSettings,
    first_check_at,
    next_check_at,
    retry_at,
    week_bytes,
)

ENROL_BATCH = 5000


@dataclass(frozen=True)
class DuePatent:
    patent_id: int
    application_number: str
    docdb: str | None
    docdb_via: str | None
    failures: int


def ops_state(session: Session, now: datetime) -> OpsState:
    row = session.get(OpsState, 1)
    if row is None:
        row = OpsState(id=1, started_at=now)
        session.add(row)
        session.flush()
    return row


def pause(session: Session, until: datetime, reason: str, now: datetime) -> None:
    """Pause the watch until `until` (kept if a longer pause is already set)."""
    state = ops_state(session, now)
    if state.paused_until is None or state.paused_until < until:
        state.paused_until, state.pause_reason = until, reason
    session.add(state)


def _not_ended():
    """Neither ended by the legal status nor taken out of custody (`custody patent remove`): no quota spent on it."""
    ended = select(PatentWatch.patent_id).where(PatentWatch.patent_id == Patent.id, PatentWatch.ended.is_not(None))
    return sa.and_(~ended.exists(), Patent.mode != "ended")


def enrol_watched(session: Session, settings: OpsSettings, now: datetime) -> int:
    """Give every watched patent (custody and watch-only, not ended) its check, the first one at its phase."""
    started = ops_state(session, now).started_at
    known = select(OpsPatent.patent_id).where(OpsPatent.patent_id == Patent.id)
    statement = select(Patent.id).where(~known.exists(), _not_ended()).order_by(Patent.id)
    ids = list(session.exec(statement))
    for start in range(0, len(ids), ENROL_BATCH):
        rows = [{"patent_id": pid, "next_check_at": first_check_at(started, pid, settings), "last_bytes": 0,
                 "failures": 0} for pid in ids[start:start + ENROL_BATCH]]
        session.execute(sa.insert(OpsPatent), rows)
    return len(ids)


def urgent_ids(session: Session, today: date) -> set[int]:
    """Patents whose state makes news urgent: a fee in its grace period, terminated and still restorable, a
    transfer on hold."""
    in_grace = select(PatentDue.patent_id).where(PatentDue.due_date < today, PatentDue.grace_end >= today)
    watch = select(PatentWatch.patent_id).where(PatentWatch.ended.is_(None), sa.or_(
        sa.and_(PatentWatch.lapsed_on.is_not(None), PatentWatch.restore_by >= today),
        PatentWatch.transfer_to.is_not(None)))
    return set(session.exec(in_grace)) | set(session.exec(watch))


def is_urgent(session: Session, patent_id: int, today: date) -> bool:
    """Whether one patent's state makes news urgent now (read after its events are applied)."""
    in_grace = select(PatentDue.patent_id).where(PatentDue.patent_id == patent_id, PatentDue.due_date < today,
                                                 PatentDue.grace_end >= today)
    watch = session.get(PatentWatch, patent_id)
    restorable = watch is not None and watch.ended is None and watch.lapsed_on is not None \
        and watch.restore_by is not None and watch.restore_by >= today
    held = watch is not None and watch.ended is None and watch.transfer_to is not None
    return restorable or held or session.exec(in_grace).first() is not None


def _due_row(row: tuple) -> DuePatent:
    return DuePatent(*row)


_DUE_COLUMNS = (OpsPatent.patent_id, Patent.application_number, OpsPatent.docdb, OpsPatent.docdb_via,
                OpsPatent.failures)


def due_patents(session: Session, settings: OpsSettings, now: datetime, limit: int) -> list[DuePatent]:
    """The patents to check now, earliest due first: due by their interval, or urgent and not checked within the
    urgent interval (a failing one waits for its retry time either way)."""
    base = select(*_DUE_COLUMNS).join(Patent, Patent.id == OpsPatent.patent_id).where(_not_ended())
    due = base.where(OpsPatent.next_check_at <= now).order_by(OpsPatent.next_check_at).limit(limit)
    found = {r[0]: _due_row(r) for r in session.execute(due)}
    urgent_all = urgent_ids(session, now.astimezone(SHANGHAI).date())
    urgent = list(urgent_all - set(found))
    stale = now - settings.urgent_interval
    for start in range(0, len(urgent), ENROL_BATCH):
        chunk = urgent[start:start + ENROL_BATCH]
        statement = base.where(OpsPatent.patent_id.in_(chunk), sa.or_(
            OpsPatent.last_checked_at.is_(None), OpsPatent.last_checked_at <= stale),
            sa.or_(OpsPatent.failures == 0, OpsPatent.next_check_at <= now))
        found.update({r[0]: _due_row(r) for r in session.execute(statement)})
    # Urgent patents first: when the run is cut short (quota, overload), they are the ones checked.
    return sorted(found.values(), key=lambda d: d.patent_id not in urgent_all)[:limit]


def due_count(session: Session, now: datetime) -> int:
    statement = (select(sa.func.count()).select_from(OpsPatent).join(Patent, Patent.id == OpsPatent.patent_id)
                 .where(OpsPatent.next_check_at <= now, _not_ended()))
    return session.execute(statement).scalar_one()


def never_checked(session: Session) -> int:
    """Watched patents not checked even once: a cycle is complete only when there are none (and none is due)."""
    statement = (select(sa.func.count()).select_from(OpsPatent).join(Patent, Patent.id == OpsPatent.patent_id)
                 .where(OpsPatent.last_checked_at.is_(None), _not_ended()))
    return session.execute(statement).scalar_one()


def ops_row(session: Session, patent_id: int, now: datetime, settings: OpsSettings) -> OpsPatent:
    row = session.get(OpsPatent, patent_id)
    if row is None:
        row = OpsPatent(patent_id=patent_id, next_check_at=now)
        session.add(row)
    return row


def record_checked(session: Session, patent_id: int, now: datetime, settings: OpsSettings, size: int,
                   docdb: str, via: str, is_urgent: bool) -> None:
    row = ops_row(session, patent_id, now, settings)
    row.docdb, row.docdb_via = docdb, via
    row.last_checked_at = row.last_success_at = now
    row.next_check_at = next_check_at(now, is_urgent, settings)
    row.last_bytes, row.failures, row.error_code, row.error, row.failed_at = size, 0, None, None, None
    session.add(row)


def record_failed(session: Session, patent_id: int, now: datetime, settings: OpsSettings, code: str,
                  message: str) -> None:
    """A failed check, kept on the patent until one succeeds; tried again after a growing wait."""
    row = ops_row(session, patent_id, now, settings)
    row.failures = (row.failures or 0) + 1
    row.last_checked_at, row.error_code, row.error = now, code[:32], message[:2000]
    row.failed_at = row.failed_at or now
    row.next_check_at = retry_at(now, row.failures, settings)
    session.add(row)


def add_usage(session: Session, now: datetime, size: int, requests: int, checks: int,
              reported_week: int | None = None) -> None:
    day = now.astimezone(SHANGHAI).date()
    row = session.get(OpsUsage, day) or OpsUsage(day=day)
    row.bytes = (row.bytes or 0) + size
    row.requests = (row.requests or 0) + requests
    row.checks = (row.checks or 0) + checks
    if reported_week is not None:
        row.reported_week_bytes = reported_week
    session.add(row)


def used_this_week(session: Session, now: datetime) -> int:
    """Bytes of the last seven days (today included): ours, or OPS's latest report when larger."""
    since = now.astimezone(SHANGHAI).date() - timedelta(days=QUOTA_WINDOW_DAYS - 1)
    rows = session.exec(select(OpsUsage).where(OpsUsage.day >= since).order_by(OpsUsage.day)).all()
    reported = next((r.reported_week_bytes for r in reversed(rows) if r.reported_week_bytes is not None), None)
    return week_bytes(sum(r.bytes or 0 for r in rows), reported)


def usage_summary(session: Session, settings: OpsSettings, now: datetime) -> dict:
    """What `custody status ops-usage` shows: quota used, patents watched, checked, due and failing."""
    since = now.astimezone(SHANGHAI).date() - timedelta(days=QUOTA_WINDOW_DAYS - 1)
    week = session.exec(select(OpsUsage).where(OpsUsage.day >= since)).all()
    state = session.get(OpsState, 1)
    used = used_this_week(session, now)
    count = sa.func.count()
    watched = session.execute(select(count).select_from(OpsPatent)).scalar_one()
    checked = session.execute(select(count).select_from(OpsPatent).where(
        OpsPatent.last_success_at > now - settings.interval)).scalar_one()
    failing = session.execute(select(count).select_from(OpsPatent).where(OpsPatent.failures > 0)).scalar_one()
    return {"quota_mb": settings.weekly_quota_mb, "used_bytes": used, "used_mb": round(used / 1e6, 2),
            "used_percent": round(100 * used / (settings.weekly_quota_mb * 1e6), 2),
            "stop_at_percent": settings.stop_at_percent, "requests_7d": sum(r.requests for r in week),
            "checks_7d": sum(r.checks for r in week), "patents_watched": watched,
            "checked_within_interval": checked, "never_checked": never_checked(session),
            "due_now": due_count(session, now), "failing": failing,
            "interval_days": settings.interval_days,
            "paused_until": _when(state.paused_until) if state and state.paused_until and state.paused_until > now
            else None, "pause_reason": state.pause_reason if state and state.paused_until
            and state.paused_until > now else None,
            "cycle_completed_at": _when(state.cycle_completed_at) if state else None,
            "last_throttle": state.last_throttle if state else None}


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else None


def failure_rows(session: Session, since: datetime) -> list[dict]:
    """Each patent whose last OPS check failed, for `custody status review`."""
    statement = (select(OpsPatent, Patent.application_number).join(Patent, Patent.id == OpsPatent.patent_id)
                 .where(OpsPatent.failures > 0, OpsPatent.last_checked_at >= since)
                 .order_by(OpsPatent.failed_at, Patent.application_number))
    return [{"date": _when(row.last_checked_at)[:10], "application_number": number, "what": "ops_check_failed",
             "message": tr("OPS check failed {n} time(s) since {since} ({code}): {error}; next try {next}",
                           n=row.failures, since=_when(row.failed_at), code=row.error_code, error=row.error,
                           next=_when(row.next_check_at))}
            for row, number in session.exec(statement)]


def cycle_health(session: Session, settings: OpsSettings, now: datetime) -> tuple[bool, str]:
    """Whether the watch completed a cycle (every watched patent checked, none left due) within twice its interval,
    counted from the first run until the first cycle completes (what health checks)."""
    state = session.get(OpsState, 1)
    if state is None:
        return False, "the OPS watch has never run"
    since = state.cycle_completed_at or state.started_at
    limit = 2 * settings.interval
    ok = now - since <= limit
    done = f"last completed {_when(state.cycle_completed_at)}" if state.cycle_completed_at else \
        f"no cycle completed since the first run {_when(state.started_at)}"
    return ok, f"{done} (limit {2 * settings.interval_days} days); {due_count(session, now)} patent(s) due now"


def ops_check(session: Session, settings: OpsSettings, now: datetime):
    """`custody health`'s line for the OPS watch: a cycle completed within twice the interval."""
    from custody.store.health import Check

    ok, detail = cycle_health(session, settings, now)
    return Check("ops watch", ok, detail)
