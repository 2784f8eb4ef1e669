"""Custody or watch-only: `custody patent watch` and `custody patent custody`, each change kept in the patent's
history with who made it and why it matters for reminders.

A watch-only patent (a competitor's, or one the enterprise licenses) gets no fee reminders (the reminders gate,
custody.eligibility, says so); its status changes go into the watching enterprise's digest
(custody.store.status_notices). The watching enterprise is the patent's enterprise.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from custody.models import Enterprise, Patent
from custody.models.core import PATENT_MODES
from custody.models.status import StatusEvent
from custody.reasons import reason
from custody.status_effects import Effect
from custody.store.status import cancel_planned, record_effects


def _who(enterprise: Enterprise) -> str:
    return f"{enterprise.name} ({enterprise.credit_code})"


def _mode_effect(patent: Patent, mode: str, enterprise: Enterprise, before: Enterprise | None, by: str) -> Effect:
    from custody.i18n import tr

    moved = tr("; was with {who}", who=_who(before)) if before is not None and before.id != enterprise.id else ""
    if mode == "watch":
        return Effect("mode_watch", tr("watch-only, watched by {who}, set by {by}{moved}: no fee reminders; its "
                                       "status changes go into {name}'s digest", who=_who(enterprise), by=by,
                                       moved=moved, name=enterprise.name))
    return Effect("mode_custody", tr("in custody of {who}, set by {by}{moved}: fee reminders and the legal-status "
                                     "effects on them apply again", who=_who(enterprise), by=by, moved=moved))


def _mark_known_events_digested(session: Session, patent_id: int, now: datetime) -> None:
    """Events from before the watch began are history, not news: the first digest starts after them."""
    table = StatusEvent.__table__
    session.execute(sa.update(table).where(table.c.patent_id == patent_id, table.c.digested_at.is_(None))
                    .values(digested_at=now))


def set_mode(session: Session, patent: Patent, mode: str, enterprise: Enterprise, by: str, now: datetime,
             today: date) -> list[Effect]:
    """Make `patent` watch-only for `enterprise` (the watching enterprise) or put it in `enterprise`'s custody;
    the effects recorded in its history ([] when it already was so)."""
    if mode not in PATENT_MODES:
        raise ValueError(f"mode must be one of {', '.join(PATENT_MODES)}, not {mode!r}")
    if patent.mode == mode and patent.enterprise_id == enterprise.id:
        return []
    before = session.get(Enterprise, patent.enterprise_id) if patent.enterprise_id else None
    effect = _mode_effect(patent, mode, enterprise, before, by)
    patent.mode, patent.enterprise_id = mode, enterprise.id
    session.add(patent)
    if mode == "watch":
        _mark_known_events_digested(session, patent.id, now)
        cancel_planned(session, patent, reason("watch_only"), now)
    record_effects(session, patent.id, [effect], today)
    session.flush()
    return [effect]
