"""Ending custody: `custody patent remove APPNO` (one patent) and `custody enterprise end CODE` (all of them).

An ended patent keeps its row, payments, status events and reminders sent: nothing is deleted, so its history
still answers "why did we (not) remind". Its mode becomes "ended" (the reminders gate then sends nothing, and the
planner plans nothing); what is planned and not yet claimed is cancelled at once with the reason; the change is one
audit row per patent (patent_change, field "mode", with who did it) and one effect in its history. Importing the
patent again takes it back into custody (custody.store.import_patents), audited the same way.

An enterprise's end is set-wise SQL scoped by its id (a subquery, never a list of ids), so an enterprise with a
hundred thousand patents ends in a few statements.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from custody.i18n import tr
from custody.models import Enterprise, Patent
from custody.models.imports import PatentChange
from custody.models.reminders import Reminder, ReminderItem
from custody.models.status import StatusEffect
from custody.reasons import reason
from custody.store.cancel import cancel_empty_messages

PATENT = Patent.__table__
AUDIT = PatentChange.__table__
EFFECT = StatusEffect.__table__
ITEM = ReminderItem.__table__
REMINDER = Reminder.__table__
ENDED = "ended"
_ENDED = reason("custody_ended")  # what the reminders of a patent whose custody ended are cancelled with


@dataclass(frozen=True)
class Ended:
    patents: int  # whose custody ended now
    already: int  # already ended before
    cancelled: int  # planned reminder items cancelled


def end_patent(session: Session, patent: Patent, by: str, now: datetime, today: date) -> Ended:
    """End `patent`'s custody (Ended(0, 1, 0) when it already was)."""
    why = tr("custody ended by {by} (custody patent remove): reminders cancelled, history kept; importing the "
             "patent again takes it back into custody", by=by)
    return _end(session, PATENT.c.id == patent.id, why, by, now, today)


def end_enterprise(session: Session, enterprise: Enterprise, by: str, now: datetime, today: date) -> Ended:
    """End the custody of every patent of `enterprise` (watch-only ones included: the platform lets it go)."""
    why = tr("custody of {name} ({code}) ended by {by} (custody enterprise end): reminders cancelled, history kept; "
             "importing a patent again takes it back into custody", name=enterprise.name, code=enterprise.credit_code,
             by=by)
    return _end(session, PATENT.c.enterprise_id == enterprise.id, why, by, now, today)


def _end(session: Session, scope: sa.ColumnElement, why: str, by: str, now: datetime, today: date) -> Ended:
    """`why` is the effect each patent's history shows, worded in the operator's language now, as every status
    effect is (custody.status_effects)."""
    live = sa.and_(scope, PATENT.c.mode != ENDED)
    already = session.execute(sa.select(sa.func.count()).where(scope, PATENT.c.mode == ENDED)).scalar_one()
    session.execute(sa.insert(AUDIT).from_select(
        ["patent_id", "field", "old_value", "new_value", "source", "changed_at"],
        sa.select(PATENT.c.id, sa.literal("mode"), PATENT.c.mode, sa.literal(ENDED), sa.literal(f"cli:{by}"),
                  sa.literal(now, PatentChange.__table__.c.changed_at.type)).where(live)))
    session.execute(sa.insert(EFFECT).from_select(
        ["patent_id", "code", "message", "effective_on", "recorded_at"],
        sa.select(PATENT.c.id, sa.literal("custody_ended"),
                  sa.literal(why), sa.literal(today, EFFECT.c.effective_on.type),
                  sa.literal(now, EFFECT.c.recorded_at.type)).where(live)))
    cancelled = _cancel_planned(session, scope, now)
    ended = session.execute(sa.update(PATENT).where(live).values(mode=ENDED, updated_at=now)
                            .execution_options(synchronize_session=False)).rowcount
    session.flush()
    session.expire_all()
    return Ended(ended, already, cancelled)


def _cancel_planned(session: Session, scope: sa.ColumnElement, now: datetime) -> int:
    """Planned items of these patents in messages not yet claimed, cancelled; messages left empty too."""
    if not sa.inspect(session.connection()).has_table("reminder_item"):
        return 0
    patents = sa.select(PATENT.c.id).where(scope)
    open_messages = sa.select(REMINDER.c.id).where(REMINDER.c.state == "planned")
    touched = [r for (r,) in session.execute(sa.select(ITEM.c.reminder_id).distinct().where(
        ITEM.c.patent_id.in_(patents), ITEM.c.state == "planned", ITEM.c.reminder_id.in_(open_messages)))]
    done = session.execute(sa.update(ITEM).where(
        ITEM.c.patent_id.in_(patents), ITEM.c.state == "planned", ITEM.c.reminder_id.in_(open_messages))
        .values(state="cancelled", cancel_reason=_ENDED.stored())).rowcount
    if touched:
        cancel_empty_messages(session, now, touched, _ENDED)
    return done
