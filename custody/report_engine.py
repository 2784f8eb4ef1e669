"""The operator's reports over a whole portfolio, chunk by chunk, with the vectorised engine: the same rows, notes
and figures as custody/reports.py and custody/report_figures.py compute patent by patent (which stay the reference,
and what tests/test_report_engine.py compares these with, field by field).

The store reads the portfolio in chunks (custody.store.portfolio_read); each chunk is screened
(custody.portfolio_screen), its figures computed (custody.portfolio_figures) and only the rows a report shows are
kept, as typed columns (custody.report_columns). Memory is bounded by the chunk and by the report's own rows.
Pure: `today` is passed in.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import cast

import numpy as np
import pandas as pd

from custody.domain import PROVISIONAL_LEGEND_EN
from custody.i18n import label, tr
from custody.portfolio import (
    NAT_DAYS,
    TableCalendar,
    YearFees,
    _fen,
    _months_and_days,
    _plus_months,
    _round_fen,
    _scaled,
    _WorkingDays,
    year_fees,
)
from custody.portfolio_figures import (
    IN_GRACE,
    LAPSED,
    Figures,
    Provisional,
    decision_texts,
    figures,
    import_flags,
    recorded_on,
    reduction_texts,
    shown,
)
from custody.portfolio_screen import screen
from custody.report_columns import Column, Days, Fen, Ints, Objects, Rows, concat, objects
from custody.reports import (
    DUE_COLUMNS,
    GRACE_COLUMNS,
    LAPSED_COLUMNS,
    STATEMENT_COLUMNS,
    Chart,
)
from custody.reports import (
    Column as Heading,
)
from custody.ruleset import RuleSet
from custody.status_effects import RESTORABLE, RESTORABLE_UNKNOWN, RestorationWindow


@dataclass(frozen=True)
class Chunk:
    """Some patents (indexed by patent id) with what the engine needs beside them, each keyed by `patent`."""

    patents: pd.DataFrame
    licences: pd.DataFrame | None = None  # patent, start, end
    paid_years: pd.DataFrame | None = None  # patent, year: payments for years after paid-through
    payments: pd.DataFrame | None = None  # patent, year, paid_on: the payments of the KPI year
    events: pd.DataFrame | None = None  # patent, kind, announced_on: lapse notices and restorations


@dataclass(frozen=True)
class TableReport:
    """A report whose body is typed columns (custody.report_columns); custody.export writes it."""

    name: str
    title: str
    columns: tuple[Heading, ...]
    rows: Rows
    notes: tuple[str, ...] = ()
    chart: Chart | None = None


@dataclass
class _Run:
    """What one report gathers over the chunks."""

    rules: RuleSet
    calendar: TableCalendar
    today: date
    provisional: Provisional = field(init=False)
    parts: list[Rows] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (application number, note)

    def __post_init__(self) -> None:
        self.provisional = Provisional(self.calendar)

    def evaluated(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Figures, Chunk]]:
        """Each chunk's accepted patents with their figures; refused ones become notes (display.evaluate)."""
        for chunk in chunks:
            frame = chunk.patents
            verdict = screen(frame, self.rules, self.calendar)
            numbers = frame["application_number"].to_numpy(object)
            self.refused += [(numbers[i], tr("{number}: left out, fee facts incomplete: {why}", number=numbers[i],
                                             why=text))
                             for i, text in verdict.problems.items()]
            # A view (copy on write): the chunk's own frame is left as it was, and nothing is copied for it.
            accepted = frame if verdict.accepted.all() else frame.iloc[np.flatnonzero(verdict.accepted)]
            accepted = accepted.assign(grant_year=verdict.grant_year[verdict.accepted])
            if len(accepted):
                yield figures(accepted, self.rules, self.calendar, self.today, chunk.licences, chunk.paid_years,
                              self.provisional), chunk

    def notes(self) -> list[str]:
        return [text for _, text in sorted(self.refused, key=lambda pair: pair[0])]


def _base(f: Figures, rows: np.ndarray) -> dict[str, Column]:
    frame = f.frame
    return {"enterprise_code": Objects(frame["enterprise_code"].to_numpy(object)[rows]),
            "enterprise": Objects(frame["enterprise_name"].to_numpy(object)[rows]),
            "application_number": Objects(frame["application_number"].to_numpy(object)[rows]),
            "title": Objects(frame["title"].to_numpy(object)[rows])}


def _picked(f: Figures, rows: np.ndarray, headings: tuple[Heading, ...], extra: dict[str, Column]) -> Rows:
    found = {**_base(f, rows), **shown(f, rows), **extra}
    return Rows({c.key: found[c.key] for c in headings}, len(rows))


def _sorted(rows: Rows, *keys: np.ndarray) -> Rows:
    """The rows ordered by the keys, the first most significant (np.lexsort takes the last as primary)."""
    return rows.take(np.lexsort(tuple(reversed(keys)))) if len(rows) else rows


def _legend(notes: list[str], rows: Rows) -> tuple[str, ...]:
    shown_mark = any(column.provisional().any() for column in rows.columns.values())
    return (*notes, tr(PROVISIONAL_LEGEND_EN)) if shown_mark else tuple(notes)


def _texts(rows: Rows, key: str) -> np.ndarray:
    return cast(Objects, rows.columns[key]).objects.astype(str)  # cast: the text columns are Objects


def _numbers(rows: Rows) -> np.ndarray:
    return _texts(rows, "application_number")


def _days_of(rows: Rows, key: str, missing: int = NAT_DAYS) -> np.ndarray:
    column = rows.columns[key]
    if not isinstance(column, Days):  # no row at all
        return np.zeros(len(rows), np.int64)
    return np.where(column.days == NAT_DAYS, missing, column.days)


# ---------------------------------------------------------------------------------------------- due, grace


def due_report(chunks: Iterable[Chunk], rules: RuleSet, calendar: TableCalendar, today: date,
               within_days: int) -> TableReport:
    """reports.due_report: unpaid fees falling due from today to `within_days` ahead, soonest first."""
    run = _Run(rules, calendar, today)
    keys = [c.key for c in DUE_COLUMNS]
    for f, _ in run.evaluated(chunks):
        left = f.unpaid.due - f.today
        rows = np.flatnonzero(f.tracked & f.has_unpaid & (left >= 0) & (left <= within_days))
        extra = {"days_left": Ints(left[rows], np.ones(len(rows), bool)),
                 "flag": import_flags(f, rows, f.unpaid.year[rows], f.unpaid.back)}
        run.parts.append(_picked(f, rows, DUE_COLUMNS, extra))
    table = concat(run.parts, keys)
    table = _sorted(table, _days_of(table, "due_date"), _numbers(table))
    return TableReport("due", tr("Fees due within {days} days of {today}", days=within_days, today=today),
                       DUE_COLUMNS, table,
                       _legend(run.notes(), table))


def grace_report(chunks: Iterable[Chunk], rules: RuleSet, calendar: TableCalendar, today: date) -> TableReport:
    """reports.grace_report: fees past due and still payable with a late fee, and when it rises."""
    run = _Run(rules, calendar, today)
    keys = [c.key for c in GRACE_COLUMNS]
    for f, _ in run.evaluated(chunks):
        rows = np.flatnonzero(f.tracked & (f.state == IN_GRACE))
        extra = {"days_left": Ints(f.unpaid.grace_end[rows] - f.today, np.ones(len(rows), bool)),
                 "flag": import_flags(f, rows, f.unpaid.year[rows], f.unpaid.back)}
        run.parts.append(_picked(f, rows, GRACE_COLUMNS, extra))
    table = concat(run.parts, keys)
    table = _sorted(table, _days_of(table, "grace_end"), _numbers(table))
    return TableReport("grace", tr("Fees in the grace period on {today}", today=today), GRACE_COLUMNS, table,
                       _legend(run.notes(), table))


# ---------------------------------------------------------------------------------------------- statement


def enterprise_statement(chunks: Iterable[Chunk], rules: RuleSet, calendar: TableCalendar, today: date, code: str,
                         name: str) -> TableReport:
    """reports.enterprise_statement: the enterprise's own patents (the chunks hold only them), custody and watch."""
    run = _Run(rules, calendar, today)
    keys = [c.key for c in STATEMENT_COLUMNS]
    for f, _ in run.evaluated(chunks):
        rows = np.flatnonzero((f.frame["enterprise_code"] == code).to_numpy())
        frame = f.frame
        status_day = frame["legal_status_date"] if "legal_status_date" in frame else pd.Series(pd.NaT,
                                                                                               index=frame.index)
        extra = {"type": Objects(frame["type"].to_numpy(object)[rows]),
                 "legal_status": Objects(frame["legal_status"].to_numpy(object)[rows]),
                 "legal_status_date": Days(_day_array(status_day)[rows], np.zeros(len(rows), bool))}
        run.parts.append(_picked(f, rows, STATEMENT_COLUMNS, extra))
    table = concat(run.parts, keys)
    table = _sorted(table, _texts(table, "mode"), _numbers(table))
    return TableReport("enterprise", tr("{name} ({code}): patent statement as of {today}", name=name, code=code,
                                        today=today),
                       STATEMENT_COLUMNS, table,
                       _legend(run.notes(), table))


def _day_array(column: pd.Series) -> np.ndarray:
    values = pd.to_datetime(column).to_numpy().astype("datetime64[D]")
    return np.where(np.isnat(values), NAT_DAYS, values.astype(np.int64))


# ---------------------------------------------------------------------------------------------- lapsed


def lapsed_report(chunks: Iterable[Chunk], rules: RuleSet, calendar: TableCalendar, today: date,
                  window: RestorationWindow) -> TableReport:
    """reports.lapsed_report: custody patents terminated for non-payment, and what restoring each costs, by when."""
    run = _Run(rules, calendar, today)
    keys = [c.key for c in LAPSED_COLUMNS]
    review: list[tuple[str, str]] = []
    for f, _ in run.evaluated(chunks):
        part, found = _lapsed_rows(f, rules, calendar, run.provisional, window)
        run.parts.append(part)
        review += found
    rows = concat(run.parts, keys)
    rows = _sorted(rows, _days_of(rows, "restore_by", np.iinfo(np.int64).max), _numbers(rows))
    restorable = cast(Objects, rows.columns["restorable"]).objects  # cast: a column of words
    unknown = [] if not (restorable == RESTORABLE_UNKNOWN).any() else [
        tr("restorable '{word}': CNIPA's termination notice is not on record; restoration stays possible until "
           "{request} months after it, and the notice is assumed to come within {notice} months of the grace end "
           "([status] assumed_notice_months): record the notice (custody status sync) or check with CNIPA",
           word=label("restorable", RESTORABLE_UNKNOWN), request=window.request_months, notice=window.notice_months)]
    notes = [*run.notes(), *(text for _, text in sorted(review)), *unknown]
    return TableReport("lapsed", tr("Patents terminated for non-payment, as of {today}", today=today),
                       LAPSED_COLUMNS, rows,
                       _legend(notes, rows))


def _lapsed_rows(f: Figures, rules: RuleSet, calendar: TableCalendar, provisional: Provisional,
                 window: RestorationWindow) -> tuple[Rows, list[tuple[str, str]]]:
    frame = f.frame
    restoration_year = pd.array(frame["restoration_year"], dtype="Int64") if "restoration_year" in frame else None
    named = ~np.asarray(restoration_year.isna()) if restoration_year is not None else np.zeros(len(frame), bool)
    year = np.where(named, restoration_year.to_numpy(np.int64, na_value=0) if restoration_year is not None else 0,
                    f.unpaid.year)
    candidates = f.custody & ~f.ended & ((f.state == LAPSED) | (f.lapsed_on != NAT_DAYS))
    candidates &= np.where(named, (year >= f.p.grant_year) & (year <= f.p.last_year), f.has_unpaid)
    rows = np.flatnonzero(candidates)
    fees = year_fees(f.p.take(rows), year[rows], rules, calendar)
    numbers = frame["application_number"].to_numpy(object)
    grant = fees.is_grant_year
    # Rule 114: the grant-year fee is paid with registration, so there is no lapse to restore: the records are off.
    review = [(numbers[i], f"{numbers[i]}: left out, a termination notice is on record but the grant-year fee of "
                          f"year {y} is unpaid on our records: check the fee records")
              for i, y in zip(rows[grant], fees.year[grant], strict=True)]
    keep = np.flatnonzero(~grant)
    rows = rows[keep]
    return _restoration_columns(f, rows, _subset(fees, keep), rules, calendar, provisional, window), review


def _subset(fees: YearFees, keep: np.ndarray) -> YearFees:
    return YearFees(fees.year[keep], fees.is_grant_year[keep], fees.anniversary[keep], fees.due[keep],
                    fees.full_fen[keep], fees.fee_fen[keep], fees.reduction[keep], fees.too_late[keep],
                    tuple(e[keep] for e in fees.raw_ends), tuple(e[keep] for e in fees.band_ends))


def _restoration_columns(f: Figures, rows: np.ndarray, fees: YearFees, rules: RuleSet, calendar: TableCalendar,
                         provisional: Provisional, window: RestorationWindow) -> Rows:
    """fees.restoration_quote and status_effects.restorability of each row's fee year (Rule 6 ¶2)."""
    rule, n = rules.restoration, len(rows)
    notice = f.lapsed_on[rows]
    has_notice = notice != NAT_DAYS
    request_by = _months_later(np.where(has_notice, notice, f.today), rule.request_months, calendar)
    request_by = np.where(has_notice, request_by, NAT_DAYS)
    late = _round_fen(fees.full_fen, _scaled(rule.late_fee_rate, rule.id))
    restoration_fee = np.full(n, _fen(rule.fee, rule.id), np.int64)
    return Rows({
        **_base(f, rows),
        "year": Ints(fees.year, np.ones(n, bool)),
        "due_date": Days(fees.due, provisional(fees.anniversary) | provisional(fees.due)),
        "grace_end": Days(fees.grace_end, provisional(fees.grace_end)),
        "notice_on": Days(notice, np.zeros(n, bool)),
        "restore_by": Days(request_by, provisional(request_by)),
        "restorable": _restorability(f, rows, fees, window),
        "fee": Fen(fees.fee_fen, np.ones(n, bool)),
        "reduction": reduction_texts(f, rows, fees.reduction, fees.too_late, np.ones(n, bool)),
        "reduction_recorded_on": recorded_on(f, rows),
        "late_fee": Fen(late, np.ones(n, bool)),
        "restoration_fee": Fen(restoration_fee, np.ones(n, bool)),
        "restoration_total": Fen(fees.fee_fen + late + restoration_fee, np.ones(n, bool)),
        "decision": decision_texts(f, rows, fees.year, np.ones(n, bool)),
    }, n)


def _months_later(days: np.ndarray, months: int, calendar: TableCalendar) -> np.ndarray:
    """next_working_day(add_months(day, months)) per day (Rule 5)."""
    if not len(days):
        return days
    raw = _plus_months(*_months_and_days(days), months)
    return _WorkingDays(calendar, int(raw.min()), int(raw.max())).next(raw)


def _restorability(f: Figures, rows: np.ndarray, fees: YearFees, window: RestorationWindow) -> Objects:
    frame = f.frame
    restore_by = _day_array(frame["restore_by"])[rows] if "restore_by" in frame else np.full(len(rows), NAT_DAYS)
    has_notice = f.lapsed_on[rows] != NAT_DAYS
    by_notice = (restore_by != NAT_DAYS) & (f.today <= restore_by)
    assumed = _plus_months(*_months_and_days(fees.grace_end), window.notice_months + window.request_months)
    text = np.where(has_notice, np.where(by_notice, RESTORABLE, "no"),
                    np.where(f.today <= assumed, RESTORABLE_UNKNOWN, "no"))
    return objects(text.tolist())


ZERO = Decimal("0")
