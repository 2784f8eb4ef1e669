"""The enterprise statement (issue 11): what an enterprise receives about its patents on a day, as figures and as the
text of a document, in the configured language.

The figures are the reports' own (custody/report_engine.py, custody/report_totals.py), run on the enterprise's
chunks: its patents are `report enterprise`'s rows, what falls due is `report due`'s, the grace period `report
grace`'s, what can be restored `report lapsed`'s, the five years ahead `report forecast`'s. Nothing is computed
twice. `layout` turns them into text cells (labels for enumerated values, yuan with the fen, dates with the
provisional mark), which the renderers (custody/statement_render.py) only place on a page or a sheet.
Pure: `today` is passed in.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from custody.domain import PROVISIONAL_MARK, is_provisional_date
from custody.i18n import label, tr
from custody.messages import money, percent
from custody.report_engine import Chunk, TableReport, due_report, enterprise_statement, grace_report, lapsed_report
from custody.report_totals import forecast_report
from custody.ruleset import RuleSet
from custody.status_effects import NOT_RESTORABLE, RESTORABLE_UNKNOWN, RestorationWindow

STATEMENT_KIND = "statement"  # the outbox rows that carry a statement (custody.store.statements)
DUE_DAYS = 365  # what falls due within a year of the statement's day; the forecast shows the years after
FORECAST_YEARS = 5
PERIODS = ("monthly", "quarterly")


@dataclass(frozen=True)
class Platform:
    """[platform]: who sends the statement."""

    name: str = ""
    contact: str = ""


@dataclass(frozen=True)
class StatementSettings:
    """[statement] and [platform] of the configuration, with what rendering a statement needs besides."""

    enabled: bool = False
    period: str = "monthly"
    day: int = 1
    platform: Platform = Platform()
    window: RestorationWindow | None = None  # None: the rule tables' months, the default assumed notice delay
    language: str = "zh"


def statement_settings(statement: Mapping[str, Any], platform: Mapping[str, Any], window: RestorationWindow | None,
                       language: str) -> StatementSettings:
    """The settings from the config's (already validated) [statement] and [platform] sections."""
    return StatementSettings(bool(statement.get("enabled", False)), statement.get("period", "monthly"),
                             int(statement.get("day", 1)), Platform(platform.get("name", ""),
                                                                    platform.get("contact", "")),
                             window, language)


@dataclass(frozen=True)
class Statement:
    """One enterprise's figures on `as_of`, each part a report of the engine's as it computes it."""

    code: str
    name: str
    as_of: date
    platform: Platform
    patents: TableReport  # `custody report enterprise CODE`
    due: TableReport  # `custody report due --within 365d --enterprise CODE`
    grace: TableReport
    restorable: TableReport  # `report lapsed`'s rows still restorable (or not known not to be)
    forecast: TableReport  # `report forecast --years 5 --enterprise CODE`
    left_out: tuple[str, ...]  # application numbers whose fee facts are incomplete (the reports' notes)


def build_statement(chunks: Sequence[Chunk], rules: RuleSet, calendar: Any, today: date, code: str, name: str,
                    window: RestorationWindow, platform: Platform = Platform()) -> Statement:  # noqa: B008
    """The statement of the enterprise whose patents are `chunks` (all of them: an enterprise's fit in memory)."""
    patents = enterprise_statement(chunks, rules, calendar, today, code, name)
    lapsed = lapsed_report(chunks, rules, calendar, today, window)
    keep = [i for i, v in enumerate(lapsed.rows.columns["restorable"].values()) if v != NOT_RESTORABLE]
    restorable = TableReport(lapsed.name, lapsed.title, lapsed.columns, lapsed.rows.take(np.array(keep, np.int64)),
                             lapsed.notes)
    shown = set(patents.rows.columns["application_number"].values())
    every = [n for chunk in chunks for n in chunk.patents["application_number"].tolist()]
    return Statement(code, name, today, platform, patents, due_report(chunks, rules, calendar, today, DUE_DAYS),
                     grace_report(chunks, rules, calendar, today), restorable,
                     forecast_report(chunks, rules, calendar, today, FORECAST_YEARS, calendar_years=True),
                     tuple(sorted(n for n in every if n not in shown)))


def period_of(day: date, period: str) -> str:
    """The period a day falls in, as the outbox's key names it: "2026-12" (monthly) or "2026-Q4" (quarterly)."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}: one of {', '.join(PERIODS)}")
    return f"{day.year}-{day.month:02d}" if period == "monthly" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_start(day: date, period: str, send_day: int) -> date:
    """The day the statement of `day`'s period is first sent: `send_day` of the period's first month."""
    month = day.month if period == "monthly" else 3 * ((day.month - 1) // 3) + 1
    return date(day.year, month, send_day)


# ---------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; `numeric` columns are right-aligned (amounts, years, days)."""

    sheet: str  # the XLSX sheet's name
    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int]
    empty: str  # said instead of an empty table


@dataclass(frozen=True)
class Document:
    title: str
    header: tuple[str, ...]  # enterprise, as-of day, platform and contact
    summary: Table
    tables: tuple[Table, ...]
    notes: tuple[str, ...]
    footer: str  # "page {page}" is filled in by the renderer


PATENT_KEYS = ("application_number", "title", "type", "mode", "state", "year", "due_date", "fee", "reduction",
               "grace_end")
DUE_KEYS = ("application_number", "title", "year", "due_date", "days_left", "fee", "reduction", "grace_end")
GRACE_KEYS = ("application_number", "title", "year", "grace_end", "days_left", "fee", "late_fee", "total",
              "next_rise_on", "next_late_fee")
RESTORE_KEYS = ("application_number", "title", "year", "grace_end", "restore_by", "restorable", "restoration_total")
LABELLED = {"type": "type", "mode": "mode", "state": "state", "reduction": "reduction", "restorable": "restorable"}
NUMERIC_KINDS = ("money", "int", "rate", "number")


def cell(key: str, kind: str, value: Any, language: str) -> str:
    """One value as the document shows it: never None, True/False or a stored enumeration word."""
    if value is None:
        return ""
    if key in LABELLED:
        return label(LABELLED[key], value, language)
    if isinstance(value, date):
        return value.isoformat() + (PROVISIONAL_MARK if is_provisional_date(value) else "")
    if kind == "money":
        return money(Decimal(value))
    if kind == "rate":
        return percent(Decimal(value))
    if isinstance(value, bool):
        return label("flag", value, language)
    return str(value)


def _table(sheet: str, title: str, report: TableReport, keys: Sequence[str], language: str, empty: str) -> Table:
    columns = {c.key: c for c in report.columns}
    chosen = [columns[k] for k in keys]
    cells = [report.rows.columns[c.key].values() for c in chosen]
    rows = tuple(tuple(cell(c.key, c.kind, v, language) for c, v in zip(chosen, values, strict=True))
                 for values in zip(*cells, strict=True)) if report.rows.length else ()
    return Table(sheet, title, tuple(c.heading(language) for c in chosen), rows,
                 frozenset(i for i, c in enumerate(chosen) if c.kind in NUMERIC_KINDS), empty)


def forecast_by_year(statement: Statement) -> list[tuple[int, Decimal]]:
    """(year, CNY) of the five years ahead: the forecast's total line (the enterprise is its only one)."""
    rows = statement.forecast.rows.dicts()
    total = rows[-1] if rows else {}
    return [(int(c.en), total.get(c.key) or Decimal(0)) for c in statement.forecast.columns if c.key.startswith("y")]


def _sum(report: TableReport, key: str) -> Decimal:
    return sum((v for v in report.rows.columns[key].values() if v is not None), Decimal(0)) \
        if report.rows.length else Decimal(0)


def summary_figures(statement: Statement) -> list[tuple[str, dict[str, Any], str, Any]]:
    """(msgid, its fields, kind, value) of the summary: counts and amounts, each a sum of a table shown below it."""
    modes = statement.patents.rows.columns["mode"].values() if statement.patents.rows.length else []
    forecast = forecast_by_year(statement)
    span = {"span": f"{forecast[0][0]}-{forecast[-1][0]}"}
    return [
        ("Patents on record", {}, "int", len(modes)),
        ("Under custody", {}, "int", sum(1 for m in modes if m == "custody")),
        ("Watched only", {}, "int", sum(1 for m in modes if m == "watch")),
        ("Number of fees due within a year", {}, "int", len(statement.due.rows)),
        ("Amount due within a year (CNY)", {}, "money", _sum(statement.due, "fee")),
        ("Fees in the grace period", {}, "int", len(statement.grace.rows)),
        ("To pay today for them (CNY)", {}, "money", _sum(statement.grace, "total")),
        ("Lapsed patents that can be restored", {}, "int", len(statement.restorable.rows)),
        ("To restore them (CNY)", {}, "money", _sum(statement.restorable, "restoration_total")),
        ("Annual fees {span} (CNY)", span, "money", sum((v for _, v in forecast), Decimal(0))),
    ]


def _summary(statement: Statement, language: str) -> Table:
    rows = tuple((tr(msgid, language, **fields), cell("", kind, value, language))
                 for msgid, fields, kind, value in summary_figures(statement))
    return Table(tr("Summary", language), tr("Summary", language), (tr("Item", language), tr("Value", language)),
                 rows, frozenset({1}), "")


def _forecast(statement: Statement, language: str) -> Table:
    rows = tuple((str(year), money(amount)) for year, amount in forecast_by_year(statement))
    total = money(sum((amount for _, amount in forecast_by_year(statement)), Decimal(0)))
    return Table(tr("Five-year forecast", language), tr("Annual fees over the next five years", language),
                 (tr("Year", language), tr("Annual fees (CNY)", language)), (*rows, (tr("Total", language), total)),
                 frozenset({1}), "")


def _provisional(tables: Sequence[Table]) -> bool:
    return any(c.endswith(PROVISIONAL_MARK) for t in tables for row in t.rows for c in row)


def layout(statement: Statement, language: str) -> Document:
    """The statement as a document's text: header, summary, tables and notes, in `language`."""
    def t(msgid: str, **fields: Any) -> str:
        return tr(msgid, language, **fields)

    tables = (
        _table(t("Patents"), t("Patents"), statement.patents, PATENT_KEYS, language, t("No patents on record.")),
        _table(t("Due"), t("Fees due within a year"), statement.due, DUE_KEYS, language,
               t("No fee falls due within a year.")),
        _table(t("Grace period"), t("Fees in the grace period (payable with a late fee)"), statement.grace,
               GRACE_KEYS, language, t("No fee is in the grace period.")),
        _table(t("Restorable"), t("Lapsed for non-payment and restorable"), statement.restorable, RESTORE_KEYS,
               language, t("No lapsed patent to restore.")),
        _forecast(statement, language),
    )
    notes = []
    if _provisional(tables):
        notes.append(t("Dates marked * are provisional: that year's State Council holiday schedule is not "
                       "published yet, so a deadline falling on a holiday may move."))
    if RESTORABLE_UNKNOWN in statement.restorable.rows.columns["restorable"].values():
        notes.append(t("Restorable 'unknown': CNIPA's termination notice is not on record, and the time limit for "
                       "a restoration request runs from that notice. Please check with the platform."))
    if statement.left_out:
        notes.append(t("Left out, their fee records are incomplete (please check them with the platform): "
                       "{numbers}", numbers=", ".join(statement.left_out)))
    platform = statement.platform
    header = [t("Enterprise: {name} ({code})", name=statement.name, code=statement.code),
              t("As of: {day}", day=statement.as_of.isoformat())]
    if platform.name:
        header.append(t("Issued by: {name}", name=platform.name))
    if platform.contact:
        header.append(t("Contact: {contact}", contact=platform.contact))
    return Document(t("Patent annual fee statement"), tuple(header), _summary(statement, language), tables,
                    tuple(notes), t("Page {page}", page="{page}"))
