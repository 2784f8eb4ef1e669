"""The annual-fee engine: every fee of one patent from its grant year to expiry, and what it means on a date.

Pure functions over `PatentFacts`, a `RuleSet` and a working-day calendar; nothing reads the clock.
Every figure carries the rule rows that produced it (`citations`), so an operator can answer "why this amount".
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from dateutil.relativedelta import relativedelta

from custody.domain import Citation, PatentFacts, PatentState, PatentType, Reduction, yuan
from custody.ruleset import RuleSet

ZERO = Decimal("0")


class Calendar(Protocol):
    def next_working_day(self, day: date) -> date: ...

    def is_provisional(self, day: date) -> bool: ...


class FeeInputError(ValueError):
    """The patent's facts cannot be right (grant before filing, paid past expiry, ...)."""


class LapsedError(ValueError):
    """A payment asked for after the grace period: the patent has terminated for non-payment."""


@dataclass(frozen=True)
class LateFeeBand:
    """Paying on a day in [start, end] costs `late_fee` on top of the fee (Rule 115)."""

    rate: Decimal
    start: date
    end: date
    late_fee: Decimal


@dataclass(frozen=True)
class YearFee:
    year: int
    anniversary: date
    due_date: date
    full_fee: Decimal
    fee: Decimal
    reduction: str | None
    bands: tuple[LateFeeBand, ...]
    grace_end: date | None
    is_grant_year: bool
    paid: bool
    provisional: bool
    citations: dict[str, Citation] = field(default_factory=dict, compare=False)

    def band_on(self, day: date) -> LateFeeBand | None:
        return next((b for b in self.bands if b.start <= day <= b.end), None)


@dataclass(frozen=True)
class CompensationFee:
    """Term compensation (PL Art. 42 ¶2): a lump sum for the whole compensated years, before the normal expiry."""

    days: int
    whole_years: int
    fee: Decimal
    due_before: date
    citation: Citation


@dataclass(frozen=True)
class Schedule:
    facts: PatentFacts
    grant_year: int
    grant_year_inferred: bool
    normal_expiry: date
    expiry_date: date
    years: tuple[YearFee, ...]
    compensation: CompensationFee | None
    citations: dict[str, Citation] = field(default_factory=dict, compare=False)

    def year(self, n: int) -> YearFee:
        found = next((y for y in self.years if y.year == n), None)
        if found is None:
            raise FeeInputError(f"year {n} is outside this patent's fee years "
                                f"{self.years[0].year}-{self.years[-1].year}")
        return found


@dataclass(frozen=True)
class Quote:
    pay_on: date
    year: int
    fee: Decimal
    late_fee: Decimal
    late_fee_rate: Decimal

    @property
    def total(self) -> Decimal:
        return self.fee + self.late_fee


def add_months(day: date, months: int) -> date:
    """`day` plus whole months; with no matching day the period ends on that month's last day (Rule 5).

    The same result as dateutil's relativedelta, which the tests check; written out because every schedule
    does it some 150 times and relativedelta costs most of a schedule's time.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def anniversary(filing_date: date, years_after: int) -> date:
    # Rule 5: 29 February has its anniversary on 28 February in a common year.
    return add_months(filing_date, 12 * years_after)


def patent_year_on(filing_date: date, day: date) -> int:
    """The patent year containing `day` (year 1 starts on the filing date)."""
    years = relativedelta(day, filing_date).years
    return years + 1


def term_years(facts: PatentFacts, rules: RuleSet) -> int:
    return rules.term(facts.type, facts.filing_date).years


def grant_year_of(facts: PatentFacts, rules: RuleSet) -> tuple[int, bool]:
    """The grant year and whether it was inferred from the announcement date (an UNCONFIRMED reading)."""
    if facts.grant_year is not None:
        return facts.grant_year, False
    if facts.granted_on is not None and rules.settings.grant_year_inference == "announcement_patent_year":
        return patent_year_on(facts.filing_date, facts.granted_on), True
    raise FeeInputError("the grant year is unknown: give the grant year or the grant announcement date")


def fact_problems(facts: PatentFacts, rules: RuleSet) -> list[str]:
    """Everything that makes the facts impossible, as messages; empty when the engine can run."""
    last = term_years(facts, rules)
    expiry = anniversary(facts.filing_date, last)
    problems = []
    if facts.granted_on is not None and facts.granted_on < facts.filing_date:
        problems.append(f"grant date {facts.granted_on} is before the filing date {facts.filing_date}")
    if facts.grant_year is not None and not 1 <= facts.grant_year <= last:
        problems.append(f"grant year {facts.grant_year} is outside patent years 1-{last}")
    if facts.grant_year is None and facts.granted_on is None:
        problems.append("the grant year is unknown: give the grant year or the grant announcement date")
    if facts.grant_year is None and facts.granted_on is not None and facts.granted_on >= expiry:
        # The inferred grant year would lie past the last patent year: no fee year would be left.
        problems.append(f"grant date {facts.granted_on} is on or after the expiry date {expiry}")
    if facts.paid_through is not None and facts.paid_through > last:
        problems.append(f"paid-through year {facts.paid_through} is past expiry (the last patent year is {last})")
    if facts.term_extension_days < 0:
        problems.append("term extension days cannot be negative")
    if facts.term_extension_days > 0 and facts.type != PatentType.INVENTION:
        # PL Art. 42 ¶2: term compensation extends inventions only.
        problems.append(f"term compensation applies to inventions only, not to a {facts.type}")
    return problems


def _is_reduced(facts: PatentFacts, rules: RuleSet, year: int, grant_year: int, due: date) -> bool:
    window = rules.reduction_window(due)
    return (facts.reduction != Reduction.NONE and window is not None
            and grant_year <= year < grant_year + window.years_from_grant)


def _has_open_licence(facts: PatentFacts, rules: RuleSet, anniv: date, due: date) -> bool:
    day = due if rules.settings.open_licence_mapping == "due_date_in_period" else anniv
    return any(period.contains(day) for period in facts.open_licences)


def _payable(facts, rules, year, grant_year, anniv, due, full) -> tuple[Decimal, str | None, Citation | None]:
    """The fee after the cheapest applicable reduction; the 85/70 % reduction and open licence never stack."""
    options = []
    if _is_reduced(facts, rules, year, grant_year, due):
        row = rules.reduction_share(facts.reduction.value, due)
        if row is not None:
            options.append((row.payable_share, facts.reduction.value, row.citation))
    if _has_open_licence(facts, rules, anniv, due):
        row = rules.open_licence_share(due)
        if row is not None:
            options.append((row.payable_share, "open_licence", row.citation))
    if not options:
        return yuan(full), None, None
    share, key, citation = min(options, key=lambda o: o[0])
    return yuan(full * share), key, citation


def late_fee_bands(base: date, full_fee: Decimal, rules: RuleSet, calendar: Calendar) -> tuple[LateFeeBand, ...]:
    """Rule 115: nothing in the first month after `base`, then +5 % of the full fee a month, up to 25 %.

    Each band ends on base + k months, moved to the next working day when that is a rest day (Rule 5).
    """
    rule = rules.late_fee
    bands, start = [], base + timedelta(days=1)
    for k in range(rule.free_months, rule.grace_months + 1):
        end = calendar.next_working_day(add_months(base, k))
        rate = rule.step_rate * (k - rule.free_months)
        bands.append(LateFeeBand(rate, start, end, yuan(full_fee * rate)))
        start = end + timedelta(days=1)
    return tuple(bands)


def _year_fee(facts, rules, calendar, year, grant_year) -> YearFee:
    anniv = anniversary(facts.filing_date, year - 1)
    due = calendar.next_working_day(anniv)
    row = rules.annual_fee(facts.type, year, due)
    fee, reduction, reduction_cite = _payable(facts, rules, year, grant_year, anniv, due, row.fee)
    is_grant_year = year == grant_year
    citations = {"due_date": rules.cite("due.anniversary"), "full_fee": row.citation}
    if due != anniv:
        citations["due_date_moved"] = rules.cite("deadline.rest_day")
    if reduction_cite is not None:
        citations["fee"] = reduction_cite
    base = anniv if rules.settings.grace_base == "anniversary" else due
    exception = None if is_grant_year else rules.exception_for(due, reduction in ("85", "70"))
    if exception is not None:
        due = base = exception.new_due_date
        citations["exception"] = exception.citation
    if is_grant_year:
        bands, grace_end = (), None
        citations["grant_year"] = rules.cite("grant_year.rule114")
    else:
        bands = late_fee_bands(base, row.fee, rules, calendar)
        grace_end = bands[-1].end
        citations["late_fee"] = rules.late_fee.citation
    paid = year in facts.paid_years or (facts.paid_through is not None and year <= facts.paid_through)
    provisional = any(calendar.is_provisional(d) for d in (due, grace_end or due))
    return YearFee(year, anniv, due, yuan(row.fee), fee, reduction, bands, grace_end, is_grant_year, paid,
                   provisional, citations)


def _compensation(facts: PatentFacts, rules: RuleSet, normal_expiry: date) -> CompensationFee | None:
    if facts.term_extension_days <= 0:
        return None
    rule = rules.term_compensation
    whole = facts.term_extension_days // 365
    return CompensationFee(facts.term_extension_days, whole, yuan(rule.fee_per_year * whole),
                           normal_expiry - timedelta(days=1), rule.citation)


def fee_schedule(facts: PatentFacts, rules: RuleSet, calendar: Calendar) -> Schedule:
    """Every annual fee from the grant year to the last patent year, with due dates, bands and grace ends."""
    problems = fact_problems(facts, rules)
    if problems:
        raise FeeInputError(problems[0])
    grant_year, inferred = grant_year_of(facts, rules)
    last = term_years(facts, rules)
    if facts.paid_through is None:
        # The grant-year fee is paid with registration (Rule 114), so a granted patent has paid at least that.
        facts = _with_paid_through(facts, grant_year)
    normal_expiry = anniversary(facts.filing_date, last)
    years = tuple(_year_fee(facts, rules, calendar, n, grant_year) for n in range(grant_year, last + 1))
    citations = {"expiry_date": rules.cite("term.expiry"), "term": rules.term(facts.type, facts.filing_date).citation}
    if inferred:
        citations["grant_year"] = rules.cite("grant_year.inferred")
    return Schedule(facts, grant_year, inferred, normal_expiry,
                    normal_expiry + timedelta(days=facts.term_extension_days), years,
                    _compensation(facts, rules, normal_expiry), citations)


def _with_paid_through(facts: PatentFacts, year: int) -> PatentFacts:
    return replace(facts, paid_through=year)


def first_unpaid(schedule: Schedule) -> YearFee | None:
    return next((y for y in schedule.years if not y.paid), None)


def patent_state(schedule: Schedule, on: date) -> PatentState:
    """in_force, in_grace (a fee past due, within six months), lapsed (grace over, unpaid) or expired."""
    unpaid = first_unpaid(schedule)
    # Rule 115: a patent that lapsed for non-payment stays lapsed; it does not "expire" later at the end of term.
    if unpaid is not None and not unpaid.is_grant_year and on > unpaid.grace_end:
        return PatentState.LAPSED
    if on >= schedule.expiry_date:
        return PatentState.EXPIRED
    if unpaid is None or unpaid.is_grant_year or on <= unpaid.due_date:
        return PatentState.IN_FORCE
    return PatentState.IN_GRACE


def quote(schedule: Schedule, pay_on: date, year: int | None = None) -> Quote:
    """What paying the fee of `year` (the first unpaid by default) costs on `pay_on`."""
    target = schedule.year(year) if year is not None else first_unpaid(schedule)
    if target is None:
        raise FeeInputError("every annual fee up to expiry is already paid")
    if target.grace_end is not None and pay_on > target.grace_end:
        raise LapsedError(f"year {target.year} fee was due {target.due_date}; the grace period ended "
                          f"{target.grace_end}, so the patent has lapsed (restoration may still be possible)")
    band = target.band_on(pay_on) if pay_on > target.due_date else None
    rate = band.rate if band else ZERO
    return Quote(pay_on, target.year, target.fee, band.late_fee if band else ZERO, rate)


def next_due(schedule: Schedule, on: date) -> Quote | None:
    """The first unpaid fee as it stands on `on` (with today's late fee), or None when lapsed, expired or paid up."""
    if patent_state(schedule, on) in (PatentState.LAPSED, PatentState.EXPIRED):
        return None
    unpaid = first_unpaid(schedule)
    return None if unpaid is None else quote(schedule, on, unpaid.year)


def remaining_total(schedule: Schedule, on: date) -> Decimal:
    """All still to pay until expiry if paid from `on`: unpaid fees, today's late fee, term compensation."""
    if patent_state(schedule, on) in (PatentState.LAPSED, PatentState.EXPIRED):
        return ZERO
    total = sum((y.fee for y in schedule.years if not y.paid), ZERO)
    current = next_due(schedule, on)
    if current is not None:
        total += current.late_fee
    if schedule.compensation is not None and on < schedule.normal_expiry:
        total += schedule.compensation.fee
    return total


def expected_payment(schedule: Schedule, year: int, paid_on: date, already_paid: Decimal = ZERO) -> Decimal:
    """What a payment for `year` made on `paid_on` should amount to: fee plus that day's late fee, less any earlier
    payment for the year (a top-up is charged at the band of the top-up date: GL V-9 §2.2.1.3 example)."""
    return quote(schedule, paid_on, year).total - already_paid
