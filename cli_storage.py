"""Storage commands: set up and migrate the database, load holiday schedules, record a payment, show and set a
stored patent. Readiness checks and migration are custody.store.readiness'; what a payment may be,
custody.payment_acceptance's; a patent's page, custody.store.patent_page's.
"""

import json
from decimal import Decimal
from pathlib import Path

import typer

from cli_base import (
    Format,
    ScheduleFormat,
    UsageError,
    UserError,
    console,
    db_session,
    emit,
    login,
    option_date,
    rules_of,
    state,
    stored_patent,
    whole_number,
)
from custody import clock
from custody.i18n import label, tr


def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration to the configured database.

    Example: CUSTODY_DATABASE_URL=postgresql+psycopg://custody@db/custody custody db upgrade
    """
    from custody.store.db import current_revision
    from custody.store.readiness import revision_or_none, upgraded

    url = state(ctx).config.database_url
    before = revision_or_none(url, current_revision)
    after = upgraded(url)
    typer.echo(tr("database at {revision} (unchanged)", revision=after) if before == after else
               tr("database at {revision} (was {before})", revision=after, before=before or tr("empty")))


def init(ctx: typer.Context) -> None:
    """Set up a new installation: create the database and its tables (safe to run again).

    Example: custody init
    """
    from sqlalchemy.engine import make_url

    from custody.store.db import current_revision
    from custody.store.readiness import revision_or_none, upgraded

    config = state(ctx).config
    before = revision_or_none(config.database_url, current_revision)
    after = upgraded(config.database_url)
    typer.echo(tr("configuration: {origin}", origin=config.origin))
    shown = make_url(config.database_url).render_as_string(hide_password=True)
    typer.echo(tr("database: {url} at {revision} (already initialised)", url=shown, revision=after) if before else
               tr("database: {url} at {revision} (created)", url=shown, revision=after))


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
        raise UserError(tr("cannot read {file}: {strerror}", file=file, strerror=exc.strerror)) from None
    with db_session(ctx) as session:
        schedule, replaced = save_schedule(session, text, str(file))
    typer.echo(tr("{year}: {rest} rest days, {workdays} make-up working days from {source}", year=schedule.year,
                  rest=len(schedule.rest_days), workdays=len(schedule.workdays), source=schedule.source)
               + (tr(" (replaced the earlier schedule)") if replaced else ""))


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
    from custody.fees import fee_schedule
    from custody.payment_acceptance import accepted_amount
    from custody.store.calendar import calendar_from
    from custody.store.patents import facts_of, payments_total, record_payment

    fee_year = whole_number(year, "--year")
    day = option_date(paid_on, "--paid-on") or clock.today()
    given = _amount(amount) if amount is not None else None
    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        schedule = fee_schedule(facts_of(session, patent), rules_of(ctx), calendar_from(session))
        paid = accepted_amount(schedule, patent.application_number, fee_year, day,
                               payments_total(session, patent, fee_year), given, force, clock.today())
        record_payment(session, patent, fee_year, paid, day, source="cli", note=note)
        through = patent.paid_through
    typer.echo(tr("recorded {paid} yuan for year {year} of {number} on {day}; paid through year {through}",
                  paid=paid, year=fee_year, number=patent.application_number, day=day, through=through))


def _amount(text: str) -> Decimal:
    from custody.amounts import AmountParseError, parse_amount

    try:
        return parse_amount(text)
    except AmountParseError as exc:
        raise UserError(tr("--amount: {exc}", exc=exc)) from None


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
    from custody.store.patent_page import patent_page

    with db_session(ctx) as session:
        view = patent_page(session, stored_patent(session, appno), rules_of(ctx),
                           option_date(as_of, "--as-of") or clock.today())
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    for line in patent_lines(view["patent"]):
        console().print(line)
    console().print(custody_line(view["custody"]))
    print_schedule(console(), view)
    print_payments(console(), view["payments"], view["amounts_owed"])


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
        raise UsageError(tr("--reduction must be 85, 70 or none, not {reduction!r}", reduction=reduction)) from None
    day = option_date(recorded, "--recorded")
    if chosen == Reduction.NONE and day is not None:
        raise UsageError(tr("--recorded is the day a reduction was recorded: not with --reduction none"))
    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        changes = set_reduction(session, patent, chosen, day, f"cli:{login()}")
    number = patent.application_number
    if not changes:
        typer.echo(tr("{number}: reduction already {reduction}: nothing changed", number=number,
                      reduction=label("reduction", chosen.value)))
    for name, old, new in changes:
        shown = [label("reduction", v) if name == "reduction" and v else (v or "—") for v in (old, new)]
        typer.echo(f"{number}: {label('field', name)}: {shown[0]} → {shown[1]}")
