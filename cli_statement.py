"""The enterprise statement: `custody statement write|send` (and `custody statement CODE`). The figures are the
report engine's (custody/statement.py), the document custody/statement_render.py's; the emails go through the
outbox (custody/store/statements.py) and the daemon plans them (scheduler/statements.py).
"""

from enum import StrEnum
from pathlib import Path

import typer
import typer.core

from cli_base import Format, UsageError, UserError, db_session, emit, report_date, rules_of
from cli_help import HelpGroup
from cli_reports import AS_OF
from cli_wiring import reminder_ticks, statement_settings
from custody import clock
from custody.i18n import tr


class StatementGroup(HelpGroup):
    """`custody statement CODE …` is `custody statement write CODE …`: the document is the group's own command."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["write", *args]
        return super().parse_args(ctx, args)


class StatementPeriod(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"


def statement_write(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The enterprise's credit code (统一社会信用代码)."),
    out: Path = typer.Option(..., "--out", help="FILE.pdf (A4) or FILE.xlsx."),
    as_of: str | None = AS_OF,
) -> None:
    """Write the enterprise's statement (also `custody statement CODE --out FILE`), in \\[general] language.

    Example: custody statement write 91350100M000100Y43 --as-of 2026-12-01 --out statement.pdf
    """
    from custody.statement import layout
    from custody.statement_render import document_bytes
    from custody.store.reports import UnknownEnterprise
    from custody.store.statements import statement_of

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "xlsx"):
        raise UsageError(tr("--out: {name} should end in .pdf or .xlsx", name=out.name))
    if not out.resolve().parent.is_dir():
        raise UsageError(tr("--out: folder {parent} does not exist", parent=out.parent))
    day = report_date(as_of, "--as-of") or clock.today()
    rules = rules_of(ctx)
    settings = statement_settings(ctx, rules)
    with db_session(ctx) as session:
        try:
            statement = statement_of(session, code, rules, settings, day)
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
    try:
        out.write_bytes(document_bytes(layout(statement, settings.language), fmt))
    except OSError as exc:
        raise UserError(tr("cannot write {out}: {strerror}", out=out, strerror=exc.strerror or exc)) from None
    typer.echo(tr("statement: {name}, {n} patent(s) as of {day}, written to {out}", name=statement.name,
                  n=len(statement.patents.rows), day=day, out=out), err=True)


def statement_send(
    ctx: typer.Context,
    code: str | None = typer.Argument(None, help="The enterprise's credit code (or --all)."),
    every: bool = typer.Option(False, "--all", help="Every enterprise with an email contact."),
    period: StatementPeriod | None = typer.Option(None, "--period", help="The period the statement is of "
                                                  "(default: \\[statement] period)."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Email the statement (PDF) to the enterprise's contacts with an email address and consent, through the outbox:
    each enterprise, period and address once, whoever sends it and however often. Exits 1 if an email failed for
    good (the operator is alerted).

    Example: custody statement send --all --period quarterly
    """
    from custody.store.db import session_for
    from custody.store.reports import UnknownEnterprise, enterprise_by_code
    from scheduler.statements import plan_statements
    from scheduler.ticks import dispatch_tick

    if (code is None) == (not every):
        raise UsageError(tr("give an enterprise's credit code or --all, not both"))
    with reminder_ticks(ctx) as ticks:
        if code is not None:
            with session_for(ticks.engine) as session:
                try:
                    code = enterprise_by_code(session, code).credit_code
                except UnknownEnterprise as exc:
                    raise UserError(str(exc)) from None
        planned = plan_statements(ticks, None if every else [code], period.value if period else None)
        if "not_planned" in planned:
            raise UserError(tr("statements go by email: {not_planned}", not_planned=planned['not_planned']))
        summary = dispatch_tick(ticks)
    rows = [{"outcome": k, "count": v} for k, v in {**planned, **summary}.items()]
    emit(rows, fmt, [("outcome", tr("outcome"), "text", "tick_count"), ("count", tr("count"))])
    if "error" in summary or summary.get("failed"):
        raise typer.Exit(1)
