"""Operator reports: `custody report due|grace|lapsed|forecast|enterprise|deliveries|kpi`. The figures are the
report engine's (custody.report_engine, custody.report_totals, custody.report_figures), the writing
custody.report_output's; every report takes the same --format, --out, --enterprise and --as-of, defined once here.
"""

import sys
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

from cli_base import (
    Format,
    UsageError,
    UserError,
    db_session,
    emit,
    full_year,
    period_days,
    report_date,
    rules_of,
    state,
)
from cli_wiring import restoration_window
from custody import clock
from custody.i18n import tr


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


FORMAT_HELP = "table, csv, json or xlsx (xlsx needs --out)"
OUT_HELP = "Write to this file instead of the terminal."
ENTERPRISE_HELP = "Only this enterprise (credit code): nothing of another enterprise appears."
AS_OF_HELP = "Evaluate on this date (default: today, Asia/Shanghai)."

# The options every report takes, defined once.
FORMAT = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP)
OUT = typer.Option(None, "--out", help=OUT_HELP)
ENTERPRISE = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP)
AS_OF = typer.Option(None, "--as-of", help=AS_OF_HELP)


def _check_output(fmt: ReportFormat, out: Path | None) -> None:
    """Refuse, before any work, an output that cannot be written: xlsx to the terminal, a table to a file, a
    file in a folder that does not exist."""
    if fmt == ReportFormat.xlsx and out is None:
        raise UsageError(tr("--format xlsx needs --out FILE"))
    if fmt == ReportFormat.table and out is not None:
        raise UsageError(tr("--out needs --format csv, json or xlsx"))
    if out is not None and not out.resolve().parent.is_dir():
        raise UsageError(tr("--out: folder {parent} does not exist", parent=out.parent))


@contextmanager
def _portfolio(ctx: typer.Context, enterprise: str | None, as_of: str | None, kpi_year: int | None = None):
    """(session, the portfolio's chunks, rules, calendar, day) for a report, one enterprise's only if asked."""
    from custody.collector import collector_paused
    from custody.store.calendar import calendar_from
    from custody.store.portfolio_read import report_chunks
    from custody.store.reports import UnknownEnterprise

    day = report_date(as_of, "--as-of") or clock.today()
    with db_session(ctx) as session, collector_paused():  # a batch job over the portfolio: see custody.collector
        rules, calendar = rules_of(ctx), calendar_from(session)
        try:
            chunks = report_chunks(session, enterprise, kpi_year=kpi_year)
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
        yield session, chunks, rules, calendar, day


def _emit_report(ctx: typer.Context, report, fmt: ReportFormat, out: Path | None) -> None:
    """Write the report as it is formed (custody.report_output); a scalar Report goes the same way."""
    from custody.report_engine import TableReport
    from custody.report_output import TABLE_ROWS, table_rows, write_csv, write_json, write_plain_table, write_xlsx
    from custody.report_totals import as_table_report

    language = state(ctx).config.language
    report = report if isinstance(report, TableReport) else as_table_report(report)
    _check_output(fmt, out)
    try:
        if fmt == ReportFormat.xlsx:
            write_xlsx(report, out, language)
        elif fmt in (ReportFormat.csv, ReportFormat.json):
            encoding = "utf-8-sig" if fmt == ReportFormat.csv else "utf-8"
            with (open(out, "w", encoding=encoding, newline="") if out else _stdout()) as stream:
                write_csv(report, stream, language) if fmt == ReportFormat.csv else write_json(report, stream)
    except OSError as exc:
        raise UserError(tr("cannot write {out}: {strerror}", out=out, strerror=exc.strerror or exc)) from None
    if fmt == ReportFormat.table and len(report.rows) <= TABLE_ROWS:
        emit(table_rows(report), Format.table, [(c.key, c.heading(language), c.kind) for c in report.columns
                                                if c.kind != "key"], title=report.title)
    elif fmt == ReportFormat.table:
        write_plain_table(report, sys.stdout, language)
    for note in report.notes:
        typer.echo(tr("note: {note}", note=note), err=True)
    if out is not None:
        typer.echo(tr("{name}: {n} row(s) written to {out}", name=report.title, n=len(report.rows), out=out), err=True)


@contextmanager
def _stdout():
    yield sys.stdout
    sys.stdout.flush()


def report_due(
    ctx: typer.Context,
    within: str = typer.Option("90d", "--within", help="How far ahead: 90d, 12w, 3m (3个月), 30."),
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    enterprise: str | None = ENTERPRISE,
    as_of: str | None = AS_OF,
) -> None:
    """Annual fees falling due soon, with the reduction applied and any enterprise decision.

    Example: custody report due --within 90d --format xlsx --out due.xlsx
    """
    from custody.report_engine import due_report

    days = period_days(within, report_date(as_of, "--as-of"))
    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = due_report(chunks, rules, calendar, day, days)
    _emit_report(ctx, report, fmt, out)


def report_grace(
    ctx: typer.Context,
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    enterprise: str | None = ENTERPRISE,
    as_of: str | None = AS_OF,
) -> None:
    """Fees in the grace period: today's late fee, and when and by how much it rises next (Rule 115).

    Example: custody report grace --format csv --out grace.csv
    """
    from custody.report_engine import grace_report

    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = grace_report(chunks, rules, calendar, day)
    _emit_report(ctx, report, fmt, out)


def report_lapsed(
    ctx: typer.Context,
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    enterprise: str | None = ENTERPRISE,
    as_of: str | None = AS_OF,
) -> None:
    """Patents terminated for non-payment, which can still be restored, by when and for how much (Rule 6 ¶2).

    Without CNIPA's termination notice on record, restorable says "unknown — check" until the notice could still
    come (\\[status] assumed_notice_months after the grace end, default 4) plus the 2 months, and "no" after.

    Example: custody report lapsed --enterprise 914403001922038216
    """
    from custody.report_engine import lapsed_report

    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = lapsed_report(chunks, rules, calendar, day, restoration_window(ctx, rules))
    _emit_report(ctx, report, fmt, out)


def report_forecast(
    ctx: typer.Context,
    years: int = typer.Option(5, "--years", min=1, max=30, help="Calendar years ahead, this one included (in the "
                              "year's last 31 days: twelve-month periods from today)."),
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    enterprise: str | None = ENTERPRISE,
    as_of: str | None = AS_OF,
) -> None:
    """Annual fees to pay, CNY per enterprise per year with reductions, and the platform total (xlsx: with a chart).

    Example: custody report forecast --years 5 --format xlsx --out forecast.xlsx
    """
    from custody.report_totals import forecast_report

    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = forecast_report(chunks, rules, calendar, day, years)
    _emit_report(ctx, report, fmt, out)


def report_enterprise(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The enterprise's credit code (统一社会信用代码)."),
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    as_of: str | None = AS_OF,
) -> None:
    """The statement an enterprise receives: its patents only, what is due, decisions and pledges.

    Example: custody report enterprise 91350100M000100Y43 --format xlsx --out statement.xlsx
    """
    from custody.report_engine import enterprise_statement
    from custody.store.reports import enterprise_by_code

    _check_output(fmt, out)
    with _portfolio(ctx, code, as_of) as (session, chunks, rules, calendar, day):
        found = enterprise_by_code(session, code)
        report = enterprise_statement(chunks, rules, calendar, day, found.credit_code, found.name)
    _emit_report(ctx, report, fmt, out)


def report_deliveries(
    ctx: typer.Context,
    from_: str | None = typer.Option(None, "--from", help="First day (default: 1 January of this year)."),
    to: str | None = typer.Option(None, "--to", help="Last day (default: today)."),
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    enterprise: str | None = ENTERPRISE,
) -> None:
    """Reminders by channel: pending, sent, delivered, sent without a receipt, failed, cancelled.

    Example: custody report deliveries --from 2025-01-01 --format csv
    """
    from custody.report_figures import deliveries_report
    from custody.store.reports import UnknownEnterprise, delivery_counts

    today = clock.today()
    _check_output(fmt, out)
    start, end = report_date(from_, "--from") or date(today.year, 1, 1), report_date(to, "--to") or today
    with db_session(ctx) as session:
        try:
            counts = delivery_counts(session, start, end, enterprise)
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
    if counts is None:
        raise UserError(tr("the reminders outbox is not in this database: run `custody db upgrade`"))
    _emit_report(ctx, deliveries_report(counts, tr("{start} to {end}", start=start, end=end)), fmt, out)


def report_kpi(
    ctx: typer.Context,
    year: str | None = typer.Option(None, "--year", metavar="YYYY", help="Assessment year, in full (default: this "
                                    "year)."),
    fmt: ReportFormat = FORMAT,
    out: Path | None = OUT,
    enterprise: str | None = ENTERPRISE,
    as_of: str | None = AS_OF,
) -> None:
    """The yearly assessment figures: enterprises and patents under custody, fees due, reminders sent to
    enterprises and delivered (operator alerts, pledgee alerts and watch digests counted apart), patents that
    entered the grace period and were then paid (and the fees), lapses, restorations, and lapsed patents whose
    restorability is unknown (no CNIPA notice on record: not counted as under custody).

    Example: custody report kpi --year 2025 --format xlsx --out kpi-2025.xlsx
    """
    from custody.report_totals import kpi_report
    from custody.store.reports import reminder_figures

    _check_output(fmt, out)
    chosen = full_year(year, "--year") or (report_date(as_of, "--as-of") or clock.today()).year
    with _portfolio(ctx, enterprise, as_of, kpi_year=chosen) as (session, chunks, rules, calendar, day):
        report = kpi_report(chunks, rules, calendar, day, chosen, reminder_figures(session, chosen, enterprise),
                            restoration_window(ctx, rules))
    _emit_report(ctx, report, fmt, out)

