"""`custody import enterprises|patents|payments`: parse the options, run the import (importers.run), show its
summary; `custody import log` lists earlier imports.
"""

import json
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli_base import Format, calendar_for, db_session, emit, option_date, rules_of, say_error, state, translated_columns
from cli_wiring import configured_reminders
from custody.i18n import tr

if TYPE_CHECKING:
    from rich.console import Console as Terminal


def _progress_label(label: str) -> str:
    """The progress bar's words for what importers.run says it is doing, in the operator's language."""
    return {"importing": tr("importing"), "checking": tr("checking")}.get(label, label)


@contextmanager
def _import_progress(enabled: bool, console: "Terminal | None" = None):
    """A rich progress bar on stderr, with the file's row count as its total when that is known, only when stderr
    is a terminal; else a no-op. Yields `start(label, total) -> advance(n)`."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda label, total=None: (lambda n: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:

        def start(label: str, total: int | None = None) -> Callable[[int], None]:
            task = bar.add_task(_progress_label(label), total=total)

            def advance(n: int) -> None:
                # The total is an estimate (a CSV's line count): the bar never runs past it.
                done = bar.tasks[task].completed + n
                bar.update(task, completed=done, total=max(total, done) if total else None)
            return advance

        yield start


def _import_file(ctx: typer.Context, kind: str, file: Path, *, dry_run: bool, partial: bool,
                 rejects_out: Path | None, fmt: Format, profile: str | None, as_of: str | None,
                 enterprise: str | None = None, allow_lower_paid_through: bool = False, strict: bool = False) -> None:
    """Read, check and write `file` in one transaction, chunk by chunk (or explain why not); exit 1 on rejected
    rows. A dry run shows what the good rows would do even when others have errors."""
    from custody.creditcode import parse_credit_code
    from importers.columns import ProfileError
    from importers.context import Options
    from importers.forked import ReaderStopped
    from importers.run import run_import
    from importers.summary import default_problems_path, failure_line, write_problems_file

    if fmt == Format.csv:
        say_error(tr("import prints table or json (--format csv is for reports)"))
        raise typer.Exit(2)
    st = state(ctx)
    language = st.config.language
    code, day = (parse_credit_code(enterprise) if enterprise else None), option_date(as_of, "--as-of")
    with db_session(ctx) as session, _import_progress(fmt == Format.table) as progress:
        # Built once the database is known to be ready: the calendar reads the schedules loaded into it.
        options = Options(rules=rules_of(ctx), calendar=calendar_for(st), language=language, enterprise=code,
                          as_of=day, profile_name=profile, import_config=st.config.section("import"))
        try:  # the import writes through a connection of its own, in one transaction
            run = run_import(session.get_bind(), file, kind, options, progress, dry_run=dry_run, partial=partial,
                             allow_lower_paid_through=allow_lower_paid_through, strict=strict,
                             reach=configured_reminders(st) if kind == "enterprises" else None)
        except ProfileError as exc:  # a usage error: exit 2
            say_error(str(exc))
            raise typer.Exit(2) from None
        except ReaderStopped as exc:  # killed or out of memory: the transaction was rolled back
            say_error(tr("the process reading {file} stopped before the end of the file (exit code {code}); "
                         "nothing was imported", file=exc.file, code=exc.exit_code))
            raise typer.Exit(1) from None
    summary = run.summary(file, rejects_out, language, dry_run)
    if fmt == Format.table:
        write_problems_file(summary, default_problems_path(file), language)
    _show_import(summary, fmt, language)
    if run.failed:
        say_error(failure_line(summary, language))
    if run.opened.has_errors:
        raise typer.Exit(1)


def _show_import(summary: dict[str, Any], fmt: Format, language: str) -> None:
    from importers.summary import summary_lines

    if fmt == Format.json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        for line in summary_lines(summary, language):
            typer.echo(line)


_DRY_RUN = typer.Option(False, "--dry-run", help="Show what would be new, updated (field by field), unchanged and "
                        "rejected, also for a file with errors; write nothing but the import log entry.")
_PARTIAL = typer.Option(False, "--partial", help="Import the good rows even when others have errors; the "
                        "rejected rows go to the rejects file (not with --dry-run).")
_REJECTS = typer.Option(None, "--rejects-out", help="Where --partial writes rejected rows with an error column "
                        "(default: FILE.rejects.csv next to FILE).")
_FORMAT = typer.Option(Format.table, "--format", help="table (to read) or json (for scripts); a table shows the "
                       "first 200 problems and writes them all to FILE.problems.txt.")
_PROFILE = typer.Option(None, "--profile", help="Column mapping for an unusual export: "
                        "\\[import.profiles.NAME] in config.toml.")
_AS_OF = typer.Option(None, "--as-of", help="The date the file's legal statuses describe (default: a date in "
                      "the title rows, else the file's modification date).")


def import_enterprises(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Enterprises and contacts: .xlsx, .xls or .csv (UTF-8 or GBK)."),
    dry_run: bool = _DRY_RUN, partial: bool = _PARTIAL, rejects_out: Path | None = _REJECTS,
    fmt: Format = _FORMAT, profile: str | None = _PROFILE,
    strict: bool = typer.Option(False, "--strict", help="An enterprise left with nobody who receives before-due "
                                "reminders is an error (else a warning)."),
) -> None:
    """Import enterprises (by unified social credit code) and their contacts (by mobile, else email).

    Columns: 企业名称, 统一社会信用代码, 联系人, 角色, 手机, 邮箱 (English headers work too). Roles are read
    as enterprises write them (联系人, 经办人, IP专员, 专利工程师, 总经理, 法人, 财务, ...:
    custody/rules/contact_roles.toml); each enterprise of the file left with nobody who receives before-due
    reminders is named.

    Example: custody import enterprises examples/enterprises.csv --dry-run --strict
    """
    _import_file(ctx, "enterprises", file, dry_run=dry_run, partial=partial, rejects_out=rejects_out, fmt=fmt,
                 profile=profile, as_of=None, strict=strict)


def import_patents(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The portfolio: .xlsx, .xls or .csv (UTF-8 or GBK)."),
    enterprise: str | None = typer.Option(None, "--enterprise", help="Credit code of the enterprise owning "
                                          "every patent in a file without an enterprise column."),
    dry_run: bool = _DRY_RUN, partial: bool = _PARTIAL, rejects_out: Path | None = _REJECTS,
    fmt: Format = _FORMAT, profile: str | None = _PROFILE, as_of: str | None = _AS_OF,
    allow_lower_paid_through: bool = typer.Option(
        False, "--allow-lower-paid-through", help="Let the file lower a paid-through year on record (an older "
        "export must not undo newer facts, so by default the higher year is kept, with a warning); never below "
        "years with payments on record."),
) -> None:
    """Import patents, one per row, by application number; missing paid-through years are inferred.

    Columns: 申请号, 专利名称, 专利类型, 申请日, 授权公告日, 授权年度, 已缴至年度, 费减比例, 法律状态, 专利权人,
    托管方式 (托管 or 监控), 统一社会信用代码 or 企业名称. A patent in custody needs its enterprise (a column,
    --enterprise, or on record already); a watch-only one (监控) does not.

    Example: custody import patents examples/portfolio_platform.xlsx --enterprise 91350100M000100Y43 --dry-run
    """
    _import_file(ctx, "patents", file, dry_run=dry_run, partial=partial, rejects_out=rejects_out, fmt=fmt,
                 profile=profile, as_of=as_of, enterprise=enterprise,
                 allow_lower_paid_through=allow_lower_paid_through)


def import_payments(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Annual fees paid: .xlsx, .xls or .csv (UTF-8 or GBK)."),
    dry_run: bool = _DRY_RUN, partial: bool = _PARTIAL, rejects_out: Path | None = _REJECTS,
    fmt: Format = _FORMAT, profile: str | None = _PROFILE,
) -> None:
    """Import annual fees paid (e.g. 「发明专利第6年年费」, amount, date); each must match a fee for its year.

    Columns: 申请号, 费用名称 or 年度, 金额, 缴费日期, 备注.

    Example: custody import payments examples/payments.csv --format json
    """
    _import_file(ctx, "payments", file, dry_run=dry_run, partial=partial, rejects_out=rejects_out, fmt=fmt,
                 profile=profile, as_of=None)


def import_log(
    ctx: typer.Context,
    file: str | None = typer.Option(None, "--file", help="Only imports of files whose name contains this."),
    limit: int = typer.Option(200, "--limit", min=1, max=100_000, help="At most this many (1-100000)."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """The import log, newest first: which file, what kind, rows read, rejected, new, updated, unchanged.

    Example: custody import log --file portfolio.xlsx
    """
    from custody.store.directory import IMPORT_HEADINGS, import_rows

    with db_session(ctx) as session:
        rows = import_rows(session, file, limit)
    emit(rows, fmt, translated_columns(IMPORT_HEADINGS))

