"""The planning tick's work: from `patent_due`, insert what is due as of now into the outbox, exactly once.

Each fee's due tier becomes one `reminder_item` per recipient and channel, unique on (patent, fee year, tier,
channel, recipient): running the tick twice, late, or from cron while the daemon runs inserts nothing new.
Items are gathered into one digest message per (kind, enterprise, channel, recipient, day); a digest already
claimed for sending is never added to: new items wait for the next day's digest.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.domain import yuan
from custody.eligibility import reminder_block_reason
from custody.masking import mask_text
from custody.models import Enterprise, Patent
from custody.models.reminders import PatentDue, Reminder, ReminderItem
from custody.reminder_policy import DueEvent, FeeDates, due_and_next, payment_terms
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RuleSet
from custody.store.bulk import among, insert_ignore, update_column
from custody.store.cancel import sweep
from custody.store.due import RefreshSummary, parse_rises, refresh_due
from custody.store.outbox import local_day, plan_alert
from custody.store.standing import Recipient, contacts_for, instructions_for, recipients, standings
from custody.store.ticks import take_turn
from custody.workdays import WorkCalendar

log = logging.getLogger(__name__)
CHUNK = 5_000
ITEM_KEY = ("patent_id", "fee_year", "tier", "channel", "recipient")
NEXT_DAY_AT = time(9)  # a digest bumped to the next day goes out then (or when the channel's window opens)


@dataclass(frozen=True)
class PlanLine:
    """One decision of the planner, for `custody remind plan --dry-run` and the log."""

    enterprise: str
    application_number: str
    fee_year: int
    tier: str
    channel: str
    recipient: str  # masked
    send_at: datetime | None
    outcome: str  # "planned", "already planned", or why not


@dataclass
class PlanResult:
    refresh: RefreshSummary | None = None
    due_rows: int = 0
    items: int = 0
    messages: int = 0
    skipped: int = 0
    cancelled: int = 0
    lines: list[PlanLine] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"patents_refreshed": self.refresh.patents if self.refresh else 0, "due_rows": self.due_rows,
                "items": self.items, "messages": self.messages, "skipped": self.skipped,
                "cancelled": self.cancelled}


@dataclass(frozen=True)
class _Planned:
    row: sa.Row  # a _due_rows row
    fee: FeeDates
    event: DueEvent
    recipient: Recipient


def _due_ids(session: Session, on: date) -> list[int]:
    """Patents whose next tier has fired by `on`: an index range on patent_due.next_fire_on, nothing else read."""
    due = PatentDue.__table__.c
    return sorted(session.execute(sa.select(due.patent_id).where(due.next_fire_on <= on)).scalars())


def _due_rows(session: Session, ids: list[int]) -> list[sa.Row]:
    due = PatentDue.__table__.c
    query = (sa.select(due.patent_id, due.fee_year, due.due_date, due.grace_end, due.fee, due.full_fee, due.rises,
                       Patent.enterprise_id, Patent.mode, Patent.application_number)
             .join(Patent, Patent.id == due.patent_id)
             .where(among(session, due.patent_id, ids)).order_by(due.patent_id))
    return list(session.execute(query))


def message_key(kind: str, enterprise_id: int | None, recipient: Recipient, day: date, settings: ReminderSettings,
                item: tuple | None = None) -> str:
    key = f"{kind}:{enterprise_id}:{recipient.channel}:{recipient.address}:{day.isoformat()}"
    return key if settings.digest or item is None else f"{key}:{':'.join(map(str, item))}"


def _send_time(channel: str, day: date, now: datetime, settings: ReminderSettings) -> datetime:
    start = now if day == local_day(now) else datetime.combine(day, NEXT_DAY_AT, SHANGHAI)
    return settings.send_time(channel, start)


def _messages_for(session: Session, wanted: dict[tuple, Recipient], planned: dict[tuple, list[_Planned]],
                  now: datetime, settings: ReminderSettings) -> dict[tuple, tuple[int, date]]:
    """{group: (message id, day)}: the group's digest of its day, or of a later day if that one is taken."""
    found: dict[tuple, tuple[int, date]] = {}
    pending = {g: local_day(settings.send_time(r.channel, now)) for g, r in wanted.items()}
    for _ in range(7):
        if not pending:
            break
        keys = {}
        for group, day in pending.items():
            kind, enterprise_id, _channel, _address, item = group
            keys[message_key(kind, enterprise_id, wanted[group], day, settings, item)] = group
        insert_ignore(session, Reminder.__table__, [dict(
            key=key, kind=g[0], channel=wanted[g].channel, recipient=wanted[g].address,
            recipient_name=wanted[g].name, contact_id=wanted[g].contact_id, enterprise_id=g[1], day=pending[g],
            state="planned", not_before=_send_time(wanted[g].channel, pending[g], now, settings), attempts=0,
            created_at=now, updated_at=now) for key, g in keys.items()], ["key"])
        query = sa.select(Reminder.id, Reminder.key, Reminder.state).where(among(session, Reminder.key, keys))
        for row in session.execute(query.with_for_update()):
            group = keys[row.key]
            if row.state == "planned":
                found[group] = (row.id, pending.pop(group))
            else:
                pending[group] += timedelta(days=1)
    return found


def _item_rows(found: dict[tuple, tuple[int, date]], planned: dict[tuple, list[_Planned]],
               now: datetime) -> list[dict]:
    rows = []
    for group, entries in planned.items():
        if group not in found:
            continue
        message_id, day = found[group]
        for p in entries:
            terms = payment_terms(p.fee, day, p.event.event.kind)
            rows.append(dict(
                reminder_id=message_id, patent_id=p.row.patent_id, fee_year=p.row.fee_year,
                tier=p.event.event.label, channel=p.recipient.channel, recipient=p.recipient.address,
                kind=p.event.event.kind, state="planned", due_date=p.row.due_date, grace_end=p.row.grace_end,
                fee=p.row.fee, full_fee=p.row.full_fee, late_fee=yuan(p.row.full_fee * terms.rate),
                late_fee_rate=terms.rate, pay_by=terms.pay_by, next_rate=terms.next_rate, created_at=now))
    return rows


def _existing_items(session: Session, patent_ids: list[int], tiers: set[str]) -> set[tuple]:
    """Item keys already planned for these patents and tiers (the unique index serves the lookup)."""
    if not tiers:
        return set()
    query = sa.select(*(getattr(ReminderItem, c) for c in ITEM_KEY)).where(
        among(session, ReminderItem.patent_id, patent_ids), among(session, ReminderItem.tier, tiers))
    return {tuple(row) for row in session.execute(query)}


class _Chunk:
    """Planning one chunk of due rows: the decisions, then the inserts."""

    def __init__(self, session: Session, rows: list[sa.Row], settings: ReminderSettings,
                 on: date, now: datetime, result: PlanResult, keep_lines: bool) -> None:
        self.session, self.rows, self.settings, self.on, self.now = session, rows, settings, on, now
        self.result, self.keep_lines = result, keep_lines
        enterprise_ids = {r.enterprise_id for r in rows if r.enterprise_id}
        self.instructions = instructions_for(session, enterprise_ids)
        self.contacts = contacts_for(session, enterprise_ids)
        self.names = dict(session.execute(sa.select(Enterprise.id, Enterprise.name)
                                          .where(among(session, Enterprise.id, enterprise_ids))).all())
        self.standing = standings(session, {r.patent_id: (r.mode, r.enterprise_id) for r in rows},
                                  self.instructions)
        self.wanted: dict[tuple, Recipient] = {}
        self.planned: dict[tuple, list[_Planned]] = defaultdict(list)

    def line(self, row: sa.Row, event: DueEvent, recipient: str, outcome: str) -> None:
        is_planned = outcome in ("planned", "already planned")
        if not is_planned:
            self.result.skipped += 1
            log.info("not planned: %s year %s %s %s: %s", row.application_number, row.fee_year,
                     event.event.label, event.channel, outcome)
        if self.keep_lines:
            send_at = self.settings.send_time(event.channel, self.now) if outcome == "planned" else None
            self.result.lines.append(PlanLine(self.names.get(row.enterprise_id, ""), row.application_number,
                                              row.fee_year, event.event.label, event.channel, mask_text(recipient),
                                              send_at, outcome))

    def decide(self, row: sa.Row, fee: FeeDates, event: DueEvent, existing: set[tuple]) -> None:
        reason = reminder_block_reason(self.standing[row.patent_id], event.event.kind, self.on)
        instructions = self.instructions.get(row.enterprise_id)
        if reason is None and event.channel == "sms" and instructions is not None and instructions.no_sms:
            reason = "the enterprise asked for no SMS"
        if reason:
            self.line(row, event, "", f"skipped: {reason}")
            return
        found = recipients(self.contacts.get(row.enterprise_id, []), self.settings.call_list, event.audience,
                           event.channel)
        if not found:
            self.no_recipient(row, event)
        for recipient in found:
            item = (row.patent_id, row.fee_year, event.event.label, event.channel, recipient.address)
            if item in existing:
                self.line(row, event, recipient.address, "already planned")
                continue
            group = (event.event.kind, row.enterprise_id, event.channel, recipient.address,
                     None if self.settings.digest else item)
            self.wanted[group] = recipient
            self.planned[group].append(_Planned(row, fee, event, recipient))
            self.line(row, event, recipient.address, "planned")

    def no_recipient(self, row: sa.Row, event: DueEvent) -> None:
        # A fee with nobody to tell is how patents are lost: the operator hears of it, once per tier.
        audience = "、".join(event.audience)
        self.line(row, event, "", f"skipped: no contact of {audience} reachable by {event.channel}")
        plan_alert(self.session, self.settings, f"norecipient:{row.patent_id}:{row.fee_year}:{event.event.label}:"
                   f"{event.channel}", self.now,
                   f"无人可提醒：{self.names.get(row.enterprise_id, '（无企业）')} 专利{row.application_number} "
                   f"第{row.fee_year}年度年费（{event.event.label}，{event.channel}）",
                   [f"应缴日 {row.due_date}，宽限期届满 {row.grace_end}；请补充联系人（{audience}）或其同意"])

    def run(self) -> list[tuple[int, date | None]]:
        settings, decided, updates = self.settings, [], []
        for row in self.rows:
            fee = FeeDates(row.due_date, row.grace_end, parse_rises(row.rises))
            events, nxt = due_and_next(fee, settings.tiers, self.on, settings.lapse_notice_days)
            decided.append((row, fee, events))
            updates.append((row.patent_id, nxt))
        labels = {e.event.label for _, _, events in decided for e in events}
        existing = _existing_items(self.session, [r.patent_id for r in self.rows], labels)
        for row, fee, events in decided:
            for event in events:
                self.decide(row, fee, event, existing)
        self.store()
        return updates

    def store(self) -> None:
        found = _messages_for(self.session, self.wanted, self.planned, self.now, self.settings)
        items = _item_rows(found, self.planned, self.now)
        # Every item here was checked new above, and planners take turns (take_turn): no message is left empty.
        insert_ignore(self.session, ReminderItem.__table__, items, ITEM_KEY)
        self.result.items += len(items)
        self.result.messages += len({message_id for message_id, _ in found.values()})


def plan(session: Session, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar, now: datetime,
         keep_lines: bool = False, full_refresh: bool = False) -> PlanResult:
    """Refresh patent_due, cancel what must no longer go out, and plan what is due as of `now`."""
    take_turn(session, "plan")
    on = local_day(now)
    result = PlanResult(refresh=refresh_due(session, settings, rules, calendar, on, now, full_refresh))
    result.cancelled = sweep(session, on, now, settings)
    ids = _due_ids(session, on)
    for start in range(0, len(ids), CHUNK):
        rows = _due_rows(session, ids[start:start + CHUNK])
        updates = _Chunk(session, rows, settings, on, now, result, keep_lines).run()
        update_column(session, PatentDue.__table__, "patent_id", "next_fire_on", updates)
        result.due_rows += len(rows)
    return result
