"""The reminders in a patent's history (`custody patent history`): each with its own state (planned, sending,
sent, failed, cancelled), why it was cancelled or failed, and what caused it (the fee it is about, or the status
event behind a restoration reminder or a pledgee alert), so it reads next to the events and effects around it.
Recipients are masked."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from custody.clock import SHANGHAI
from custody.i18n import label, tr
from custody.masking import mask_text
from custody.models.status import StatusEvent
from custody.reasons import shown_reason
from custody.store.pledge_alerts import pledgee_alert_keys

# The event kinds a reminder can follow from: restoration reminders from a termination notice, pledgee alerts
# from a pledge.
CAUSE_KINDS = {"restore": ("lapse_nonpayment", "termination"), "pledge": ("pledge_registered",)}


def reminder_rows(session: Session, patent_id: int) -> list[dict]:
    """One history row per reminder item of the patent and per alert about its pledge, dated when its state was
    reached (planned: the day it is for; sent: the day it went out; cancelled or failed: the day that happened)."""
    if not sa.inspect(session.connection()).has_table("reminder_item"):
        return []
    from custody.models.reminders import Reminder, ReminderItem

    events = session.exec(select(StatusEvent).where(StatusEvent.patent_id == patent_id)
                          .order_by(StatusEvent.announced_on, StatusEvent.id)).all()
    statement = (select(ReminderItem, Reminder).join(Reminder, Reminder.id == ReminderItem.reminder_id)
                 .where(ReminderItem.patent_id == patent_id))
    rows = [_row(reminder, item.state if item.state == "cancelled" else reminder.state,
                 item.cancel_reason or reminder.cancel_reason,
                 tr("year {year} {kind} reminder ({tier}) by {channel} to {to}", year=item.fee_year,
                    kind=label("reminder_kind", item.kind), tier=label("tier", item.tier),
                    channel=label("channel", item.channel), to=mask_text(item.recipient)),
                 _item_cause(item, events, reminder.day))
            for item, reminder in session.exec(statement)]
    alerts = select(Reminder).where(sa.or_(*(Reminder.key.startswith(p, autoescape=True)
                                             for p in pledgee_alert_keys(patent_id))))
    rows += [_row(r, r.state, r.cancel_reason, tr("pledge alert by {channel} to {to}",
                                                  channel=label("channel", r.channel), to=mask_text(r.recipient_name)),
                  _event_cause(events, CAUSE_KINDS["pledge"], r.day)) for r in session.exec(alerts)]
    return rows


def _row(reminder, state: str, reason: str | None, what: str, cause: str) -> dict:
    # Stored as data (custody.reasons), worded here in the operator's language; an older row's text as it is.
    why = (shown_reason(reason) if state == "cancelled" else mask_text(shown_reason(reminder.last_error))
           if state == "failed" else "")
    return {"date": _state_day(reminder, state), "what": f"reminder: {state}",
            "detail": tr("{what}: {state}", what=what, state=label("reminder_state", state))
            + (tr(" ({why})", why=why) if why else ""), "source": tr("cause: {cause}", cause=cause),
            "_at": reminder.created_at, "_order": 3}


def _state_day(reminder, state: str) -> date:
    if state == "sent" and reminder.sent_at is not None:
        return reminder.sent_at.astimezone(SHANGHAI).date()
    if state == reminder.state and state in ("failed", "cancelled"):
        return reminder.updated_at.astimezone(SHANGHAI).date()
    return reminder.day  # planned, or one patent's item cancelled while the message went on for others


def _item_cause(item, events, day: date) -> str:
    if item.kind == "restore":
        return _event_cause(events, CAUSE_KINDS["restore"], day)
    if item.kind == "lapse":
        return tr("year {year} fee unpaid at its grace end {day}", year=item.fee_year, day=item.grace_end)
    return tr("year {year} fee due {day}", year=item.fee_year, day=item.due_date)


def _event_cause(events, kinds: tuple[str, ...], day: date) -> str:
    """The latest event of these kinds announced by `day`: the one the reminder follows from."""
    found = [e for e in events if e.kind in kinds and e.announced_on <= day]
    if not found:
        return tr("no status event on record")
    e = found[-1]
    return tr("{status} announced {day} ({where})", status=e.status, day=e.announced_on, where=e.location or e.source)
