"""The paid-through year of a patent still in force, inferred from its legal status on the file's date.

A patent in force on day D has paid every annual fee whose grace period ended before D: had one been missed,
the patent would have terminated from that fee's due date (Rule 115). A fee past its due date whose grace
period is still running on D may or may not be paid: it is "unknown — check", and counted as unpaid so that
reminders and reports chase it.

A whole fee schedule costs most of a millisecond, and a portfolio has as many filing dates as patents, so this
module asks the fee engine for the dates only: a fee year's due date and grace end depend on its anniversary
alone (custody.fees: the next working day, the grace period from the anniversary or the due date, Rule 115),
except where a dated exception moves the deadline of a reduced fee (CNIPA announcement No. 486): both readings
are kept per anniversary and the fee's reduction, worked out as custody.fees does, picks one. The test
tests/test_import_inference.py holds this to `fee_schedule` over thousands of random patents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from custody.domain import PatentFacts, PatentType, Reduction
from custody.fees import Calendar, add_months, anniversary, grant_year_of, late_fee_bands
from custody.ruleset import DeadlineException, RuleSet

YearDates = tuple[int, date, date]  # (patent year, due date, grace end)


@dataclass(frozen=True)
class Inference:
    paid_through: int | None  # None: the term had ended on the day, nothing to infer
    unknown: tuple[YearDates, ...] = ()  # fees in their grace period on the day: "unknown — check"
    expiry: date | None = None


@dataclass(frozen=True)
class _Deadline:
    due: date
    grace_end: date


def _anniversary(filing: date, years: int) -> date:
    """custody.fees.anniversary, the quick way for every day but 29 February (which it hands over: Rule 5)."""
    try:
        return filing.replace(year=filing.year + years)
    except ValueError:
        return anniversary(filing, years)


class PaidThroughInference:
    """Infers paid-through years for many patents, remembering what patents share: the term per type and filing
    date, and the deadlines per anniversary."""

    def __init__(self, rules: RuleSet, calendar: Calendar) -> None:
        self.rules, self.calendar = rules, calendar
        self._terms: dict[tuple[PatentType, date], int] = {}
        # anniversary -> (due date before any exception, deadline of a fee not reduced, of a reduced fee)
        self._deadlines: dict[date, tuple[date, _Deadline, _Deadline]] = {}
        self._settled: dict[date, date] = {}

    def __call__(self, facts: PatentFacts, as_of: date) -> Inference:
        grant_year, _ = grant_year_of(facts, self.rules)
        last = self.term_years(facts.type, facts.filing_date)
        expiry = anniversary(facts.filing_date, last) + timedelta(days=facts.term_extension_days)
        if as_of >= expiry:
            return Inference(None, (), expiry)
        paid, unknown, run = grant_year, [], True
        filing = facts.filing_date
        # Years whose anniversary is before the settled day have had their grace period end: paid, no need to
        # work out their deadlines (most of a portfolio's years; the hypothesis test holds this to fee_schedule).
        settled = self.settled_before(as_of)
        before = settled.year - filing.year  # anniversaries before the settled day: years 1 .. before (+ 1)
        if _anniversary(filing, before) >= settled:
            before -= 1
        paid = max(paid, min(last, before + 1))
        for year in range(paid + 1, last + 1):  # the grant-year fee is paid with registration (Rule 114)
            anniv = _anniversary(filing, year - 1)
            if anniv >= as_of:
                break  # not due yet, nor any later year (a deadline is never before its anniversary)
            deadline = self.deadline(facts, year, grant_year, anniv)
            run = run and deadline.grace_end < as_of
            if run:
                paid = year
            elif deadline.due < as_of:
                unknown.append((year, deadline.due, deadline.grace_end))
        return Inference(paid, tuple(unknown), expiry)

    def settled_before(self, as_of: date) -> date:
        """A day such that the fee of every anniversary before it had its grace period end before `as_of`: the
        grace period (Rule 115) plus a month for the two moves past rest days (due date, grace end), and before
        the due dates a dated exception moves, while such a moved deadline could still be running."""
        found = self._settled.get(as_of)
        if found is None:
            margin = self.rules.late_fee.grace_months + 1
            found = add_months(as_of, -margin)
            for exception in self.rules.exceptions:
                if add_months(exception.new_due_date, margin) >= as_of:
                    found = min(found, exception.due_from - timedelta(days=31))
            self._settled[as_of] = found
        return found

    def term_years(self, patent_type: PatentType, filing_date: date) -> int:
        key = (patent_type, filing_date)
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = self.rules.term(patent_type, filing_date).years
        return found

    def deadline(self, facts: PatentFacts, year: int, grant_year: int, anniv: date) -> _Deadline:
        found = self._deadlines.get(anniv)
        if found is None:
            found = self._deadlines[anniv] = self._both_deadlines(anniv)
        due, plain, reduced = found
        if plain is reduced:
            return plain
        return reduced if self._is_reduced(facts, year, grant_year, due) else plain

    def _both_deadlines(self, anniv: date) -> tuple[date, _Deadline, _Deadline]:
        # custody.fees._year_fee: due on the next working day; the grace period runs from the anniversary or the
        # due date (rules setting grace_base), or from an exception's new due date.
        due = self.calendar.next_working_day(anniv)
        base = anniv if self.rules.settings.grace_base == "anniversary" else due
        # A dated exception is picked by the anniversary itself (CNIPA's Q&A on No. 486), as custody.fees does.
        plain = self._with_exception(due, base, self.rules.exception_for(anniv, False))
        reduced = self._with_exception(due, base, self.rules.exception_for(anniv, True))
        return due, plain, (plain if reduced == plain else reduced)

    def _with_exception(self, due: date, base: date, exception: DeadlineException | None) -> _Deadline:
        if exception is not None:
            due = base = exception.new_due_date
        return _Deadline(due, late_fee_bands(base, Decimal(0), self.rules, self.calendar)[-1].end)

    def _is_reduced(self, facts: PatentFacts, year: int, grant_year: int, due: date) -> bool:
        # custody.fees._payable: the 85/70 % reduction applies within its window from the grant year, when a
        # rate is in force on the due date (an open licence never comes with an import).
        if facts.reduction == Reduction.NONE or facts.open_licences:
            return False
        window = self.rules.reduction_window(due)
        return (window is not None and grant_year <= year < grant_year + window.years_from_grant
                and self.rules.reduction_share(facts.reduction.value, due) is not None)
