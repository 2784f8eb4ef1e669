"""Which patents of a portfolio the fee engine accepts: `fees.fee_schedule`'s verdict for a whole chunk at once.

A patent whose facts are impossible (a grant year past its term, a filing date in a later year than its
application number's, ...) is left out of every report and gets no reminder. Asking `fee_schedule` patent by patent
costs about a millisecond each, most of it parsing the application number; here numpy flags every row that could
possibly be refused (a superset of what `fees.fact_problems` and the rule lookups refuse), and only those few rows
go through the scalar engine, which alone decides and words the message. Application numbers are stored in their
canonical form (custody.appno), so their year and check character are read for the whole chunk with numpy; only a
number stored in another form is parsed one by one.

Pure: no clock, no database.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from custody.appno import TYPE_BY_DIGIT, WEIGHTS, InvalidApplicationNumber, parse_application_number
from custody.domain import PatentFacts, PatentType, Reduction
from custody.explained import Explained, Text, tx
from custody.fees import (
    LAST_FILING_DATE,
    MAX_TERM_EXTENSION_DAYS,
    Calendar,
    FeeInputError,
    fee_schedule,
    grant_year_of,
)
from custody.portfolio import EPOCH_ORDINAL, NAT_DAYS, REDUCTIONS, TYPES, _codes, _days, _integers, _last_years
from custody.ruleset import RuleError, RuleSet

Problem = str | Text | Explained  # why the engine refuses a row; str() words it in the current language


@dataclass(frozen=True)
class Screen:
    """Per row: whether the engine accepts it, its grant year (inferred where the facts allow), and why not."""

    accepted: np.ndarray
    grant_year: np.ndarray  # 0 where unknown
    problems: dict[int, Problem]  # row position -> the scalar engine's message (worded when shown)


READABLE = re.compile(r"\s*(?:ZL|CN|zl|cn)?[0-9.\sXx]+")


def number_years(numbers: pd.Series) -> np.ndarray:
    """The year of each application number (ZC 0006-2003), -1 where it does not parse: custody.appno's answer,
    read with numpy from the canonical form `DDDDDDDDDDDD.C` (or the old `DDDDDDDD.C`) every stored number has."""
    values = numbers.to_numpy(object)
    lengths = np.array([len(v) if type(v) is str else 0 for v in values.tolist()], np.int64)
    years = np.full(len(values), -1, np.int64)
    canonical = np.zeros(len(values), bool)
    for length in (12, 8):
        at = np.flatnonzero(lengths == length + 2)
        ascii_ = np.array([v.isascii() for v in values[at].tolist()], bool)
        at = at[ascii_]
        if len(at):
            shaped, found = _canonical_years(values[at], length)
            canonical[at[shaped]] = True
            years[at] = found
    text = pd.Series(values, dtype=object).fillna("").astype(str)
    # Not in canonical form: parse it, unless it is plain ASCII the parser cannot read whatever it normalises (the
    # store keeps a number it could not parse as given, e.g. an internal reference).
    rest = np.flatnonzero(~canonical & (lengths > 0))
    readable = [not v.isascii() or READABLE.fullmatch(v) is not None for v in values[rest].tolist()]
    for i in rest[np.array(readable, bool)] if len(rest) else rest:
        try:
            years[i] = parse_application_number(text.iloc[i]).year
        except InvalidApplicationNumber:
            pass
    return years


def _canonical_years(numbers: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(in canonical form, the year or -1) of ASCII numbers of length + 2 characters."""
    raw = np.frombuffer("".join(numbers).encode("ascii"), np.uint8).reshape(len(numbers), length + 2)
    digits = raw[:, :length].astype(np.int64) - ord("0")
    shaped = ((digits >= 0) & (digits <= 9)).all(axis=1) & (raw[:, length] == ord(".")) & (
        ((raw[:, -1] >= ord("0")) & (raw[:, -1] <= ord("9"))) | (raw[:, -1] == ord("X")))
    remainder = (digits * np.array(WEIGHTS[:length])).sum(axis=1) % 11
    expected = np.where(remainder == 10, ord("X"), remainder + ord("0"))
    type_ok = np.isin(digits[:, 4 if length == 12 else 2], [int(d) for d in TYPE_BY_DIGIT])
    if length == 12:
        year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
        year_ok = (year >= 2003) & (year <= 2100)
    else:
        two = digits[:, 0] * 10 + digits[:, 1]
        year = np.where(two >= 85, 1900 + two, 2000 + two)
        year_ok = year <= 2003
    return shaped, np.where(shaped & (raw[:, -1] == expected) & type_ok & year_ok, year, -1)


def _year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _suspects(frame: pd.DataFrame, rules: RuleSet) -> np.ndarray:
    """Rows the scalar engine might refuse: every check of fees.fact_problems, loosened, plus a missing fee row."""
    types, filed = _codes(frame["type"], TYPES), _days(frame, "filing_date")
    grant, granted = _integers(frame, "grant_year", 0), _days(frame, "granted_on")
    paid, extension = _integers(frame, "paid_through", -10**6), _integers(frame, "term_extension_days", 0)
    number_year = number_years(frame["application_number"]) if "application_number" in frame else -1
    number_year = np.where(number_year < 0, 10**6, number_year)
    reduction = _codes(frame["reduction"], REDUCTIONS) if "reduction" in frame else np.zeros(len(frame), np.int64)
    ok = (types >= 0) & (filed != NAT_DAYS)
    earliest = np.array([_first_day(rules, t) for t in TYPES], np.int64)
    last = np.where(ok, _last_years(rules, np.maximum(types, 0), np.where(ok, filed, 0)), 0)
    suspect = ~ok | (filed < earliest[np.maximum(types, 0)]) | (filed > _ordinal(LAST_FILING_DATE)) | (last == 0)
    suspect |= np.where(ok, _year_of(np.where(ok, filed, 0)), 0) > number_year
    suspect |= (granted != NAT_DAYS) & (granted < filed)
    suspect |= (grant == 0) | (grant > last)  # unknown grant years (inferred or not) go through the engine
    known = paid != -10**6
    suspect |= known & ((paid < 0) | (paid > last) | (paid < grant - 1))
    suspect |= (extension < 0) | (extension > MAX_TERM_EXTENSION_DAYS)
    suspect |= (extension > 0) & (types != TYPES.index(PatentType.INVENTION))
    suspect |= reduction < 0
    return suspect | _fee_gaps(rules, types, filed, grant, last, ok)


def _first_day(rules: RuleSet, patent_type: PatentType) -> int:
    first = rules.earliest_filing_date(patent_type)
    return _ordinal(first) if first is not None else 2**40


def _ordinal(day: date) -> int:
    return day.toordinal() - EPOCH_ORDINAL


def _fee_gaps(rules: RuleSet, types, filed, grant, last, ok) -> np.ndarray:
    """Rows with a fee year that may fall due before any rule row covers it (RuleSet.annual_fee would refuse)."""
    first_cover = np.full((len(TYPES), 100), 2**40, np.int64)
    for row in rules.fees:
        t = TYPES.index(row.type)
        for year in range(row.first_year, min(row.last_year, 99) + 1):
            first_cover[t, year] = min(first_cover[t, year], _ordinal(row.effective_from))
    found = np.zeros(len(types), bool)
    if not len(types) or (first_cover[:, 1:int(last.max()) + 1] <= int(filed.min())).all():
        return found  # every year of every term is covered from before the earliest filing: no gap
    # A year's due date is at least its anniversary, which is at least (year - 1) * 365 days after filing. Only
    # the years some accepted row reaches, and of those only the ones some rule row starts covering after the
    # earliest filing could allow (the others flag no row).
    if not ok.any():
        return found
    earliest, present = int(filed[ok].min()), np.unique(types[ok])
    for year in range(1, min(int(last.max()), 99) + 1):
        if (first_cover[present, year] <= earliest + (year - 1) * 365 - 1).all():
            continue
        covered = first_cover[np.maximum(types, 0), year]
        wanted = ok & (grant <= year) & (year <= last)
        found |= wanted & (filed + (year - 1) * 365 - 1 < covered)
    return found


def _facts(row) -> PatentFacts:
    return PatentFacts(
        type=PatentType(row.type), filing_date=row.filing_date, grant_year=row.grant_year, granted_on=row.granted_on,
        paid_through=row.paid_through, reduction=Reduction(row.reduction),
        term_extension_days=int(row.term_extension_days), application_number=row.application_number,
        reduction_recorded_on=row.reduction_recorded_on)


def _verdict(row, rules: RuleSet, calendar: Calendar) -> tuple[Problem | None, int]:
    """(the scalar engine's message or None, the grant year it uses). An explained error is kept as it is, so
    that it can be worded in any language (a cancelled reminder stores it in both: custody.reasons)."""
    try:
        facts = _facts(row)
        fee_schedule(facts, rules, calendar)  # payments and licences never make facts impossible: left out
    except (FeeInputError, RuleError) as exc:
        return exc, 0
    except ValueError as exc:
        return str(exc), 0
    return None, grant_year_of(facts, rules)[0]


def _plain(value):
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).date()
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class _Row:
    type: str
    filing_date: date
    grant_year: int | None
    granted_on: date | None
    paid_through: int | None
    reduction: str
    term_extension_days: int
    application_number: str | None
    reduction_recorded_on: date | None


FIELDS = tuple(_Row.__dataclass_fields__)


def _rows(frame: pd.DataFrame, positions: Sequence[int] | np.ndarray) -> list[_Row]:
    picked = frame.iloc[list(positions)]
    columns = [picked[name].astype(object).tolist() if name in picked else [None] * len(picked) for name in FIELDS]
    return [_Row(*(_plain(v) for v in values)) for values in zip(*columns, strict=True)]


def screen(frame: pd.DataFrame, rules: RuleSet, calendar: Calendar) -> Screen:
    """The engine's verdict on each row of `frame` (the columns of custody.store.portfolio_read): rows numpy cannot
    clear are judged by fees.fee_schedule itself, so a refused row and its message are exactly the scalar engine's.
    """
    grant = _integers(frame, "grant_year", 0)
    suspects = np.flatnonzero(_suspects(frame, rules))
    accepted = np.ones(len(frame), bool)
    problems: dict[int, Problem] = {}
    for position, row in zip(suspects, _rows(frame, suspects), strict=True):
        if row.filing_date is None:
            problems[int(position)] = tx("the filing date is missing")
            accepted[position] = False
            continue
        message, grant_year = _verdict(row, rules, calendar)
        if message is None:
            grant[position] = grant_year
        else:
            problems[int(position)] = message
            accepted[position] = False
    return Screen(accepted, grant, problems)

