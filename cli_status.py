"""The legal-status watch by hand, besides syncing (cli_sync): `custody status ops-usage|confirm|review`, an
enterprise's decision about a fee (`custody decide`), and a patent's history and custody mode (`custody patent
history|watch|custody`). The effects are custody.store's (status, status_transfer, status_review, modes).
"""

import typer

from cli_base import (
    Format,
    UsageError,
    UserError,
    db_session,
    emit,
    login,
    report_date,
    rules_of,
    state,
    stored_patent,
)
from cli_wiring import ops_wiring
from custody import clock
from custody.i18n import label, tr


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
            effects = confirm_transfer(session, patent, by or login(), clock.today(), target, owner)
        except (UnknownEnterprise, ValueError) as exc:
            raise UserError(str(exc)) from None
    for effect in effects:
        typer.echo(effect.message)


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

    start = report_date(since, "--since") or clock.today() - timedelta(days=90)
    with db_session(ctx) as session:
        rows = review_rows(session, start)
    emit(rows, fmt, [("date", tr("date"), "date"), ("application_number", tr("application number")),
                     ("what", tr("what"), "text", "effect"), ("message", tr("detail"))])


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
        raise UsageError(tr("give exactly one of --pay, --abandon, --undecided"))
    if now_ and chosen[0] != "abandon":
        raise UsageError(tr("--now goes with --abandon"))
    with db_session(ctx) as session:
        patent = stored_patent(session, appno)
        rules = rules_of(ctx)
        try:
            _, effects = record_decision(session, patent, chosen[0], year, by or login(), clock.now(),
                                         clock.today(), rules, calendar_from(session), note=note, immediately=now_)
        except NotInCustody as exc:
            raise UserError(str(exc)) from None
    for effect in effects:
        typer.echo(f"{patent.application_number}: {effect.message}")


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
                     ("detail", tr("detail")), ("source", tr("source"), "text", "source")],
         title=f"{patent.application_number} {patent.title}")


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
            raise UserError(tr(
                "{application_number} is with no enterprise: name it with --enterprise CODE",
                application_number=patent.application_number))
        effects = set_mode(session, patent, mode, target, by or login(), clock.now(), clock.today())
    if not effects:
        typer.echo(tr("{number}: already watch-only for {name} ({code}): nothing changed" if mode == "watch" else
                      "{number}: already in custody of {name} ({code}): nothing changed",
                      number=patent.application_number, name=target.name, code=target.credit_code))
    for effect in effects:
        typer.echo(f"{patent.application_number}: {effect.message}")
