"""The outbox as rows for `custody remind list` / `remind send --dry-run`: recipients masked, patents named, the
reason a message was cancelled or held back worded in the operator's language (custody.reasons); JSON keeps its
code too ("reason_code": null for none, or for a provider's answer)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.masking import mask_text
from custody.models import Enterprise, Patent
from custody.models.reminders import Reminder, ReminderItem
from custody.reasons import reason_code, shown_reason


def _patents(session: Session, reminder_ids: list[int], cancelled: set[int]) -> dict[int, list[str]]:
    """The fees each message carries: a fee cancelled out of a live message (paid, abandoned) is no longer in it;
    a cancelled message still shows what it was about."""
    query = (sa.select(ReminderItem.reminder_id, Patent.application_number, ReminderItem.fee_year,
                       ReminderItem.state)
             .join(Patent, Patent.id == ReminderItem.patent_id).where(ReminderItem.reminder_id.in_(reminder_ids))
             .order_by(Patent.application_number))
    found: dict[int, list[str]] = defaultdict(list)
    for reminder_id, number, year, state in session.execute(query):
        if state == "cancelled" and reminder_id not in cancelled:
            continue
        label = f"{number}/{year}"
        if label not in found[reminder_id]:
            found[reminder_id].append(label)
    return found


def reminder_rows(session: Session, state: str | None, channel: str | None, limit: int,
                  due_by: datetime | None = None) -> list[dict[str, Any]]:
    query = (sa.select(Reminder, Enterprise.name).outerjoin(Enterprise, Enterprise.id == Reminder.enterprise_id)
             .order_by(Reminder.id.desc()).limit(limit))
    if state:
        query = query.where(Reminder.state == state)
    if channel:
        query = query.where(Reminder.channel == channel)
    if due_by is not None:
        query = query.where(Reminder.not_before <= due_by)
    rows = session.execute(query).all()
    patents = _patents(session, [r.id for r, _ in rows], {r.id for r, _ in rows if r.state == "cancelled"})
    return [{
        "id": r.id, "state": r.state, "kind": r.kind, "channel": r.channel, "recipient": mask_text(r.recipient),
        "enterprise": name or "", "patents": ", ".join(patents.get(r.id, [])), "day": r.day.isoformat(),
        "not_before": r.not_before.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), "attempts": r.attempts,
        "provider_id": r.provider_id, "last": _last(r), "reason_code": reason_code(r.cancel_reason or r.last_error),
    } for r, name in rows]


def _last(reminder: Reminder) -> str:
    """Why it was cancelled, else the provider's last code and what it (or we) said."""
    if reminder.cancel_reason:
        return shown_reason(reminder.cancel_reason)
    return " ".join(filter(None, (reminder.last_code, shown_reason(reminder.last_error))))
