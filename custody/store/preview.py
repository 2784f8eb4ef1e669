"""`custody remind preview`: the exact texts the dispatcher would send, and `remind send`'s quiet-hours report.

No second renderer: the preview claims the planned messages inside a transaction the caller rolls back and runs
the dispatcher's own preparation on them (custody.store.compose.prepare_batch: the last checks, the rendering,
the fitting to the channel's limits), each group at the moment the dispatcher would take it (its not-before
time, moved to the channel's next opening when that falls in quiet hours). What it prints is what would go out;
nothing is saved, nothing is sent.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.masking import mask_text
from custody.models import Enterprise
from custody.models.reminders import Reminder
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RestorationRule
from custody.store.compose import prepare_batch

REMINDER = Reminder.__table__
WORKER = "preview"


@dataclass(frozen=True)
class Preview:
    """One message as it would go out (recipient masked)."""

    reminder_id: int
    channel: str
    recipient: str
    enterprise: str
    send_at: datetime
    subject: str | None
    text: str
    template: str | None
    params: Mapping[str, Any]


def _send_moment(settings: ReminderSettings, channel: str, not_before: datetime, at: datetime) -> datetime:
    """When the dispatcher would take a message due at `not_before`, looking at `at` or later."""
    return settings.send_time(channel, max(not_before, at))


def previews(session: Session, settings: ReminderSettings, at: datetime, until: datetime,
             caps: Mapping[str, int | None], limits: Mapping[str, Any], restoration: RestorationRule | None,
             enterprise_id: int | None = None) -> list[Preview]:
    """The fee messages planned to go out from `at` to `until`, as the dispatcher would compose them then.
    Changes the session's transaction: the caller rolls it back."""
    query = sa.select(REMINDER.c.id, REMINDER.c.channel, REMINDER.c.not_before).where(
        REMINDER.c.state == "planned", REMINDER.c.kind != "alert", REMINDER.c.not_before < until)
    if enterprise_id is not None:
        query = query.where(REMINDER.c.enterprise_id == enterprise_id)
    groups: dict[datetime, list[int]] = {}
    for row in session.execute(query.order_by(REMINDER.c.not_before, REMINDER.c.id)):
        moment = _send_moment(settings, row.channel, row.not_before, at)
        if moment < until:
            groups.setdefault(moment, []).append(row.id)
    names = dict(session.execute(sa.select(Enterprise.id, Enterprise.name)).all()) if groups else {}
    found = []
    for moment, ids in sorted(groups.items()):
        session.execute(sa.update(REMINDER).where(REMINDER.c.id.in_(ids), REMINDER.c.state == "planned").values(
            state="sending", claimed_by=WORKER, claimed_at=moment, attempts=REMINDER.c.attempts + 1))
        for p in prepare_batch(session, ids, WORKER, moment, settings, caps, restoration, limits):
            e = p.envelope
            found.append(Preview(p.reminder.id, e.channel, mask_text(e.recipient),
                                 names.get(p.reminder.enterprise_id, ""), moment, e.subject, e.text, e.template,
                                 dict(e.params or {})))
    return found


def day_span(day: date, now: datetime) -> tuple[datetime, datetime]:
    """From when to when a preview of `day` looks: from now (today) or the day's start, to its end."""
    start = datetime.combine(day, time(0), SHANGHAI)
    return max(start, now), start + timedelta(days=1)


# ---------------------------------------------------------------------------------------------- quiet hours


@dataclass(frozen=True)
class Held:
    channel: str
    count: int
    until: datetime


def held_for_quiet_hours(session: Session, settings: ReminderSettings, now: datetime) -> list[Held]:
    """Per channel now outside its sending hours: the planned messages due by its next opening, which the
    dispatch held (or the planner timed) for it, and when that is."""
    held = []
    for channel, window in sorted(settings.send_windows.items()):
        if window is None or window.allows(now):
            continue
        opens = window.next_open(now)
        count = session.execute(sa.select(sa.func.count()).where(
            REMINDER.c.state == "planned", REMINDER.c.channel == channel, REMINDER.c.not_before <= opens)).scalar()
        if count:
            held.append(Held(channel, count, opens))
    return held


def preview_dict(p: Preview) -> dict[str, Any]:
    return {"id": p.reminder_id, "channel": p.channel, "recipient": p.recipient, "enterprise": p.enterprise,
            "send_at": p.send_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), "subject": p.subject,
            "text": p.text, "template": p.template, "params": dict(p.params)}


def preview_lines(p: Preview) -> list[str]:
    """One message as the operator reads it: who, when, on what channel, then the text exactly."""
    from custody.i18n import label, tr

    shown = preview_dict(p)
    lines = [tr("#{id} {channel} to {recipient} ({enterprise}) at {send_at}", id=p.reminder_id,
                channel=label("channel", p.channel), recipient=p.recipient, enterprise=p.enterprise or "-",
                send_at=shown["send_at"])]
    if p.subject:
        lines.append(tr("Subject: {subject}", subject=p.subject))
    if p.params:  # an SMS template's variables: what the provider fills in
        lines.append(tr("Template {template}, variables: {params}", template=p.template,
                        params=", ".join(f"{k}={v}" for k, v in p.params.items())))
    return [*lines, p.text, ""]
