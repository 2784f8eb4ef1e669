"""Operator look-ups and standing data: enterprises (their instructions, who receives their reminders, their
page), contacts (consent per channel), the patent list, and ending custody. The logic is custody.store's
(directory, reach, standing, patent_list, custody_end); text goes through custody.i18n.
"""

import json
import sys
from collections.abc import Callable

import typer

from cli_base import (
    ENTERPRISE_HELP_LIST,
    Format,
    ScheduleFormat,
    UsageError,
    UserError,
    console,
    db_session,
    emit,
    enterprise_of,
    login,
    option_date,
    period_days,
    rules_of,
    state,
    stored_patent,
    translated_columns,
    type_option,
)
from cli_wiring import configured_reminders
from custody import clock
from custody.i18n import tr


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
        found = enterprise_reach(session, configured_reminders(state(ctx)), unreached_only=no_recipient)
        modes = patents_by_mode(session)
    emit([{"credit_code": e.credit_code, "name": e.name, "contacts": e.contacts, "recipients": e.recipients,
           "custody_patents": e.custody_patents, "watch_patents": modes.get(e.id, {}).get("watch", 0),
           "ended_patents": modes.get(e.id, {}).get("ended", 0)} for e in found], fmt, ENTERPRISE_COLUMNS)


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
    wanted = PatentFilter(type_option(type_) if type_ else None, _state(state_, state_option),
                          period_days(due_within, day, "--due-within") if due_within else None, flag)
    with db_session(ctx) as session:
        chunks = report_chunks(session, enterprise_of(session, enterprise).credit_code if enterprise else None)
        rows = patent_rows(chunks, rules_of(ctx), calendar_from(session), day, wanted)
        write_stream(rows, translated_columns(COLUMNS), fmt.value, sys.stdout, free_text=TEXT_FROM_DATA,
                     width=terminal_width(), droppable=DROPPABLE)


def _state(text: str | None, parse: Callable[[str], str]) -> str | None:
    try:
        return parse(text) if text is not None else None
    except ValueError as exc:
        raise UserError(f"--state {exc}") from None


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
        ended = end_patent(session, patent, by or login(), clock.now(), clock.today())
    if ended.already:
        typer.echo(tr("{number}: custody had already ended: nothing changed", number=number))
        return
    typer.echo(tr("{number}: custody ended; {cancelled} planned reminder(s) cancelled; history kept (importing "
                  "it again takes it back)", number=number, cancelled=ended.cancelled))


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
        enterprise = enterprise_of(session, code)
        name, credit_code = enterprise.name, enterprise.credit_code
        ended = end_enterprise(session, enterprise, by or login(), clock.now(), clock.today())
    typer.echo(tr("{name} ({code}): custody ended for {ended} patent(s) ({already} had already ended); "
                  "{cancelled} planned reminder(s) cancelled; history kept", name=name, code=credit_code,
                  ended=ended.patents, already=ended.already, cancelled=ended.cancelled))


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
        detail = enterprise_detail(session, enterprise_of(session, code), configured_reminders(state(ctx)))
    if fmt == ScheduleFormat.json:
        typer.echo(json.dumps(detail, ensure_ascii=False, indent=2, default=str))
        return
    for line in enterprise_lines(detail):
        console().print(line)
    emit(detail["contacts"], Format.table, translated_columns(CONTACT_HEADINGS))


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
        rows = list(contact_rows(session, enterprise_of(session, enterprise).id if enterprise else None))
    emit(rows, fmt, translated_columns(CONTACT_HEADINGS))
