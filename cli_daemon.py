"""The ticks run by hand or on a timer: `custody daemon`, `custody run-once` (for cron) and `custody health`.
What each tick does is scheduler/'s; the wiring of the configured parts is cli_wiring's.
"""

import json
import logging

import typer

from cli_base import Format, UserError, emit, say_error, state
from cli_logging import log_to_stderr
from cli_wiring import ops_wiring, reminder_ticks, status_jobs, status_wiring
from custody import clock
from custody.i18n import current_language, label, tr


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
            raise UserError(tr("{name}: {text!r} is not a time like 08:00", name=name, text=text)) from None
    log_to_stderr()
    with reminder_ticks(ctx) as ticks:
        code = run_daemon(ticks, times["--plan-at"], status_jobs(state(ctx).config, times["--status-at"])
                          + statement_jobs(ticks))
    raise typer.Exit(code)


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

    from custody.masking import redacted
    from scheduler.ops_tick import ops_once
    from scheduler.statements import statement_plan_tick
    from scheduler.status_tick import status_failures, status_today
    from scheduler.ticks import run_once

    log_to_stderr(logging.WARNING)
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
        say_error(redacted(line))
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
