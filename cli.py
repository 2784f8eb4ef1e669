"""custody: the operator's command line. Each command parses, calls one function, renders.

Exit codes: 0 ok; 1 bad input or a failed delivery; 2 usage or configuration error.
Known errors print one `Error: …` line. Anything unexpected is logged with its traceback to the log file and the
operator sees a one-line pointer to it: never a traceback (it can hold secrets and phone numbers).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
import typer.core
import typer.main
from rich.console import Console

from custody import clock
from custody.amounts import AmountParseError
from custody.appno import InvalidApplicationNumber, parse_application_number
from custody.config import Config, ConfigError, load_config
from custody.creditcode import InvalidCreditCode
from custody.dates import DateParseError, parse_date
from custody.domain import DatePeriod, PatentFacts, PatentType, Reduction
from custody.i18n import current_language, label, set_language, tr
from custody.masking import redacted
from custody.ruleset import RuleError, load_rules

log = logging.getLogger("custody")
console = Console(highlight=False, soft_wrap=True)


class UserError(Exception):
    """A known, explainable failure of a command: one `Error:` line, exit 1."""


class UsageError(Exception):
    """A command called the wrong way (an option value that does not parse, options that do not go together, a
    file to write in a folder that does not exist): one `Error:` line, exit 2."""


def known_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message is written for the operator: shown as one line, exit 1. Imported when one is raised:
    `custody --help` need not load the fee engine and the calendar."""
    from custody.fees import FeeInputError, LapsedError
    from custody.workdays import ScheduleError

    return (UserError, FeeInputError, LapsedError, InvalidApplicationNumber, InvalidCreditCode, DateParseError,
            ScheduleError, AmountParseError)


# Errors in the set-up or in how the command was called, not in the input: exit 2.
CONFIG_ERRORS: tuple[type[BaseException], ...] = (ConfigError, RuleError, UsageError)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@dataclass
class State:
    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


app = typer.Typer(
    name="custody",
    help="Patent custody engine: CNIPA annual fees, reminders and legal-status watch for a portfolio.\n\n"
    "Example: custody fees 201710601862.3 --filed 2017-04-25 --grant-year 3 --reduction 85",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database set-up and migrations.\n\nExample: custody db upgrade", no_args_is_help=True)
patent_app = typer.Typer(help="Stored patents.\n\nExample: custody patent show 201710601862.3", no_args_is_help=True)
calendar_app = typer.Typer(help="Working-day calendar (State Council holiday schedules).\n\n"
                           "Example: custody calendar load schedule-2027.toml", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(patent_app, name="patent")
app.add_typer(calendar_app, name="calendar")
import_app = typer.Typer(help="Import enterprises, patents and payments from operators' spreadsheets.\n\n"
                         "Example: custody import patents examples/portfolio_platform.xlsx --enterprise "
                         "91350100M000100Y43",
                         no_args_is_help=True)
remind_app = typer.Typer(help="Reminders: plan, list and send.\n\nExample: custody remind plan --dry-run",
                         no_args_is_help=True)
status_app = typer.Typer(help="Legal-status watch.\n\nExample: custody status sync status-export.xlsx",
                         no_args_is_help=True)
report_app = typer.Typer(help="Operator reports.\n\nExample: custody report due --within 90d --format csv",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(remind_app, name="remind")
app.add_typer(status_app, name="status")
app.add_typer(report_app, name="report")


def _print_version(value: bool) -> None:
    if value:
        from custody import __version__

        typer.echo(f"custody {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(None, "--config", help="Configuration file (default: $CUSTODY_CONFIG, "
                                      "else ./config.toml, else built-in defaults)."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit (no configuration is read)."),
) -> None:
    ctx.obj = State(config)
    configure_logging(ctx.obj.config)
    set_language(ctx.obj.config.language)  # once: everything this command prints is in it


class _ShanghaiTimes(logging.Formatter):
    """Log times in Asia/Shanghai with the offset, like every other time the engine shows (not the machine's zone,
    which is UTC on most servers)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's)
        from datetime import datetime

        return datetime.fromtimestamp(record.created, clock.SHANGHAI).isoformat(sep=" ", timespec="milliseconds")


def configure_logging(config: Config) -> None:
    """Everything to the log file, warnings also to stderr; every handler masks phones, emails and secrets."""
    from custody.masking import MaskingFilter

    root = logging.getLogger()
    log_file = config.log_file.resolve()
    if getattr(root, "_custody_log_file", None) == log_file:
        return
    try:  # before the old handlers go: a bad setting must not leave the process without a log
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
    except OSError as exc:  # a missing folder, a folder named as the file, no permission: nothing would be logged
        raise ConfigError(f"{config.origin}: [general] log_file {log_file}: cannot write to it "
                          f"({exc.strerror})") from None
    for handler in list(root.handlers):
        if getattr(handler, "_custody", False):
            root.removeHandler(handler)
    file_handler.setFormatter(_ShanghaiTimes("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(logging.WARNING)
    stderr_handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for handler in (file_handler, stderr_handler):
        handler.addFilter(MaskingFilter())
        handler._custody = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs each request's URL at INFO, and a webhook's URL is its token: its warnings are enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    root._custody_log_file = log_file  # type: ignore[attr-defined]


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


# ---------------------------------------------------------------------------------------------- rendering


def emit(rows: Sequence[dict[str, Any]], fmt: Format, columns: Sequence[tuple[str, ...]] | None = None,
         title: str | None = None) -> None:
    """Rows as a table for people (fitted to the terminal, cli_render), or JSON / CSV for scripts. `columns` maps
    keys to table headings, and optionally to a kind (date, money, int...: never cut)."""
    if fmt == Format.json:
        typer.echo(json.dumps(list(rows), ensure_ascii=False, indent=2, default=str))
        return
    keys = [spec[0] for spec in columns] if columns else (list(rows[0]) if rows else [])
    if fmt == Format.csv:
        from custody.export import neutralised

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(keys)
        # Text from data (a title, a status, a note) may start like a formula: neutralised as in the reports.
        writer.writerows([[neutralised(v) if isinstance(v, str) else _cell(v) for v in map(row.get, keys)]
                          for row in rows])
        typer.echo(buffer.getvalue(), nl=False)
        return
    from cli_render import Col, print_table

    cols = [Col(*spec) for spec in columns] if columns else [Col(k, k) for k in keys]
    print_table(cols, [{c.key: _word(row.get(c.key)) for c in cols} for row in rows], title)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _word(value: Any) -> str:
    """A table cell for people: yes/no as words (是/否), never True/False."""
    return label("flag", value) if isinstance(value, bool) else _cell(value)


def option_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except DateParseError as exc:
        raise UserError(f"{name}: {exc}") from None


# ---------------------------------------------------------------------------------------------- fees


def calendar_for(st: State):
    """The one calendar builder (packaged schedules, then those the operator loaded, when the database exists).

    The calculator needs no database: one that cannot be reached only costs the loaded years (said in a warning);
    a malformed URL is a configuration error.
    """
    import sqlite3

    from custody.store.calendar import loaded_schedules
    from custody.workdays import work_calendar

    url = st.config.database_url
    try:
        return work_calendar(loaded_schedules(url))
    except sqlite3.Error as exc:  # a SQLite file read with the plain driver (no SQLAlchemy for a calculator)
        log.warning("loaded holiday schedules not read (%s); years without a packaged schedule stay provisional",
                    _first_line(exc))
        return work_calendar()
    except Exception as exc:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

        if isinstance(exc, ArgumentError | NoSuchModuleError):
            raise ConfigError(f"database URL: {_first_line(exc)}") from None
        if not isinstance(exc, OperationalError):
            raise
        log.warning("loaded holiday schedules not read (%s); years without a packaged schedule stay provisional",
                    _first_line(exc.orig or exc))
        return work_calendar()


def _first_line(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's multi-line background notes."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _patent_type(appno: str | None, type_: str | None) -> tuple[str | None, PatentType]:
    given = _type_option(type_) if type_ is not None else None
    if appno is None:
        if given is None:
            raise UserError("give an application number or --type")
        return None, given
    number = application_number(appno)
    if given is not None and given != number.type:
        raise UserError(f"--type {given.value} contradicts application number {number} "
                        f"(type digit says {number.type.value})")
    return str(number), number.type


def _type_option(text: str) -> PatentType:
    """--type in either language (invention or 发明; custody.options)."""
    from custody.options import OptionError, patent_type

    try:
        return patent_type(text)
    except OptionError as exc:
        raise UserError(f"--type {exc}") from None


ENTERPRISE_HELP_LIST = "Only this enterprise (credit code)."


def _choice(enum: type[StrEnum], value: str, name: str, what: str):
    # Parsed here, not by Typer, so a wrong value is bad input (one Error line, exit 1), not a usage box.
    try:
        return enum(value.strip())
    except ValueError:
        raise UserError(f"{name} {value!r} is not {what}: use {', '.join(m.value for m in enum)}") from None


def _whole_number(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise UserError(f"{name} {value!r} is not a whole number") from None


class ScheduleFormat(StrEnum):
    """What `fees` and `patent show` print: a schedule has no CSV form."""

    table = "table"
    json = "json"


@app.command()
def fees(
    ctx: typer.Context,
    appno: str | None = typer.Argument(None, help="Application number (gives the type; a stored patent gives "
                                       "every fact)."),
    type_: str | None = typer.Option(None, "--type", metavar="invention|utility_model|design|发明|实用新型|外观设计",
                                     help="Patent type when no number is given."),
    filed: str | None = typer.Option(None, "--filed", help="Filing date (申请日); needed unless the patent is "
                                     "stored."),
    grant_year: str | None = typer.Option(None, "--grant-year", metavar="N", help="Patent year of grant (授权年度)."),
    granted: str | None = typer.Option(None, "--granted", help="Grant announcement date (授权公告日); "
                                       "instead of --grant-year."),
    paid_through: str | None = typer.Option(None, "--paid-through", metavar="N",
                                            help="Last year paid (default: grant year)."),
    reduction: str | None = typer.Option(None, "--reduction", metavar="none|85|70",
                                         help="Fee reduction on record (default: none)."),
    reduction_recorded: str | None = typer.Option(
        None, "--reduction-recorded", help="Date the reduction was put on record; a fee due less than "
        "\\[rules] reduction_lead_months after it is charged in full (default: in time)."),
    open_licence_from: str | None = typer.Option(None, "--open-licence-from", help="Open licence in force since."),
    term_extension_days: str | None = typer.Option(None, "--term-extension-days", metavar="N",
                                                   help="Patent term compensation, in days (default: 0)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Evaluate on this date (default: today, Asia/Shanghai)."),
    pay_on: str | None = typer.Option(None, "--pay-on", help="Quote paying the next fee on this date."),
    fmt: ScheduleFormat = typer.Option(ScheduleFormat.table, "--format", help="table (to read out) or json "
                                       "(for scripts)."),
) -> None:
    """Annual-fee calculator: every fee to expiry, the state today, the next fee due and what paying costs.

    With a stored patent's number and no facts, its stored facts are used; facts given override them (and the
    command says which). Past the grace end the quote is an error value with what restoring the patent costs
    (Rule 6).

    Example: custody fees ZL201710601862.3 --filed 2017-04-25 --grant-year 3 --reduction 85 --pay-on 2026-06-01
    """
    from custody.fees import fee_schedule
    from custody.views import schedule_dict

    number, patent_type = _patent_type(appno, type_)
    if grant_year is not None and granted is not None:
        raise UserError("give --grant-year or --granted, not both")
    licence = option_date(open_licence_from, "--open-licence-from")
    given = dict(
        filing_date=option_date(filed, "--filed"), grant_year=_whole_number(grant_year, "--grant-year"),
        granted_on=option_date(granted, "--granted"), paid_through=_whole_number(paid_through, "--paid-through"),
        reduction=_choice(Reduction, reduction, "--reduction", "a reduction") if reduction is not None else None,
        open_licences=(DatePeriod(licence),) if licence else (),
        term_extension_days=_whole_number(term_extension_days, "--term-extension-days"),
        reduction_recorded_on=option_date(reduction_recorded, "--reduction-recorded"))
    st = state(ctx)
    facts = _fee_facts(st, number, patent_type, given)
    schedule = fee_schedule(facts, load_rules(settings=st.config.rule_settings), calendar_for(st))
    view = schedule_dict(schedule, option_date(as_of, "--as-of") or clock.today(), option_date(pay_on, "--pay-on"))
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        from cli_rich import print_schedule

        print_schedule(console, view)


def _stored_facts(st: State, number: str) -> PatentFacts | None:
    """The stored patent's facts; a database that cannot be reached only costs them (said in a warning)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from custody.store.patents import stored_facts

    try:
        return stored_facts(st.config.database_url, number)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"database URL: {_first_line(exc)}") from None
    except OperationalError as exc:
        log.warning("stored patent %s not read (%s): only the facts given count", number, _first_line(exc.orig or exc))
        return None


def _fee_facts(st: State, number: str | None, patent_type: PatentType, given: dict[str, Any]) -> PatentFacts:
    """The facts `fees` quotes with (custody.fee_facts): the stored patent's, overridden by the options given."""
    from custody.fee_facts import MissingFacts, quoted_facts

    stored = _stored_facts(st, number) if number else None
    try:
        facts, overridden = quoted_facts(stored, given, patent_type, number)
    except MissingFacts as exc:
        raise UserError(tr(str(exc))) from None
    if stored is not None:
        typer.echo(tr("{number}: stored patent's facts used", number=number) if not overridden else
                   tr("{number}: stored patent's facts used, overridden by the options: {names}", number=number,
                      names=", ".join(overridden)), err=True)
    return facts


# ---------------------------------------------------------------------------------------------- storage (issue 2)
# (db upgrade / init / pay / patent show / calendar load)


@contextmanager
def db_session(ctx: typer.Context):
    """A session on the configured database, refusing one that is not initialised or not up to date."""
    from sqlalchemy.exc import OperationalError

    from custody.store.db import engine_for, session_for

    url = state(ctx).config.database_url
    require_current_database(url)
    engine = engine_for(url)
    try:
        with session_for(engine) as session:
            yield session
    except OperationalError as exc:  # read-only file, full disk, lost connection: the set-up, not the input
        raise ConfigError(f"the database failed: {_first_line(exc.orig or exc)}") from None
    finally:
        engine.dispose()


def require_current_database(url: str) -> None:
    """Refuse a database that cannot be opened or was migrated by a newer version (configuration, exit 2), or one
    not initialised or not up to date (exit 1, naming the command to run)."""
    from custody.store.db import current_revision, head_revision

    if _is_missing_sqlite_file(url):
        # Opening it would create an empty file that later looks like a database.
        folder_problem = _sqlite_folder_problem(url)
        if folder_problem:
            raise ConfigError(folder_problem)
        raise UserError("the database is not initialised: run `custody init`")
    revision = _revision_or_none(url, current_revision)
    if revision is None:
        raise UserError("the database is not initialised: run `custody init`")
    if revision != head_revision():
        raise UserError(f"the database is at revision {revision}, not {head_revision()}: run `custody db upgrade`")


def _is_missing_sqlite_file(url: str) -> bool:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by _revision_or_none as configuration
        return False
    database = parsed.database or ""
    return (parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            and not database.startswith("file:") and not Path(database).expanduser().is_file())


def _sqlite_folder_problem(url: str) -> str | None:
    """Why the SQLite file of `url` could never be created there (its nearest existing folder is a file, or
    cannot be written), or None."""
    from sqlalchemy.engine import make_url

    folder = Path(make_url(url).database or "").expanduser().absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"cannot create the SQLite database in {folder}: it is a file, not a folder (check [database] url)"
    if not os.access(folder, os.W_OK):
        return f"cannot create the SQLite database in {folder}: the folder is not writable (check [database] url)"
    return None


def _revision_or_none(url: str, current_revision: Callable[[str], str | None]) -> str | None:
    """The database's revision; a database that cannot be opened (or created: a SQLite file's folder that cannot
    be made), or one migrated by a newer version of custody, is a configuration error (exit 2)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from custody.store.db import head_revision, is_known_revision

    try:
        revision = current_revision(url)
    except OperationalError as exc:
        raise ConfigError(f"cannot open the database: {_first_line(exc.orig or exc)}") from None
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"database URL: {_first_line(exc)}") from None
    except OSError as exc:  # the SQLite file's folder cannot be made
        raise ConfigError(_sqlite_folder_problem(url)
                          or f"cannot create the database's folder {exc.filename}: {exc.strerror}") from None
    if revision is not None and not is_known_revision(revision):
        raise ConfigError(f"the database is at revision {revision}, newer than this version of custody knows "
                          f"(its newest is {head_revision()}): run the newer version, or check [database] url")
    return revision


def _upgraded(url: str) -> str | None:
    """Migrate to head and return the new revision; a database that cannot be written is a configuration error."""
    from sqlalchemy.exc import OperationalError

    from custody.store.db import current_revision, upgrade

    try:
        upgrade(url)
    except OperationalError as exc:
        raise ConfigError(f"cannot write the database: {_first_line(exc.orig or exc)}") from None
    return current_revision(url)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration to the configured database.

    Example: CUSTODY_DATABASE_URL=postgresql+psycopg://custody@db/custody custody db upgrade
    """
    from custody.store.db import current_revision

    url = state(ctx).config.database_url
    before = _revision_or_none(url, current_revision)
    after = _upgraded(url)
    typer.echo(f"database at {after}" + (" (unchanged)" if before == after else f" (was {before or 'empty'})"))


@app.command()
def init(ctx: typer.Context) -> None:
    """Set up a new installation: create the database and its tables (safe to run again).

    Example: custody init
    """
    from sqlalchemy.engine import make_url

    from custody.store.db import current_revision

    config = state(ctx).config
    before = _revision_or_none(config.database_url, current_revision)
    after = _upgraded(config.database_url)
    typer.echo(f"configuration: {config.origin}")
    shown = make_url(config.database_url).render_as_string(hide_password=True)
    typer.echo(f"database: {shown} at {after}"
               + (" (already initialised)" if before else " (created)"))


@calendar_app.command("load")
def calendar_load(ctx: typer.Context, file: Path = typer.Argument(..., help="Year schedule (TOML).")) -> None:
    """Load a year's State Council holiday schedule, making that year's deadlines final (no longer provisional).

    The file names the year, its source, the rest-day ranges and the make-up working days:

    year = 2027 / source = "..." / holidays = [["2027-01-01", "2027-01-01"], ...] / workdays = ["2027-02-20"]

    Example: custody calendar load schedule-2027.toml
    """
    from custody.store.calendar import save_schedule
    from custody.workdays import read_schedule_text

    try:
        text = read_schedule_text(file)
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None
    with db_session(ctx) as session:
        schedule, replaced = save_schedule(session, text, str(file))
    typer.echo(f"{schedule.year}: {len(schedule.rest_days)} rest days, {len(schedule.workdays)} make-up working days"
               f" from {schedule.source}" + (" (replaced the earlier schedule)" if replaced else ""))


@calendar_app.command("list")
def calendar_list(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format")) -> None:
    """Years with a loaded schedule, and which years are still provisional.

    Example: custody calendar list --format json
    """
    from custody.store.calendar import calendar_from, stored_schedules
    from custody.workdays import provisional_years

    with db_session(ctx) as session:
        rows = [{"year": s.year, "source": s.source, "rest_days": len(s.rest_days), "workdays": len(s.workdays)}
                for s in stored_schedules(session)]
        provisional = provisional_years(calendar_from(session), clock.today().year)
    emit(rows, fmt, [("year", tr("year"), "int"), ("source", tr("source")), ("rest_days", tr("rest days"), "int"),
                     ("workdays", tr("workdays"), "int")])
    if fmt == Format.table:  # the years whose deadlines are still marked provisional, and what ends that
        typer.echo(tr("provisional (no State Council holiday schedule yet; their deadlines are marked *): {years}; "
                      "`custody calendar load` a year's schedule once it is published",
                      years=_year_ranges(provisional)))


def _year_ranges(years: list[int]) -> str:
    """[2027, 2028, …, 2046] as "2027–2046"; runs apart joined by commas."""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or tr("none")


def stored_schedule(ctx: typer.Context, session, patent):
    """The fee schedule of a stored patent, under the configured rule settings and the loaded holiday schedules."""
    from custody.fees import fee_schedule
    from custody.store.calendar import calendar_from
    from custody.store.patents import facts_of

    rules = load_rules(settings=state(ctx).config.rule_settings)
    return fee_schedule(facts_of(session, patent), rules, calendar_from(session))


def application_number(text: str):
    """The parsed number; one given without its check character is taken, with a warning line naming the check
    character computed for it, since a digit lost in an export would otherwise go unnoticed."""
    try:
        number = parse_application_number(text)
    except InvalidApplicationNumber as exc:  # say whose check digit it is, and what to do
        from importers.messages import detail_zh

        problem = detail_zh(str(exc)) if current_language() == "zh" else str(exc)
        raise UserError(tr("application number {text}: {problem} (a digit mistyped? check the number against the "
                           "certificate)", text=text.strip(), problem=problem)) from None
    if not number.check_supplied:
        typer.echo(f"Warning: {text.strip()} has no check character: taken as {number} (check it against the "
                   "certificate)", err=True)
    return number


def stored_patent(session, appno: str):
    from custody.store.patents import patent_by_number

    number = str(application_number(appno))  # a typo gets its own message, not "no such patent"
    patent = patent_by_number(session, number)
    if patent is None:
        raise UserError(f"no patent {number} in custody (import it first)")
    return patent


@app.command()
def pay(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    year: str = typer.Option(..., "--year", metavar="N", help="Patent year the payment is for."),
    paid_on: str | None = typer.Option(None, "--paid-on", help="Payment date (default: today)."),
    amount: str | None = typer.Option(None, "--amount", help="Amount paid in yuan (default: the amount due)."),
    force: bool = typer.Option(False, "--force", help="Record an amount that differs from the amount due, or an "
                               "implausible payment date."),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Record an annual-fee payment; it advances the paid-through year, is written to the patent's audit trail
    and cancels at once the reminders planned (not yet sent) for that fee.

    A wrong amount for that year and date is refused (the expected amount is shown) unless --force, and so is an
    implausible date: after today (Asia/Shanghai), before the filing date, or earlier than
    rules.advance_payment_months before the year's anniversary. An application number without its check character
    is taken with a warning. Never
    recorded, even with --force: a year outside the patent's fee years, a year already paid, and a payment after
    the grace end (the patent has lapsed: restoration under Rule 6 is a different procedure).

    Example: custody pay 201710601862.3 --year 9 --paid-on 2025-04-20
    """
    from custody.fees import implausible_payment
    from custody.store.patents import payments_total, record_payment

    fee_year = _whole_number(year, "--year")
    day = option_date(paid_on, "--paid-on") or clock.today()
    given = _amount(amount) if amount is not None else None
    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        schedule = stored_schedule(ctx, session, patent)
        implausible = implausible_payment(schedule, fee_year, day, clock.today())
        if implausible and not force:
            raise UserError(f"year {fee_year} of {patent.application_number}: {implausible} (use --force to "
                            "record it anyway)")
        expected = _expected_or_refuse(schedule, fee_year, day, payments_total(session, patent, fee_year))
        paid = given if given is not None else expected
        if paid != expected and not force:
            raise UserError(f"year {fee_year} of {patent.application_number} paid on {day} should be {expected} "
                            f"yuan, not {paid} (use --force to record it anyway)")
        record_payment(session, patent, fee_year, paid, day, source="cli", note=note)
        through = patent.paid_through
    typer.echo(tr("recorded {paid} yuan for year {year} of {number} on {day}; paid through year {through}",
                  paid=paid, year=fee_year, number=patent.application_number, day=day, through=through))


def _expected_or_refuse(schedule, year: int, day: date, already: Decimal) -> Decimal:
    """What a payment for `year` on `day` should be; refuses (whatever --force says) a year that is not a fee year
    of this patent, one already paid, and a payment after the grace end."""
    from custody.fees import LapsedError, expected_payment, restoration_quote

    fee = schedule.year(year)  # FeeInputError: outside this patent's fee years
    if fee.paid and already == 0:
        raise UserError(f"year {year} is already paid (paid through year {schedule.facts.paid_through} on record)")
    try:
        expected = expected_payment(schedule, year, day, already)
    except LapsedError as exc:
        restoring = restoration_quote(schedule, year)
        raise UserError(f"{exc}; a payment cannot be recorded now: restoring (Rule 6) costs {restoring.total} yuan "
                        f"and is a separate request") from None
    if expected <= 0:
        raise UserError(f"year {year} is already paid in full ({already} yuan on record)")
    return expected


def _amount(text: str) -> Decimal:
    from custody.amounts import AmountParseError, parse_amount

    try:
        return parse_amount(text)
    except AmountParseError as exc:
        raise UserError(f"--amount: {exc}") from None


@patent_app.command("show")
def patent_show(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    as_of: str | None = typer.Option(None, "--as-of", help="Evaluate on this date (default: today)."),
    fmt: ScheduleFormat = typer.Option(ScheduleFormat.table, "--format", help="table or json"),
) -> None:
    """A stored patent: its enterprise, custody mode, reduction, open licences, payments and fee schedule.

    Example: custody patent show ZL201710601862.3 --format json
    """
    from cli_rich import print_payments, print_schedule
    from custody.fee_text import custody_line, patent_lines
    from custody.models import Enterprise
    from custody.store.patents import open_licences_of, payments_of
    from custody.views import mark_amounts_owed, mark_import_flags, number, schedule_dict

    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        schedule = stored_schedule(ctx, session, patent)
        view = schedule_dict(schedule, option_date(as_of, "--as-of") or clock.today())
        view["patent"] = _patent_dict(patent)
        enterprise = session.get(Enterprise, patent.enterprise_id) if patent.enterprise_id else None
        view["patent"]["enterprise"] = ({"credit_code": enterprise.credit_code, "name": enterprise.name}
                                        if enterprise else None)
        view["patent"]["open_licences"] = [{"start": period.start.isoformat(),
                                            "end": period.end.isoformat() if period.end else None}
                                           for period in open_licences_of(session, patent)]
        payments = payments_of(session, patent)
        view["payments"] = [{"year": p.year, "amount": number(p.amount), "paid_on": p.paid_on.isoformat(),
                             "source": p.source, "note": p.note} for p in payments]
        mark_import_flags(view, bool(patent.paid_through_inferred), patent.unknown_through,
                          {p["year"] for p in view["payments"]})
        mark_amounts_owed(view, schedule, [(p.year, p.amount, p.paid_on) for p in payments])
        view["custody"] = _displayed(ctx, session, patent, view["as_of"])
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    for line in patent_lines(view["patent"]):
        console.print(line)
    console.print(custody_line(view["custody"]))
    print_schedule(console, view)
    print_payments(console, view["payments"], view["amounts_owed"])


def _displayed(ctx: typer.Context, session, patent, as_of: str) -> dict[str, Any]:
    """The patent's facts as every report shows them (custody.display): state, next fee, reduction, decision,
    pledge, mode."""
    from custody.display import evaluate, patent_display
    from custody.store.calendar import calendar_from
    from custody.store.reports import portfolio
    from custody.views import display_dict

    day = date.fromisoformat(as_of)
    rules = load_rules(settings=state(ctx).config.rule_settings)
    (evaluated,), _ = evaluate(portfolio(session, patent_id=patent.id), rules, calendar_from(session), day)
    return display_dict(patent_display(evaluated, day))


def _patent_dict(patent) -> dict[str, Any]:
    fields = ("application_number", "title", "owners", "type", "filing_date", "granted_on", "grant_year",
              "grant_year_inferred", "paid_through", "paid_through_inferred", "reduction", "reduction_recorded_on",
              "term_extension_days", "legal_status", "legal_status_date", "mode")
    return {f: (v.isoformat() if isinstance(v, date) else (str(v) if isinstance(v, StrEnum) else v))
            for f in fields for v in [getattr(patent, f)]}



# ---------------------------------------------------------------------------------------------- import (issue 3)


@contextmanager
def _import_progress(enabled: bool, console: Console | None = None):
    """A rich progress bar on stderr, with the file's row count as its total when that is known, only when stderr
    is a terminal; else a no-op. Yields `start(label, total) -> advance(n)`."""
    console = console or Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda label, total=None: (lambda n: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:

        def start(label: str, total: int | None = None) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)

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
    from custody.store.imports import StoreLookup, previous_import
    from importers.columns import ProfileError
    from importers.context import Options
    from importers.files import open_import
    from importers.rejects import default_rejects_path, write_rejects
    from importers.summary import (
        default_problems_path,
        failure_line,
        note_held_back,
        summary_dict,
        write_problems_file,
    )

    if fmt == Format.csv:
        typer.echo("Error: import prints table or json (--format csv is for reports)", err=True)
        raise typer.Exit(2)
    st = state(ctx)
    language = st.config.language
    code, day = (parse_credit_code(enterprise) if enterprise else None), option_date(as_of, "--as-of")
    with db_session(ctx) as session, _import_progress(fmt == Format.table) as progress:
        engine = session.get_bind()  # the import writes through a connection of its own, in one transaction
        # Built once the database is known to be ready: the calendar reads the schedules loaded into it.
        options = Options(rules=load_rules(settings=st.config.rule_settings), calendar=calendar_for(st),
                          language=language, enterprise=code, as_of=day, profile_name=profile,
                          import_config=st.config.section("import"))
        lookup = StoreLookup(engine)
        try:
            opened = open_import(file, kind, lookup, options)
        except ProfileError as exc:  # a usage error: exit 2
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from None
        previous = previous_import(engine, opened.batch.sha256, kind) if opened.batch.sha256 else None
        opened.batch.partial = partial
        inspect = _reach_check(st, opened, strict) if kind == "enterprises" else None
        outcome = _written(engine, opened, lookup, progress, dry_run=dry_run, partial=partial,
                           allow_lower_paid_through=allow_lower_paid_through, inspect=inspect)
    note_held_back(opened, outcome)
    rejects = None
    if outcome is not None and opened.error_rows and not dry_run:
        rejects = rejects_out or default_rejects_path(file)
        write_rejects(opened, rejects, language)
    summary = summary_dict(opened, language, outcome, previous, str(rejects) if rejects else None)
    if fmt == Format.table:
        write_problems_file(summary, default_problems_path(file), language)
    _show_import(summary, fmt, language)
    if opened.has_errors and (outcome is None or not partial):
        typer.echo(f"Error: {failure_line(summary, language)}", err=True)
    if opened.has_errors:
        raise typer.Exit(1)


def _reach_check(st: State, opened, strict: bool):
    """After an enterprises file is written (same transaction): each of its enterprises left with nobody who
    receives before-due reminders is a warning (an error with --strict) at its rows."""
    def inspect(conn) -> None:
        from custody.store.reach import enterprise_reach, why_unreached
        from importers.enterprises import note_unreached

        settings = _configured_reminders(st)
        unreached = enterprise_reach(conn, settings, opened.enterprise_rows, unreached_only=True)
        why = why_unreached(conn, settings, unreached)
        note_unreached(opened.sink, opened.header, opened.enterprise_rows,
                       {e.credit_code: why[e.id] for e in unreached}, strict)
        opened.stats["no_before_due_recipient"] = [e.credit_code for e in unreached]  # for scripts (JSON)
        # With --partial, rows already written that are now errors: the file is written again without them.
        opened.late_rejections = opened.late_rejections or (strict and bool(unreached))
    return inspect


def _written(engine, opened, lookup, progress, *, dry_run: bool, partial: bool, allow_lower_paid_through: bool,
             inspect=None):
    """The Outcome of writing `opened` chunk by chunk in one transaction, or None when it was rolled back (the
    file has errors and neither --partial nor --dry-run asked for the good rows)."""
    from custody.store.imports import apply_chunks

    if opened.header is None:
        return None
    # A real import without --partial stops writing at the first error (it will roll back anyway).
    writes = partial or dry_run
    advance = progress("checking" if dry_run else "importing", opened.estimated_rows())
    chunks = opened.chunks(lambda: writes or not opened.has_errors, advance)
    outcome = apply_chunks(engine, opened.batch, chunks, dry_run=dry_run, started_at=clock.now(), now=clock.now(),
                           allow_lower_paid_through=allow_lower_paid_through, lookup=lookup, inspect=inspect,
                           keep=lambda: not opened.late_rejections and (writes or not opened.has_errors))
    if outcome is None and opened.late_rejections and writes:
        # A row written early was rejected by a later duplicate: write the file again without the rejected rows.
        outcome = apply_chunks(engine, opened.batch, opened.again().chunks(), dry_run=dry_run, started_at=clock.now(),
                               now=clock.now(), allow_lower_paid_through=allow_lower_paid_through, lookup=lookup)
    return outcome


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


@import_app.command("enterprises")
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


@import_app.command("patents")
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


@import_app.command("payments")
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


# ---------------------------------------------------------------------------------------------- reminders (issue 4)
# Policy, tables and ticks: custody/reminder_policy.py, custody/store/{due,planner,outbox}.py, scheduler/.
# Running it (systemd unit, crontab line) and the policy keys: docs/reminders.md.

enterprise_app = typer.Typer(help="Enterprises: who receives their reminders, and their standing instructions.\n\n"
                             "Example: custody enterprise set 91350100M000100Y43 --no-sms --agency",
                             no_args_is_help=True)
app.add_typer(enterprise_app, name="enterprise")


def _reminder_settings(st: State):
    from custody.reminder_settings import reminder_settings

    return reminder_settings(st.config.section("reminders"))


def _configured_reminders(st: State):
    """The [reminders] settings with the channels this configuration can send on."""
    from dataclasses import replace

    from notifiers.registry import sending_channels

    return replace(_reminder_settings(st), sending_channels=sending_channels(st.config))


@contextmanager
def reminder_ticks(ctx: typer.Context, transports: bool = True):
    """The ticks' context on the configured (initialised, up-to-date) database, with the configured channels.
    Planning (also `remind plan --dry-run`) plans on the channels that can send, whether or not `transports`."""
    from dataclasses import replace

    from custody.store.db import engine_for
    from notifiers.registry import sending_channels
    from scheduler.ticks import Ticks

    st = state(ctx)
    settings, rules = _reminder_settings(st), load_rules(settings=st.config.rule_settings)
    settings = replace(settings, sending_channels=sending_channels(st.config))
    url = st.config.database_url
    require_current_database(url)
    channels = {}
    if transports:
        from notifiers.registry import channel_problems, transports_from_config

        for problem in channel_problems(st.config):
            log.warning("%s", problem)
        channels = transports_from_config(st.config)
    engine = engine_for(url)
    try:
        yield Ticks(engine, settings, rules, channels, statements=_statement_settings(ctx, rules))
    finally:
        engine.dispose()


def _log_to_stderr(level: int = logging.INFO) -> None:
    """Log lines on stderr (journald, cron mail), personal data and secrets masked. The stderr handler of
    `configure_logging` is the one made more talkative: a second one would print every warning twice."""
    from custody.masking import MaskingFilter

    root = logging.getLogger()
    stderr = [h for h in root.handlers if getattr(h, "_custody", False) and not isinstance(h, logging.FileHandler)]
    if not stderr:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(MaskingFilter())
        handler._custody = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        stderr = [handler]
    for handler in stderr:
        handler.setFormatter(_ShanghaiTimes("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(level)
    root.setLevel(min(root.level or logging.WARNING, level))


def _status_jobs(config: Config, status_at) -> list:
    """The daemon's legal-status jobs from [status] (daily and at start; the drop folder every minute)."""
    from scheduler.ops_tick import ops_jobs
    from scheduler.status_tick import status_jobs

    return status_jobs(status_wiring(config), status_at) + ops_jobs(ops_wiring(config))


@app.command()
def daemon(
    ctx: typer.Context,
    plan_at: str = typer.Option("08:00", "--plan-at", help="Daily planning time, Asia/Shanghai (also at start)."),
    status_at: str = typer.Option("07:30", "--status-at", help="Daily legal-status tick, Asia/Shanghai (also at "
                                  "start)."),
) -> None:
    """Run the ticks on a timer until SIGTERM: plan daily and at start (then send at once), dispatch every minute,
    pull SMS receipts every 10 minutes, the legal-status tick daily and at start, look into the \\[status]
    drop folder every minute, with OPS credentials set, run the OPS watch every \\[status.ops]
    run_every_minutes and, with \\[statement] enabled, email the enterprise statements from the period's day (daily
    at 09:00 and at start). SIGTERM lets the running tick finish and exits 0. One daemon per database;
    `custody run-once` from cron alongside it is safe.

    Example: custody daemon --plan-at 07:30 --status-at 07:00
    """
    from datetime import time

    from scheduler.daemon import run_daemon
    from scheduler.statements import statement_jobs

    times = {}
    for name, text in (("--plan-at", plan_at), ("--status-at", status_at)):
        try:
            times[name] = time.fromisoformat(text)
        except ValueError:
            raise UserError(f"{name}: {text!r} is not a time like 08:00") from None
    _log_to_stderr()
    with reminder_ticks(ctx) as ticks:
        code = run_daemon(ticks, times["--plan-at"], _status_jobs(state(ctx).config, times["--status-at"])
                          + statement_jobs(ticks))
    raise typer.Exit(code)


@app.command("run-once")
def run_once_command(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format")) -> None:
    """The legal-status tick (the drop folder each run, the \\[status.http] feed once a day) and, with \\[statement]
    enabled, the period's statements when due, then plan, dispatch and pull receipts once, for crontab (safe
    while the daemon runs). Exits 1 if a tick failed, a status file in the drop folder was refused (moved to
    failed/, with why beside it) or a feed could not be applied. With \\[status.ops] enabled and the OPS
    credentials set, the OPS watch runs first too, as in the daemon (only the patents due by its weekly schedule
    are checked); a run OPS refused, or paused for the weekly quota, exits 1.

    Example: */5 * * * * custody --config /etc/custody/config.toml run-once
    """
    from functools import partial

    from scheduler.ops_tick import ops_once
    from scheduler.statements import statement_plan_tick
    from scheduler.status_tick import status_failures, status_today
    from scheduler.ticks import run_once

    _log_to_stderr(logging.WARNING)
    with reminder_ticks(ctx) as ticks:
        before = {"status": partial(status_today, wiring=status_wiring(state(ctx).config))}
        if ticks.statements.enabled:
            before["statements"] = statement_plan_tick
        before.update(ops_once(ops_wiring(state(ctx).config)))  # the OPS watch, as the daemon runs it
        results = run_once(ticks, before)
    rows = [{"tick": name, "result": _tick_words(summary) if fmt == Format.table else json.dumps(summary,
                                                                                                 ensure_ascii=False)}
            for name, summary in results.items()]
    emit(rows, fmt, [("tick", tr("tick"), "text", "tick"), ("result", tr("result"))])
    refused = status_failures(results.get("status", {}))
    for line in refused:
        typer.echo(f"Error: {redacted(line)}", err=True)
    if refused or any(summary.get("error") for summary in results.values()):  # the OPS run says "error": false
        raise typer.Exit(1)


def _tick_words(summary: dict) -> str:
    """A tick's counts as the operator reads them (the JSON and CSV keep the keys, for scripts)."""
    sep = "、" if current_language() == "zh" else ", "
    return sep.join(f"{label('tick_count', key)} {_tick_value(value)}" for key, value in summary.items())


def _tick_value(value) -> str:
    if isinstance(value, list):
        return str(len(value))
    return label("tick_count", value) if value is None or isinstance(value, bool) else str(value)


@app.command()
def health(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format")) -> None:
    """Exit 1 when a tick has not succeeded in time, a message is stuck or late, a channel is paused, or (with OPS
    credentials set) the OPS watch has not completed a cycle in twice \\[status.ops] interval_days.

    Example: custody health --format json
    """
    from custody.store.db import session_for
    from custody.store.health import health_checks

    with reminder_ticks(ctx) as ticks:
        expects_receipts = hasattr(ticks.transports.get("sms"), "delivery_reports")
        with session_for(ticks.engine) as session:
            checks = health_checks(session, ticks.settings, clock.now(), expects_receipts)
            ops = ops_wiring(state(ctx).config)
            if ops.gateway is not None and ops.settings.enabled:
                from custody.store.ops_watch import ops_check

                checks.append(ops_check(session, ops.settings, clock.now()))
    emit([{"check": c.name, "ok": c.ok, "status": "ok" if c.ok else "FAIL", "detail": c.detail} for c in checks],
         fmt, [("check", tr("check"), "text", "health_check"), ("status", tr("status"), "text", "check"),
               ("detail", tr("detail"))])
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _plan_moment(as_of: date | None):
    from datetime import datetime, time

    from custody.clock import SHANGHAI

    if as_of is None or as_of == clock.today():
        return clock.now()
    return datetime.combine(as_of, time(0), SHANGHAI)


@remind_app.command("plan")
def remind_plan(
    ctx: typer.Context,
    as_of: str | None = typer.Option(None, "--as-of", help="With --dry-run: show what would be planned on this "
                                     "day (00:00 Asia/Shanghai) instead of now."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be planned and why; change nothing."),
    full: bool = typer.Option(False, "--full", help="Recompute every patent's next fee first (else only changed)."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Plan the reminders due now: one per fee, tier, channel and recipient, never twice. With --dry-run
    --as-of DATE, show what would go out on another day, and why.

    Example: custody remind plan --as-of 2025-04-01 --dry-run
    """
    from sqlmodel import Session

    from custody.store.calendar import calendar_from
    from custody.store.planner import plan

    day = option_date(as_of, "--as-of")
    if day is not None and not dry_run:
        # Planning as of another day would save that day's state (the patents' next firing days, the refresh
        # cursor) as if it were today's, and the daemon would then skip real reminders.
        typer.echo("Error: --as-of only goes with --dry-run (real planning is always as of now)", err=True)
        raise typer.Exit(2)
    with reminder_ticks(ctx, transports=False) as ticks, Session(ticks.engine, expire_on_commit=False) as session:
        # Another day: every patent's next fee is recomputed for it (inside the transaction rolled back below),
        # not read from patent_due as the daemon last computed it.
        result = plan(session, ticks.settings, ticks.rules, calendar_from(session), _plan_moment(day),
                      keep_lines=True, full_refresh=full or day is not None, dry_run=dry_run)
        session.rollback() if dry_run else session.commit()
    rows = [{"enterprise": line.enterprise, "patent": line.application_number, "year": line.fee_year,
             "tier": line.tier, "channel": line.channel, "recipient": line.recipient,
             "send_at": line.send_at.strftime("%Y-%m-%d %H:%M") if line.send_at else "",
             "outcome": line.outcome if fmt != Format.table else _outcome_words(line.outcome)}
            for line in result.lines]
    emit(rows, fmt, [("enterprise", tr("enterprise")), ("patent", tr("application number")), ("year", tr("year"),
                                                                                                   "int"),
                     ("tier", tr("tier")), ("channel", tr("channel"), "text", "channel"),
                     ("recipient", tr("recipient")), ("send_at", tr("send at"), "date"),
                     ("outcome", tr("outcome"), "main")], title=tr("dry run: nothing saved") if dry_run else None)
    if fmt == Format.table:
        typer.echo(tr("would plan {items} items in {messages} messages; {skipped} skipped; {cancelled} cancelled"
                      if dry_run else "planned {items} items in {messages} messages; {skipped} skipped; {cancelled} "
                      "cancelled", items=result.items, messages=result.messages, skipped=result.skipped,
                      cancelled=result.cancelled)
                   + (tr("; {n} patents left out (fee facts refused)", n=result.screened) if result.screened else "")
                   + (tr("; {n} rerouted to the fallback channel", n=result.rerouted) if result.rerouted else ""),
                   err=True)


def _outcome_words(outcome: str) -> str:
    """A planning line's outcome for people: planned / already planned, or why it was skipped, in the language."""
    if outcome.startswith("skipped: "):
        return tr("skipped: {why}", why=outcome.removeprefix("skipped: "))
    return label("plan_outcome", outcome)


def reminder_columns() -> list[tuple[str, ...]]:
    """The outbox table's columns (key, heading, kind, domain), headings in the configured language."""
    return [("id", "id", "int"), ("state", tr("state"), "text", "reminder_state"),
            ("kind", tr("kind"), "text", "reminder_kind"), ("channel", tr("channel"), "text", "channel"),
            ("recipient", tr("recipient")), ("enterprise", tr("enterprise")), ("patents", tr("patents")),
            ("day", tr("day"), "date"), ("not_before", tr("not before"), "date"), ("attempts", tr("attempts"), "int"),
            ("last", tr("last code / reason"))]


@remind_app.command("list")
def remind_list(
    ctx: typer.Context,
    state_: str | None = typer.Option(None, "--state", help="planned, sending, unknown, sent, delivered, failed, "
                                      "cancelled."),
    channel: str | None = typer.Option(None, "--channel"),
    limit: int = typer.Option(200, "--limit", min=1, max=100_000, help="At most this many (1-100000)."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """The outbox, newest first (recipients masked).

    Example: custody remind list --state failed --format csv
    """
    from custody.models.reminders import REMINDER_STATES
    from custody.store.db import session_for
    from custody.store.listing import reminder_rows

    if state_ is not None and state_ not in REMINDER_STATES:  # a usage error, like a bad --format: exit 2
        typer.echo(f"Error: --state must be one of {', '.join(REMINDER_STATES)}", err=True)
        raise typer.Exit(2)
    with reminder_ticks(ctx, transports=False) as ticks, session_for(ticks.engine) as session:
        rows = reminder_rows(session, state_, channel, limit)
    emit(rows, fmt, reminder_columns())


@remind_app.command("send")
def remind_send(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="List what is due to go out now; send nothing."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Send the reminders due now (the dispatch tick, once). Exits 1 if something failed for good.

    Example: custody remind send --dry-run
    """
    from custody.store.db import session_for
    from custody.store.listing import reminder_rows
    from scheduler.ticks import dispatch_tick

    with reminder_ticks(ctx, transports=not dry_run) as ticks:
        if dry_run:
            with session_for(ticks.engine) as session:
                rows = reminder_rows(session, "planned", None, 10_000, due_by=clock.now())
            emit(rows, fmt, reminder_columns(), title=tr("dry run: nothing sent"))
            return
        summary = dispatch_tick(ticks)
        held = _held_rows(ticks)
    emit([{"outcome": k, "count": v} for k, v in summary.items()] + held, fmt,
         [("outcome", tr("outcome"), "text", "reminder_state"), ("count", tr("count"), "int")])
    if "error" in summary or summary.get("failed"):
        raise typer.Exit(1)


def _held_rows(ticks) -> list[dict[str, Any]]:
    """What waits for a channel's sending hours, and until when (custody.store.preview.held_for_quiet_hours)."""
    from custody.clock import SHANGHAI
    from custody.store.db import session_for
    from custody.store.preview import held_for_quiet_hours

    with session_for(ticks.engine) as session:
        held = held_for_quiet_hours(session, ticks.settings, clock.now())
    return [{"outcome": tr("held for quiet hours: {channel} until {until}", channel=label("channel", h.channel),
                           until=h.until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")), "count": h.count}
            for h in held]


@remind_app.command("preview")
def remind_preview(
    ctx: typer.Context,
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP_LIST),
    day_: str | None = typer.Option(None, "--date", help="Preview this day (default: the rest of today)."),
    fmt: ScheduleFormat = typer.Option(ScheduleFormat.table, "--format", help="table or json"),
) -> None:
    """The exact SMS and email texts that would go out on a day, composed by the dispatcher's own code (planning
    and preparation run in a transaction that is rolled back): nothing is saved, nothing is sent.

    Example: custody remind preview --enterprise 91350100M000100Y43 --date 2026-04-01
    """
    from sqlmodel import Session

    from custody.store.calendar import calendar_from
    from custody.store.planner import plan
    from custody.store.preview import day_span, preview_dict, preview_lines, previews
    from scheduler.dispatch import send_limits

    day = option_date(day_, "--date") or clock.today()
    if day < clock.today():
        raise UserError(f"--date {day} is past: what went out then is in `custody remind list`")
    with reminder_ticks(ctx) as ticks, Session(ticks.engine, expire_on_commit=False) as session:
        owner = _enterprise(session, enterprise).id if enterprise else None
        at, until = day_span(day, _plan_moment(day))
        plan(session, ticks.settings, ticks.rules, calendar_from(session), at, full_refresh=day != clock.today(),
             dry_run=True)
        found = previews(session, ticks.settings, at, until, *send_limits(ticks), ticks.restoration, owner)
        session.rollback()
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps([preview_dict(p) for p in found], ensure_ascii=False, indent=2))
        return
    for p in found:
        typer.echo("\n".join(preview_lines(p)))
    typer.echo(tr("{n} message(s) would go out on {day}; nothing saved, nothing sent", n=len(found), day=day),
               err=True)


@enterprise_app.command("set")
def enterprise_set(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Unified social credit code (统一社会信用代码)."),
    sms: bool | None = typer.Option(None, "--sms/--no-sms", help="Allow SMS reminders (default: allowed)."),
    remind_only: bool | None = typer.Option(None, "--remind-only/--we-pay",
                                            help="The enterprise pays itself; we only remind."),
    agency: bool | None = typer.Option(None, "--agency/--no-agency", help="It pays through a patent agency."),
    skip_abandoned: bool | None = typer.Option(None, "--skip-abandoned/--remind-abandoned",
                                               help="No reminders at all for patents it marked to abandon."),
    note: str | None = typer.Option(None, "--note"),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Set an enterprise's standing instructions for reminders (flags not given stay as they are).

    Example: custody enterprise set 91350100M000100Y43 --no-sms --agency
    """
    from sqlmodel import select

    from custody.creditcode import parse_credit_code
    from custody.models import Enterprise
    from custody.store.standing import set_instructions

    with db_session(ctx) as session:
        enterprise = session.exec(select(Enterprise).where(Enterprise.credit_code == str(parse_credit_code(code))))
        enterprise = enterprise.first()
        if enterprise is None:
            raise UserError(f"no enterprise with credit code {code}")
        now = set_instructions(session, enterprise, note, remind_only=remind_only, no_sms=None if sms is None
                               else not sms, via_agency=agency, skip_abandoned=skip_abandoned)
        name = enterprise.name
    emit([{"enterprise": name, "sms": not now.no_sms, "remind_only": now.remind_only, "agency": now.via_agency,
           "skip_abandoned": now.skip_abandoned}], fmt,
         [("enterprise", tr("enterprise")), ("sms", tr("SMS allowed")), ("remind_only", tr("reminders only")),
          ("agency", tr("pays through an agency")), ("skip_abandoned", tr("no reminders for abandoned patents"))])


ENTERPRISE_COLUMNS = [("credit_code", "信用代码"), ("name", "企业"), ("contacts", "联系人"),
                      ("recipients", "到期前接收人"), ("custody_patents", "托管专利"),
                      ("watch_patents", "仅监控专利"), ("ended_patents", "托管已终止专利")]


@enterprise_app.command("list")
def enterprise_list(
    ctx: typer.Context,
    no_recipient: bool = typer.Option(False, "--no-recipient", help="Only enterprises none of whose contacts "
                                      "receives before-due reminders (role, address and consent, per \\[reminders])."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Enterprises by credit code: contacts, how many of them receive before-due reminders, patents in custody,
    watch-only and whose custody ended.

    Example: custody enterprise list --no-recipient --format csv
    """
    from custody.store.directory import patents_by_mode
    from custody.store.reach import enterprise_reach

    with db_session(ctx) as session:
        found = enterprise_reach(session, _configured_reminders(state(ctx)), unreached_only=no_recipient)
        modes = patents_by_mode(session)
    emit([{"credit_code": e.credit_code, "name": e.name, "contacts": e.contacts, "recipients": e.recipients,
           "custody_patents": e.custody_patents, "watch_patents": modes.get(e.id, {}).get("watch", 0),
           "ended_patents": modes.get(e.id, {}).get("ended", 0)} for e in found], fmt, ENTERPRISE_COLUMNS)


contact_app = typer.Typer(help="Contacts' consent to reminders, per channel.\n\n"
                          "Example: custody contact set 13800138000 --no-sms", no_args_is_help=True)
app.add_typer(contact_app, name="contact")


@contact_app.command("set")
def contact_set(
    ctx: typer.Context,
    address: str = typer.Argument(..., help="The contact's mobile number or email address."),
    enterprise: str | None = typer.Option(None, "--enterprise", help="Only this enterprise's contact (credit code)."),
    sms: bool | None = typer.Option(None, "--sms/--no-sms", help="Consent to SMS reminders (opt in / opt out)."),
    email: bool | None = typer.Option(None, "--email/--no-email", help="Consent to email reminders."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Record a contact's opt-out (or opt-in) per channel, e.g. after a reply 退订; honoured for every message
    not yet sent. Exits 1 when no contact has that address.

    Example: custody contact set 13800138000 --no-sms
    """
    from custody.store.outbox import enterprise_name
    from custody.store.reports import UnknownEnterprise, enterprise_by_code
    from custody.store.standing import set_consent

    if sms is None and email is None:
        raise UsageError("give --sms/--no-sms, --email/--no-email or both")
    key = _contact_address(address)
    with db_session(ctx) as session:
        try:
            enterprise_id = enterprise_by_code(session, enterprise).id if enterprise else None
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
        contacts = set_consent(session, key, enterprise_id, sms=sms, email=email)
        if not contacts:
            raise UserError(f"no contact with {address}" + (f" at enterprise {enterprise}" if enterprise else ""))
        rows = [{"enterprise": enterprise_name(session, c.enterprise_id), "name": c.name, "role": c.role,
                 "mobile": c.mobile, "email": c.email, "consent_sms": c.consent_sms,
                 "consent_email": c.consent_email} for c in contacts]
    emit(rows, fmt, [("enterprise", tr("enterprise")), ("name", tr("name")), ("role", tr("role"), "text", "role"),
                     ("mobile", tr("mobile")), ("email", tr("email")), ("consent_sms", tr("SMS consent")),
                     ("consent_email", tr("email consent"))])


def _contact_address(address: str) -> str:
    """A mobile number or email address in the form contacts are stored in (importers.values' readers)."""
    from importers.values import CellProblem, email, mobile

    reader = email if "@" in address else mobile
    try:
        return reader(address)
    except CellProblem:
        raise UserError(f"{address!r} is neither a mainland mobile number nor an email address") from None


# ---------------------------------------------------------------------------------------------- status (issue 5)


def status_wiring(config: Config):
    """The legal-status sources configured in [status], handed to the daemon's status ticks (scheduler/ never
    imports importers/, so the wiring is done here)."""
    from importers.status_file import read_status_file
    from importers.status_http import http_source_from_config
    from scheduler.status_tick import StatusWiring

    section = config.section("status")
    http = section.get("http", {})

    def feeds() -> list:
        return [http_source_from_config(http, config.origin)] if http.get("url") else []

    drop = section.get("drop_folder")
    return StatusWiring(feeds, read_status_file, Path(drop) if drop else None,
                        tuple(section.get("notify_channels", ["email"])),
                        tuple(section.get("digest_roles", ["ip_manager"])), float(section.get("settle_seconds", 5)))


def ops_wiring(config: Config):
    """The OPS watch from [status.ops] and the credentials in the environment (never from a file)."""
    from custody.config import secret
    from custody.ops_schedule import KEY_ENV, SECRET_ENV, ops_settings
    from importers.status_ops import OpsGateway, OpsStatusSource
    from scheduler.ops_tick import OpsWiring
    from scheduler.status_tick import plan_status_notices

    status = config.section("status")
    settings = ops_settings(status.get("ops", {}), config.origin)
    key, secret_value = secret(KEY_ENV), secret(SECRET_ENV)
    missing = None if key and secret_value else tr("{key} and {secret} are not both set in the environment",
                                                   key=KEY_ENV, secret=SECRET_ENV)
    gateway = (lambda: OpsGateway(key, secret_value, settings.base_url, settings.timeout_seconds)) if not missing \
        else None
    return OpsWiring(settings, gateway, OpsStatusSource, missing,
                     lambda engine, rules, now, alerts: plan_status_notices(engine, status_wiring(config), rules, now,
                                                                            alerts))


def _status_engine(ctx: typer.Context):
    from custody.store.db import engine_for

    with db_session(ctx):  # refuses a database that is not initialised or not up to date
        pass
    return engine_for(state(ctx).config.database_url)


def _show_sync(shown: dict[str, Any], fmt: Format) -> None:
    """What a sync did: one source, or each file of a folder (`files`), as a table or as one JSON document."""
    items = shown.get("files", [shown])
    if fmt == Format.json:
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2, default=str))
    for item in items if fmt == Format.table else ():
        where = f"{item['file']}: " if "file" in item else ""
        moved = f" -> {item['moved_to']}" if item.get("moved_to") else ""
        if "error" in item:
            typer.echo(where + tr("refused, nothing applied: {error}", error=redacted(item['error'])) + moved, err=True)
            continue
        typer.echo(f"{where}{item['summary']}{moved}")
        if item.get("effects"):
            emit(item["effects"], Format.table, [("application_number", tr("application number")),
                                                 ("code", tr("effect"), "text", "effect"), ("message", tr("why"))])
    if "files" in shown and not items and fmt == Format.table:
        typer.echo(tr("{folder}: no legal-status exports to apply", folder=shown['folder']))
    # Unrecognised statuses are kept, and always told to the operator (on stderr, so JSON stays clean).
    for item in items:
        for u in item.get("unknown", ()):
            typer.echo(tr("review: unrecognised status kept: {number} {day} {status} ({location})",
                          number=u['application_number'], day=u['announced_on'], status=u['status'],
                          location=u['location']), err=True)
        for u in item.get("unmatched", ()):
            typer.echo(tr("note: {number} is not in the portfolio ({location}): skipped",
                          number=u['application_number'], location=u['location']), err=True)
    if shown.get("waiting"):
        typer.echo(tr("note: still being copied in (younger than [status] settle_seconds), left for the next "
                      "sync: {files}", files=', '.join(shown['waiting'])), err=True)
    if shown.get("left_alone"):
        typer.echo(tr("note: left alone (not legal-status exports): {files}", files=', '.join(shown['left_alone'])),
                   err=True)


@status_app.command("sync")
def status_sync(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="A legal-status export (CSV/XLSX), a folder of them (applied files "
                                 "move to done/, refused ones to failed/; any other file is left alone), `http` "
                                 "(the feed in \\[status.http]), `drop` (the drop folder in \\[status]) or `ops` "
                                 "(the patents due for a check at the EPO's Open Patent Services)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing (with `ops`, "
                                 "the volume downloaded still counts against the quota)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
    patent: str | None = typer.Option(None, "--patent", help="With `ops`: check this patent now, due or not."),
) -> None:
    """Apply legal-status records: each new event is recorded once, with every effect on reminders and its cause.

    A source with any unreadable record, an HTTP error or a malformed body changes nothing (exit 1). Unrecognised
    statuses are listed and, like any failure, alerted to the operator through the reminders outbox. A folder
    takes only .csv, .xlsx, .xlsm and .xls files.

    `ops` checks the patents due at OPS (credentials in CUSTODY_OPS_KEY and CUSTODY_OPS_SECRET), within the
    weekly quota; `custody status ops-usage` shows where it stands.

    Example: custody status sync 法律状态导出-2025-06.xlsx --dry-run
    """
    from scheduler.status_tick import plan_status_notices

    if fmt == Format.csv:
        raise UsageError("status sync prints table or json")
    if source == "ops" or patent is not None:
        return _sync_ops(ctx, patent, dry_run, fmt)
    st = state(ctx)
    rules, wiring, now = load_rules(settings=st.config.rule_settings), status_wiring(st.config), clock.now()
    settings = _reminder_settings(st)  # the operator is alerted of unknown statuses and failures, as by the daemon
    engine = _status_engine(ctx)
    try:
        with _alerts_off_stderr():
            shown, failures = _sync(source, engine, wiring, rules, now, dry_run, st.config, settings)
            if not dry_run:
                plan_status_notices(engine, wiring, rules, now, settings)
    finally:
        engine.dispose()
    _show_sync(shown, fmt)
    if dry_run:
        typer.echo(tr("dry run: nothing was changed"), err=True)
    if failures:
        raise UserError("; ".join(failures))


class _NotOperatorAlerts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "custody.store.outbox" and str(record.msg).startswith("operator alert"))


@contextmanager
def _alerts_off_stderr():
    """Each operator alert is logged as a warning when planned (custody.store.outbox.plan_alert); a command that
    says the same on its own lines (`Error:`, `review:`) keeps that copy off stderr: it stays in the log file and
    the alert itself goes out through the outbox."""
    quiet = _NotOperatorAlerts()
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def _sync(source: str, engine, wiring, rules, now, dry_run: bool, config: Config,
          settings) -> tuple[dict[str, Any], list[str]]:
    """(what to show, failures) of syncing SOURCE: a file, a folder, `http` or `drop`."""
    from dataclasses import replace

    from importers.status_file import StatusFile

    if source == "http":
        feeds = wiring.feeds()
        if not feeds:
            raise ConfigError(f"{config.origin}: [status.http] url is not set")
        shown = [_synced(engine, f.fetch, f.name, rules, now, dry_run, settings) for f in feeds]
        return (shown[0] if len(shown) == 1 else {"feeds": shown}), []
    if source == "drop" or Path(source).is_dir():
        folder = wiring.drop_folder if source == "drop" else Path(source)
        if folder is None:
            raise ConfigError(f"{config.origin}: [status] drop_folder is not set")
        exports, others = _folder_files(folder, refuse_without_exports=source != "drop")
        if dry_run:
            files = [{"file": p.name, **_synced(engine, StatusFile(p).fetch, f"file:{p.name}", rules, now, True,
                                                settings)} for p in exports]
            return {"folder": str(folder), "files": files, "left_alone": others}, []
        # The drop folder's files may still be being copied in: they wait settle_seconds, as for the daemon. A
        # folder named by hand is the operator's own: applied at once.
        settle = wiring.settle_seconds if source == "drop" else 0.0
        files, failures = _drop_folder(engine, replace(wiring, drop_folder=folder, settle_seconds=settle), rules,
                                       now, settings)
        waiting = {"waiting": [p.name for p in exports if p.exists()]} if settle else {}
        return {"folder": str(folder), "files": files, "left_alone": others, **{k: v for k, v in waiting.items()
                                                                               if v}}, failures
    path = Path(source)
    if not path.is_file():
        raise UserError(f"{source}: no such file or folder (or say `http` or `drop`)")
    return _synced(engine, StatusFile(path).fetch, f"file:{path.name}", rules, now, dry_run, settings), []


def _folder_files(folder: Path, refuse_without_exports: bool) -> tuple[list[Path], list[str]]:
    """(the folder's legal-status exports, the names of its other files). A folder that holds files but no export,
    and was never synced before (no done/ or failed/), is refused: most likely the wrong folder, such as the
    installation's own."""
    from custody.status_vocab import STATUS_FILE_SUFFIXES, is_status_export

    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    exports = [p for p in files if is_status_export(p.name)]
    others = [p.name for p in files if not is_status_export(p.name)]
    synced_before = (folder / "done").is_dir() or (folder / "failed").is_dir()
    if refuse_without_exports and others and not exports and not synced_before:
        raise UserError(f"{folder} holds no legal-status export ({', '.join(STATUS_FILE_SUFFIXES)}), only other "
                        f"files ({', '.join(others[:5])}{', …' if len(others) > 5 else ''}): nothing was touched; "
                        f"is it the right folder?")
    return exports, others


def _synced(engine, fetch, name: str, rules, now, dry_run: bool, settings=None) -> dict[str, Any]:
    """One source synced (the operator alerted of its unknown statuses or its failure), as a dict to show."""
    from custody.status_vocab import StatusSourceError
    from custody.store.status import SyncRefused
    from scheduler.status_tick import sync_source

    try:
        result = sync_source(engine, fetch, name, rules, now, settings, dry_run=dry_run)
    except SyncRefused as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise UserError(f"{name}: {len(exc.problems)} unreadable record(s): nothing applied") from None
    except StatusSourceError as exc:
        raise UserError(str(exc)) from None
    return {"source": result.source, "summary": result.summary(), "records": result.records,
            "new_events": result.new_events, "duplicates": result.duplicates, "unknown": result.unknown,
            "unmatched": result.unmatched, "effects": result.effects}


def _drop_folder(engine, wiring, rules, now, settings=None) -> tuple[list[dict[str, Any]], list[str]]:
    """Apply every export of a drop folder, each on its own: (one entry per file with the unknown statuses it
    brought, the refused files as failures)."""
    from custody.store.db import session_for
    from custody.store.status import unknown_events
    from scheduler.status_tick import sync_drop_folder

    outcomes = sync_drop_folder(engine, wiring, rules, now, settings)
    with session_for(engine) as session:
        files = [{**o, "unknown": unknown_events(session, f"file:{o['file']}", now)} if "summary" in o else o
                 for o in outcomes]
    return files, [f"{o['file']} refused (see {o['moved_to']}.problems.txt)" for o in outcomes if "error" in o]


def _sync_ops(ctx: typer.Context, patent: str | None, dry_run: bool, fmt: Format) -> None:
    """`custody status sync ops`: one OPS run, shown like any other source; exit 1 on a failed check or refusal."""
    from scheduler.ops_tick import run_ops

    st = state(ctx)
    wiring, rules = ops_wiring(st.config), load_rules(settings=st.config.rule_settings)
    if wiring.gateway is None:
        raise ConfigError(tr("OPS watch: {why}", why=wiring.missing))
    engine = _status_engine(ctx)
    try:
        with _alerts_off_stderr():
            run = run_ops(engine, wiring, rules, clock.now(), _reminder_settings(st), only=patent, dry_run=dry_run)
    except LookupError as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    result = run.result
    _show_sync({"source": "ops", "summary": tr("{summary}; {checked} patent(s) checked, {failed} failed, {bytes} "
                                               "bytes", summary=result.summary(), checked=run.checked,
                                               failed=len(run.failed), bytes=run.bytes),
                "new_events": result.new_events,
                "unknown": result.unknown, "unmatched": result.unmatched, "effects": result.effects,
                "failed": run.failed, "stopped": run.stopped}, fmt)
    for failure in run.failed:
        typer.echo(tr("failed: {number}: {message}", number=failure['application_number'],
                      message=failure['message']), err=True)
    if run.stopped:
        typer.echo(tr("stopped: {why}", why=run.stopped), err=True)
    if dry_run:
        typer.echo(tr("dry run: nothing was changed"), err=True)
    if run.failed or run.is_error:
        raise UserError(tr("OPS: {n} check(s) failed{stopped} (see `custody status review`)", n=len(run.failed),
                           stopped='; ' + run.stopped if run.is_error else ''))


@status_app.command("ops-usage")
def status_ops_usage(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format")) -> None:
    """The OPS watch: quota used in the last 7 days, patents watched, checked, due and failing, any pause.

    Example: custody status ops-usage --format json
    """
    from custody.store.ops_watch import usage_summary

    settings = ops_wiring(state(ctx).config).settings
    with db_session(ctx) as session:
        summary = usage_summary(session, settings, clock.now())
    rows = [{"item": k, "value": v} for k, v in summary.items()]
    if fmt == Format.table:  # words for people; JSON and CSV keep the keys and values scripts read
        rows = [{"item": label("ops_usage", r["item"]), "value": label("ops_value", r["value"])
                 if r["value"] is None or isinstance(r["value"], bool) else r["value"]} for r in rows]
    emit(rows, fmt, [("item", tr("item")), ("value", tr("value"))])


@status_app.command("confirm")
def status_confirm(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number of the transferred patent."),
    enterprise: str | None = typer.Option(None, "--enterprise", help="Credit code of the enterprise that holds it "
                                          "now; its contacts get the reminders (default: the one it is with)."),
    owner: str | None = typer.Option(None, "--owner", help="The new owner's name, recorded as the patent's owner "
                                     "(default: the transferee the record names)."),
    by: str | None = typer.Option(None, "--by", help="Who confirms (default: the login name)."),
) -> None:
    """Release the reminders held after a transfer: the operator has confirmed the new owner and its contacts.

    Records the new owner, the enterprise and the contacts the reminders now go to, then releases them.

    Example: custody status confirm 202010000017.2 --enterprise 91310000MA1FL0000X
    """
    from custody.store.reports import UnknownEnterprise, enterprise_by_code
    from custody.store.status_transfer import confirm_transfer

    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        try:
            target = enterprise_by_code(session, enterprise) if enterprise else None
            effects = confirm_transfer(session, patent, by or _login(), clock.today(), target, owner)
        except (UnknownEnterprise, ValueError) as exc:
            raise UserError(str(exc)) from None
    for effect in effects:
        typer.echo(effect.message)


@status_app.command("review")
def status_review(
    ctx: typer.Context,
    since: str | None = typer.Option(None, "--since", help="Only what was recorded on or after this date "
                                     "(default: 90 days ago)."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """What the watch left for the operator: unrecognised statuses, terminations without a reason, transfers
    awaiting confirmation, owner names to check, records for application numbers not in the portfolio (kept
    until the patent is imported) and syncs that failed.

    Example: custody status review --since 2025-01-01
    """
    from datetime import timedelta

    from custody.store.status_review import review_rows

    start = _report_date(since, "--since") or clock.today() - timedelta(days=90)
    with db_session(ctx) as session:
        rows = review_rows(session, start)
    emit(rows, fmt, [("date", tr("date"), "date"), ("application_number", tr("application number")),
                     ("what", tr("what"), "text", "effect"), ("message", tr("detail"))])


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "operator"


@app.command()
def decide(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    pay_: bool = typer.Option(False, "--pay", help="The enterprise will pay the fee."),
    abandon: bool = typer.Option(False, "--abandon", help="The enterprise lets the patent go."),
    undecided: bool = typer.Option(False, "--undecided", help="Withdraw an earlier decision."),
    year: int | None = typer.Option(None, "--year", min=1, max=30,
                                    help="Fee year decided on (default: the next unpaid)."),
    note: str | None = typer.Option(None, "--note", help="Why, in the enterprise's words."),
    now_: bool = typer.Option(False, "--now", help="With --abandon: stop reminders today instead of after the "
                              "grace period."),
    by: str | None = typer.Option(None, "--by", help="Who recorded it (default: the login name)."),
) -> None:
    """Record an enterprise's instruction about a fee: pay it, abandon the patent, or undecided.

    Abandon stops the patent's reminders after the fee's grace period ends (the enterprise can still change its
    mind until then), or at once with --now. Decisions show in the reports and in `custody patent history`.

    Example: custody decide 201810000006.7 --abandon --note "产品线停产" --by 张三
    """
    from custody.store.calendar import calendar_from
    from custody.store.status import NotInCustody
    from custody.store.status import decide as record_decision

    chosen = [name for name, flag in (("pay", pay_), ("abandon", abandon), ("undecided", undecided)) if flag]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --pay, --abandon, --undecided")
    if now_ and chosen[0] != "abandon":
        raise UsageError("--now goes with --abandon")
    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        rules = load_rules(settings=state(ctx).config.rule_settings)
        try:
            _, effects = record_decision(session, patent, chosen[0], year, by or _login(), clock.now(),
                                         clock.today(), rules, calendar_from(session), note=note, immediately=now_)
        except NotInCustody as exc:
            raise UserError(str(exc)) from None
    for effect in effects:
        typer.echo(f"{patent.application_number}: {effect.message}")


@patent_app.command("history")
def patent_history(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv"),
) -> None:
    """Why did (or didn't) we remind about this patent: every status event, effect (with its cause), decision and
    reminder (planned, sent, failed or cancelled, with the reason, and the fee or event that caused it), payment,
    import and field change (old → new, with the file that made it), oldest first.

    Example: custody patent history 201410000003.5
    """
    from custody.store.directory import full_history

    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        rows = [{**r, "date": r["date"].isoformat()} for r in full_history(session, patent)]
    emit(rows, fmt, [("date", tr("date"), "date"), ("what", tr("what"), "text", "history"),
                     ("detail", tr("detail")), ("source", tr("source"))],
         title=f"{patent.application_number} {patent.title}")


@patent_app.command("watch")
def patent_watch(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    enterprise: str | None = typer.Option(None, "--enterprise", help="Credit code of the watching enterprise "
                                          "(default: the one the patent is with)."),
    by: str | None = typer.Option(None, "--by", help="Who made the change (default: the login name)."),
) -> None:
    """Make a patent watch-only (a competitor's, or one the enterprise licenses): no fee reminders (planned ones
    are cancelled); its legal-status changes go into the watching enterprise's digest. Kept in its history.

    Example: custody patent watch 201910000005.7 --enterprise 91110108551385082Q
    """
    _set_mode(ctx, appno, "watch", enterprise, by)


@patent_app.command("custody")
def patent_custody(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    enterprise: str | None = typer.Option(None, "--enterprise", help="Credit code of the enterprise it is in "
                                          "custody for (default: the one it is with)."),
    by: str | None = typer.Option(None, "--by", help="Who made the change (default: the login name)."),
) -> None:
    """Take a watch-only patent back into custody: fee reminders and the legal-status effects on them apply again.
    Kept in its history.

    Example: custody patent custody 201910000005.7
    """
    _set_mode(ctx, appno, "custody", enterprise, by)


def _set_mode(ctx: typer.Context, appno: str, mode: str, code: str | None, by: str | None) -> None:
    from custody.models import Enterprise
    from custody.store.modes import set_mode
    from custody.store.reports import UnknownEnterprise, enterprise_by_code

    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        current = session.get(Enterprise, patent.enterprise_id) if patent.enterprise_id else None
        try:
            target = enterprise_by_code(session, code) if code else current
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
        if target is None:
            raise UserError(f"{patent.application_number} is with no enterprise: name it with --enterprise CODE")
        effects = set_mode(session, patent, mode, target, by or _login(), clock.now(), clock.today())
    if not effects:
        typer.echo(tr("{number}: already watch-only for {name} ({code}): nothing changed" if mode == "watch" else
                      "{number}: already in custody of {name} ({code}): nothing changed",
                      number=patent.application_number, name=target.name, code=target.credit_code))
    for effect in effects:
        typer.echo(f"{patent.application_number}: {effect.message}")



# ---------------------------------------------------------------------------------------------- patent set (issue 10)


@patent_app.command("set")
def patent_set(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    reduction: str = typer.Option(..., "--reduction", metavar="85|70|none",
                                  help="The owner's fee reduction on record (费减备案): 85, 70 or none."),
    recorded: str | None = typer.Option(None, "--recorded", metavar="DATE",
                                        help="The day it was recorded (default: unknown, taken as in time)."),
) -> None:
    """Record the owner's fee reduction as filed with CNIPA. After a confirmed transfer to another owner the old
    owner's reduction waits to be re-filed (full fee quoted); this records the new owner's and ends the wait.
    Every change is written to the patent's audit trail.

    Example: custody patent set 201710601862.3 --reduction 85 --recorded 2026-03-02
    """
    from custody.domain import Reduction
    from custody.store.patents import set_reduction

    try:
        chosen = Reduction(reduction.strip().rstrip("%"))
    except ValueError:
        raise UsageError(f"--reduction must be 85, 70 or none, not {reduction!r}") from None
    day = option_date(recorded, "--recorded")
    if chosen == Reduction.NONE and day is not None:
        raise UsageError("--recorded is the day a reduction was recorded: not with --reduction none")
    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        changes = set_reduction(session, patent, chosen, day, f"cli:{_login()}")
    number = patent.application_number
    if not changes:
        typer.echo(tr("{number}: reduction already {reduction}: nothing changed", number=number,
                      reduction=label("reduction", chosen.value)))
    for name, old, new in changes:
        shown = [label("reduction", v) if name == "reduction" and v else (v or "—") for v in (old, new)]
        typer.echo(f"{number}: {label('field', name)}: {shown[0]} → {shown[1]}")


# -------------------------------------------------------------------------------------- operator commands (issue 11)
# Lists and look-ups (patent/enterprise/contact list, enterprise show, import log), ending custody. Logic in
# custody.store.patent_list, custody.store.directory and custody.store.custody_end; text through custody.i18n.


def _columns(keys_and_headings: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(key, tr(heading)) for key, heading in keys_and_headings]


def _enterprise(session, code: str):
    from custody.store.reports import UnknownEnterprise, enterprise_by_code

    try:
        return enterprise_by_code(session, code.strip())
    except UnknownEnterprise as exc:
        raise UserError(str(exc)) from None


@patent_app.command("list")
def patent_list(
    ctx: typer.Context,
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP_LIST),
    type_: str | None = typer.Option(None, "--type", help="invention|utility_model|design or 发明|实用新型|外观设计."),
    state_: str | None = typer.Option(None, "--state", help="in_force, in_grace, lapsed or expired (or 有效, ...)."),
    due_within: str | None = typer.Option(None, "--due-within", help="Only fees due within: 90d, 12w, 3m, 3个月."),
    flag: bool = typer.Option(False, "--flag", help="Only patents with an import flag (paid-through inferred, "
                              "unknown — check)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Evaluate on this date (default: today)."),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Stored patents with their state and next fee, streamed (a million patents list in chunks).

    Example: custody patent list --enterprise 91350100M000100Y43 --type 发明 --due-within 3个月 --format csv
    """
    from cli_render import terminal_width
    from custody.store.calendar import calendar_from
    from custody.store.patent_list import (
        COLUMNS,
        DROPPABLE,
        TEXT_FROM_DATA,
        PatentFilter,
        patent_rows,
        state_option,
    )
    from custody.store.portfolio_read import report_chunks
    from custody.stream_output import write_stream

    day = option_date(as_of, "--as-of") or clock.today()
    wanted = PatentFilter(_type_option(type_) if type_ else None, _state(state_, state_option),
                          _period_days(due_within, day, "--due-within") if due_within else None, flag)
    with db_session(ctx) as session:
        chunks = report_chunks(session, _enterprise(session, enterprise).credit_code if enterprise else None)
        rows = patent_rows(chunks, load_rules(settings=state(ctx).config.rule_settings), calendar_from(session),
                           day, wanted)
        write_stream(rows, _columns(COLUMNS), fmt.value, sys.stdout, free_text=TEXT_FROM_DATA,
                     width=terminal_width(), droppable=DROPPABLE)


def _state(text: str | None, parse: Callable[[str], str]) -> str | None:
    try:
        return parse(text) if text is not None else None
    except ValueError as exc:
        raise UserError(f"--state {exc}") from None


@patent_app.command("remove")
def patent_remove(
    ctx: typer.Context,
    appno: str = typer.Argument(..., help="Application number."),
    by: str | None = typer.Option(None, "--by", help="Who ends it (default: the login name)."),
) -> None:
    """End a patent's custody: its planned reminders are cancelled, nothing more is sent; its payments and history
    are kept, the change is in its history and audit trail. Importing it again takes it back into custody.

    Example: custody patent remove 201710601862.3
    """
    from custody.store.custody_end import end_patent

    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        number = patent.application_number
        ended = end_patent(session, patent, by or _login(), clock.now(), clock.today())
    if ended.already:
        typer.echo(tr("{number}: custody had already ended: nothing changed", number=number))
        return
    typer.echo(tr("{number}: custody ended; {cancelled} planned reminder(s) cancelled; history kept (importing "
                  "it again takes it back)", number=number, cancelled=ended.cancelled))


@enterprise_app.command("end")
def enterprise_end(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Unified social credit code (统一社会信用代码)."),
    by: str | None = typer.Option(None, "--by", help="Who ends it (default: the login name)."),
) -> None:
    """End the custody of all an enterprise's patents: planned reminders cancelled, history kept, audited;
    importing its patents again takes them back.

    Example: custody enterprise end 91350100M000100Y43
    """
    from custody.store.custody_end import end_enterprise

    with db_session(ctx) as session:
        enterprise = _enterprise(session, code)
        name, credit_code = enterprise.name, enterprise.credit_code
        ended = end_enterprise(session, enterprise, by or _login(), clock.now(), clock.today())
    typer.echo(tr("{name} ({code}): custody ended for {ended} patent(s) ({already} had already ended); "
                  "{cancelled} planned reminder(s) cancelled; history kept", name=name, code=credit_code,
                  ended=ended.patents, already=ended.already, cancelled=ended.cancelled))


@enterprise_app.command("show")
def enterprise_show(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Unified social credit code (统一社会信用代码)."),
    fmt: ScheduleFormat = typer.Option(ScheduleFormat.table, "--format", help="table or json"),
) -> None:
    """One enterprise: patents in custody, watch-only and ended, its standing instructions, who receives
    before-due reminders, the reminders it was sent, and its contacts (addresses masked).

    Example: custody enterprise show 91350100M000100Y43
    """
    from custody.store.directory import CONTACT_HEADINGS, enterprise_detail, enterprise_lines

    with db_session(ctx) as session:
        detail = enterprise_detail(session, _enterprise(session, code), _configured_reminders(state(ctx)))
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps(detail, ensure_ascii=False, indent=2, default=str))
        return
    for line in enterprise_lines(detail):
        console.print(line)
    emit(detail["contacts"], Format.table, _columns(CONTACT_HEADINGS))


@contact_app.command("list")
def contact_list(
    ctx: typer.Context,
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP_LIST),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Contacts by enterprise: role, masked mobile and email, consent per channel.

    Example: custody contact list --enterprise 91350100M000100Y43 --format csv
    """
    from custody.store.directory import CONTACT_HEADINGS, contact_rows

    with db_session(ctx) as session:
        rows = list(contact_rows(session, _enterprise(session, enterprise).id if enterprise else None))
    emit(rows, fmt, _columns(CONTACT_HEADINGS))


@import_app.command("log")
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
    emit(rows, fmt, _columns(IMPORT_HEADINGS))



# ---------------------------------------------------------------------------------------------- reports (issue 5)


# The years a date or year option may name: CNIPA's first patents (1985) to well past any fee computed.
FIRST_YEAR, LAST_YEAR = 1985, 2199


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


FORMAT_HELP = "table, csv, json or xlsx (xlsx needs --out)"
OUT_HELP = "Write to this file instead of the terminal."
ENTERPRISE_HELP = "Only this enterprise (credit code): nothing of another enterprise appears."
AS_OF_HELP = "Evaluate on this date (default: today, Asia/Shanghai)."


def _full_year(text: str | None, name: str) -> int | None:
    """A year written in full (2026) from FIRST_YEAR to LAST_YEAR; `26` is refused with the year it may mean, never
    taken as the year 26."""
    if text is None:
        return None
    given = text.strip()
    if not given.isdigit():
        raise UsageError(tr("{name}: {given!r} is not a year (write it in full, e.g. {year})", name=name,
                            given=given, year=clock.today().year))
    if len(given) <= 2:
        raise UsageError(tr("{name} {given}: write the year in full ({year}?)", name=name, given=given,
                            year=2000 + int(given)))
    if not FIRST_YEAR <= int(given) <= LAST_YEAR:
        raise UsageError(tr("{name} {given}: a year from {first} to {last}", name=name, given=given,
                            first=FIRST_YEAR, last=LAST_YEAR))
    return int(given)


MAX_WITHIN_DAYS = 3660  # ten years ahead: any fee due further out is years beyond every reminder


def _period_days(text: str, start: date | None = None, name: str = "--within") -> int:
    """'90d', '12w', '3m', '3个月' or '90' as a number of days from `start` (custody.options); anything else is a
    usage error."""
    from custody.options import OptionError, period_days

    try:
        return period_days(text, start or clock.today())
    except OptionError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _report_date(value: str | None, name: str) -> date | None:
    """A report's date option; one that does not parse, or lies outside the years custody computes, is a usage
    error, like any other malformed option."""
    try:
        day = option_date(value, name)
    except UserError as exc:
        raise UsageError(str(exc)) from None
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UsageError(f"{name}: {day} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return day


def _check_output(fmt: ReportFormat, out: Path | None) -> None:
    """Refuse, before any work, an output that cannot be written: xlsx to the terminal, a table to a file, a
    file in a folder that does not exist."""
    if fmt == ReportFormat.xlsx and out is None:
        raise UsageError("--format xlsx needs --out FILE")
    if fmt == ReportFormat.table and out is not None:
        raise UsageError("--out needs --format csv, json or xlsx")
    if out is not None and not out.resolve().parent.is_dir():
        raise UsageError(f"--out: folder {out.parent} does not exist")


@contextmanager
def _portfolio(ctx: typer.Context, enterprise: str | None, as_of: str | None, kpi_year: int | None = None):
    """(session, the portfolio's chunks, rules, calendar, day) for a report, one enterprise's only if asked."""
    from custody.store.calendar import calendar_from
    from custody.store.portfolio_read import report_chunks
    from custody.store.reports import UnknownEnterprise

    day = _report_date(as_of, "--as-of") or clock.today()
    with db_session(ctx) as session:
        rules, calendar = load_rules(settings=state(ctx).config.rule_settings), calendar_from(session)
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
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    if fmt == ReportFormat.table and len(report.rows) <= TABLE_ROWS:
        emit(table_rows(report), Format.table, [(c.key, c.heading(language), c.kind) for c in report.columns
                                                if c.kind != "key"], title=report.title)
    elif fmt == ReportFormat.table:
        write_plain_table(report, sys.stdout, language)
    for note in report.notes:
        typer.echo(tr("note: {note}", note=note), err=True)
    if out is not None:
        typer.echo(tr("{name}: {n} row(s) written to {out}", name=report.name, n=len(report.rows), out=out), err=True)


@contextmanager
def _stdout():
    yield sys.stdout
    sys.stdout.flush()


@report_app.command("due")
def report_due(
    ctx: typer.Context,
    within: str = typer.Option("90d", "--within", help="How far ahead: 90d, 12w, 3m (3个月), 30."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
) -> None:
    """Annual fees falling due soon, with the reduction applied and any enterprise decision.

    Example: custody report due --within 90d --format xlsx --out due.xlsx
    """
    from custody.report_engine import due_report

    days = _period_days(within, _report_date(as_of, "--as-of"))
    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = due_report(chunks, rules, calendar, day, days)
    _emit_report(ctx, report, fmt, out)


@report_app.command("grace")
def report_grace(
    ctx: typer.Context,
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
) -> None:
    """Fees in the grace period: today's late fee, and when and by how much it rises next (Rule 115).

    Example: custody report grace --format csv --out grace.csv
    """
    from custody.report_engine import grace_report

    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = grace_report(chunks, rules, calendar, day)
    _emit_report(ctx, report, fmt, out)


@report_app.command("lapsed")
def report_lapsed(
    ctx: typer.Context,
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
) -> None:
    """Patents terminated for non-payment, which can still be restored, by when and for how much (Rule 6 ¶2).

    Without CNIPA's termination notice on record, restorable says "unknown — check" until the notice could still
    come (\\[status] assumed_notice_months after the grace end, default 4) plus the 2 months, and "no" after.

    Example: custody report lapsed --enterprise 914403001922038216
    """
    from custody.report_engine import lapsed_report

    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = lapsed_report(chunks, rules, calendar, day, _restoration_window(ctx, rules))
    _emit_report(ctx, report, fmt, out)


def _restoration_window(ctx: typer.Context, rules):
    """Rule 6 ¶2's window, and the assumed delay of CNIPA's notice from [status] assumed_notice_months."""
    from custody.reports import restoration_window

    config = state(ctx).config
    try:
        return restoration_window(rules, config.section("status"))
    except ValueError as exc:
        raise ConfigError(f"{config.origin}: {exc}") from None


@report_app.command("forecast")
def report_forecast(
    ctx: typer.Context,
    years: int = typer.Option(5, "--years", min=1, max=30, help="Calendar years ahead, this one included (in the "
                              "year's last 31 days: twelve-month periods from today)."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
) -> None:
    """Annual fees to pay, CNY per enterprise per year with reductions, and the platform total (xlsx: with a chart).

    Example: custody report forecast --years 5 --format xlsx --out forecast.xlsx
    """
    from custody.report_totals import forecast_report

    _check_output(fmt, out)
    with _portfolio(ctx, enterprise, as_of) as (_, chunks, rules, calendar, day):
        report = forecast_report(chunks, rules, calendar, day, years)
    _emit_report(ctx, report, fmt, out)


@report_app.command("enterprise")
def report_enterprise(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The enterprise's credit code (统一社会信用代码)."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
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


@report_app.command("deliveries")
def report_deliveries(
    ctx: typer.Context,
    from_: str | None = typer.Option(None, "--from", help="First day (default: 1 January of this year)."),
    to: str | None = typer.Option(None, "--to", help="Last day (default: today)."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP),
) -> None:
    """Reminders by channel: pending, sent, delivered, sent without a receipt, failed, cancelled.

    Example: custody report deliveries --from 2025-01-01 --format csv
    """
    from custody.report_figures import deliveries_report
    from custody.store.reports import UnknownEnterprise, delivery_counts

    today = clock.today()
    _check_output(fmt, out)
    start, end = _report_date(from_, "--from") or date(today.year, 1, 1), _report_date(to, "--to") or today
    with db_session(ctx) as session:
        try:
            counts = delivery_counts(session, start, end, enterprise)
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
    if counts is None:
        raise UserError("the reminders outbox is not in this database: run `custody db upgrade`")
    _emit_report(ctx, deliveries_report(counts, f"{start} to {end}"), fmt, out)


@report_app.command("kpi")
def report_kpi(
    ctx: typer.Context,
    year: str | None = typer.Option(None, "--year", metavar="YYYY", help="Assessment year, in full (default: this "
                                    "year)."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help=OUT_HELP),
    enterprise: str | None = typer.Option(None, "--enterprise", help=ENTERPRISE_HELP),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
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
    chosen = _full_year(year, "--year") or (_report_date(as_of, "--as-of") or clock.today()).year
    with _portfolio(ctx, enterprise, as_of, kpi_year=chosen) as (session, chunks, rules, calendar, day):
        report = kpi_report(chunks, rules, calendar, day, chosen, reminder_figures(session, chosen, enterprise),
                            _restoration_window(ctx, rules))
    _emit_report(ctx, report, fmt, out)



# ---------------------------------------------------------------------------------------------- statement (issue 11)
# The figures are the report engine's (custody/statement.py), the document custody/statement_render.py's; the
# emails go through the outbox (custody/store/statements.py) and the daemon plans them (scheduler/statements.py).


class _StatementGroup(typer.core.TyperGroup):
    """`custody statement CODE …` is `custody statement write CODE …`: the document is the group's own command."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["write", *args]
        return super().parse_args(ctx, args)


statement_app = typer.Typer(cls=_StatementGroup, no_args_is_help=True,
                            help="The enterprise statement: its patents, what is due when and at what cost, what is "
                            "in grace, what can be restored, and five years ahead (PDF or XLSX), written or "
                            "emailed.\n\nExample: custody statement 91350100M000100Y43 --out statement.pdf")
app.add_typer(statement_app, name="statement")


class StatementPeriod(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"


def _statement_settings(ctx: typer.Context, rules):
    from custody.statement import statement_settings

    config = state(ctx).config
    return statement_settings(config.section("statement"), config.section("platform"),
                              _restoration_window(ctx, rules), config.language)


@statement_app.command("write")
def statement_write(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The enterprise's credit code (统一社会信用代码)."),
    out: Path = typer.Option(..., "--out", help="FILE.pdf (A4) or FILE.xlsx."),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
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
        raise UsageError(f"--out: {out.name} should end in .pdf or .xlsx")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"--out: folder {out.parent} does not exist")
    day = _report_date(as_of, "--as-of") or clock.today()
    rules = load_rules(settings=state(ctx).config.rule_settings)
    settings = _statement_settings(ctx, rules)
    with db_session(ctx) as session:
        try:
            statement = statement_of(session, code, rules, settings, day)
        except UnknownEnterprise as exc:
            raise UserError(str(exc)) from None
    try:
        out.write_bytes(document_bytes(layout(statement, settings.language), fmt))
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(tr("statement: {name}, {n} patent(s) as of {day}, written to {out}", name=statement.name,
                  n=len(statement.patents.rows), day=day, out=out), err=True)


@statement_app.command("send")
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
        raise UsageError("give an enterprise's credit code or --all, not both")
    with reminder_ticks(ctx) as ticks:
        if code is not None:
            with session_for(ticks.engine) as session:
                try:
                    code = enterprise_by_code(session, code).credit_code
                except UnknownEnterprise as exc:
                    raise UserError(str(exc)) from None
        planned = plan_statements(ticks, None if every else [code], period.value if period else None)
        if "not_planned" in planned:
            raise UserError(f"statements go by email: {planned['not_planned']}")
        summary = dispatch_tick(ticks)
    rows = [{"outcome": k, "count": v} for k, v in {**planned, **summary}.items()]
    emit(rows, fmt, [("outcome", tr("outcome"), "text", "tick_count"), ("count", tr("count"))])
    if "error" in summary or summary.get("failed"):
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------- entry point


def _log_unexpected(exc: BaseException, config_path: str | None) -> str:
    """Where the traceback went, for the operator's one line (never the traceback itself)."""
    from custody.config import DEFAULT_LOG_FILE
    from custody.masking import mask_text

    try:
        log_file = str(load_config(config_path).log_file)
    except Exception:  # noqa: BLE001 - the config itself may be what failed
        log_file = DEFAULT_LOG_FILE
    try:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write(mask_text("".join(traceback.format_exception(exc))) + "\n")
    except OSError as error:
        return f"nowhere: the log file {log_file} cannot be written ({error.strerror})"
    return log_file


EXAMPLE = "\n\nExample:"


def command() -> Any:
    """The app as a (click) command whose every help ends with its example: the closing "Example:" paragraph of each
    help text moves below the options (sqlite-utils' habit), so it is the last thing `--help` prints."""
    root = typer.main.get_command(app)
    for each in commands_of(root):
        if each.help and EXAMPLE in each.help:
            each.help, example = each.help.rsplit(EXAMPLE, 1)
            each.epilog = "Example:" + example
    return root


def commands_of(group: Any) -> Iterator[Any]:
    """`group` and every command below it."""
    yield group
    for sub in getattr(group, "commands", {}).values():
        yield from commands_of(sub)


def run(argv: Iterable[str] | None = None) -> int:
    """Run the app and turn every outcome into an exit code; used by `main` and by the tests."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Not standalone: click's own errors come back here, to be one `Error:` line like ours.
        result = command()(args=args, prog_name="custody", standalone_mode=False)
        return result if isinstance(result, int) and not isinstance(result, bool) else 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except typer.TyperException as exc:  # click's own errors (typer carries its own click)
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group called bare: its help, as before
            exc.show()
        else:
            typer.echo(f"Error: {redacted(_click_message(exc))}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("Error: aborted", err=True)
        return 1
    except CONFIG_ERRORS as exc:
        typer.echo(f"Error: {redacted(str(exc))}", err=True)
        return 2
    except known_errors() as exc:
        typer.echo(f"Error: {redacted(str(exc))}", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - the operator must never see a traceback
        log_file = _log_unexpected(exc, _config_arg(args))
        typer.echo(f"Error: unexpected failure ({type(exc).__name__}); details in {log_file}", err=True)
        return 1


def _click_message(exc: typer.TyperException) -> str:
    """click's message on one line, with where to read the usage when it is a usage error."""
    from cli_messages import click_message  # click's words in the configured language

    message = click_message(" ".join(exc.format_message().split()))
    ctx = getattr(exc, "ctx", None)
    return tr("{message} (see `{command} --help`)", message=message, command=ctx.command_path) if ctx is not None \
        else message


def _config_arg(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()

