"""The forecast and the KPI figures over a whole portfolio, chunk by chunk, with the vectorised engine: the totals
custody/report_figures.py computes patent by patent (the reference; tests/test_report_engine.py compares them).

Each chunk adds to running totals (fen per enterprise and year, counts), so memory is the chunk's plus one row per
enterprise. Pure: `today` is passed in.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from custody.display import abandon_text
from custody.forecast_periods import forecast_span, span_notes
from custody.i18n import tr
from custody.portfolio import NAT_DAYS, YEAR_SPAN, TableCalendar, _Arrays, year_fees
from custody.portfolio_figures import EXPIRED, IN_GRACE, LAPSED, Figures, decision_of, has_decision
from custody.report_columns import Fen, Objects, Rows, objects
from custody.report_engine import Chunk, TableReport, _day_array, _Run
from custody.report_figures import FORECAST_ENTERPRISE, PLATFORM_TOTAL, ReminderFigures, forecast_chart, kpi_table
from custody.reports import BASE_COLUMNS, Column
from custody.ruleset import RuleSet
from custody.status_effects import RestorationWindow

ZERO = Decimal("0")


def _year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _is_paid(p: _Arrays, rows: np.ndarray, years: np.ndarray) -> np.ndarray:
    """fees.YearFee.paid: up to paid-through, or a year with a payment on record."""
    paid = years <= p.paid_through[rows]
    if len(p.paid_keys):
        paid |= np.isin(rows * YEAR_SPAN + np.clip(years, 0, YEAR_SPAN - 1), p.paid_keys)
    return paid


# ---------------------------------------------------------------------------------------------- forecast


class _Forecast:
    def __init__(self, today: date, years: int, calendar_years: bool = False) -> None:
        self.span, self.years = forecast_span(today, years, calendar_years), years
        self.today = np.int64((today - date(1970, 1, 1)).days)
        self.index: dict[tuple[str, str], int] = {}
        self.fen = np.zeros((0, years), np.int64)
        self.abandoned: list[tuple[str, str]] = []

    def rows_of(self, f: Figures, rows: np.ndarray) -> np.ndarray:
        """Each row's line of the totals (one per enterprise code and name), added as needed."""
        frame = f.frame
        codes = frame["enterprise_code"].to_numpy(object)[rows]
        names = frame["enterprise_name"].to_numpy(object)[rows]
        keys = list(zip(codes.tolist(), names.tolist(), strict=True))
        for key in dict.fromkeys(keys):
            if key not in self.index:
                self.index[key] = len(self.index)
        if len(self.index) > len(self.fen):
            self.fen = np.vstack([self.fen, np.zeros((len(self.index) - len(self.fen), self.years), np.int64)])
        return np.array([self.index[k] for k in keys], np.int64)

    def add(self, f: Figures, rules: RuleSet, calendar: TableCalendar) -> None:
        rows = np.flatnonzero(f.tracked & (f.state <= IN_GRACE))
        lines = self.rows_of(f, rows)
        choice = f.frame["d_choice"].to_numpy(object) if "d_choice" in f.frame else np.full(len(f.frame), None)
        decided = pd.array(f.frame["d_year"], dtype="Int64").to_numpy(np.int64, na_value=10**6) \
            if "d_year" in f.frame else np.full(len(f.frame), 10**6)
        abandon_from = np.where(choice == "abandon", decided, 10**6)[rows]
        hit = np.zeros(len(rows), bool)
        year = f.unpaid.year[rows].copy()
        active = np.flatnonzero(year <= f.p.last_year[rows])
        late = np.where(f.state[rows] == IN_GRACE, f.late_fen(f.band)[rows], 0)
        while len(active):
            at = rows[active]
            fees = year_fees(f.p.take(at), year[active], rules, calendar)
            # A fee past due and unpaid is in grace (lapsed patents are left out): it is paid in the first period.
            when = self.span.indexes(np.maximum(fees.due, self.today))
            wanted = ~_is_paid(f.p, at, year[active]) & (when < self.years)
            dropped = wanted & (year[active] >= abandon_from[active])
            hit[active[dropped]] = True
            counted = wanted & ~dropped
            first = year[active] == f.unpaid.year[at]
            amount = fees.fee_fen + np.where(first, late[active], 0)
            np.add.at(self.fen, (lines[active[counted]], when[counted]), amount[counted])
            year[active] += 1
            keep = (year[active] <= f.p.last_year[at]) & (self.span.indexes(fees.due) < self.years)
            active = active[keep]
        self._note(f, rows[hit])

    def _note(self, f: Figures, rows: np.ndarray) -> None:
        frame = f.frame
        for i in rows.tolist():
            number, name = frame["application_number"].iloc[i], frame["enterprise_name"].iloc[i]
            decision = decision_of(frame, i)
            assert decision is not None  # only rows whose abandonment dropped a fee come here
            self.abandoned.append((number, tr("{number} ({name}): fees left out, the enterprise abandons it: "
                                              "{decision}", number=number, name=name,
                                              decision=abandon_text(decision))))


def forecast_report(chunks: Iterable[Chunk], rules: RuleSet, calendar: TableCalendar, today: date,
                    years: int, calendar_years: bool = False) -> TableReport:
    """report_figures.forecast_report: annual fees per enterprise per period (custody.forecast_periods), and the
    platform total."""
    run, totals = _Run(rules, calendar, today), _Forecast(today, years, calendar_years)
    for f, _ in run.evaluated(chunks):
        totals.add(f, rules, calendar)
    span = totals.span
    keys = span.keys
    order = sorted(totals.index.items())
    fen = totals.fen[[i for _, i in order]] if order else np.zeros((0, years), np.int64)
    fen = np.vstack([fen, fen.sum(axis=0, keepdims=True)])
    n = len(fen)
    ones = np.ones(n, bool)
    columns = {"enterprise_code": objects([code for (code, _), _ in order] + [PLATFORM_TOTAL[0]]),
               "enterprise": objects([name for (_, name), _ in order] + [PLATFORM_TOTAL[1]]),
               **{k: Fen(fen[:, j], ones) for j, k in enumerate(keys)}, "total": Fen(fen.sum(axis=1), ones)}
    headings = (BASE_COLUMNS[0], FORECAST_ENTERPRISE,
                *(Column(k, span.heading(i), span.heading(i), "money") for i, k in enumerate(keys)),
                Column("total", "Total (CNY)", "合计(元)", "money"))
    chart = forecast_chart(keys, n - 1)
    notes = (*span_notes(span), *run.notes(),
             *(text for _, text in sorted(totals.abandoned, key=lambda pair: pair[0])))
    return TableReport("forecast", tr("Annual fees forecast {span} (CNY, with reductions)", span=span.title_span),
                       headings,
                       Rows(columns, n), notes, chart)


# ---------------------------------------------------------------------------------------------- KPI


class _Kpi:
    def __init__(self, year: int, window: RestorationWindow) -> None:
        self.year, self.window = year, window
        self.enterprises: set[str] = set()
        self.counts: dict[str, Any] = dict.fromkeys(
            ("patents_under_custody", "lapsed_restorability_unknown", "watch_only_patents", "fees_due",
             "fees_due_fen", "paid_in_grace", "paid_in_grace_fees", "lapses", "abandon_decisions", "restorations"), 0)

    def add(self, f: Figures, chunk: Chunk, rules: RuleSet, calendar: TableCalendar) -> None:
        frame, c = f.frame, self.counts
        custody = f.custody
        alive = custody & self._alive(f)
        self.enterprises |= set(frame["enterprise_code"].to_numpy(object)[alive].tolist())
        c["patents_under_custody"] += int(alive.sum())
        c["lapsed_restorability_unknown"] += int((custody & self._unknown(f)).sum())
        c["watch_only_patents"] += int((frame["mode"] == "watch").sum())
        self._fees_due(f, rules, calendar)
        self._paid_in_grace(f, chunk, rules, calendar)
        self._events(f, chunk)
        decided = np.flatnonzero(custody & has_decision(frame))
        c["abandon_decisions"] += sum(1 for i in decided.tolist() if self._abandon_decided(decision_of(frame, i)))

    def _alive(self, f: Figures) -> np.ndarray:
        """report_figures._is_under_custody."""
        restore_by = _day_array(f.frame["restore_by"]) if "restore_by" in f.frame else np.full(len(f.frame),
                                                                                               NAT_DAYS)
        restorable = (restore_by != NAT_DAYS) & (f.today <= restore_by)
        noticed = f.lapsed_on != NAT_DAYS
        return ~f.ended & (f.state != EXPIRED) & ~f.abandon & np.where(noticed, restorable, f.state != LAPSED)

    def _unknown(self, f: Figures) -> np.ndarray:
        """report_figures._restorability_unknown: lapsed by our schedule, no notice, inside the assumed window."""
        from custody.portfolio import _months_and_days, _plus_months

        w = self.window
        assumed = _plus_months(*_months_and_days(f.unpaid.grace_end), w.notice_months + w.request_months)
        return (f.state == LAPSED) & f.has_unpaid & (f.lapsed_on == NAT_DAYS) & ~f.ended & \
            ~f.unpaid.is_grant_year & (f.today <= assumed)

    def _fees_due(self, f: Figures, rules: RuleSet, calendar: TableCalendar) -> None:
        """report_figures._counts_as_due over every fee year whose due date can fall in the year."""
        rows = np.flatnonzero(f.custody)
        filed_year = _year_of(f.p.filed[rows])
        ended_on = _day_array(f.frame["ended_on"])[rows] if "ended_on" in f.frame else np.full(len(rows), NAT_DAYS)
        # A fee falls due in the year of its anniversary, give or take a moved deadline; after a restoration a fee
        # of any earlier year may fall due with the back fees (fees.back_fee_dates): those few rows try every year.
        restored = f.p.restored[rows] != NAT_DAYS
        tries = [(self.year - filed_year + back, ~restored) for back in (-1, 0, 1)]
        if restored.any():
            tries += [(np.full(len(rows), n), restored) for n in range(1, int(f.p.last_year[rows].max()) + 1)]
        for year, mine in tries:
            ok = (year >= f.p.grant_year[rows]) & (year <= f.p.last_year[rows]) & mine
            at = rows[ok]
            fees = year_fees(f.p.take(at), year[ok], rules, calendar)
            paid = _is_paid(f.p, at, year[ok])
            due_in = _year_of(fees.due) == self.year
            after_end = (ended_on[ok] != NAT_DAYS) & (fees.due > ended_on[ok])
            counted = due_in & ~after_end & (paid | (f.state[at] != LAPSED))
            self.counts["fees_due"] += int(counted.sum())
            self.counts["fees_due_fen"] += int(fees.fee_fen[counted].sum())

    def _paid_in_grace(self, f: Figures, chunk: Chunk, rules: RuleSet, calendar: TableCalendar) -> None:
        """report_figures._paid_in_grace: fees paid in the year after their due date, within the grace period."""
        payments = chunk.payments
        if payments is None or not len(payments):
            return
        position = f.frame.index.get_indexer(payments["patent"])
        year = payments["year"].to_numpy(np.int64)
        paid_on = _day_array(payments["paid_on"])
        in_year = _year_of(np.where(paid_on == NAT_DAYS, 0, paid_on)) == self.year
        ok = (position >= 0) & (paid_on != NAT_DAYS) & in_year
        ok &= f.custody[np.maximum(position, 0)]
        ok &= (year >= f.p.grant_year[np.maximum(position, 0)]) & (year <= f.p.last_year[np.maximum(position, 0)])
        at, year, paid_on = position[ok], year[ok], paid_on[ok]
        fees = year_fees(f.p.take(at), year, rules, calendar)
        late = ~fees.is_grant_year & (fees.due < paid_on) & (paid_on <= fees.grace_end)
        pairs = pd.unique(pd.Series(at[late] * YEAR_SPAN + year[late]))
        self.counts["paid_in_grace_fees"] += len(pairs)
        self.counts["paid_in_grace"] += len(np.unique(np.asarray(pairs, np.int64) // YEAR_SPAN))

    def _events(self, f: Figures, chunk: Chunk) -> None:
        """report_figures._lapsed_in and the restorations announced in the year."""
        events = chunk.events
        n = len(f.frame)
        any_notice_in_year, last_notice = np.zeros(n, bool), np.full(n, NAT_DAYS)
        if events is not None and len(events):
            position = f.frame.index.get_indexer(events["patent"])
            on = _day_array(events["announced_on"])
            in_year = (on != NAT_DAYS) & (_year_of(np.where(on == NAT_DAYS, 0, on)) == self.year)
            kind = events["kind"].to_numpy(object)
            mine = position >= 0
            notice = mine & (kind == "lapse_nonpayment")
            any_notice_in_year[position[notice & in_year]] = True
            np.maximum.at(last_notice, position[notice], on[notice])
            restored = mine & (kind == "restoration") & in_year
            self.counts["restorations"] += int(f.custody[position[restored]].sum())
        grace_end = f.unpaid.grace_end
        by_schedule = f.has_unpaid & ~f.unpaid.is_grant_year & (grace_end < f.today) & (
            _year_of(grace_end) == self.year) & ~((last_notice != NAT_DAYS) & (last_notice >= grace_end))
        self.counts["lapses"] += int((f.custody & (any_notice_in_year | by_schedule)).sum())

    def _abandon_decided(self, decision) -> bool:
        return decision is not None and decision.choice == "abandon" and decision.decided_on.year == self.year

    def figures(self) -> dict[str, Any]:
        counts = dict(self.counts)
        fen = counts.pop("fees_due_fen")
        counts["fees_due_amount"] = Decimal(fen).scaleb(-2) if fen else ZERO
        counts["enterprises_under_custody"] = len(self.enterprises)
        return counts


def kpi_report(chunks: Iterable[Chunk], rules: RuleSet, calendar: TableCalendar, today: date, year: int,
               reminders: ReminderFigures | None, window: RestorationWindow) -> TableReport:
    """report_figures.kpi_report, counted chunk by chunk."""
    run, kpi = _Run(rules, calendar, today), _Kpi(year, window)
    for f, chunk in run.evaluated(chunks):
        kpi.add(f, chunk, rules, calendar)
    report = kpi_table(kpi.figures(), year, today, reminders, run.notes())
    return as_table_report(report)


def as_table_report(report) -> TableReport:
    """A scalar `Report` (rows as dicts) as a TableReport, for the one set of writers."""
    from custody.report_columns import rows_from_dicts

    return TableReport(report.name, report.title, report.columns,
                       rows_from_dicts([c.key for c in report.columns], report.rows), report.notes, report.chart)


__all__ = ["forecast_report", "kpi_report", "as_table_report", "Objects"]
