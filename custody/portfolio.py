"""The next annual fee of a whole portfolio at once: the vectorised twin of `fees.next_due` and `patent_state`.

One call answers "what is due, when, and for how much" for every row of a DataFrame, with numpy arithmetic
instead of a `Schedule` per patent. It must agree with the scalar engine row by row (tests/test_portfolio.py
draws thousands of random patents and compares every column), so it follows `custody.fees` step by step:
the same rule rows picked by the same dates, the same rounding, the same readings from `RuleSettings`.

Days are int64 counts since 1970-01-01 (numpy's datetime64[D]); amounts are int64 fen until the output,
so rounding is exact. Pure: no clock, no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import pandas as pd

from custody.domain import PatentState, PatentType, Reduction
from custody.explained import Text, joined, tx, word
from custody.fees import LAST_FILING_DATE, MAX_TERM_EXTENSION_DAYS, Calendar, FeeInputError
from custody.ruleset import RuleError, RuleSet

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
TYPES = tuple(PatentType)
REDUCTIONS = tuple(Reduction)
STATES = (PatentState.IN_FORCE, PatentState.IN_GRACE, PatentState.LAPSED, PatentState.EXPIRED)
# Shares and rates become integers over SCALE so that fen * share rounds exactly like yuan() does.
SCALE = 10**6
DAY_OFFSET = 2**23  # keeps day numbers positive inside the composite keys of `_in_force`
KEY_SPAN = 2**24
NAT_DAYS = np.iinfo(np.int64).min  # numpy's NaT as an int64
OUTPUT_COLUMNS = ("state", "year", "anniversary", "due_date", "full_fee", "fee", "late_fee", "total", "grace_end",
                  "provisional")


class TableCalendar(Calendar, Protocol):
    def working_day_table(self, start: date, end: date) -> np.ndarray: ...


@dataclass(frozen=True)
class _Arrays:
    """The input columns as arrays, one element per row; missing values already defaulted."""

    type: np.ndarray  # index into TYPES
    filed: np.ndarray  # days
    grant_year: np.ndarray
    paid_through: np.ndarray
    reduction: np.ndarray  # index into REDUCTIONS
    licences: tuple[np.ndarray, np.ndarray, np.ndarray]  # (row position, first day, last day or NAT_DAYS)
    extension_days: np.ndarray
    last_year: np.ndarray  # the last patent year (term of protection)
    reduction_recorded: np.ndarray  # days; NaT_DAYS = unknown, taken as in time
    paid_keys: np.ndarray  # sorted row * YEAR_SPAN + year: years paid after a gap, beyond paid-through
    restored: np.ndarray  # days; the latest restoration (PatentFacts.restored_on), NAT_DAYS = none
    refile: np.ndarray  # days; the reduction waits to be re-filed since then (PatentFacts.reduction_refile_on)

    def take(self, rows: np.ndarray) -> _Arrays:
        """The arrays of these rows (positions), in this order."""
        new = np.full(len(self.type), -1, np.int64)
        new[rows] = np.arange(len(rows))
        pos, start, end = self.licences
        keep = new[pos] >= 0 if len(pos) else np.zeros(0, bool)
        keys = self.paid_keys
        moved = new[keys // YEAR_SPAN] if len(keys) else keys
        return _Arrays(self.type[rows], self.filed[rows], self.grant_year[rows], self.paid_through[rows],
                       self.reduction[rows], (new[pos][keep], start[keep], end[keep]), self.extension_days[rows],
                       self.last_year[rows], self.reduction_recorded[rows],
                       np.sort(moved[moved >= 0] * YEAR_SPAN + keys[moved >= 0] % YEAR_SPAN),
                       self.restored[rows], self.refile[rows])


YEAR_SPAN = 128  # more than any patent year


# --- Date arithmetic on day numbers ---------------------------------------------------------------------


def _lookup(values: np.ndarray, build) -> np.ndarray:
    """build(span)[values], computing `build` once over the span of values rather than once per row."""
    if not len(values):
        return values.copy()
    low = int(values.min())
    return build(np.arange(low, int(values.max()) + 1))[values - low]


def _month_start(months: np.ndarray) -> np.ndarray:
    return _lookup(months, lambda span: span.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64))


def _months_and_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    months = _lookup(days, lambda span: span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64))
    return months, days - _month_start(months) + 1


def _plus_months(months: np.ndarray, day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    # Rule 5, as relativedelta does it: no matching day means the month's last day (29 Feb -> 28 Feb).
    target = months + k
    start = _month_start(target)
    return start + np.minimum(day, _month_start(target + 1) - start) - 1


# --- Rule tables as arrays ------------------------------------------------------------------------------


def _in_force(row_keys, row_days, keys, days) -> np.ndarray:
    """Per query, the index of the row with that key and the latest start on or before the day, or -1.

    Ties go to the row listed first, as `ruleset._in_force` does (max() keeps the first maximum).
    """
    rows = np.asarray(row_keys, np.int64) * KEY_SPAN + np.asarray(row_days, np.int64) + DAY_OFFSET
    order = np.argsort(rows, kind="stable")
    ranked = rows[order]
    first = np.r_[True, ranked[1:] != ranked[:-1]]
    order, ranked = order[first], ranked[first]
    pos = np.searchsorted(ranked, keys * KEY_SPAN + days + DAY_OFFSET, side="right") - 1
    safe = np.maximum(pos, 0)
    found = (pos >= 0) & (ranked[safe] // KEY_SPAN == keys) if len(ranked) else np.zeros(len(keys), bool)
    return np.where(found, order[safe] if len(order) else 0, -1)


def _day(value: date) -> int:
    return value.toordinal() - EPOCH_ORDINAL


def _scaled(share: Decimal, what: str) -> int:
    scaled = share * SCALE
    if scaled != scaled.to_integral_value():
        raise RuleError(tx("{what} {share} has more than 6 decimals", what=what, share=share))
    return int(scaled)


def _fen(amount: Decimal, what: str) -> int:
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise RuleError(tx("{what} {amount} is not a whole number of fen", what=what, amount=amount))
    return int(fen)


def _round_fen(fen: np.ndarray, scaled_share: np.ndarray | int) -> np.ndarray:
    # yuan(): ROUND_HALF_UP to the fen; every amount here is positive, so half-up is floor(x + 1/2).
    return (2 * fen * scaled_share + SCALE) // (2 * SCALE)


def _share_lookup(rows, row_keys, keys: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, share over SCALE) of the share row with each key in force on each day."""
    index = _in_force(row_keys, [_day(r.effective_from) for r in rows], keys, days)
    shares = np.array([_scaled(r.payable_share, r.id) for r in rows] + [SCALE], np.int64)
    return index >= 0, shares[index]


def _full_fees(rules: RuleSet, types: np.ndarray, years: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Full fee in fen per row (the row in force on the due date), -1 where no row covers the year."""
    rows = [(TYPES.index(r.type) * 100 + y, _day(r.effective_from), _fen(r.fee, r.id))
            for r in rules.fees for y in range(r.first_year, r.last_year + 1)]
    keys, days, fees = (np.array(column, np.int64) for column in zip(*rows, strict=True))
    index = _in_force(keys, days, types * 100 + np.clip(years, 0, 99), due)
    return np.where(index >= 0, fees[index], -1)


def _last_years(rules: RuleSet, types: np.ndarray, filed: np.ndarray) -> np.ndarray:
    rows = rules.terms
    index = _in_force([TYPES.index(r.type) for r in rows], [_day(r.filed_from) for r in rows], types, filed)
    return np.where(index >= 0, np.array([r.years for r in rows] + [0], np.int64)[index], 0)


# --- Reading the input frame ----------------------------------------------------------------------------


def _codes(column: pd.Series, values: tuple) -> np.ndarray:
    """Each value's position in `values`, -1 when missing or unknown."""
    known = pd.Index([v.value for v in values])
    if isinstance(column.dtype, pd.CategoricalDtype):  # map the few categories, not every row
        return np.r_[known.get_indexer(column.cat.categories), -1][column.cat.codes.to_numpy()].astype(np.int64)
    return known.get_indexer(column).astype(np.int64)


def _days(patents: pd.DataFrame, name: str) -> np.ndarray:
    if name not in patents:
        return np.full(len(patents), NAT_DAYS, np.int64)
    column = patents[name]
    if not pd.api.types.is_datetime64_dtype(column.dtype):
        column = pd.to_datetime(column)
    values = column.to_numpy()
    unit, count = np.datetime_data(values.dtype)
    per_day = np.timedelta64(1, "D") // np.timedelta64(count, unit)  # type: ignore[call-overload]
    ticks = values.view(np.int64)
    # Whole days, rounding towards the past like datetime64[D] does; NaT stays NaT.
    return np.where(ticks == NAT_DAYS, NAT_DAYS, ticks // per_day)


def _integers(patents: pd.DataFrame, name: str, default: np.ndarray | int) -> np.ndarray:
    if name not in patents:
        return np.broadcast_to(np.asarray(default, np.int64), (len(patents),)).copy()
    values = pd.array(patents[name], dtype="Int64")
    return np.where(values.isna(), default, values.to_numpy(np.int64, na_value=0))


def _licence_arrays(patents: pd.DataFrame, licences: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row position, first day, last day) of every open-licence period: the `open_licence_from`/`_to` columns (one
    period a row), or `licences` (columns patent, start, end; `patent` an index label of `patents`), any number."""
    if licences is not None and len(licences):
        pos = patents.index.get_indexer(licences["patent"])
        keep = pos >= 0
        return (pos[keep].astype(np.int64), _days(licences, "start")[keep], _days(licences, "end")[keep])
    start, end = _days(patents, "open_licence_from"), _days(patents, "open_licence_to")
    pos = np.flatnonzero(start != NAT_DAYS)
    return pos.astype(np.int64), start[pos], end[pos]


def _paid_keys(patents: pd.DataFrame, paid_years: pd.DataFrame | None) -> np.ndarray:
    """Sorted keys (row * YEAR_SPAN + year) of the years with a payment on record (columns patent, year)."""
    if paid_years is None or not len(paid_years):
        return np.empty(0, np.int64)
    pos = patents.index.get_indexer(paid_years["patent"])
    years = paid_years["year"].to_numpy(np.int64)
    keep = (pos >= 0) & (years > 0) & (years < YEAR_SPAN)
    return np.unique(pos[keep] * YEAR_SPAN + years[keep])


def _portfolio(patents: pd.DataFrame, rules: RuleSet, licences: pd.DataFrame | None = None,
               paid_years: pd.DataFrame | None = None) -> tuple[_Arrays, list[Text]]:
    """The arrays, and one message per impossible row (as `fees.fact_problems` would say it)."""
    types, filed = _codes(patents["type"], TYPES), _days(patents, "filing_date")
    grant = _integers(patents, "grant_year", 0)
    reduction = np.zeros(len(patents), np.int64)
    if "reduction" in patents:
        # No reduction on record reads as none.
        reduction = np.where(patents["reduction"].isna().to_numpy(), 0, _codes(patents["reduction"], REDUCTIONS))
    ok = (types >= 0) & (filed != NAT_DAYS)
    last = np.where(ok, _last_years(rules, np.maximum(types, 0), np.where(ok, filed, 0)), 0)
    paid = _integers(patents, "paid_through", grant)
    extension = _integers(patents, "term_extension_days", 0)
    found = _Arrays(types, filed, grant, paid, reduction, _licence_arrays(patents, licences), extension, last,
                    _days(patents, "reduction_recorded_on"), _paid_keys(patents, paid_years),
                    _days(patents, "restored_on"), _days(patents, "reduction_refile_on"))
    checks = (
        (types < 0, lambda i: tx("type {value!r} is not one of {allowed}", value=patents["type"].iloc[i],
                                 allowed=", ".join(TYPES))),
        (filed == NAT_DAYS, lambda i: tx("the filing date is missing")),
        (ok & (last == 0), lambda i: tx("no term of protection known for a {type} filed on {filed}",
                                        type=word("type", TYPES[types[i]]), filed=_date_of(filed[i]))),
        (grant == 0, lambda i: tx("the grant year is unknown: give the grant year")),
        ((last > 0) & (grant != 0) & ((grant < 1) | (grant > last)),
         lambda i: tx("grant year {year} is outside patent years 1-{last}", year=grant[i], last=last[i])),
        ((last > 0) & (paid > last),
         lambda i: tx("paid-through year {paid} is past expiry (the last patent year is {last})", paid=paid[i],
                      last=last[i])),
        (paid < 0, lambda i: tx("paid-through year {paid} cannot be negative", paid=paid[i])),
        ((paid >= 0) & (paid <= last) & (grant > 0) & (grant <= last) & (paid < grant - 1),
         lambda i: tx("paid-through year {paid} is before the grant year {grant}: annual fees start with the grant "
                      "year (give {grant}, or {open} while registration is still open)", paid=paid[i],
                      grant=grant[i], open=grant[i] - 1)),
        (ok & (filed > _day(LAST_FILING_DATE)),
         lambda i: tx("filing date {filed} is after {last}, the last filing date this engine computes",
                      filed=_date_of(filed[i]), last=LAST_FILING_DATE)),
        (extension < 0, lambda i: tx("term extension days cannot be negative")),
        (extension > MAX_TERM_EXTENSION_DAYS,
         lambda i: tx("term extension of {days} days is more than {limit} (ten years): check the figure",
                      days=extension[i], limit=MAX_TERM_EXTENSION_DAYS)),
        # PL Art. 42 ¶2: term compensation extends inventions only.
        ((extension > 0) & (types >= 0) & (types != TYPES.index(PatentType.INVENTION)),
         lambda i: tx("term compensation applies to inventions only, not to a {type}",
                      type=word("type", TYPES[types[i]]))),
        (reduction < 0, lambda i: tx("reduction {value!r} is not one of {allowed}", value=patents["reduction"].iloc[i],
                                     allowed=", ".join(REDUCTIONS))),
    )
    problems = [(i, message(i)) for mask, message in checks for i in np.flatnonzero(mask)]
    return found, [tx("row {row}: {problem}", row=patents.index[i], problem=text)
                   for i, text in sorted(problems, key=lambda p: p[0])]


def _date_of(day: Any) -> date:
    return date.fromordinal(int(day) + EPOCH_ORDINAL)


def portfolio_problems(patents: pd.DataFrame, rules: RuleSet) -> list[str]:
    """Every impossible row as `row <index label>: message`; empty when `next_due_frame` can run."""
    return [str(problem) for problem in _portfolio(patents, rules)[1]]


# --- The computation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearFees:
    """Per row: one patent year's fee (`fees._year_fee`), its dates and late-fee bands. Days are day numbers."""

    year: np.ndarray
    is_grant_year: np.ndarray
    anniversary: np.ndarray
    due: np.ndarray
    full_fen: np.ndarray  # -1 where no rule row covers the year
    fee_fen: np.ndarray
    reduction: np.ndarray  # 0 full fee, 1 the 85 % or 70 % reduction on record, 2 open licence
    too_late: np.ndarray  # a reduction on record, recorded too late for this fee
    raw_ends: tuple[np.ndarray, ...]  # each band end before moving past rest days (base + k months)
    band_ends: tuple[np.ndarray, ...]  # free month first; the last one is the grace end
    back: np.ndarray | None = None  # fell due while terminated, due again after the restoration (fees.back_fee_dates)

    @property
    def grace_end(self) -> np.ndarray:
        return self.band_ends[-1]


class _WorkingDays:
    """next_working_day over a span of day numbers, from the calendar's table (Rule 5)."""

    def __init__(self, calendar: TableCalendar, low: int, high: int) -> None:
        start = date.fromordinal(low + EPOCH_ORDINAL)
        self.low = low
        self.table = calendar.working_day_table(start, date.fromordinal(high + EPOCH_ORDINAL)) - EPOCH_ORDINAL

    def next(self, days: np.ndarray) -> np.ndarray:
        return self.table[days - self.low]


def _payable_fen(rules, p: _Arrays, year, anniv, due, full_fen) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fee in fen, reduction applied: 0 none / 1 the 85-70 % one / 2 open licence, too late): the cheaper option,
    never stacked (fees._payable)."""
    windows = rules.reduction_windows
    w = _in_force([0] * len(windows), [_day(r.effective_from) for r in windows], np.zeros_like(due), due)
    span = np.array([r.years_from_grant for r in windows] + [0], np.int64)[w]
    # A reduction covers the fees of the years G .. G + window - 1 from the grant year G (财税〔2018〕37号).
    in_window = (w >= 0) & (p.grant_year <= year) & (year < p.grant_year + span)
    # A reduction waiting to be re-filed after a transfer is the old owner's: not applied (fees._is_reduced).
    on_record = in_window & (p.reduction != REDUCTIONS.index(Reduction.NONE)) & (p.refile == NAT_DAYS)
    late = on_record & _too_late(rules, p, due)
    codes = {r.value: i for i, r in enumerate(REDUCTIONS)}
    rows = rules.reduction_rates
    red_found, red_share = _share_lookup(rows, [codes.get(r.key, -2) for r in rows], p.reduction, due)
    red_ok = on_record & ~late & red_found
    day = due if rules.settings.open_licence_mapping == "due_date_in_period" else anniv
    rows = rules.open_licence
    ol_found, ol_share = _share_lookup(rows, [0] * len(rows), np.zeros_like(due), due)
    ol_ok = _licensed(p, day) & ol_found
    use_reduction = red_ok & (~ol_ok | (red_share <= ol_share))
    share = np.where(use_reduction, red_share, np.where(ol_ok, ol_share, SCALE))
    applied = np.where(use_reduction, 1, np.where(ol_ok, 2, 0))
    return _round_fen(full_fen, share), applied, late & ~use_reduction


def _licensed(p: _Arrays, day: np.ndarray) -> np.ndarray:
    """Per row: an open-licence period of the row contains its day (DatePeriod.contains)."""
    pos, start, end = p.licences
    found = np.zeros(len(day), bool)
    if len(pos):
        on = day[pos]
        found[pos[(start <= on) & ((end == NAT_DAYS) | (on <= end))]] = True
    return found


def _too_late(rules: RuleSet, p: _Arrays, due: np.ndarray) -> np.ndarray:
    """fees.is_reduction_too_late per row: recorded less than reduction_lead_months before the due date."""
    known = p.reduction_recorded != NAT_DAYS
    if not known.any():
        return known
    months, day = _months_and_days(np.where(known, p.reduction_recorded, 0))
    return known & (due < _plus_months(months, day, rules.settings.reduction_lead_months))


def _exception_due(rules: RuleSet, anniv: np.ndarray, due: np.ndarray, eligible: np.ndarray, reduced: np.ndarray):
    """(moved due date, moved?) under the first dated exception that applies (e.g. CNIPA No. 486, 2022), selected
    by the raw anniversary as fees._year_fee does (CNIPA's Q&A on No. 486)."""
    moved, new_due = np.zeros(len(due), bool), due.copy()
    for e in reversed(rules.exceptions):  # reversed, so the first listed exception wins, as exception_for does
        wanted = eligible if e.applies_to == "all" else eligible & reduced if e.applies_to == "reduced" else False
        hit = wanted & (_day(e.due_from) <= anniv) & (anniv <= _day(e.due_to))
        new_due = np.where(hit, _day(e.new_due_date), new_due)
        moved |= hit
    return new_due, moved


def first_unpaid_years(p: _Arrays) -> np.ndarray:
    """Per row, the first year from the grant year that is not paid (fees.first_unpaid): after paid-through, past
    any later year with a payment on record; above the last year when everything is paid."""
    year = np.maximum(p.paid_through + 1, p.grant_year)
    if len(p.paid_keys):
        rows = np.arange(len(year), dtype=np.int64)
        while True:
            paid = np.isin(rows * YEAR_SPAN + np.minimum(year, YEAR_SPAN - 1), p.paid_keys) & (year <= p.last_year)
            if not paid.any():
                break
            year = year + paid
    return year


def year_fees(p: _Arrays, year: np.ndarray, rules: RuleSet, calendar: TableCalendar) -> YearFees:
    """The fee of `year` (one per row) as fees._year_fee computes it: anniversary, due date moved past rest days
    (Rule 5) or by a dated exception, full and payable fee, and the late-fee band ends (Rule 115)."""
    f_months, f_day = _months_and_days(p.filed)
    anniv = _plus_months(f_months, f_day, 12 * (year - 1))
    late = rules.late_fee
    # The base of the bands is at most a few rest days after the anniversary; a month's margin covers that.
    low, high = _span(anniv, rules, late.grace_months + 1, _restorations(p, rules))
    days = _WorkingDays(calendar, low, high)
    due = days.next(anniv)
    full = _full_fees(rules, p.type, year, due)
    fee, applied, too_late = _payable_fen(rules, p, year, anniv, due, full)
    is_grant = year == p.grant_year
    base = anniv if rules.settings.grace_base == "anniversary" else due
    new_due, moved = _exception_due(rules, anniv, due, ~is_grant, applied == 1)
    due, base = np.where(moved, new_due, due), np.where(moved, new_due, base)
    back, back_due, back_base = _back_fee_dates(p, due, ~is_grant, rules, days)
    due, base = np.where(back, back_due, due), np.where(back, back_base, base)
    b_months, b_day = _months_and_days(base)
    raw = tuple(_plus_months(b_months, b_day, k) for k in range(late.free_months, late.grace_months + 1))
    return YearFees(year, is_grant, anniv, due, full, fee, applied, too_late, raw, tuple(days.next(r) for r in raw),
                    back)


def _back_fee_dates(p: _Arrays, due: np.ndarray, eligible: np.ndarray, rules: RuleSet, days: _WorkingDays):
    """(back fee?, due date, band base) per row, as fees.back_fee_dates: a fee that fell due before the latest
    restoration is due restoration_back_fee_months after it (UNCONFIRMED), moved past a rest day."""
    back = eligible & (p.restored != NAT_DAYS) & (due < p.restored)
    if not back.any():
        return back, due, due
    raw = _plus_months(*_months_and_days(np.where(back, p.restored, due)), rules.settings.restoration_back_fee_months)
    moved = np.where(back, days.next(raw), due)
    return back, moved, (raw if rules.settings.grace_base == "anniversary" else moved)


def _restorations(p: _Arrays, rules: RuleSet) -> tuple[int, ...]:
    """The latest day a back fee may be due (before moving past rest days): the last restoration + its months."""
    restored = p.restored[p.restored != NAT_DAYS]
    return (int(restored.max()) + 31 * rules.settings.restoration_back_fee_months,) if len(restored) else ()


def _span(anniv: np.ndarray, rules: RuleSet, horizon_months: int, more: tuple[int, ...] = ()) -> tuple[int, int]:
    """The day numbers the working-day table must cover: every anniversary and moved due date to its grace end."""
    starts = [_day(e.new_due_date) for e in rules.exceptions] + list(more)
    if len(anniv):
        starts += [int(anniv.min()), int(anniv.max())]
    return (min(starts), max(starts) + 31 * horizon_months) if starts else (0, 0)


def checked_arrays(patents: pd.DataFrame, rules: RuleSet, licences: pd.DataFrame | None = None,
                   paid_years: pd.DataFrame | None = None) -> _Arrays:
    """The input as arrays; raises FeeInputError listing impossible rows (see `portfolio_problems`)."""
    p, problems = _portfolio(patents, rules, licences, paid_years)
    if problems:
        more = tx(" (and {n} more)", n=len(problems) - 5) if len(problems) > 5 else None
        raise FeeInputError(joined(problems[:5], more=more))
    return p


def missing_fee_error(labels: pd.Index, p: _Arrays, fees: YearFees, wanted: np.ndarray) -> RuleError | None:
    """A RuleError naming the first wanted row whose year no fee row covers, like RuleSet.annual_fee."""
    missing = np.flatnonzero(wanted & (fees.full_fen < 0))
    if not len(missing):
        return None
    i = missing[0]
    return RuleError(tx("row {row}: {problem}", row=labels[i], problem=tx(
        "no annual fee known for year {year} of a {type} due on {due}", year=fees.year[i],
        type=word("type", TYPES[p.type[i]]), due=_date_of(fees.due[i]))))


def states_on(p: _Arrays, fees: YearFees, has_unpaid: np.ndarray, today: int) -> np.ndarray:
    """fees.patent_state per row as an index into STATES, from the first unpaid year's fees."""
    normal_expiry = _plus_months(*_months_and_days(p.filed), 12 * p.last_year)
    expired = today >= normal_expiry + p.extension_days
    in_force = ~has_unpaid | fees.is_grant_year | (today <= fees.due)
    # Rule 115: a patent that lapsed for non-payment stays lapsed; it does not "expire" later at the end of term.
    lapsed = has_unpaid & ~in_force & (today > fees.grace_end)
    return np.select([lapsed, expired, in_force], [2, 3, 0], 1)


def bands_passed(fees: YearFees, today: int) -> np.ndarray:
    """Rule 115: the late-fee band of `today` is the number of band ends already passed (the first costs nothing)."""
    return sum(((today > end) for end in fees.band_ends[:-1]), np.zeros(len(fees.due), np.int64))


def next_due_frame(patents: pd.DataFrame, on: date, rules: RuleSet, calendar: TableCalendar,
                   licences: pd.DataFrame | None = None, paid_years: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per patent on `on`: state, the first unpaid year's dates, and what paying it on `on` costs.

    `year`, `anniversary`, `due_date`, `grace_end` and `provisional` describe the first unpaid year
    (`fees.first_unpaid`) whenever there is one, whatever the state; `full_fee`, `fee`, `late_fee` and `total`
    (yuan) are what `fees.next_due` quotes, NA when nothing can be paid (paid up, lapsed or expired).
    `licences` (patent, start, end) and `paid_years` (patent, year) replace the one-period licence columns and
    add years paid after a gap. Raises FeeInputError listing impossible rows (see `portfolio_problems`).
    """
    p = checked_arrays(patents, rules, licences, paid_years)
    year = first_unpaid_years(p)
    has_unpaid = year <= p.last_year
    d = year_fees(p, year, rules, calendar)
    error = missing_fee_error(patents.index, p, d, has_unpaid)
    if error is not None:
        raise error
    today = _day(on)
    state = states_on(p, d, has_unpaid, today)
    payable = has_unpaid & (state <= 1)
    step = _scaled(rules.late_fee.step_rate, rules.late_fee.id)
    late_fen = np.where((state == 1), _round_fen(d.full_fen, step * bands_passed(d, today)), 0)
    grace_end = np.where(d.is_grant_year, NAT_DAYS, d.grace_end)
    provisional = has_unpaid & _provisional(calendar, d.due, np.where(d.is_grant_year, d.due, d.grace_end))
    return pd.DataFrame({
        "state": pd.Categorical.from_codes(state, categories=[s.value for s in STATES]),
        "year": pd.arrays.IntegerArray(d.year, ~has_unpaid),
        "anniversary": _dates(d.anniversary, has_unpaid),
        "due_date": _dates(d.due, has_unpaid),
        "full_fee": _yuan(d.full_fen, payable),
        "fee": _yuan(d.fee_fen, payable),
        "late_fee": _yuan(late_fen, payable),
        "total": _yuan(d.fee_fen + late_fen, payable),
        "grace_end": _dates(grace_end, has_unpaid & ~d.is_grant_year),
        "provisional": provisional,
    }, index=patents.index)


def _provisional(calendar: Calendar, *columns: np.ndarray) -> np.ndarray:
    """Whether any of the given days is provisional, asking the calendar once per distinct day in the span."""
    low = min(int(c.min()) for c in columns) if len(columns[0]) else 0
    high = max(int(c.max()) for c in columns) if len(columns[0]) else 0
    by_day = np.array([calendar.is_provisional(date.fromordinal(n + EPOCH_ORDINAL)) for n in range(low, high + 1)])
    return np.logical_or.reduce([by_day[c - low] for c in columns])


def _dates(days: np.ndarray, present: np.ndarray) -> np.ndarray:
    return np.where(present, days * 86400, NAT_DAYS).view("datetime64[s]")


def _yuan(fen: np.ndarray, present: np.ndarray) -> pd.arrays.FloatingArray:
    return pd.arrays.FloatingArray(fen / 100, ~present)
