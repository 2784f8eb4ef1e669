"""Cancelling what is planned and not yet sent, when a fee is paid, a patent is abandoned, expires, changes hands
or changes status. Sent messages are history and are never touched.

`cancel_planned_for` is the seam for the other parts of the engine (recording a payment: that fee year; an
abandon decision in force, an ended patent, a held transfer: every year): it cancels at once what is planned and
not yet claimed, and a message left with nothing to say is cancelled with the same reason. A message already
claimed by a dispatcher is not touched here (it may be on the wire): dispatch checks each message's fees again just
before sending, and planning sweeps everything planned as well, so a change that forgot to call the seam is still
caught before anything goes out.

Every reason is stored as data (custody.reasons: a code and its fields), worded when an operator reads it.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from custody.eligibility import reminder_block
from custody.models import Patent, Payment
from custody.models.reminders import OPEN_STATES, Reminder, ReminderItem
from custody.reasons import Reason, reason
from custody.reminder_settings import ReminderSettings
from custody.store.standing import instructions_for, standings

ITEM = ReminderItem.__table__
REMINDER = Reminder.__table__
SUPERSEDE_KEY = ("patent_id", "fee_year", "kind", "channel", "recipient")
_BATCH = 500  # item ids per UPDATE (SQLite binds each one)
_PAID, _MOVED = reason("paid"), reason("other_enterprise")


def cancel_items(session: Session, reasons: dict[int, Reason]) -> int:
    """Cancel these planned items ({item id: reason}); returns how many were still planned. One statement per
    distinct reason and batch of ids: after downtime a sweep cancels many items for few reasons."""
    by_reason: dict[str, list[int]] = {}
    for item_id, why in reasons.items():
        by_reason.setdefault(why.stored(), []).append(item_id)
    done = 0
    for text, ids in by_reason.items():
        for start in range(0, len(ids), _BATCH):
            done += session.execute(sa.update(ITEM).where(ITEM.c.id.in_(ids[start:start + _BATCH]),
                                                          ITEM.c.state == "planned")
                                    .values(state="cancelled", cancel_reason=text)).rowcount
    return done


def cancel_empty_messages(session: Session, now: datetime, reminder_ids: Iterable[int] | None = None,
                          why: Reason | None = None) -> int:
    """Planned fee messages left without a planned item are cancelled (an alert or a statement has none)."""
    has_item = sa.exists().where(ITEM.c.reminder_id == REMINDER.c.id, ITEM.c.state == "planned")
    # Alerts and statements carry no items: never "empty".
    query = sa.update(REMINDER).where(REMINDER.c.state == "planned", REMINDER.c.kind.not_in(["alert", "statement"]),
                                      ~has_item)
    if reminder_ids is not None:
        query = query.where(REMINDER.c.id.in_(list(reminder_ids)))
    text = (why or reason("nothing_left")).stored()
    return session.execute(query.values(state="cancelled", cancel_reason=text, updated_at=now)).rowcount


def cancel_planned_for(session: Session, patent_id: int, why: Reason, now: datetime,
                       year: int | None = None) -> int:
    """Cancel at once this patent's reminder items (of one fee year, if given: a payment) in messages not yet
    claimed for sending; returns how many. Fee reminders, lapse notices and restoration reminders alike."""
    query = (sa.select(ITEM.c.id, ITEM.c.reminder_id).join(REMINDER, REMINDER.c.id == ITEM.c.reminder_id)
             .where(ITEM.c.patent_id == patent_id, ITEM.c.state == "planned", REMINDER.c.state == "planned"))
    if year is not None:
        query = query.where(ITEM.c.fee_year == year)
    rows = session.execute(query).all()
    done = cancel_items(session, {row.id: why for row in rows})
    cancel_empty_messages(session, now, {row.reminder_id for row in rows}, why)
    return done


def _planned_items(session: Session, reminder_ids: Iterable[int] | None, before_item: int | None = None):
    query = (sa.select(ITEM.c.id, ITEM.c.reminder_id, ITEM.c.patent_id, ITEM.c.fee_year, ITEM.c.kind,
                       ITEM.c.channel, ITEM.c.recipient, ITEM.c.grace_end, ITEM.c.due_date, ITEM.c.pay_by,
                       ITEM.c.created_at, Patent.mode, Patent.enterprise_id,
                       Patent.paid_through, REMINDER.c.enterprise_id.label("addressed_to"))
             .join(REMINDER, REMINDER.c.id == ITEM.c.reminder_id).join(Patent, Patent.id == ITEM.c.patent_id)
             .where(ITEM.c.state == "planned", REMINDER.c.state.in_(["planned", "sending"])))
    if reminder_ids is not None:
        query = query.where(ITEM.c.reminder_id.in_(list(reminder_ids)))
    if before_item is not None:
        query = query.where(ITEM.c.id < before_item)
    return session.execute(query).all()


def _paid(session: Session, rows) -> set[tuple[int, int]]:
    pairs = {(row.patent_id, row.fee_year) for row in rows}
    paid = {(row.patent_id, row.fee_year) for row in rows
            if row.paid_through is not None and row.paid_through >= row.fee_year}
    ids = {pid for pid, _ in pairs}
    if ids:
        query = sa.select(Payment.patent_id, Payment.year).where(Payment.patent_id.in_(ids)).distinct()
        paid |= {tuple(r) for r in session.execute(query)} & pairs
    return paid


def _latest_items(session: Session, rows) -> dict[tuple, tuple[int, int, str]]:
    """{(patent, fee year, kind, channel, recipient): (item id, message id, tier)} of the latest planned item of
    each, in a message still on its way (a fallback's copies of older tiers never count as the latest)."""
    ids = {row.patent_id for row in rows}
    query = (sa.select(ITEM.c.id, ITEM.c.reminder_id, ITEM.c.tier, *(ITEM.c[c] for c in SUPERSEDE_KEY))
             .join(REMINDER, REMINDER.c.id == ITEM.c.reminder_id)
             .where(ITEM.c.patent_id.in_(ids), ITEM.c.state == "planned", REMINDER.c.fallback_of.is_(None),
                    REMINDER.c.state.in_(OPEN_STATES)))
    latest: dict[tuple, tuple[int, int, str]] = {}
    for row in session.execute(query):
        key = tuple(getattr(row, c) for c in SUPERSEDE_KEY)
        if key not in latest or row.id > latest[key][0]:
            latest[key] = (row.id, row.reminder_id, row.tier)
    return latest


def _superseded(row, latest: dict[tuple, tuple[int, int, str]]) -> Reason | None:
    """After downtime only the latest meaningful tier goes out (issue 4): an item left unsent gives way to a later
    tier planned since for the same fee, kind, channel and person in another message."""
    found = latest.get(tuple(getattr(row, c) for c in SUPERSEDE_KEY))
    if found is None or found[0] <= row.id or found[1] == row.reminder_id:
        return None
    return reason("superseded", tier=found[2])


def _sent_since(session: Session, rows) -> dict[tuple, list[tuple[datetime, int]]]:
    """{(patent, fee year, kind, channel, recipient): [(sent at, message id)]} of the items sent since the oldest
    of `rows` was planned: what the person has been told since."""
    since = min(row.created_at for row in rows)
    query = (sa.select(REMINDER.c.sent_at, REMINDER.c.id, *(ITEM.c[c] for c in SUPERSEDE_KEY))
             .join(REMINDER, REMINDER.c.id == ITEM.c.reminder_id)
             .where(ITEM.c.patent_id.in_({row.patent_id for row in rows}), ITEM.c.state == "sent",
                    REMINDER.c.state.in_(["sent", "delivered"]), REMINDER.c.sent_at >= since))
    found: dict[tuple, list[tuple[datetime, int]]] = {}
    for row in session.execute(query):
        found.setdefault(tuple(getattr(row, c) for c in SUPERSEDE_KEY), []).append((row.sent_at, row.id))
    return found


def _told_since(row, sent: dict[tuple, list[tuple[datetime, int]]]) -> Reason | None:
    """The same fee went to the same person on the same channel after this item was planned, in another message
    (the fallback of a failed message, and the person's own message waiting meanwhile): the later one is not sent."""
    for sent_at, message_id in sent.get(tuple(getattr(row, c) for c in SUPERSEDE_KEY), ()):
        if message_id != row.reminder_id and sent_at >= row.created_at:
            return reason("duplicate_sent", message=message_id)
    return None


def _out_of_time(row, on: date, settings: ReminderSettings) -> Reason | None:
    if row.kind == "restore":  # pay_by is the last day to request restoration (Rule 6 ¶2)
        return reason("too_late_restore") if on > row.pay_by else None
    last = row.grace_end or row.due_date
    if row.kind == "lapse":
        last += timedelta(days=settings.lapse_notice_days)
    return reason("too_late_fee") if on > last else None


def stale_item_reasons(session: Session, on: date, settings: ReminderSettings,
                       reminder_ids: Iterable[int] | None = None, before_item: int | None = None
                       ) -> dict[int, Reason]:
    """{item id: why it must not go out} for planned items (of these messages, or all; with ids below
    `before_item` only, when given). Items planned later still count as what supersedes the ones checked."""
    rows = _planned_items(session, reminder_ids, before_item)
    if not rows:
        return {}
    paid, latest, sent = _paid(session, rows), _latest_items(session, rows), _sent_since(session, rows)
    instructions = instructions_for(session, {r.enterprise_id for r in rows if r.enterprise_id})
    standing = standings(session, {r.patent_id: (r.mode, r.enterprise_id) for r in rows}, instructions)
    reasons = {}
    for row in rows:
        why = (_PAID if (row.patent_id, row.fee_year) in paid else
               _MOVED if row.enterprise_id != row.addressed_to else
               reminder_block(standing[row.patent_id], row.kind, on) or _out_of_time(row, on, settings)
               or _superseded(row, latest) or _told_since(row, sent))
        if why:
            reasons[row.id] = why
    return reasons


def next_item_id(session: Session) -> int:
    """The id the next planned item will have at least: what a planning run marks as its start."""
    return (session.execute(sa.select(sa.func.max(ITEM.c.id))).scalar() or 0) + 1


def sweep(session: Session, on: date, now: datetime, settings: ReminderSettings,
          before_item: int | None = None) -> int:
    """Cancel every planned item that must no longer go out, and the messages left empty; returns items cancelled.
    `before_item`: the planning run's first item id. What it has just planned comes from facts refreshed in the
    same transaction, so only older items need checking (at a million patents that halves the daily plan)."""
    done = cancel_items(session, stale_item_reasons(session, on, settings, before_item=before_item))
    cancel_empty_messages(session, now)
    return done
