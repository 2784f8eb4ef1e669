"""The legal-status watch in the database: ingest a batch of records, keep each patent's watch state, record
every effect with its cause, and answer "why" (`history`).

`ingest` is all or nothing inside the caller's transaction: a batch with any unreadable record is refused before
anything is written, and the caller's session rolls back on any error. The same event twice is one event
(unique `event_key` per patent). Effects are computed by the pure custody.status_effects.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from custody.clock import SHANGHAI
from custody.decisions import Decision, decision_year, effective_on, latest_decision
from custody.explained import Explained, tx
from custody.fees import Calendar, FeeInputError, Schedule, fee_schedule
from custody.i18n import cell_label, tr
from custody.masking import redacted
from custody.models import Contact, Enterprise, Patent
from custody.models.status import FeeDecision, PatentWatch, StatusEffect, StatusEvent, StatusSync
from custody.reasons import Reason, reason
from custody.ruleset import RuleError, RuleSet
from custody.status_effects import (
    Effect,
    EventFacts,
    Outcome,
    PatentContext,
    WatchState,
    apply_event,
    event_facts,
    is_pledgee_contact,
    pledgees_of,
    status_block,
    watch_summary,
)
from custody.status_vocab import UNKNOWN, StatusBatch, StatusRecord, Vocabulary, default_vocabulary, event_key
from custody.store.patents import facts_of, patent_by_number, record_paid_through
from custody.store.pledge_alerts import cancel_pledgee_alerts
from custody.store.reminder_history import reminder_rows
from custody.store.status_replay import replayed
from custody.store.status_review import keep_unmatched

WATCH_FIELDS = tuple(WatchState.__dataclass_fields__)


class NotInCustody(Explained, ValueError):
    """A fee decision about a patent the platform only watches: it has no fees to decide."""


class SyncRefused(ValueError):
    """The batch has unreadable records: nothing was applied. `problems` lists every one."""

    def __init__(self, source: str, problems: Iterable[object]) -> None:
        self.problems = [str(p) for p in problems]
        more = tr(" (and {n} more)", n=len(self.problems) - 5) if len(self.problems) > 5 else ""
        shown = tr("; ").join(self.problems[:5]) + more
        super().__init__(tr("{source}: {count} unreadable record(s), nothing applied: {shown}",
                            source=cell_label("source", source), count=len(self.problems), shown=shown))


@dataclass
class SyncResult:
    source: str
    records: int = 0
    new_events: list[dict] = field(default_factory=list)
    duplicates: int = 0
    unknown: list[dict] = field(default_factory=list)
    unmatched: list[dict] = field(default_factory=list)
    effects: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        return tr("{source}: {records} record(s), {new} new event(s), {known} already known, {unknown} unrecognised "
                  "status(es), {unmatched} not in the portfolio, {effects} effect(s)",
                  source=cell_label("source", self.source),
                  records=self.records, new=len(self.new_events), known=self.duplicates, unknown=len(self.unknown),
                  unmatched=len(self.unmatched), effects=len(self.effects))


# ---------------------------------------------------------------------------------------------- state


def watch_state(session: Session, patent_id: int) -> WatchState:
    row = session.get(PatentWatch, patent_id)
    return WatchState() if row is None else WatchState(**{f: getattr(row, f) for f in WATCH_FIELDS})


def watch_states(session: Session, patent_ids: Iterable[int] | None = None) -> dict[int, WatchState]:
    """The watch state of each patent that has one (all when `patent_ids` is None)."""
    statement = select(PatentWatch)
    if patent_ids is not None:
        statement = statement.where(PatentWatch.patent_id.in_(list(patent_ids)))
    return {r.patent_id: WatchState(**{f: getattr(r, f) for f in WATCH_FIELDS}) for r in session.exec(statement)}


def save_watch(session: Session, patent_id: int, state: WatchState) -> None:
    row = session.get(PatentWatch, patent_id) or PatentWatch(patent_id=patent_id)
    for name, value in asdict(state).items():
        setattr(row, name, value)
    session.add(row)


def _decision(row: FeeDecision) -> Decision:
    return Decision(row.choice, row.year, row.effective_on, row.decided_by, row.decided_at, row.note)


def decisions_of(session: Session, patent_id: int) -> list[Decision]:
    statement = select(FeeDecision).where(FeeDecision.patent_id == patent_id).order_by(FeeDecision.decided_at)
    return [_decision(r) for r in session.exec(statement)]


def latest_decisions(session: Session, patent_ids: Iterable[int] | None = None) -> dict[int, Decision]:
    """The decision in force for each patent that has one (all when `patent_ids` is None)."""
    statement = select(FeeDecision)
    if patent_ids is not None:
        statement = statement.where(FeeDecision.patent_id.in_(list(patent_ids)))
    grouped: dict[int, list[Decision]] = {}
    for row in session.exec(statement):
        grouped.setdefault(row.patent_id, []).append(_decision(row))
    return {pid: latest_decision(found) for pid, found in grouped.items()}


def schedule_or_none(session: Session, patent: Patent, rules: RuleSet, calendar: Calendar) -> Schedule | None:
    """The fee schedule, or None when the patent's facts are incomplete (an effect then says so)."""
    try:
        return fee_schedule(facts_of(session, patent), rules, calendar)
    except (FeeInputError, RuleError):
        return None


def record_effects(session: Session, patent_id: int, effects: Iterable[Effect], on: date,
                   event_id: int | None = None, decision_id: int | None = None) -> list[StatusEffect]:
    rows = [StatusEffect(patent_id=patent_id, event_id=event_id, decision_id=decision_id, code=e.code,
                         message=e.message, effective_on=on) for e in effects]
    session.add_all(rows)
    return rows


# ---------------------------------------------------------------------------------------------- ingest


def ingest(session: Session, batch: StatusBatch, rules: RuleSet, calendar: Calendar, now: datetime,
           vocabulary: Vocabulary | None = None) -> SyncResult:
    """Apply every record of `batch` in date order; refuse the whole batch if any record was unreadable."""
    if batch.problems:
        raise SyncRefused(batch.source, batch.problems)
    vocabulary = vocabulary or default_vocabulary()
    result = SyncResult(batch.source, records=len(batch.records))
    for record in sorted(batch.records, key=lambda r: r.announced_on):
        patent = patent_by_number(session, record.application_number)
        if patent is None:
            result.unmatched.append({"application_number": record.application_number, "status": record.status,
                                     "location": record.location})
            keep_unmatched(session, record, batch.source, vocabulary)
            continue
        _ingest_one(session, patent, record, batch.source, vocabulary, rules, calendar, now, result)
    session.flush()
    return result


def _ingest_one(session, patent: Patent, record: StatusRecord, source: str, vocabulary: Vocabulary,
                rules: RuleSet, calendar: Calendar, now: datetime, result: SyncResult) -> None:
    today = now.astimezone(SHANGHAI).date()
    meaning = vocabulary.classify(record.status, record.detail)
    key = event_key(patent.application_number, record.announced_on, meaning.kind, record.status)
    exists = session.exec(select(StatusEvent.id).where(StatusEvent.patent_id == patent.id,
                                                       StatusEvent.event_key == key)).first()
    if exists is not None:
        result.duplicates += 1
        return
    latest = _latest_event_date(session, patent.id)
    event = StatusEvent(patent_id=patent.id, event_key=key, kind=meaning.kind, status=record.status,
                        detail=record.detail, fields=json.dumps(dict(meaning.fields), ensure_ascii=False),
                        announced_on=record.announced_on, source=source, location=record.location,
                        is_current=latest is None or record.announced_on >= latest)
    session.add(event)
    session.flush()
    facts = event_facts(meaning, record.status, record.announced_on, record.location or source)
    before = watch_state(session, patent.id)
    context = _context(session, patent, facts, rules, calendar)
    if event.is_current:
        outcome = apply_event(facts, before, context, rules, calendar, today)
    else:
        outcome = _replay(session, patent, facts, latest, before, context, vocabulary, rules, calendar, today)
    effects = [*_status_change(patent, record), *outcome.effects]
    _apply_outcome(session, patent, outcome, source)
    ended_pledges = [p for p in pledgees_of(before) if p not in pledgees_of(outcome.state)]
    if ended_pledges or (meaning.effect == "pledge_cancel" and outcome.state.pledgee is None):
        effects.extend(cancel_pledgee_alerts(session, patent, ended_pledges, pledgees_of(outcome.state),
                                             reason("pledge_cancelled", cause=facts.cause), now))
    record_effects(session, patent.id, effects, today, event_id=event.id)
    if outcome.state.ended or outcome.state.transfer_to:
        cancel_planned(session, patent, status_block(outcome.state, None, patent.mode, today), now)
    shown = {"application_number": patent.application_number, "announced_on": record.announced_on.isoformat(),
             "kind": meaning.kind, "status": record.status, "location": record.location}
    result.new_events.append(shown)
    if meaning.kind == UNKNOWN:
        result.unknown.append(shown)
    result.effects.extend({"application_number": patent.application_number, "code": e.code, "message": e.message}
                          for e in effects)


def _latest_event_date(session: Session, patent_id: int) -> date | None:
    statement = select(StatusEvent.announced_on).where(StatusEvent.patent_id == patent_id)
    return max(session.exec(statement).all(), default=None)


def _context(session: Session, patent: Patent, facts: EventFacts, rules: RuleSet,
             calendar: Calendar) -> PatentContext:
    enterprise = session.get(Enterprise, patent.enterprise_id) if patent.enterprise_id else None
    return PatentContext(patent.mode, patent.owners or "", enterprise.name if enterprise else "",
                         schedule_or_none(session, patent, rules, calendar),
                         _has_pledgee_contact(session, patent.enterprise_id, facts.fields.get("pledgee")))


def _replay(session, patent: Patent, facts: EventFacts, latest: date | None, before: WatchState,
            context: PatentContext, vocabulary: Vocabulary, rules, calendar, today) -> Outcome:
    """An announcement older than one already applied: every event again in announcement order, so the state is
    the one the latest event leaves (a restoration dated after a termination wins, whichever came in first)."""
    outcome = replayed(session, patent.id, context, vocabulary, rules, calendar, today)
    if outcome.state == before and outcome.owners is None and outcome.paid_through is None:
        note = Effect("history_only", tr("older than the latest known event ({latest}): replayed in announcement "
                                         "order, changes nothing (cause: {cause})", latest=latest, cause=facts.cause))
    else:
        note = Effect("events_replayed", tr("older than the latest known event ({latest}): every event replayed in "
                                            "announcement order: {before} → {after} (cause: {cause})", latest=latest,
                                            before=watch_summary(before), after=watch_summary(outcome.state),
                                            cause=facts.cause))
    return replace(outcome, effects=(note,))


def _has_pledgee_contact(session: Session, enterprise_id: int | None, pledgee: str | None) -> bool:
    """Whether the enterprise has a contact (role pledgee) for this pledgee: the one its alerts would go to."""
    if enterprise_id is None:
        return False
    statement = select(Contact.name).where(Contact.enterprise_id == enterprise_id, Contact.role == "pledgee")
    return any(is_pledgee_contact(name, pledgee) for name in session.exec(statement))


def _status_change(patent: Patent, record: StatusRecord) -> list[Effect]:
    """Compare with the legal status on record; the newest announcement becomes the patent's legal status."""
    if patent.legal_status_date is not None and record.announced_on < patent.legal_status_date:
        return []
    if patent.legal_status == record.status and patent.legal_status_date == record.announced_on:
        return []
    message = tr("legal status: {before} → {after}", before=_status_text(patent.legal_status, patent.legal_status_date),
                 after=_status_text(record.status, record.announced_on))
    patent.legal_status, patent.legal_status_date = record.status, record.announced_on
    return [Effect("status_changed", message)]


def _status_text(status: str | None, day: date | None) -> str:
    """A legal status with its date when one is known: never "(None)"."""
    if not status:
        return tr("(none)")
    return tr("{status} ({day})", status=status, day=day) if day else status


def _apply_outcome(session: Session, patent: Patent, outcome: Outcome, source: str) -> None:
    save_watch(session, patent.id, outcome.state)
    # The fee engine reads the restoration from the patent row (custody.fees.back_fee_dates): one value, mirrored.
    patent.restored_on = outcome.state.restored_on
    if outcome.owners is not None:
        patent.owners = outcome.owners
    if outcome.paid_through is not None:
        record_paid_through(session, patent, outcome.paid_through, f"status:{source}")
    session.add(patent)


def cancel_planned(session: Session, patent: Patent, why: Reason | None, now: datetime) -> int:
    """Cancel the patent's planned, unsent reminders at once (issue 4's seam); planning and dispatch check the
    watch again anyway, so this only makes the stop immediate. A lapse does not come here: the restoration
    reminders it starts are planned for the same patent and must stay."""
    if why is None or not sa.inspect(session.connection()).has_table("reminder_item"):
        return 0
    from custody.store.cancel import cancel_planned_for

    return cancel_planned_for(session, patent.id, why, now)


def unknown_events(session: Session, source: str, since: datetime) -> list[dict]:
    """The unrecognised statuses `source` brought in since `since`, shown like `SyncResult.unknown` (a drop-folder
    run reports per file only a summary line; the operator still gets each unknown row)."""
    statement = (select(StatusEvent, Patent.application_number).join(Patent, Patent.id == StatusEvent.patent_id)
                 .where(StatusEvent.source == source, StatusEvent.kind == UNKNOWN, StatusEvent.ingested_at >= since)
                 .order_by(StatusEvent.announced_on, StatusEvent.id))
    return [{"application_number": number, "announced_on": e.announced_on.isoformat(), "kind": e.kind,
             "status": e.status, "location": e.location} for e, number in session.exec(statement)]


def record_sync(session: Session, result: SyncResult | None, source: str, error: str | None = None) -> StatusSync:
    """One row per run, success or failure (a failure is recorded in its own transaction by the caller)."""
    # A failure's text may quote what a feed answered (its echo of our auth header): stored without secrets.
    row = StatusSync(source=redacted(source)[:300], error=redacted(error) if error is not None else None)
    if result is not None:
        row.records, row.new_events, row.duplicates = result.records, len(result.new_events), result.duplicates
        row.unknown_statuses, row.unmatched = len(result.unknown), len(result.unmatched)
    session.add(row)
    return row


# ---------------------------------------------------------------------------------------------- decisions


def decide(session: Session, patent: Patent, choice: str, year: int | None, by: str, now: datetime, today: date,
           rules: RuleSet, calendar: Calendar, note: str | None = None,
           immediately: bool = False) -> tuple[FeeDecision, list[Effect]]:
    """Record an enterprise's instruction about a fee year, and the effect it has on reminders."""
    if patent.mode == "ended":
        raise NotInCustody(tx("{number}: its custody has ended, so there is nothing to decide (importing it again "
                              "takes it back into custody)", number=patent.application_number))
    if patent.mode != "custody":
        raise NotInCustody(tx("{number} is watch-only: the platform pays no fees on it, so there is nothing to decide "
                              "(`custody patent custody {number}` takes it back into custody)",
                              number=patent.application_number))
    schedule = fee_schedule(facts_of(session, patent), rules, calendar)
    fee_year = decision_year(schedule, year)
    starts = effective_on(schedule, choice, fee_year, today, immediately)
    row = FeeDecision(patent_id=patent.id, year=fee_year, choice=choice, effective_on=starts, decided_by=by,
                      decided_at=now, note=note)
    session.add(row)
    session.flush()
    effects = [Effect(f"decision_{choice}", _decision_message(_decision(row), immediately))]
    record_effects(session, patent.id, effects, today, decision_id=row.id)
    if choice == "abandon":
        # The reminders gate decides: an abandon in force today (--now, or the grace period already over), or
        # an enterprise that asked for no reminders on patents marked to abandon. What it stops is cancelled at
        # once, not at the next planning.
        from custody.eligibility import reminder_block
        from custody.store.standing import instructions_for, standings

        instructions = instructions_for(session, [patent.enterprise_id] if patent.enterprise_id else [])
        standing = standings(session, {patent.id: (patent.mode, patent.enterprise_id)}, instructions)[patent.id]
        cancel_planned(session, patent, reminder_block(standing, "fee", today), now)
    return row, effects


def _decision_message(decision: Decision, immediately: bool) -> str:
    if decision.choice == "abandon":
        when = tr("at once (--now)") if immediately else tr("from {day}, after the grace period",
                                                              day=decision.effective_on)
        return tr("decision: {text}; reminders stop {when}", text=decision.text, when=when)
    if decision.choice == "pay":
        return tr("decision: {text}; reminders go on until the payment is recorded", text=decision.text)
    return tr("decision: {text}; any earlier decision is withdrawn", text=decision.text)


# ---------------------------------------------------------------------------------------------- history


def history(session: Session, patent: Patent, extra: Iterable[dict] = ()) -> list[dict]:
    """Everything the watch and the reminders did about `patent`, oldest first, each with its cause; `extra` rows
    (payments, imports, field changes: custody.store.directory) are ordered among them by date, order and time."""
    events = session.exec(select(StatusEvent).where(StatusEvent.patent_id == patent.id))
    rows = [*extra, *(_event_row(e) for e in events)]
    rows += [{"date": e.effective_on, "what": f"effect: {e.code}", "detail": e.message, "_at": e.recorded_at,
              "_order": 1} for e in session.exec(select(StatusEffect).where(StatusEffect.patent_id == patent.id))]
    rows += [{"date": d.decided_at.astimezone(SHANGHAI).date(), "what": f"decision: {d.choice}", "detail": d.text,
              "_at": d.decided_at, "_order": 2} for d in decisions_of(session, patent.id)]
    rows += reminder_rows(session, patent.id)
    rows.sort(key=lambda r: (r["date"], r["_order"], r["_at"]))
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]


def _event_row(event: StatusEvent) -> dict:
    where = f" ({event.location})" if event.location else ""
    late = "" if event.is_current else " [reported after a later event: replayed in announcement order]"
    return {"date": event.announced_on, "what": f"event: {event.kind}", "detail": f"{event.status}{late}",
            "source": f"{event.source}{where}", "_at": event.ingested_at, "_order": 0}
