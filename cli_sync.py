"""`custody status sync`: apply legal-status records from a file, a folder, the HTTP feed, the drop folder or
the EPO's Open Patent Services, as the daemon's status ticks do (scheduler.status_tick, scheduler.ops_tick), and
show what changed. Unrecognised statuses and failures are also alerted to the operator through the outbox.
"""

import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli_base import Format, UsageError, UserError, db_session, emit, rules_of, state
from cli_wiring import ops_wiring, reminder_settings, status_wiring
from custody import clock
from custody.config_error import ConfigError
from custody.i18n import cell_label, tr

if TYPE_CHECKING:
    from custody.config import Config


def _status_engine(ctx: typer.Context):
    from custody.store.db import engine_for

    with db_session(ctx):  # refuses a database that is not initialised or not up to date
        pass
    return engine_for(state(ctx).config.database_url)


def _show_sync(shown: dict[str, Any], fmt: Format) -> None:
    """What a sync did: one source, or each file of a folder (`files`), as a table or as one JSON document."""
    from custody.masking import redacted

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
        raise UsageError(tr("status sync prints table or json"))
    if source == "ops" or patent is not None:
        return _sync_ops(ctx, patent, dry_run, fmt)
    st = state(ctx)
    rules, wiring, now = rules_of(ctx), status_wiring(st.config), clock.now()
    settings = reminder_settings(st)  # the operator is alerted of unknown statuses and failures, as by the daemon
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
        return not getattr(record, "operator_alert", False)


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


def _sync(source: str, engine, wiring, rules, now, dry_run: bool, config: "Config",
          settings) -> tuple[dict[str, Any], list[str]]:
    """(what to show, failures) of syncing SOURCE: a file, a folder, `http` or `drop`."""
    from dataclasses import replace

    from importers.status_file import StatusFile
    from scheduler.status_tick import WrongFolder, folder_exports

    if source == "http":
        feeds = wiring.feeds()
        if not feeds:
            raise ConfigError(tr("{origin}: [status.http] url is not set: give the feed's address there",
                                 origin=config.origin))
        shown = [_synced(engine, f.fetch, f.name, rules, now, dry_run, settings) for f in feeds]
        return (shown[0] if len(shown) == 1 else {"feeds": shown}), []
    if source == "drop" or Path(source).is_dir():
        folder = wiring.drop_folder if source == "drop" else Path(source)
        if folder is None:
            raise ConfigError(tr("{origin}: [status] drop_folder is not set: give the folder there",
                                 origin=config.origin))
        try:
            exports, others = folder_exports(folder, refuse_without_exports=source != "drop")
        except WrongFolder as exc:
            raise UserError(str(exc)) from None
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
        raise UserError(tr("{source}: no such file or folder (or say `http` or `drop`)", source=source))
    return _synced(engine, StatusFile(path).fetch, f"file:{path.name}", rules, now, dry_run, settings), []


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
        raise UserError(tr(
            "{name}: {problems_count} unreadable record(s): nothing applied",
            name=cell_label("source", name), problems_count=len(exc.problems))) from None
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
    wiring, rules = ops_wiring(st.config), rules_of(ctx)
    if wiring.gateway is None:
        raise ConfigError(tr("OPS watch: {why}", why=wiring.missing))
    engine = _status_engine(ctx)
    try:
        with _alerts_off_stderr():
            run = run_ops(engine, wiring, rules, clock.now(), reminder_settings(st), only=patent, dry_run=dry_run)
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
