"""Turning claimed outbox rows into `Envelope`s to send, after the last checks before the network call.

Just before sending: the channel's hours (SMS waits for the morning), the provider's daily cap per recipient,
the contact's consent (an opt-out is honoured even for a message already planned), the enterprise's
instructions, and every fee in it (paid, abandoned, expired, moved to another enterprise since planning: that
line goes, and a message left empty is cancelled). The text is rendered at each attempt and kept in the row
(what was sent is on record); the key (Aliyun's OutId) stays the same, so a look-up finds any earlier attempt.
A claimed batch is prepared in one transaction with a handful of queries, whatever its size.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from custody.domain import marked
from custody.messages import (
    KIND_STAGE,
    Addressee,
    Attachment,
    Envelope,
    FeeLine,
    Rendered,
    fitted,
    render_fee_message,
)
from custody.models import Contact, Enterprise, Patent
from custody.models.reminders import Reminder, ReminderAttempt, ReminderItem
from custody.reasons import Reason, reason
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RestorationRule
from custody.store.calendar import calendar_from
from custody.store.cancel import cancel_items, stale_item_reasons
from custody.store.outbox import STATEMENT, UNFOLDED, fail, local_day, transition
from custody.store.standing import ContactRow, Instructions, instructions_for

log = logging.getLogger(__name__)
SENT_STATES = ("sent", "delivered", "failed")
TEXT_COLUMNS = ("body", "subject", "html", "template", "params")  # what rendering writes on a row
ATTEMPT = ReminderAttempt.__table__


@dataclass(frozen=True)
class Prepared:
    reminder: Reminder
    envelope: Envelope
    attempt_id: int


def envelope_of(reminder: Reminder) -> Envelope:
    return Envelope(key=f"custody-{reminder.id}", channel=reminder.channel, recipient=reminder.recipient,
                    text=reminder.body or "", subject=reminder.subject, html=reminder.html,
                    template=reminder.template, params=json.loads(reminder.params or "{}"))


def _release(session: Session, reminder: Reminder, worker: str, not_before: datetime, why: Reason,
             now: datetime) -> None:
    """Back to planned without counting an attempt: it was never tried."""
    transition(session, reminder.id, ["sending"], worker, state="planned", not_before=not_before,
               attempts=reminder.attempts - 1, last_error=why.stored(), updated_at=now)


def _cancel(session: Session, reminder: Reminder, worker: str, why: Reason, now: datetime) -> None:
    text = why.stored()
    transition(session, reminder.id, ["sending"], worker, state="cancelled", cancel_reason=text, updated_at=now)
    session.execute(sa.update(ReminderItem.__table__)
                    .where(ReminderItem.reminder_id == reminder.id, ReminderItem.state == "planned")
                    .values(state="cancelled", cancel_reason=text))


class _Batch:
    """What the checks and the rendering of one claimed batch need, read in a few queries."""

    def __init__(self, session: Session, reminders: Sequence[Reminder], now: datetime,
                 settings: ReminderSettings) -> None:
        self.session, self.now, self.settings = session, now, settings
        enterprise_ids = {r.enterprise_id for r in reminders if r.enterprise_id}
        self.instructions = instructions_for(session, enterprise_ids)
        self.names = dict(session.execute(sa.select(Enterprise.id, Enterprise.name)
                                          .where(Enterprise.id.in_(enterprise_ids))).all())
        contact_ids = {r.contact_id for r in reminders if r.contact_id}
        self.contacts = {c.id: ContactRow(c.id, c.enterprise_id, c.name, c.role, c.mobile, c.email, c.consent_sms,
                                          c.consent_email)
                         for c in session.execute(sa.select(Contact).where(Contact.id.in_(contact_ids))).scalars()}
        self.listed = {a for e in settings.call_list for a in (e.mobile, (e.email or "").lower()) if a}
        self.recent = self._recent_sends(reminders)
        self.texts: dict[int, dict[str, Any]] = {}  # rendered texts waiting to be written, by reminder id

    def _recent_sends(self, reminders: Sequence[Reminder]) -> dict[tuple[str, str], list[datetime]]:
        """Send times of the last 24 hours per (channel, recipient), for the daily caps."""
        since = self.now - timedelta(days=1)
        query = sa.select(Reminder.channel, Reminder.recipient, Reminder.sent_at).where(
            Reminder.recipient.in_({r.recipient for r in reminders}), Reminder.sent_at > since,
            Reminder.state.in_(SENT_STATES))
        found: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for channel, recipient, sent_at in self.session.execute(query).all():
            found[(channel, recipient)].append(sent_at)
        return found

    def cap_frees_at(self, reminder: Reminder, cap: int | None) -> datetime | None:
        """When sending would break the per-recipient daily cap, the time a slot frees up; else None (and the
        send is counted, so a batch holding the same number twice respects the cap too)."""
        times = sorted(self.recent[(reminder.channel, reminder.recipient)])
        if cap and len(times) >= cap:
            return times[-cap] + timedelta(days=1)
        self.recent[(reminder.channel, reminder.recipient)].append(self.now)
        return None

    def instructions_of(self, enterprise_id: int | None) -> Instructions:
        return self.instructions.get(enterprise_id, Instructions())

    def opt_out_reason(self, reminder: Reminder) -> Reason | None:
        if reminder.contact_id is None:
            return None if reminder.recipient in self.listed else reason("contact_removed")
        contact = self.contacts.get(reminder.contact_id)
        if contact is None or contact.address(reminder.channel) != reminder.recipient:
            return reason("consent_withdrawn", channel=reminder.channel)
        if reminder.channel == "sms" and self.instructions_of(contact.enterprise_id).no_sms:
            return reason("no_sms")
        return None


def _lines(session: Session, reminder_ids: list[int]) -> dict[int, list[FeeLine]]:
    query = (sa.select(ReminderItem, Patent).join(Patent, Patent.id == ReminderItem.patent_id)
             .where(ReminderItem.reminder_id.in_(reminder_ids), ReminderItem.state == "planned")
             .order_by(ReminderItem.pay_by, Patent.application_number))
    found: dict[int, dict[tuple, FeeLine]] = defaultdict(dict)
    calendar = calendar_from(session)

    def shown(day):  # marked provisional as of now (a schedule loaded since planning makes the year final)
        return marked(day, day is not None and calendar.is_provisional(day))

    for item, patent in session.execute(query):
        line = FeeLine(patent.enterprise_id, patent.application_number, patent.title, str(patent.type),
                       item.fee_year, shown(item.due_date), shown(item.grace_end), item.fee, item.full_fee,
                       item.late_fee, item.late_fee_rate, shown(item.pay_by), item.next_rate, item.kind)
        # One line per fee, whichever tiers brought it into this message: the one of the latest stage speaks.
        key = (patent.id, item.fee_year)
        known = found[item.reminder_id].get(key)
        if known is None or KIND_STAGE[line.kind] > KIND_STAGE[known.kind]:
            found[item.reminder_id][key] = line
    return {rid: list(lines.values()) for rid, lines in found.items()}


def _store_text(batch: _Batch, reminder: Reminder, rendered: Rendered) -> None:
    """Keep the rendered text on the row: written with the batch's other texts (`_write_texts`)."""
    values = dict(body=rendered.text, subject=rendered.subject, html=rendered.html, template=rendered.template,
                  params=json.dumps(dict(rendered.params), ensure_ascii=False) if rendered.params else None)
    batch.texts[reminder.id] = values
    _written(reminder, values)


def _write_texts(session: Session, texts: Mapping[int, Mapping[str, Any]], worker: str) -> None:
    """The texts rendered for a batch, in one statement (the rows are this worker's claims, taken in this same
    transaction, so no other writer can have moved them meanwhile)."""
    if not texts:
        return
    table = Reminder.__table__
    query = (sa.update(table).where(table.c.id == sa.bindparam("reminder"), table.c.claimed_by == worker)
             .values({name: sa.bindparam(f"new_{name}") for name in TEXT_COLUMNS}))
    session.execute(query, [{"reminder": reminder_id, **{f"new_{name}": values[name] for name in TEXT_COLUMNS}}
                            for reminder_id, values in texts.items()])


def _written(reminder: Reminder, values: Mapping[str, Any]) -> None:
    """Show on the loaded row what an UPDATE has just written, as its database state: set as plain attributes, the
    session would write each row a second time at its next flush (and, autoflushing, before every statement)."""
    for name, value in values.items():
        set_committed_value(reminder, name, value)


def _checked(session: Session, batch: _Batch, reminder: Reminder, worker: str, cap: int | None) -> bool:
    """The checks that can hold a message back or cancel it; True if it may go out now."""
    now, window = batch.now, batch.settings.window_for(reminder.channel)
    if window is not None and not window.allows(now):
        _release(session, reminder, worker, window.next_open(now), reason("sending_hours"), now)
        return False
    if reminder.kind != "alert" or reminder.contact_id is not None:  # operator alerts have no contact
        why = batch.opt_out_reason(reminder)
        if why:
            _cancel(session, reminder, worker, why, now)
            return False
    freed = batch.cap_frees_at(reminder, cap)
    if freed is not None:
        _release(session, reminder, worker, freed, reason("daily_cap"), now)
        return False
    return True


def _fits(session: Session, batch: _Batch, reminder: Reminder, worker: str, limits: Any) -> bool:
    """Make the stored text fit the channel's declared limits (custody.messages.fitted); a message that cannot
    fit truthfully fails for good here, before any network call (fallback channel and operator alert)."""
    if limits is None:
        return True
    params = json.loads(reminder.params or "{}")
    text, params, problem = fitted(reminder.body or "", params, getattr(limits, "max_chars", None),
                                   getattr(limits, "max_param_chars", None))
    if problem:
        fail(session, reminder, batch.now, batch.settings, "local.TOO_LONG", problem, worker, from_states=("sending",))
        return False
    if text != (reminder.body or "") or params != json.loads(reminder.params or "{}"):
        values = dict(body=text, params=json.dumps(params, ensure_ascii=False) if params else None)
        if reminder.id in batch.texts:  # rendered in this batch: written with the others
            batch.texts[reminder.id].update(values)
        else:
            transition(session, reminder.id, ["sending"], **values)
        _written(reminder, values)
    return True


def _rendered(batch: _Batch, reminder: Reminder, lines: list[FeeLine],
              restoration: RestorationRule | None) -> Rendered:
    instructions = batch.instructions_of(reminder.enterprise_id)
    to = Addressee(batch.names.get(reminder.enterprise_id, ""), reminder.recipient_name or "您好",
                   remind_only=instructions.remind_only, via_agency=instructions.via_agency,
                   for_operator=reminder.contact_id is None)  # no contact: someone on the operator's call list
    return render_fee_message(reminder.channel, lines, to, reminder.day, restoration)


def prepare_batch(session: Session, reminder_ids: Sequence[int], worker: str, now: datetime,
                  settings: ReminderSettings, caps: Mapping[str, int | None],
                  restoration: RestorationRule | None = None,
                  limits: Mapping[str, Any] | None = None,
                  statement_mail: StatementMail | None = None) -> list[Prepared]:
    """Envelopes for the messages this worker claimed, each with its attempt recorded; the others are released
    for later, cancelled, or failed (a text that cannot fit the channel's `limits`, {channel: ChannelLimits}).
    `restoration` is the Rule 6 ¶2 row of the rule set in use (default: the bundled rule tables'); `statement_mail`
    renders the statement emails (custody.store.statements.statement_mail with the dispatcher's rules)."""
    query = sa.select(Reminder).where(Reminder.id.in_(list(reminder_ids)), Reminder.state == "sending",
                                      Reminder.claimed_by == worker).order_by(Reminder.id)
    reminders = list(session.execute(query.execution_options(populate_existing=True)).scalars())
    batch = _Batch(session, reminders, now, settings)
    fee_ids = [r.id for r in reminders if r.kind not in UNFOLDED]
    cancel_items(session, stale_item_reasons(session, local_day(now), settings, fee_ids))
    lines = _lines(session, fee_ids)
    ready, attached = _ready(session, batch, reminders, lines, worker, caps, restoration, limits, statement_mail)
    _write_texts(session, batch.texts, worker)
    ids = [r.id for r in ready]
    if not ids:
        return []
    session.execute(sa.update(Reminder.__table__).where(Reminder.id.in_(ids)).values(claimed_at=now))
    attempts = sa.insert(ATTEMPT).returning(ATTEMPT.c.id, sort_by_parameter_order=True)
    attempt_ids = session.execute(attempts, [dict(reminder_id=r.id, number=r.attempts, worker=worker, started_at=now)
                                             for r in ready]).scalars().all()
    return [Prepared(reminder, replace(envelope_of(reminder), attachments=attached.get(reminder.id, ())), attempt)
            for reminder, attempt in zip(ready, attempt_ids, strict=True)]


def _ready(session: Session, batch: _Batch, reminders: Sequence[Reminder], lines: Mapping[int, list[FeeLine]],
           worker: str, caps: Mapping[str, int | None], restoration: RestorationRule | None,
           limits: Mapping[str, Any] | None, statement_mail: StatementMail | None,
           ) -> tuple[list[Reminder], dict[int, tuple[Attachment, ...]]]:
    """The messages of the batch that may go now, and the statements' documents."""
    now = batch.now
    ready: list[Reminder] = []
    attached: dict[int, tuple[Attachment, ...]] = {}
    for reminder in reminders:
        if not _checked(session, batch, reminder, worker, caps.get(reminder.channel)):
            continue
        if reminder.kind == STATEMENT:
            document = _statement(session, batch, reminder, worker, statement_mail)
            if document is None:
                continue
            attached[reminder.id] = (document,)
        elif reminder.kind != "alert":
            if not lines.get(reminder.id):
                _cancel(session, reminder, worker, reason("nothing_left_settled"), now)
                continue
            _store_text(batch, reminder, _rendered(batch, reminder, lines[reminder.id], restoration))
        if not _fits(session, batch, reminder, worker, (limits or {}).get(reminder.channel)):
            continue
        ready.append(reminder)
    return ready, attached


StatementMail = Callable[[Session, Reminder], tuple[Rendered, Attachment]]


def _statement(session: Session, batch: _Batch, reminder: Reminder, worker: str,
               statement_mail: StatementMail | None) -> Attachment | None:
    """Render a statement email (custody.store.statements.statement_mail): its text is stored, its document
    returned. One that cannot be rendered fails for good here, before any network call, and the operator is told."""
    if statement_mail is None:
        fail(session, reminder, batch.now, batch.settings, "local.STATEMENT", reason("no_statements"), worker,
             from_states=("sending",))
        return None
    try:
        with session.begin_nested():
            rendered, document = statement_mail(session, reminder)
    except Exception as exc:  # noqa: BLE001 - a statement that cannot be built must not stop the batch
        log.error("statement %s could not be rendered: %s", reminder.id, type(exc).__name__, exc_info=True)
        fail(session, reminder, batch.now, batch.settings, "local.STATEMENT", f"{type(exc).__name__}: {exc}", worker,
             from_states=("sending",))
        return None
    _store_text(batch, reminder, rendered)
    return document
