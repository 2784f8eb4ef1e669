"""The planning tick's work: from `patent_due`, insert what is due as of now into the outbox, exactly once.

Each fee's due tier becomes one `reminder_item` per recipient and channel, unique on (patent, fee year, tier,
channel, recipient): running the tick twice, late, or from cron while the daemon runs inserts nothing new.
Items are gathered into one digest message per (enterprise, channel, recipient, day), whatever they say (fee
reminders, lapse notices and restoration reminders share it); a digest already claimed for sending is never added
to: new items wait for the next day's digest.

Only channels that can send are planned on (`ReminderSettings.sending_channels`: enabled, or the file outbox
standing in for them): an event on another channel is skipped, and a tier none of whose channels can send is a
configuration problem the operator is alerted of once, instead of rows that would stay planned for ever.

Restoration reminders (kind "restore") hang on what the legal-status watch recorded: CNIPA's termination notice
for non-payment and the last day to request restoration (`patent_watch.lapsed_on` / `restore_by`). The few
patents with such a notice pending are read apart, each day until the deadline; the operator is alerted too.
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.collector import collector_paused
from custody.domain import yuan
from custody.eligibility import reminder_block
from custody.explained import in_every_language
from custody.fees import restoration_cost
from custody.i18n import label, tr
from custody.masking import mask_text
from custody.messages import KIND_STAGE, money
from custody.models import Enterprise, Patent
from custody.models.reminders import PatentDue, Reminder, ReminderItem
from custody.models.status import PatentWatch
from custody.reasons import Reason, reason
from custody.reminder_policy import DueEvent, FeeDates, Tier, due_and_next, payment_terms
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RestorationRule, RuleSet
from custody.store.bulk import among, insert_ignore, update_column
from custody.store.cancel import cancel_planned_for, next_item_id, sweep
from custody.store.due import RefreshSummary, Screened, parse_rises, refresh_due
from custody.store.outbox import local_day, plan_alert, reroute_stranded
from custody.store.standing import Recipient, contacts_for, instructions_for, recipients, standings
from custody.store.ticks import take_turn
from custody.workdays import WorkCalendar

log = logging.getLogger(__name__)
CHUNK = 20_000  # due rows planned together: a day of a million patents is one or two chunks
ITEM_KEY = ("patent_id", "fee_year", "tier", "channel", "recipient")
NEXT_DAY_AT = time(9)  # a digest bumped to the next day goes out then (or when the channel's window opens)


@dataclass(frozen=True)
class PlanLine:
    """One decision of the planner, for `custody remind plan --dry-run` and the log."""

    enterprise: str
    application_number: str
    fee_year: int | None  # None: the patent itself was screened out (fee facts refused)
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
    screened: int = 0  # patents left out: their fee facts are refused (the operator is alerted)
    rerouted: int = 0  # planned messages no process would send: cancelled, their fallback planned
    lines: list[PlanLine] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"patents_refreshed": self.refresh.patents if self.refresh else 0, "due_rows": self.due_rows,
                "items": self.items, "messages": self.messages, "skipped": self.skipped,
                "cancelled": self.cancelled, "screened": self.screened, "rerouted": self.rerouted}


@dataclass(frozen=True)
class _Planned:
    row: sa.Row  # a _due_rows row
    fee: FeeDates
    event: DueEvent
    recipient: Recipient


def _due_rows(session: Session, on: date) -> list[sa.Row]:
    """The fees whose next tier has fired by `on`: an index range on patent_due.next_fire_on (and each row's
    patent by its key), nothing else read."""
    due = PatentDue.__table__.c
    query = (sa.select(due.patent_id, due.fee_year, due.due_date, due.grace_end, due.fee, due.full_fee, due.rises,
                       Patent.enterprise_id, Patent.mode, Patent.application_number)
             .join(Patent, Patent.id == due.patent_id)
             .where(due.next_fire_on <= on))
    # Sorted here: an ORDER BY on the key makes SQLite walk the whole table in key order instead of the index.
    return sorted(session.execute(query), key=lambda row: row.patent_id)


def message_key(enterprise_id: int | None, recipient: Recipient, day: date, settings: ReminderSettings,
                item: tuple | None = None) -> str:
    """One digest per enterprise, recipient, channel and day, whatever its items say (issue 4); with
    `digest = false`, one message per item."""
    key = f"digest:{enterprise_id}:{recipient.channel}:{recipient.address}:{day.isoformat()}"
    return key if settings.digest or item is None else f"{key}:{':'.join(map(str, item))}"


def _send_time(channel: str, day: date, now: datetime, settings: ReminderSettings) -> datetime:
    start = now if day == local_day(now) else datetime.combine(day, NEXT_DAY_AT, SHANGHAI)
    return settings.send_time(channel, start)


def _messages_for(session: Session, wanted: dict[tuple, Recipient], planned: dict[tuple, list[_Planned]],
                  now: datetime, settings: ReminderSettings) -> dict[tuple, tuple[int, date]]:
    """{group: (message id, day)}: the group's digest of its day, or of a later day if that one is taken."""
    found: dict[tuple, tuple[int, date]] = {}
    channels = {r.channel for r in wanted.values()}
    first_day = {channel: local_day(settings.send_time(channel, now)) for channel in channels}
    pending = {g: first_day[r.channel] for g, r in wanted.items()}
    send_at: dict[tuple[str, date], datetime] = {}  # (channel, day): the same for every message of one run
    for _ in range(7):
        if not pending:
            break
        keys = {}
        for group, day in pending.items():
            enterprise_id, channel, _address, item = group
            keys[message_key(enterprise_id, wanted[group], day, settings, item)] = group
            if (channel, day) not in send_at:
                send_at[(channel, day)] = _send_time(channel, day, now, settings)
        insert_ignore(session, Reminder.__table__, [{
            "key": key, "kind": _kind_of(planned[g]), "channel": g[1], "recipient": wanted[g].address,
            "recipient_name": wanted[g].name, "contact_id": wanted[g].contact_id, "enterprise_id": g[0],
            "day": pending[g], "state": "planned", "not_before": send_at[(g[1], pending[g])], "attempts": 0,
            "created_at": now, "updated_at": now} for key, g in keys.items()], ["key"])
        query = sa.select(Reminder.id, Reminder.key, Reminder.state).where(among(session, Reminder.key, keys))
        for row in session.execute(query.with_for_update()):
            group = keys[row.key]
            if row.state == "planned":
                found[group] = (row.id, pending.pop(group))
            else:
                pending[group] += timedelta(days=1)
    return found


def _kind_of(entries: list[_Planned]) -> str:
    """A digest is known by the latest stage of the fees in it (fee, lapse, restore)."""
    kinds = {p.event.event.kind for p in entries}
    return max(kinds, key=KIND_STAGE.__getitem__) if len(kinds) > 1 else kinds.pop()


def _mark_kinds(session: Session, found: dict[tuple, tuple[int, date]], planned: dict[tuple, list[_Planned]]) -> None:
    """A digest that now also carries a later stage (a lapse notice joining fee reminders) is known by it."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for group, (message_id, _day) in found.items():
        by_kind[_kind_of(planned[group])].append(message_id)
    for kind, ids in by_kind.items():
        earlier = [k for k, stage in KIND_STAGE.items() if stage < KIND_STAGE[kind]]
        if earlier:
            session.execute(sa.update(Reminder.__table__).where(among(session, Reminder.__table__.c.id, ids),
                                                                Reminder.__table__.c.kind.in_(earlier))
                            .values(kind=kind))


def _item_rows(found: dict[tuple, tuple[int, date]], planned: dict[tuple, list[_Planned]],
               now: datetime, restoration_rate: Decimal) -> list[dict]:
    rows, quoted = [], {}
    for group, entries in planned.items():
        if group not in found:
            continue
        message_id, day = found[group]
        for p in entries:
            kind, key = p.event.event.kind, (p.row.patent_id, day, p.event.event.kind)
            if key not in quoted:  # one quote per fee, day and kind, whatever the recipients
                terms = payment_terms(p.fee, day, kind, restoration_rate)
                quoted[key] = terms, yuan(p.row.full_fee * terms.rate)
            terms, late_fee = quoted[key]
            row = p.row
            rows.append({
                "reminder_id": message_id, "patent_id": row.patent_id, "fee_year": row.fee_year,
                "tier": p.event.event.label, "channel": p.recipient.channel, "recipient": p.recipient.address,
                "kind": kind, "state": "planned", "due_date": row.due_date, "grace_end": row.grace_end,
                "fee": row.fee, "full_fee": row.full_fee, "late_fee": late_fee, "late_fee_rate": terms.rate,
                "pay_by": terms.pay_by, "next_rate": terms.next_rate, "created_at": now})
    return rows


def _existing_items(session: Session, patent_ids: list[int], tiers: set[str]) -> set[tuple]:
    """Item keys already planned for these patents and tiers (the unique index serves the lookup)."""
    if not tiers:
        return set()
    query = sa.select(*(getattr(ReminderItem, c) for c in ITEM_KEY)).where(
        among(session, ReminderItem.patent_id, patent_ids), among(session, ReminderItem.tier, tiers))
    return {tuple(row) for row in session.execute(query)}


@dataclass(frozen=True)
class _Context:
    """What every chunk of one planning run shares."""

    settings: ReminderSettings
    on: date
    now: datetime
    result: PlanResult
    keep_lines: bool
    dry_run: bool  # the caller rolls back: alerts are only announced ("would alert")
    restoration: RestorationRule  # Rule 6 ¶2 costs: the row of the rule set in use


class _Chunk:
    """Planning one chunk of due rows: the decisions, then the inserts."""

    def __init__(self, session: Session, rows: list[sa.Row], context: _Context) -> None:
        self.session, self.rows, self.context = session, rows, context
        self.settings, self.on, self.now, self.result = context.settings, context.on, context.now, context.result
        enterprise_ids = {r.enterprise_id for r in rows if r.enterprise_id}
        self.instructions = instructions_for(session, enterprise_ids)
        self.contacts = contacts_for(session, enterprise_ids)
        self.names = dict(session.execute(sa.select(Enterprise.id, Enterprise.name)
                                          .where(among(session, Enterprise.id, enterprise_ids))).all())
        self.standing = standings(session, {r.patent_id: (r.mode, r.enterprise_id) for r in rows},
                                  self.instructions)
        self.wanted: dict[tuple, Recipient] = {}
        self.planned: dict[tuple, list[_Planned]] = defaultdict(list)
        self._reasons: dict[tuple, Reason | None] = {}  # (patent, kind): each row's events share the answer
        self._recipients: dict[tuple, list[Recipient]] = {}  # (enterprise, audience, channel)
        self._silent_tiers: set[str] = set()  # tiers found with no channel that can send (alerted once)

    def block_reason(self, row: sa.Row, kind: str, channel: str) -> Reason | None:
        key = (row.patent_id, kind)
        if key not in self._reasons:
            self._reasons[key] = reminder_block(self.standing[row.patent_id], kind, self.on)
        why = self._reasons[key]
        instructions = self.instructions.get(row.enterprise_id)
        if why is None and channel == "sms" and instructions is not None and instructions.no_sms:
            why = reason("no_sms")
        return why

    def recipients_of(self, enterprise_id: int | None, audience: tuple[str, ...], channel: str) -> list[Recipient]:
        key = (enterprise_id, audience, channel)
        if key not in self._recipients:
            self._recipients[key] = recipients(self.contacts.get(enterprise_id, []), self.settings.call_list,
                                               audience, channel)
        return self._recipients[key]

    def line(self, row: sa.Row, event: DueEvent, recipient: str, outcome: str) -> None:
        if not self.context.keep_lines and outcome == "planned":
            return  # the common case, a million times a year: nothing to record
        is_planned = outcome in ("planned", "already planned")
        if not is_planned:
            self.result.skipped += 1
            log.info("not planned: %s year %s %s %s: %s", row.application_number, row.fee_year,
                     event.event.label, event.channel, outcome)
        if self.context.keep_lines:
            send_at = self.settings.send_time(event.channel, self.now) if outcome == "planned" else None
            self.result.lines.append(PlanLine(self.names.get(row.enterprise_id, ""), row.application_number,
                                              row.fee_year, event.event.label, event.channel, mask_text(recipient),
                                              send_at, outcome))

    def decide(self, row: sa.Row, fee: FeeDates, event: DueEvent, existing: set[tuple]) -> int:
        """Plan one due event for everyone it addresses; returns how many items are new."""
        if not self.settings.can_send(event.channel):
            self.cannot_send(row, event)
            return 0
        why = self.block_reason(row, event.event.kind, event.channel)
        if why:
            self.line(row, event, "", f"skipped: {why}")
            return 0
        found = self.recipients_of(row.enterprise_id, event.audience, event.channel)
        if not found:
            self.no_recipient(row, event)
        new = 0
        for recipient in found:
            item = (row.patent_id, row.fee_year, event.event.label, event.channel, recipient.address)
            if item in existing:
                self.line(row, event, recipient.address, "already planned")
                continue
            group = (row.enterprise_id, event.channel, recipient.address, None if self.settings.digest else item)
            self.wanted[group] = recipient
            self.planned[group].append(_Planned(row, fee, event, recipient))
            self.line(row, event, recipient.address, "planned")
            new += 1
        return new

    def cannot_send(self, row: sa.Row, event: DueEvent) -> None:
        """An event on a channel that cannot send (not enabled): nothing planned on it (not logged per fee: a
        channel left off on purpose would fill the log). A tier none of whose channels can send would never
        remind anyone: a configuration problem, alerted once."""
        self.result.skipped += 1
        if self.context.keep_lines:
            self.result.lines.append(PlanLine(self.names.get(row.enterprise_id, ""), row.application_number,
                                              row.fee_year, event.event.label, event.channel, "", None,
                                              "skipped: " + tr("{channel} cannot send (not enabled)",
                                                               channel=label("channel", event.channel))))
        tier, channels = event.event.tier, event.event.channels
        if tier in self._silent_tiers or any(self.settings.can_send(c) for c in channels):
            return
        self._silent_tiers.add(tier)
        self.alert(f"nochannel:{tier}:{','.join(channels)}",
                   f"提醒层级 {tier} 的渠道（{'、'.join(channels)}）均未启用：该层级的提醒不会发出",
                   [f"今日应提醒：{self.names.get(row.enterprise_id, '（无企业）')} 专利{row.application_number} "
                    f"第{row.fee_year}年度年费（{label('tier', event.event.label, 'zh')}）等",
                    "请在 config.toml 启用 [sms] / [email]（或 [outbox] replace = true），或修改该层级的 channels"])

    def alert(self, key: str, headline: str, details: list[str]) -> None:
        plan_alert(self.session, self.settings, key, self.now, headline, details, dry_run=self.context.dry_run)

    def no_recipient(self, row: sa.Row, event: DueEvent) -> None:
        # A fee with nobody to tell is how patents are lost: the operator hears of it, once per tier.
        self.line(row, event, "", "skipped: " + tr("no contact of {roles} reachable by {channel}", roles="、".join(
            label("role", role) for role in event.audience), channel=label("channel", event.channel)))
        # The alert is read by an operator: roles and channel as words (专利联系人、财务), not stored values.
        audience = "、".join(label("role", role, "zh") for role in event.audience)
        channel = label("channel", event.channel, "zh")
        self.alert(f"norecipient:{row.patent_id}:{row.fee_year}:{event.event.label}:{event.channel}",
                   f"无人可提醒：{self.names.get(row.enterprise_id, '（无企业）')} 专利{row.application_number} "
                   f"第{row.fee_year}年度年费（{label('tier', event.event.label, 'zh')}，{channel}）",
                   [f"应缴日 {row.due_date}，宽限期届满 {row.grace_end}；请补充联系人（{audience}）或其同意"])

    def restoration_alert(self, row: sa.Row) -> None:
        """The operator hears of every patent that can still be restored (Rule 6 ¶2), with what it costs."""
        cost = restoration_cost(Decimal(str(row.fee)), Decimal(str(row.full_fee)), self.context.restoration)
        self.alert(f"restoration:{row.patent_id}:{row.lapsed_on}",
                   f"专利因未缴年费终止，可请求恢复：{self.names.get(row.enterprise_id, '（无企业）')} "
                   f"专利{row.application_number}",
                   [f"终止通知 {row.lapsed_on}，请求恢复截止 {row.restore_by}（细则第六条第二款）",
                    f"恢复需缴：第{row.fee_year}年度年费 {money(cost.fee)} 元 + 滞纳金 {money(cost.late_fee)} 元 + "
                    f"恢复费 {money(cost.restoration_fee)} 元 = {money(cost.total)} 元",
                    "已提醒企业联系人；缴费后请用 custody pay 记录"])

    def run(self, fee_dates: Callable[[sa.Row], FeeDates], tiers: tuple[Tier, ...],
            alert_new: bool = False) -> list[tuple[int, date | None]]:
        """Plan the chunk with these tiers; returns (patent id, next firing day) for each row."""
        settings, decided, updates = self.settings, [], []
        for row in self.rows:
            fee = fee_dates(row)
            events, nxt = due_and_next(fee, tiers, self.on, settings.lapse_notice_days)
            decided.append((row, fee, events))
            updates.append((row.patent_id, nxt))
        labels = {e.event.label for _, _, events in decided for e in events}
        existing = _existing_items(self.session, [r.patent_id for r in self.rows], labels)
        for row, fee, events in decided:
            new = sum(self.decide(row, fee, event, existing) for event in events)
            if new and alert_new:
                self.restoration_alert(row)
        self.store()
        return updates

    def store(self) -> None:
        found = _messages_for(self.session, self.wanted, self.planned, self.now, self.settings)
        _mark_kinds(self.session, found, self.planned)
        items = _item_rows(found, self.planned, self.now, self.context.restoration.late_fee_rate)
        # Every item here was checked new above, and planners take turns (take_turn): no message is left empty.
        insert_ignore(self.session, ReminderItem.__table__, items, ITEM_KEY)
        self.result.items += len(items)
        self.result.messages += len({message_id for message_id, _ in found.values()})


def _fee_dates(row: sa.Row) -> FeeDates:
    return FeeDates(row.due_date, row.grace_end, parse_rises(row.rises))


def _restoration_dates(row: sa.Row) -> FeeDates:
    return FeeDates(row.due_date, row.grace_end, parse_rises(row.rises), row.lapsed_on, row.restore_by)


def _restorable(session: Session, on: date) -> list[sa.Row]:
    """Patents whose termination notice for non-payment is on record and still restorable on `on`, with the
    unpaid fee to restore (left out: no patent_due row, i.e. fee facts incomplete, which the status effects
    already flag for the operator)."""
    due, watch = PatentDue.__table__.c, PatentWatch.__table__.c
    query = (sa.select(due.patent_id, due.fee_year, due.due_date, due.grace_end, due.fee, due.full_fee, due.rises,
                       Patent.enterprise_id, Patent.mode, Patent.application_number, watch.lapsed_on,
                       watch.restore_by)
             .join(Patent, Patent.id == due.patent_id).join(PatentWatch, watch.patent_id == due.patent_id)
             .where(watch.lapsed_on.is_not(None), watch.restore_by >= on, watch.ended.is_(None),
                    # Once the fee to restore is paid (custody pay), patent_due moves on to the next year: stop.
                    watch.restoration_year == due.fee_year)
             .order_by(due.patent_id))
    return list(session.execute(query))


def _screen_out(session: Session, screened: Sequence[Screened], context: _Context) -> int:
    """Patents whose fee facts the fee engine refuses (the reports leave them out too): what was planned for
    them is cancelled, never sent on wrong figures, and the operator is told once per patent and problem, since
    only a corrected record brings their reminders back. Returns how many items were cancelled."""
    if not screened:
        return 0
    names = dict(session.execute(sa.select(Enterprise.id, Enterprise.name).where(
        among(session, Enterprise.id, {s.enterprise_id for s in screened if s.enterprise_id}))).all())
    cancelled = 0
    for s in screened:
        name = names.get(s.enterprise_id, "（无企业）")
        why = reason("facts_refused", why=in_every_language(s.problem))  # {"en": …, "zh": …}: shown in either
        cancelled += cancel_planned_for(session, s.patent_id, why, context.now)
        context.result.screened += 1
        if context.keep_lines:
            context.result.lines.append(PlanLine(name, s.application_number, None, "", "", "", None,
                                                 "skipped: " + tr("fee facts refused: {why}", why=s.problem)))
        digest = hashlib.sha256(str(s.problem).encode()).hexdigest()[:12]
        plan_alert(session, context.settings, f"facts:{s.patent_id}:{digest}", context.now,
                   f"年费数据有误，未安排提醒：{name} 专利{s.application_number}",
                   [str(s.problem), "报表同样不计入该专利；请核对申请号、申请日等著录项目并改正，改正后自动恢复提醒"],
                   dry_run=context.dry_run)
    return cancelled


def plan(session: Session, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar, now: datetime,
         keep_lines: bool = False, full_refresh: bool = False, dry_run: bool = False,
         unready: Mapping[str, str] = {}) -> PlanResult:  # noqa: B006 - read only
    """Refresh patent_due, cancel what must no longer go out (and reroute what no process would send), and plan
    what is due as of `now`.

    `dry_run`: the caller rolls the transaction back; operator alerts are then only announced in the log.
    `unready`: {channel: the secret this process lacks} (see outbox.stranded_reasons)."""
    with collector_paused():  # a batch job: see custody.collector
        return _plan(session, settings, rules, calendar, now, keep_lines, full_refresh, dry_run, unready)


def _plan(session: Session, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar, now: datetime,
          keep_lines: bool, full_refresh: bool, dry_run: bool, unready: Mapping[str, str]) -> PlanResult:
    take_turn(session, "plan")
    on = local_day(now)
    first_item = next_item_id(session)
    result = PlanResult(refresh=refresh_due(session, settings, rules, calendar, on, now, full_refresh))
    context = _Context(settings, on, now, result, keep_lines, dry_run, rules.restoration)
    result.cancelled = _screen_out(session, result.refresh.problems, context)
    fee_tiers = tuple(t for t in settings.tiers if t.kind != "restore")
    due = _due_rows(session, on)
    for start in range(0, len(due), CHUNK):
        rows = due[start:start + CHUNK]
        updates = _Chunk(session, rows, context).run(_fee_dates, fee_tiers)
        update_column(session, PatentDue.__table__, "patent_id", "next_fire_on", updates)
        result.due_rows += len(rows)
    restore_tiers = tuple(t for t in settings.tiers if t.kind == "restore")
    restorable = _restorable(session, on) if restore_tiers else []
    if restorable:
        _Chunk(session, restorable, context).run(_restoration_dates, restore_tiers, alert_new=True)
        result.due_rows += len(restorable)
    # After planning, so that an item left unsent by a dispatch outage gives way to the tier just planned.
    result.cancelled += sweep(session, on, now, settings, before_item=first_item)
    result.rerouted = reroute_stranded(session, settings, now, unready, dry_run)
    return result
