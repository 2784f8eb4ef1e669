"""What every command module shares: the errors a command raises, the configuration it runs under, the output
formats and `emit`, the parsing of options several commands take, and the look-ups of a stored patent or enterprise.
No command lives here: cli.py composes the commands of the cli_<subject> modules.

Kept light on purpose: `custody --help` and `custody fees` import it, so anything heavy (SQLAlchemy, the fee
engine, the stores) is imported inside the function that needs it.
"""
from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from custody import clock
from custody.config_error import ConfigError
from custody.i18n import current_language, label, tr
from custody.store.readiness import first_line

if TYPE_CHECKING:
    from rich.console import Console

    from custody.config import Config
    from custody.domain import PatentType

log = logging.getLogger("custody")


class UserError(Exception):
    """A known, explainable failure of a command: one `Error:` line, exit 1."""


class UsageError(Exception):
    """A command called the wrong way (an option value that does not parse, options that do not go together, a
    file to write in a folder that does not exist): one `Error:` line, exit 2."""


def say_error(message: str) -> None:
    """The one line a refused command prints on stderr: `Error: …` (错误：… in Chinese); scripts read the exit
    code, people read this."""
    typer.echo(tr("Error: {message}", message=message), err=True)


def known_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message is written for the operator: shown as one line, exit 1. Imported when one is raised:
    `custody --help` need not load the fee engine and the calendar."""
    from custody.amounts import AmountParseError
    from custody.appno import InvalidApplicationNumber
    from custody.creditcode import InvalidCreditCode
    from custody.dates import DateParseError
    from custody.fees import FeeInputError, LapsedError
    from custody.payment_acceptance import PaymentRefused
    from custody.store.readiness import DatabaseNotReady
    from custody.workdays import ScheduleError

    return (UserError, FeeInputError, LapsedError, InvalidApplicationNumber, InvalidCreditCode, DateParseError,
            ScheduleError, AmountParseError, DatabaseNotReady, PaymentRefused)


def config_errors() -> tuple[type[BaseException], ...]:
    """Errors in the set-up or in how the command was called, not in the input: exit 2. A broken data table
    (custody/rules/*.toml: contact roles, legal-status vocabulary, OPS codes) is set-up too."""
    from custody.ruleset import RuleError
    from custody.table_errors import TableError

    return (ConfigError, RuleError, TableError, UsageError)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ScheduleFormat(StrEnum):
    """What `fees`, `patent show` and other single documents print: no CSV form."""

    table = "table"
    json = "json"


@dataclass
class State:
    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from custody.config import load_config

            self._config = load_config(self.config_path)
        return self._config


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


def rules_of(ctx: typer.Context):
    """The rule tables under the configured [rules] settings."""
    from custody.ruleset import load_rules

    return load_rules(settings=state(ctx).config.rule_settings)


_console: Console | None = None


def console() -> Console:
    """The terminal for rich output (schedules, a patent's or an enterprise's page), made on first use."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(highlight=False, soft_wrap=True)
    return _console


# ---------------------------------------------------------------------------------------------- output



def emit(rows: Sequence[dict[str, Any]], fmt: Format, columns: Sequence[tuple[str, ...]] | None = None,
         title: str | None = None) -> None:
    """Rows as a table for people (fitted to the terminal, cli_render), or JSON / CSV for scripts. `columns` maps
    keys to table headings, and optionally to a kind (date, money, int...: never cut)."""
    if fmt == Format.json:
        typer.echo(json.dumps(list(rows), ensure_ascii=False, indent=2, default=str))
        return
    keys = [spec[0] for spec in columns] if columns else (list(rows[0]) if rows else [])
    if fmt == Format.csv:
        # A spreadsheet's cells read as the table's: an enumerated value as its word (the column's domain, as the
        # reports' CSV does), yes/no as 是/否, never True/False. The header keeps the keys scripts read.
        domains = {spec[0]: spec[3] for spec in columns or () if len(spec) > 3 and spec[3]}
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(keys)
        # Text from data (a title, a status, a note) may start like a formula: neutralised as in the reports.
        writer.writerows([[_csv_cell(row.get(k), domains.get(k)) for k in keys] for row in rows])
        typer.echo(buffer.getvalue(), nl=False)
        return
    from cli_render import Col, print_table

    cols = [Col(*spec) for spec in columns] if columns else [Col(k, k) for k in keys]
    print_table(cols, [{c.key: _word(row.get(c.key)) for c in cols} for row in rows], title)


def _csv_cell(value: Any, domain: str | None) -> str:
    from custody.export import neutralised
    from custody.i18n import cell_label

    if domain and isinstance(value, str) and value:
        value = cell_label(domain, value)
    return neutralised(value) if isinstance(value, str) else _word(value)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _word(value: Any) -> str:
    """A table cell for people: yes/no as words (是/否), never True/False."""
    return label("flag", value) if isinstance(value, bool) else _cell(value)


def option_date(value: str | None, name: str) -> date | None:
    from custody.dates import DateParseError, parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except DateParseError as exc:
        raise UserError(tr("{name}: {exc}", name=name, exc=exc)) from None


def type_option(text: str) -> PatentType:
    """--type in either language (invention or 发明; custody.options)."""
    from custody.options import OptionError, patent_type

    try:
        return patent_type(text)
    except OptionError as exc:
        raise UserError(tr("--type {exc}", exc=exc)) from None


ENTERPRISE_HELP_LIST = "Only this enterprise (credit code)."


def choice(enum: type[StrEnum], value: str, name: str, what: str):
    # Parsed here, not by Typer, so a wrong value is bad input (one Error line, exit 1), not a usage box.
    try:
        return enum(value.strip())
    except ValueError:
        raise UserError(tr(
            "{name} {value!r} is not {what}: use {items}",
            name=name, value=value, what=what, items=', '.join(m.value for m in enum))) from None


def whole_number(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise UserError(tr("{name} {value!r} is not a whole number", name=name, value=value)) from None


# ---------------------------------------------------------------------------------------------- dates and periods

# The years a date or year option may name: CNIPA's first patents (1985) to well past any fee computed.
FIRST_YEAR, LAST_YEAR = 1985, 2199


def full_year(text: str | None, name: str) -> int | None:
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


def period_days(text: str, start: date | None = None, name: str = "--within") -> int:
    """'90d', '12w', '3m', '3个月' or '90' as a number of days from `start` (custody.options); anything else is a
    usage error."""
    from custody.options import OptionError
    from custody.options import period_days as days_in

    try:
        return days_in(text, start or clock.today())
    except OptionError as exc:
        raise UsageError(tr("{name}: {exc}", name=name, exc=exc)) from None


def report_date(value: str | None, name: str) -> date | None:
    """A report's date option; one that does not parse, or lies outside the years custody computes, is a usage
    error, like any other malformed option."""
    try:
        day = option_date(value, name)
    except UserError as exc:
        raise UsageError(str(exc)) from None
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UsageError(tr(
            "{name}: {day} is outside the years {FIRST_YEAR}-{LAST_YEAR}",
            name=name, day=day, FIRST_YEAR=FIRST_YEAR, LAST_YEAR=LAST_YEAR))
    return day


# ---------------------------------------------------------------------------------------------- the database


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
                    first_line(exc))
        return work_calendar()
    except Exception as exc:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

        if isinstance(exc, ArgumentError | NoSuchModuleError):
            from custody.store.readiness import url_problem

            raise url_problem(exc) from None
        if not isinstance(exc, OperationalError):
            raise
        log.warning("loaded holiday schedules not read (%s); years without a packaged schedule stay provisional",
                    first_line(exc.orig or exc))
        return work_calendar()


@contextmanager
def db_session(ctx: typer.Context):
    """A session on the configured database, refusing one that is not initialised or not up to date."""
    from sqlalchemy.exc import OperationalError

    from custody.store.db import engine_for, session_for
    from custody.store.readiness import require_current_database

    url = state(ctx).config.database_url
    require_current_database(url)
    engine = engine_for(url)
    try:
        with session_for(engine) as session:
            yield session
    except OperationalError as exc:  # read-only file, full disk, lost connection: the set-up, not the input
        raise ConfigError(tr("the database failed: {problem}", problem=first_line(exc.orig or exc))) from None
    finally:
        engine.dispose()


def application_number(text: str):
    """The parsed number; one given without its check character is taken, with a warning line naming the check
    character computed for it, since a digit lost in an export would otherwise go unnoticed."""
    from custody.appno import InvalidApplicationNumber, parse_application_number

    try:
        number = parse_application_number(text)
    except InvalidApplicationNumber as exc:  # say whose check digit it is, and what to do
        from importers.messages import detail_zh

        problem = detail_zh(str(exc)) if current_language() == "zh" else str(exc)
        raise UserError(tr("application number {text}: {problem} (a digit mistyped? check the number against the "
                           "certificate)", text=text.strip(), problem=problem)) from None
    if not number.check_supplied:
        typer.echo(tr("Warning: {text} has no check character: taken as {number} (check it against the "
                      "certificate)", text=text.strip(), number=number), err=True)
    return number


def stored_patent(session, appno: str):
    from custody.store.patents import patent_by_number

    number = str(application_number(appno))  # a typo gets its own message, not "no such patent"
    patent = patent_by_number(session, number)
    if patent is None:
        raise UserError(tr("no patent {number} in custody (import it first)", number=number))
    return patent


def enterprise_of(session, code: str):
    from custody.store.reports import UnknownEnterprise, enterprise_by_code

    try:
        return enterprise_by_code(session, code.strip())
    except UnknownEnterprise as exc:
        raise UserError(str(exc)) from None


def translated_columns(keys_and_headings: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(key, tr(heading)) for key, heading in keys_and_headings]


def login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "operator"
