"""Reminders by hand: `custody remind plan|list|send|preview`. Planning is custody.store.planner's, sending the
dispatch tick's (scheduler.ticks), the texts custody.store.preview's; the ticks' context is cli_wiring's.
"""

import json
from datetime import date
from typing import Any

import typer

from cli_base import (
    ENTERPRISE_HELP_LIST,
    Format,
    ScheduleFormat,
    UserError,
    emit,
    enterprise_of,
    option_date,
    say_error,
)
from cli_wiring import reminder_ticks
from custody import clock
from custody.i18n import label, tr


def _plan_moment(as_of: date | None):
    from datetime import datetime, time

    from custody.clock import SHANGHAI

    if as_of is None or as_of == clock.today():
        return clock.now()
    return datetime.combine(as_of, time(0), SHANGHAI)


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
        say_error(tr("--as-of only goes with --dry-run (real planning is always as of now)"))
        raise typer.Exit(2)
    with reminder_ticks(ctx, transports=False) as ticks, Session(ticks.engine, expire_on_commit=False) as session:
        # Another day: every patent's next fee is recomputed for it (inside the transaction rolled back below),
        # not read from patent_due as the daemon last computed it.
        result = plan(session, ticks.settings, ticks.rules, calendar_from(session), _plan_moment(day),
                      keep_lines=True, full_refresh=full or day is not None, dry_run=dry_run)
        session.rollback() if dry_run else session.commit()
    emit(_plan_rows(result, fmt), fmt, _plan_columns(), title=tr("dry run: nothing saved") if dry_run else None)
    if fmt == Format.table:
        typer.echo(_plan_totals(result, dry_run), err=True)


def _plan_rows(result, fmt: Format) -> list[dict[str, Any]]:
    return [{"enterprise": line.enterprise, "patent": line.application_number, "year": line.fee_year,
             "tier": line.tier, "channel": line.channel, "recipient": line.recipient,
             "send_at": line.send_at.strftime("%Y-%m-%d %H:%M") if line.send_at else "",
             "outcome": line.outcome if fmt == Format.json else _outcome_words(line.outcome)}
            for line in result.lines]


def _plan_columns() -> list[tuple[str, ...]]:
    return [("enterprise", tr("enterprise")), ("patent", tr("application number")), ("year", tr("year"), "int"),
            ("tier", tr("tier"), "text", "tier"), ("channel", tr("channel"), "text", "channel"),
            ("recipient", tr("recipient")), ("send_at", tr("send at"), "date"), ("outcome", tr("outcome"), "main")]


def _plan_totals(result, dry_run: bool) -> str:
    """What planning did (or would do), in one line on stderr."""
    return (tr("would plan {items} items in {messages} messages; {skipped} skipped; {cancelled} cancelled"
               if dry_run else "planned {items} items in {messages} messages; {skipped} skipped; {cancelled} "
               "cancelled", items=result.items, messages=result.messages, skipped=result.skipped,
               cancelled=result.cancelled)
            + (tr("; {n} patents left out (fee facts refused)", n=result.screened) if result.screened else "")
            + (tr("; {n} rerouted to the fallback channel", n=result.rerouted) if result.rerouted else ""))


def _outcome_words(outcome: str) -> str:
    """A planning line's outcome for people: planned / already planned, or why it was skipped, in the language."""
    if outcome.startswith("skipped: "):
        return tr("skipped: {why}", why=outcome.removeprefix("skipped: "))
    return label("plan_outcome", outcome)


def reminder_columns() -> list[tuple[str, ...]]:
    """The outbox table's columns (key, heading, kind, domain), headings in the configured language."""
    return [("id", tr("id"), "int"), ("state", tr("state"), "text", "reminder_state"),
            ("kind", tr("kind"), "text", "reminder_kind"), ("channel", tr("channel"), "text", "channel"),
            ("recipient", tr("recipient"), "text", "recipient"), ("enterprise", tr("enterprise")),
            ("patents", tr("patents")),
            ("day", tr("day"), "date"), ("not_before", tr("not before"), "date"), ("attempts", tr("attempts"), "int"),
            ("last", tr("last code / reason"))]


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
        say_error(tr("--state must be one of {states}", states=", ".join(REMINDER_STATES)))
        raise typer.Exit(2)
    with reminder_ticks(ctx, transports=False) as ticks, session_for(ticks.engine) as session:
        rows = reminder_rows(session, state_, channel, limit)
    emit(rows, fmt, reminder_columns())


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
         [("outcome", tr("outcome"), "text", "tick_count"), ("count", tr("count"), "int")])
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
        raise UserError(tr("--date {day} is past: what went out then is in `custody remind list`", day=day))
    with reminder_ticks(ctx) as ticks, Session(ticks.engine, expire_on_commit=False) as session:
        owner = enterprise_of(session, enterprise).id if enterprise else None
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
