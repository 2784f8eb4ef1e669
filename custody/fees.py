"""The annual-fee engine: every fee of one patent from its grant year to expiry, and what it means on a date.

Pure functions over `PatentFacts`, a `RuleSet` and a working-day calendar; nothing reads the clock.
Every figure carries the rule rows that produced it (`citations`), so an operator can answer "why this amount".
"""
from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from dateutil.relativedelta import relativedelta

from custody.appno import InvalidApplicationNumber, filing_date_problem, parse_application_number
from custody.domain import Citation, PatentFacts, PatentState, PatentType, Reduction, yuan
from custody.explained import Explained, Text, tx, word
from custody.ruleset import RestorationRule, RuleSet

ZERO = Decimal("0")
# The engine computes dates up to a little past this; a later filing date is a typo (9999-01-01), not a patent.
LAST_FILING_DATE = date(2100, 12, 31)
# PL Art. 42 ¶2-3: compensation makes up for delays in granting (or approval, capped at 5 years); ten years is
# far beyond any granted so far, so anything longer is a wrong figure, not a patent.
MAX_TERM_EXTENSION_DAYS = 3653
REQUIRED_GRANT_YEAR_MSGID = ('the grant year is required (rules.grant_year_inference = "require"): it is not '
                             "inferred from the grant announcement date")
REQUIRED_GRANT_YEAR = REQUIRED_GRANT_YEAR_MSGID  # as the English reader sees it
UNKNOWN_GRANT_YEAR = "the grant year is unknown: give the grant year or the grant announcement date"


class Calendar(Protocol):
    def next_working_day(self, day: date) -> date: ...

    def is_provisional(self, day: date) -> bool: ...


class FeeInputError(Explained, ValueError):
    """The patent's facts cannot be right (grant before filing, paid past expiry, ...)."""


class LapsedError(Explained, ValueError):
    """A payment asked for after the grace period: the patent has terminated for non-payment."""


@dataclass(frozen=True)
class LateFeeBand:
    """Paying on a day in [start, end] costs `late_fee` on top of the fee (Rule 115)."""

    rate: Decimal
    start: date
    end: date
    late_fee: Decimal
    # An end (this band's, or the previous one's that fixes this start) lies in a provisional year.
    provisional: bool = False


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
    # Which of the two dates is provisional (`provisional` is either): a year's schedule not yet published.
    due_date_provisional: bool = False
    grace_end_provisional: bool = False
    # A reduction is on record but was recorded too late for this fee (rules.reduction_lead_months).
    reduction_too_late: bool = False
    # The day a lapse for this fee takes effect from when a dated exception moved its deadline (No. 486): its own
    # deadline, the anniversary (CNIPA's Q&A on No. 486); None = the due date.
    own_due_date: date | None = None
    # Why this fee's figures need checking by hand (a fee that fell due while the patent was terminated), or None.
    check: str | None = None
    # A reduction is on record but is the previous owner's (a confirmed transfer): full fee until re-filed.
    reduction_refile_on: date | None = None

    @property
    def lapses_from(self) -> date:
        """The day the patent terminates from if this fee is never paid (Rule 115)."""
        return self.own_due_date or self.due_date

    def band_on(self, day: date) -> LateFeeBand | None:
        return next((b for b in self.bands if b.start <= day <= b.end), None)


@dataclass(frozen=True)
class CompensationFee:
    """Term compensation (PL Art. 42 ¶2): a lump sum for the whole compensated years (CNIPA announcement No. 594),
    before the normal expiry. `fee` is what is still to pay: the 200 request fee (`request_fee`) was paid with the
    request (a request whose fee is not paid in time is deemed not filed), so once the days are known it is paid."""

    days: int
    whole_years: int
    fee: Decimal
    due_before: date
    citation: Citation
    annual_fee: Decimal = ZERO  # fee_per_year for each whole compensated year
    request_fee: Decimal = ZERO


@dataclass(frozen=True)
class Schedule:
    facts: PatentFacts
    grant_year: int
    grant_year_inferred: bool
    normal_expiry: date
    expiry_date: date
    years: tuple[YearFee, ...]
    compensation: CompensationFee | None
    # The rule set the schedule was computed under, so later figures (restoration) use the same rows.
    rules: RuleSet = field(compare=False, repr=False)
    citations: dict[str, Citation] = field(default_factory=dict, compare=False)

    def year(self, n: int) -> YearFee:
        found = next((y for y in self.years if y.year == n), None)
        if found is None:
            raise FeeInputError(tx("year {n} is outside this patent's fee years {first}-{last}", n=n,
                                   first=self.years[0].year, last=self.years[-1].year))
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


@dataclass(frozen=True)
class RestorationCost:
    """What restoring a patent lapsed for a missed fee costs (Rule 6 ¶2): the unpaid fee (with its reduction), a
    late fee on the full fee, and the restoration fee. See `restoration_cost`."""

    fee: Decimal
    late_fee: Decimal
    restoration_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.fee + self.late_fee + self.restoration_fee


@dataclass(frozen=True)
class RestorationQuote(RestorationCost):
    """The cost of restoring one patent's lapsed fee year, with the rule row behind it and the request deadline:
    within `request_months` of CNIPA's notice (Rule 6 ¶2). Built by `restoration_quote`."""

    year: int
    lapsed_on: date  # the missed due date: the termination takes effect from it (Rule 115)
    late_fee_rate: Decimal
    request_months: int
    citation: Citation
    request_by: date | None = None  # known only once the date of CNIPA's notice is


def add_months(day: date, months: int) -> date:
    """`day` plus whole months; with no matching day the period ends on that month's last day (Rule 5).

    The same result as dateutil's relativedelta, which the tests check; written out because every schedule
    does it some 150 times and relativedelta costs most of a schedule's time.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if day.day <= 28:  # every month has the day: no month length to look up (the common case, by far)
        return date(year, month, day.day)
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def anniversary(filing_date: date, years_after: int) -> date:
    # Rule 5: 29 February has its anniversary on 28 February in a common year.
    return add_months(filing_date, 12 * years_after)


def patent_year_on(filing_date: date, day: date) -> int:
    """The patent year containing `day` (year 1 starts on the filing date).

    Whole years as relativedelta counts them (the last anniversary on or before `day`, 29 February's falling on
    28 February in a common year), written out: an import infers a grant year per row, and relativedelta was
    about a third of a million-row import's time.
    """
    if day < filing_date:
        return relativedelta(day, filing_date).years + 1
    years = day.year - filing_date.year
    if anniversary(filing_date, years) > day:
        years -= 1
    return years + 1


def term_years(facts: PatentFacts, rules: RuleSet) -> int:
    return rules.term(facts.type, facts.filing_date).years


def grant_year_of(facts: PatentFacts, rules: RuleSet) -> tuple[int, bool]:
    """The grant year and whether it was inferred from the announcement date (an UNCONFIRMED reading)."""
    if facts.grant_year is not None:
        return facts.grant_year, False
    if facts.granted_on is None:
        raise FeeInputError(tx(UNKNOWN_GRANT_YEAR))
    if rules.settings.grant_year_inference == "require":
        raise FeeInputError(tx(REQUIRED_GRANT_YEAR_MSGID))
    return patent_year_on(facts.filing_date, facts.granted_on), True


def fact_problems(facts: PatentFacts, rules: RuleSet) -> list[str]:
    """Everything that makes the facts impossible, as messages (in the process language); empty when the engine
    can run."""
    return [str(text) for text in fact_texts(facts, rules)]


def fact_texts(facts: PatentFacts, rules: RuleSet) -> list[Text]:
    """`fact_problems` as messages not yet rendered (their msgid says which fact; an import shows both languages)."""
    outside = _filing_date_problem(facts, rules)
    if outside:
        return [outside]
    last = term_years(facts, rules)
    expiry = anniversary(facts.filing_date, last)
    return [*_number_problems(facts), *_grant_problems(facts, rules, last, expiry),
            *_paid_through_problems(facts, rules, last), *_extension_problems(facts)]


def _filing_date_problem(facts: PatentFacts, rules: RuleSet) -> Text | None:
    first = rules.earliest_filing_date(facts.type)
    if first is None or facts.filing_date < first:
        if first is None:
            return tx("filing date {filed}: the rule tables cover no filing date for type {type}",
                      filed=facts.filing_date, type=word("type", facts.type))
        return tx("filing date {filed} is before {first}, the earliest filing date the rule tables cover for type "
                  "{type}", filed=facts.filing_date, first=first, type=word("type", facts.type))
    if facts.filing_date > LAST_FILING_DATE:
        return tx("filing date {filed} is after {last}, the last filing date this engine computes",
                  filed=facts.filing_date, last=LAST_FILING_DATE)
    return None


def _number_problems(facts: PatentFacts) -> list[Text]:
    # ZC 0006-2003: a filing date in a later year than the number's is impossible; an earlier one is normal for
    # divisional (Rule 49) and PCT national-phase (Rule 119) applications. A number that does not parse is the
    # number parser's business, not the fee engine's.
    if facts.application_number is None:
        return []
    try:
        number = parse_application_number(facts.application_number)
    except InvalidApplicationNumber:
        return []
    problem = filing_date_problem(number, facts.filing_date)
    return [problem] if problem else []


def _grant_problems(facts: PatentFacts, rules: RuleSet, last: int, expiry: date) -> list[Text]:
    granted, year = facts.granted_on, facts.grant_year
    problems = []
    if granted is not None and granted < facts.filing_date:
        problems.append(tx("grant date {granted} is before the filing date {filed}", granted=granted,
                           filed=facts.filing_date))
    if year is not None and not 1 <= year <= last:
        problems.append(tx("grant year {year} is outside patent years 1-{last}", year=year, last=last))
    if year is None and granted is None:
        problems.append(tx(UNKNOWN_GRANT_YEAR))
    if year is None and granted is not None and rules.settings.grant_year_inference == "require":
        problems.append(tx(REQUIRED_GRANT_YEAR_MSGID))
    if year is None and granted is not None and granted >= expiry:
        # The inferred grant year would lie past the last patent year: no fee year would be left.
        problems.append(tx("grant date {granted} is on or after the expiry date {expiry}", granted=granted,
                           expiry=expiry))
    return problems


def _known_grant_year(facts: PatentFacts, rules: RuleSet) -> int | None:
    try:
        return grant_year_of(facts, rules)[0]
    except FeeInputError:
        return None


def _paid_through_problems(facts: PatentFacts, rules: RuleSet, last: int) -> list[Text]:
    paid = facts.paid_through
    if paid is None:
        return []
    if paid < 0:
        return [tx("paid-through year {paid} cannot be negative", paid=paid)]
    if paid > last:
        return [tx("paid-through year {paid} is past expiry (the last patent year is {last})", paid=paid, last=last)]
    grant = _known_grant_year(facts, rules)
    # Annual fees start with the grant year, paid at registration (Rule 114): one year below it means the
    # registration is still open; anything lower cannot be.
    if grant is not None and 1 <= grant <= last and paid < grant - 1:
        return [tx("paid-through year {paid} is before the grant year {grant}: annual fees start with the grant "
                   "year (give {grant}, or {open} while registration is still open)", paid=paid, grant=grant,
                   open=grant - 1)]
    return []


def _extension_problems(facts: PatentFacts) -> list[Text]:
    days = facts.term_extension_days
    if days < 0:
        return [tx("term extension days cannot be negative")]
    if days > MAX_TERM_EXTENSION_DAYS:
        return [tx("term extension of {days} days is more than {limit} (ten years): check the figure", days=days,
                   limit=MAX_TERM_EXTENSION_DAYS)]
    if days > 0 and facts.type != PatentType.INVENTION:
        # PL Art. 42 ¶2: term compensation extends inventions only.
        return [tx("term compensation applies to inventions only, not to a {type}", type=word("type", facts.type))]
    return []


def _is_reduced(facts: PatentFacts, rules: RuleSet, year: int, grant_year: int, due: date) -> bool:
    window = rules.reduction_window(due)
    # A reduction is the owner's who filed it (费减备案): after a transfer to another owner it waits to be re-filed.
    return (facts.reduction != Reduction.NONE and facts.reduction_refile_on is None and window is not None
            and grant_year <= year < grant_year + window.years_from_grant)


def is_reduction_too_late(facts: PatentFacts, rules: RuleSet, due: date) -> bool:
    """A reduction recorded less than `reduction_lead_months` before the due date does not cover that fee (ref §7,
    UNCONFIRMED lead time). With no recording date on file the reduction is taken as on record in time."""
    recorded = facts.reduction_recorded_on
    # Recorded after the due date is too late whatever the lead time (and never adds months to a far-future date).
    return recorded is not None and (recorded > due or due < add_months(recorded, rules.settings.reduction_lead_months))


def _has_open_licence(facts: PatentFacts, rules: RuleSet, anniv: date, due: date) -> bool:
    day = due if rules.settings.open_licence_mapping == "due_date_in_period" else anniv
    return any(period.contains(day) for period in facts.open_licences)


def _payable(facts, rules, year, grant_year, anniv, due, full) -> tuple[Decimal, str | None, Citation | None]:
    """The fee after the cheapest applicable reduction; the 85/70 % reduction and open licence never stack."""
    options = []
    if _is_reduced(facts, rules, year, grant_year, due) and not is_reduction_too_late(facts, rules, due):
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
    bands, start, start_provisional = [], base + timedelta(days=1), False
    for k in range(rule.free_months, rule.grace_months + 1):
        end = calendar.next_working_day(add_months(base, k))
        rate = rule.step_rate * (k - rule.free_months)
        # A moved date depends on every day from the raw end to the result (custody.workdays).
        end_provisional = calendar.is_provisional(add_months(base, k)) or calendar.is_provisional(end)
        bands.append(LateFeeBand(rate, start, end, yuan(full_fee * rate), start_provisional or end_provisional))
        start, start_provisional = end + timedelta(days=1), end_provisional
    return tuple(bands)


def _year_fee(facts, rules, calendar, year, grant_year) -> YearFee:
    anniv = anniversary(facts.filing_date, year - 1)
    due = calendar.next_working_day(anniv)
    row = rules.annual_fee(facts.type, year, due)
    fee, reduction, reduction_cite = _payable(facts, rules, year, grant_year, anniv, due, row.fee)
    too_late = (reduction not in ("85", "70") and _is_reduced(facts, rules, year, grant_year, due)
                and is_reduction_too_late(facts, rules, due))
    is_grant_year = year == grant_year
    citations = {"due_date": rules.cite("due.anniversary"), "full_fee": row.citation}
    if due != anniv:
        citations["due_date_moved"] = rules.cite("deadline.rest_day")
    if reduction_cite is not None:
        citations["fee"] = reduction_cite
    if too_late:
        citations["reduction_too_late"] = rules.cite("reduction.lead_time")
    base = anniv if rules.settings.grace_base == "anniversary" else due
    # CNIPA's Q&A on announcement No. 486: the deadline a dated exception names is the anniversary itself
    # (缴费期限届满日即申请日在该年的相应日), not a date already moved past a rest day.
    exception = None if is_grant_year else rules.exception_for(anniv, reduction in ("85", "70"))
    lapse_from = None
    if exception is not None:
        # A fee extended but never paid terminates from its own deadline (No. 486: 专利权自2022年应当缴纳年费期满之日
        # 起终止), which the exception's Q&A defines as the anniversary; not from the extended date.
        lapse_from = anniv
        due = base = exception.new_due_date
        citations["exception"] = exception.citation
    check = None
    back = None if is_grant_year else back_fee_dates(facts.restored_on, due, rules, calendar)
    if back is not None:
        lapse_from, (due, base) = None, back
        citations["restoration_back_fee"] = rules.cite("restoration.back_fees")
        check = (f"fell due while the patent was terminated; restored {facts.restored_on}: CNIPA asks for it with "
                 f"the restoration, the rules name no deadline or late fee of its own: quoted as due {due} "
                 f"(rules.restoration_back_fee_months), check CNIPA's notice")
    if is_grant_year:
        bands: tuple[LateFeeBand, ...] = ()
        grace_end = None
        citations["grant_year"] = rules.cite("grant_year.rule114")
    else:
        bands = late_fee_bands(base, row.fee, rules, calendar)
        grace_end = bands[-1].end
        citations["late_fee"] = rules.late_fee.citation
    paid = year in facts.paid_years or (facts.paid_through is not None and year <= facts.paid_through)
    # A moved date depends on every day from the anniversary to the result (custody.workdays).
    due_provisional = calendar.is_provisional(anniv) or calendar.is_provisional(due)
    grace_provisional = grace_end is not None and calendar.is_provisional(grace_end)
    return YearFee(year, anniv, due, yuan(row.fee), fee, reduction, bands, grace_end, is_grant_year, paid,
                   due_provisional or grace_provisional, citations, due_provisional, grace_provisional, too_late,
                   lapse_from, check, _refile_on(facts, reduction))


def _refile_on(facts: PatentFacts, applied: str | None) -> date | None:
    """The day the reduction on record began waiting to be re-filed, beside a fee charged without a reduction."""
    if facts.reduction == Reduction.NONE or applied is not None:
        return None
    return facts.reduction_refile_on


def back_fee_dates(restored_on: date | None, due: date, rules: RuleSet, calendar: Calendar) -> tuple[date, date] | None:
    """(due date, base of the late-fee bands) of a fee that fell due (`due`) while the patent was terminated,
    restored on `restored_on`; None for any other fee. CNIPA asks for such fees with the restoration; the rules
    name no deadline of their own (UNCONFIRMED): `restoration_back_fee_months` after the restoration, moved past a
    rest day, its bands counted like any fee's (rules.grace_base)."""
    if restored_on is None or due >= restored_on:
        return None
    raw = add_months(restored_on, rules.settings.restoration_back_fee_months)
    moved = calendar.next_working_day(raw)
    return moved, (raw if rules.settings.grace_base == "anniversary" else moved)


def _compensation(facts: PatentFacts, rules: RuleSet, normal_expiry: date) -> CompensationFee | None:
    if facts.term_extension_days <= 0:
        return None
    rule = rules.term_compensation
    whole = _whole_compensated_years(facts.term_extension_days, normal_expiry, rules.settings.compensation_whole_year)
    annual = yuan(rule.fee_per_year * whole)
    # Announcement No. 594: 8000 per whole compensated year; the 200 request fee went with the request, before the
    # extension was granted, so it is shown as paid and never added to what is still to pay.
    return CompensationFee(facts.term_extension_days, whole, annual,
                           normal_expiry - timedelta(days=1), rule.citation, annual, yuan(rule.request_fee))


def _whole_compensated_years(days: int, normal_expiry: date, reading: str) -> int:
    """Announcement No. 594 charges each whole compensated year (UNCONFIRMED what one is: rules setting
    compensation_whole_year): every 365 days, or every calendar year from the normal expiry."""
    if reading == "365_days":
        return days // 365
    end = normal_expiry + timedelta(days=days)
    whole = 0
    while add_months(normal_expiry, 12 * (whole + 1)) <= end:
        whole += 1
    return whole


def fee_schedule(facts: PatentFacts, rules: RuleSet, calendar: Calendar) -> Schedule:
    """Every annual fee from the grant year to the last patent year, with due dates, bands and grace ends."""
    problems = fact_texts(facts, rules)
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
                    _compensation(facts, rules, normal_expiry), rules, citations)


def _with_paid_through(facts: PatentFacts, year: int) -> PatentFacts:
    return replace(facts, paid_through=year)


def first_unpaid(schedule: Schedule) -> YearFee | None:
    return next((y for y in schedule.years if not y.paid), None)


def patent_state(schedule: Schedule, on: date) -> PatentState:
    """in_force, in_grace (a fee past due, within six months), lapsed (grace over, unpaid) or expired."""
    unpaid = first_unpaid(schedule)
    # Rule 115: a patent that lapsed for non-payment stays lapsed; it does not "expire" later at the end of term.
    if unpaid is not None and not unpaid.is_grant_year and unpaid.grace_end is not None and on > unpaid.grace_end:
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
        raise FeeInputError(tx("every annual fee up to expiry is already paid"))
    if target.grace_end is not None and pay_on > target.grace_end:
        raise LapsedError(tx("year {year} fee was due {due}; the grace period ended {grace_end}, so the patent has "
                             "lapsed (restoration may still be possible)", year=target.year, due=target.due_date,
                             grace_end=target.grace_end))
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


def restoration_quote(schedule: Schedule, year: int | None = None, notice_on: date | None = None,
                      calendar: Calendar | None = None) -> RestorationQuote:
    """What restoring a patent lapsed for the fee of `year` (the first unpaid by default) costs (Rule 6 ¶2).

    The figures are `restoration_cost`'s, from the schedule's own rule row. With the date CNIPA's notice was
    received (and a calendar), `request_by` is `request_months` later, moved past a rest day (Rule 5).
    Ref §6 example: invention year 13, no reduction: 6000 + 1500 + 1000 = 8500.
    """
    rule = schedule.rules.restoration
    target = schedule.year(year) if year is not None else first_unpaid(schedule)
    if target is None:
        raise FeeInputError(tx("every annual fee up to expiry is already paid: there is nothing to restore"))
    if target.is_grant_year:
        raise FeeInputError(tx("year {year} is the grant year: its fee is paid with registration (Rule 114), there "
                               "is no lapse to restore", year=target.year))
    request_by = None
    if notice_on is not None and calendar is not None:
        request_by = calendar.next_working_day(add_months(notice_on, rule.request_months))
    cost = restoration_cost(target.fee, target.full_fee, rule)
    return RestorationQuote(cost.fee, cost.late_fee, cost.restoration_fee, year=target.year,
                            lapsed_on=target.lapses_from, late_fee_rate=rule.late_fee_rate,
                            request_months=rule.request_months, citation=rule.citation, request_by=request_by)


def restoration_cost(fee: Decimal, full_fee: Decimal, rule: RestorationRule) -> RestorationCost:
    """Rule 6 ¶2 restoration of one fee year: `fee` as payable (it keeps its reduction), a late fee of
    `rule.late_fee_rate` (25 %) of the full, unreduced fee (Rule 115), and the restoration fee, which is never
    reduced (not in 财税〔2016〕78号's closed list). The one place these figures are computed: the calculator, the
    status effects, the reports and the reminders all come here, with the row from the rule tables."""
    return RestorationCost(fee, yuan(full_fee * rule.late_fee_rate), yuan(rule.fee))


def expected_payment(schedule: Schedule, year: int, paid_on: date, already_paid: Decimal = ZERO) -> Decimal:
    """What a payment for `year` made on `paid_on` should amount to: fee plus that day's late fee, less any earlier
    payment for the year (a top-up is charged at the band of the top-up date: GL V-9 §2.2.1.3 example)."""
    return quote(schedule, paid_on, year).total - already_paid


def amounts_owed(schedule: Schedule, payments: Iterable[tuple[int, Decimal, date]]) -> dict[int, tuple[Decimal, date]]:
    """{year: (still owed, as of)} for each year paid short: what a top-up on the year's last payment date would
    have cost (`expected_payment`: fee plus that day's late fee, less everything paid). A first payment that
    covers the fee but not its late fee is accepted by an import (Rule 115; GL V-9 §2.2.1.3: CNIPA asks for the
    rest), so the rest must stay visible. Years quoted past their grace end or outside the schedule are left out."""
    paid: dict[int, tuple[Decimal, date]] = {}
    for year, amount, paid_on in payments:
        total, last = paid.get(year, (ZERO, paid_on))
        paid[year] = (total + Decimal(amount), max(last, paid_on))
    owed = {}
    for year, (total, last) in sorted(paid.items()):
        try:
            rest = expected_payment(schedule, year, last, total)
        except (FeeInputError, LapsedError):  # outside the fee years, or paid after the grace end
            continue
        if rest > 0:
            owed[year] = (rest, last)
    return owed


def implausible_payment(schedule: Schedule, year: int, paid_on: date, today: date) -> Text | None:
    """Why a payment for `year` dated `paid_on` is more likely a typo than money paid, or None: a date after today,
    before the filing date, or earlier than rules.advance_payment_months before the year's anniversary (not for
    the grant-year fee, paid with registration whenever that is done)."""
    fee = schedule.year(year)
    earliest = add_months(fee.anniversary, -schedule.rules.settings.advance_payment_months)
    if paid_on > today:
        return tx("paid on {paid_on} is in the future (today is {today}, Asia/Shanghai)", paid_on=paid_on,
                  today=today)
    if paid_on < schedule.facts.filing_date:
        return tx("paid on {paid_on} is before the filing date {filed}", paid_on=paid_on,
                  filed=schedule.facts.filing_date)
    if not fee.is_grant_year and paid_on < earliest:
        return tx("paid on {paid_on} is too early: the year {year} fee can be paid from {earliest}, {months} months "
                  "before its anniversary {anniversary} (rules.advance_payment_months)", paid_on=paid_on, year=year,
                  earliest=earliest, months=schedule.rules.settings.advance_payment_months,
                  anniversary=fee.anniversary)
    return None
