"""`custody fees`: the annual-fee calculator, for a stored patent or for facts given on the command line.

The schedule is custody.fees'; which facts count (stored, overridden by options) is custody.fee_facts'. Imports
are inside the functions: `custody fees` is the command an operator runs most, and it should start fast.
"""

import json
from typing import TYPE_CHECKING, Any

import typer

from cli_base import (
    ScheduleFormat,
    State,
    UserError,
    application_number,
    calendar_for,
    choice,
    console,
    first_line,
    log,
    option_date,
    state,
    type_option,
    whole_number,
)
from custody import clock
from custody.i18n import label, tr

if TYPE_CHECKING:
    from custody.domain import PatentFacts, PatentType


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
    from custody.domain import DatePeriod, Reduction
    from custody.fees import fee_schedule
    from custody.ruleset import load_rules
    from custody.views import schedule_dict

    number, patent_type = _patent_type(appno, type_)
    if grant_year is not None and granted is not None:
        raise UserError(tr("give --grant-year or --granted, not both"))
    licence = option_date(open_licence_from, "--open-licence-from")
    given = dict(
        filing_date=option_date(filed, "--filed"), grant_year=whole_number(grant_year, "--grant-year"),
        granted_on=option_date(granted, "--granted"), paid_through=whole_number(paid_through, "--paid-through"),
        reduction=choice(Reduction, reduction, "--reduction", tr("a reduction")) if reduction is not None else None,
        open_licences=(DatePeriod(licence),) if licence else (),
        term_extension_days=whole_number(term_extension_days, "--term-extension-days"),
        reduction_recorded_on=option_date(reduction_recorded, "--reduction-recorded"))
    st = state(ctx)
    facts = _fee_facts(st, number, patent_type, given)
    schedule = fee_schedule(facts, load_rules(settings=st.config.rule_settings), calendar_for(st))
    view = schedule_dict(schedule, option_date(as_of, "--as-of") or clock.today(), option_date(pay_on, "--pay-on"))
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        from cli_rich import print_schedule

        print_schedule(console(), view)


def _patent_type(appno: str | None, type_: str | None) -> tuple[str | None, "PatentType"]:
    given = type_option(type_) if type_ is not None else None
    if appno is None:
        if given is None:
            raise UserError(tr("give an application number or --type"))
        return None, given
    number = application_number(appno)
    if given is not None and given != number.type:
        raise UserError(tr(
            "--type {value} contradicts application number {number} (type digit says {value2})",
            value=label("type", given.value), number=number,
            value2=label("type", number.type.value)))
    return str(number), number.type



def _stored_facts(st: State, number: str) -> "PatentFacts | None":
    """The stored patent's facts; a database that cannot be reached only costs them (said in a warning)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from custody.store.patents import stored_facts

    try:
        return stored_facts(st.config.database_url, number)
    except (ArgumentError, NoSuchModuleError) as exc:
        from custody.store.readiness import url_problem

        raise url_problem(exc) from None
    except OperationalError as exc:
        log.warning("stored patent %s not read (%s): only the facts given count", number, first_line(exc.orig or exc))
        return None


def _fee_facts(st: State, number: str | None, patent_type: "PatentType", given: dict[str, Any]) -> "PatentFacts":
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
