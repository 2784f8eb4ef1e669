"""One patent's facts as a person is shown them on a day: the one place `custody patent show` and every report
take the state, the next fee (with its reduction and when that was recorded), today's late fee and its next rise,
the grace end, the enterprise's decision, the pledge and the custody mode from.

Pure: the store gathers `PortfolioPatent`s (custody/store/reports.py), `evaluate` computes each schedule and state,
and `patent_display` the figures; `today` is always passed in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from custody.decisions import Decision, abandon_in_effect
from custody.domain import PatentFacts, PatentState, Reduction, marked
from custody.fees import Calendar, FeeInputError, Schedule, YearFee, fee_schedule, first_unpaid, patent_state, quote
from custody.i18n import tr
from custody.ruleset import RuleError, RuleSet
from custody.status_effects import WatchState, pledgees_of, status_block_reason


@dataclass(frozen=True)
class PortfolioPatent:
    """One stored patent with everything a report may show; built by custody.store.reports."""

    patent_id: int
    enterprise_code: str
    enterprise_name: str
    application_number: str
    title: str
    mode: str
    facts: PatentFacts
    legal_status: str | None = None
    legal_status_date: date | None = None
    watch: WatchState = field(default_factory=WatchState)
    decision: Decision | None = None
    payments: tuple[tuple[int, date], ...] = ()  # (patent year, paid on)
    events: tuple[tuple[str, date], ...] = ()  # (event kind, announced on)
    paid_through_inferred: bool = False  # an import inferred it from the legal status (issue 3)
    unknown_through: int | None = None  # fees after paid_through up to this year: "unknown — check"


@dataclass(frozen=True)
class Evaluated:
    patent: PortfolioPatent
    schedule: Schedule
    state: PatentState
    block: str | None  # why reminders are stopped or held (None: they flow)


def evaluate(portfolio: Iterable[PortfolioPatent], rules: RuleSet, calendar: Calendar,
             today: date) -> tuple[list[Evaluated], list[str]]:
    """Each patent with its schedule and state on `today`; patents whose facts are incomplete become notes."""
    found, notes = [], []
    for p in portfolio:
        try:
            schedule = fee_schedule(p.facts, rules, calendar)
        except (FeeInputError, RuleError) as exc:
            notes.append(tr("{number}: left out, fee facts incomplete: {why}", number=p.application_number, why=exc))
            continue
        found.append(Evaluated(p, schedule, patent_state(schedule, today),
                               status_block_reason(p.watch, p.decision, p.mode, today)))
    return found, notes


def is_tracked(e: Evaluated, today: date) -> bool:
    """A custody patent whose fees we still follow: not ended, not terminated, not abandoned by decision."""
    p = e.patent
    return (p.mode == "custody" and p.watch.ended is None and p.watch.lapsed_on is None
            and not abandon_in_effect(p.decision, today, p.watch.restored_on))


def decision_text(decision: Decision | None, year: int | None) -> str | None:
    """The enterprise's decision shown beside a fee year: what (pay, abandon, undecided), from which year, who and
    when. An abandonment covers its year and every later one; pay and undecided only the year they name."""
    if decision is None or year is None:
        return None
    if decision.choice != "abandon":
        return decision.text if decision.year == year else None
    return abandon_text(decision) if decision.year <= year else None


def abandon_text(decision: Decision) -> str:
    """An abandonment as the reports show it: who and when, the first fee year it gives up, and the day reminders
    stop (after that fee's grace end, or the day of the decision with --now)."""

    return tr("{text}; year {year} and later, reminders stop from {day}", text=decision.text, year=decision.year,
              day=decision.effective_on)


@dataclass(frozen=True)
class PatentDisplay:
    """What is shown about a patent on a day. The fee figures are None when nothing is payable (ended, lapsed,
    paid up); year, due date and grace end stay for a patent lapsed by our schedule (which fee was missed)."""

    mode: str
    state: str  # the watch's end ("expired", "invalidated", …) or the schedule's state
    year: int | None
    due_date: date | None
    grace_end: date | None
    fee: Decimal | None  # with the reduction
    late_fee_rate: Decimal | None
    late_fee: Decimal | None  # paying today
    total: Decimal | None
    next_rise_on: date | None
    next_late_fee_rate: Decimal | None
    next_late_fee: Decimal | None
    reduction: str | None  # the reduction applied to this fee ("85", "70", "open_licence"), None for full fee
    reduction_recorded_on: date | None  # when the reduction on record was recorded (Rule 99's lead time)
    reduction_too_late: bool  # a reduction is on record but recorded too late for this fee: full fee
    decision: str | None
    pledgee: str | None
    note: str | None  # why reminders are stopped or held


def _next_rise(fee: YearFee, today: date) -> tuple[date | None, Decimal | None, Decimal | None]:
    band = next((b for b in fee.bands if b.start > today), None)
    return (marked(band.start, band.provisional), band.rate, band.late_fee) if band else (None, None, None)


REDUCTION_TOO_LATE = "recorded too late: full fee"
# A fee that fell due while the patent was terminated, due again after its restoration (fees.back_fee_dates).
BACK_FEE_CHECK = "due with the restoration — check"


def reduction_refile_text(day: date) -> str:
    """The reduction on record is the previous owner's (a confirmed transfer): the full fee until re-filed."""
    return f"to re-file since {day.isoformat()}: full fee"


def reduction_text(fee: YearFee | None) -> str | None:
    if fee is None:
        return None
    if fee.reduction_refile_on is not None:
        return reduction_refile_text(fee.reduction_refile_on)
    return REDUCTION_TOO_LATE if fee.reduction_too_late and fee.reduction is None else fee.reduction


def reduction_recorded_on(facts: PatentFacts) -> date | None:
    # The recording date only means something beside a reduction on record.
    return facts.reduction_recorded_on if facts.reduction != Reduction.NONE else None


def patent_display(e: Evaluated, today: date) -> PatentDisplay:
    p, unpaid = e.patent, first_unpaid(e.schedule)
    ended = p.watch.ended is not None or p.watch.lapsed_on is not None
    fee = None if ended else unpaid
    payable = fee is not None and e.state in (PatentState.IN_FORCE, PatentState.IN_GRACE)
    q = quote(e.schedule, today, fee.year) if payable and fee is not None else None
    # Only a fee in its grace period has a late fee that rises (Rule 115); before the due date nothing is late.
    rising = q is not None and e.state == PatentState.IN_GRACE
    rise = _next_rise(fee, today) if fee is not None and rising else (None, None, None)
    return PatentDisplay(
        mode=p.mode, state=p.watch.ended or e.state.value, year=fee.year if fee else None,
        # Marked where the year's holiday schedule is not published yet: every view shows the mark.
        due_date=marked(fee.due_date, fee.due_date_provisional) if fee else None,
        grace_end=marked(fee.grace_end, fee.grace_end_provisional) if fee else None,
        fee=q.fee if q else None, late_fee_rate=q.late_fee_rate if q else None, late_fee=q.late_fee if q else None,
        total=q.total if q else None, next_rise_on=rise[0], next_late_fee_rate=rise[1], next_late_fee=rise[2],
        reduction=reduction_text(fee), reduction_recorded_on=reduction_recorded_on(p.facts),
        reduction_too_late=bool(fee and fee.reduction_too_late),
        decision=decision_text(p.decision, unpaid.year if unpaid else None),
        pledgee=", ".join(pledgees_of(p.watch)) or None,
        note=e.block if p.mode == "custody" else None)
