"""The legal-status tick: read the configured feeds and the drop folder, apply what they say, then plan the
pledgee alerts and watch digests that follow. Used by the daemon (daily, and every minute for the drop folder)
and by `custody status sync`.

Every source is applied all or nothing in one transaction, and the same event twice is one event, so a tick run
late, twice, or from cron beside the daemon does the right thing. A file landing in the drop folder is claimed by
an atomic rename before it is read, so two processes never apply the same file; it ends in `done/` or, refused,
in `failed/` beside a `.problems.txt` that says why. scheduler/ never imports importers/: cli.py hands the
readers over in a `StatusWiring`.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.i18n import source_label
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RuleSet
from custody.status_vocab import StatusBatch, StatusSource, StatusSourceError
from custody.store.calendar import calendar_from
from custody.store.db import session_for
from custody.store.outbox import plan_alert
from custody.store.status import SyncRefused, SyncResult, ingest, record_sync
from custody.store.status_notices import plan_pledgee_alerts, plan_watch_digests
from custody.store.ticks import take_turn, tick_runs

log = logging.getLogger(__name__)
IGNORED_PREFIXES = (".", "~$")  # hidden files and Excel's lock files
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".problems.txt")
STALE_CLAIM_SECONDS = 3600  # a claimed file this old belonged to a process that died: put it back
FEED_FAILED = "failed, nothing applied: "  # a feed's line in a status tick's summary when it could not be applied


@dataclass(frozen=True)
class StatusWiring:
    """What the status tick reads, built by cli.py from config [status]."""

    feeds: Callable[[], Sequence[StatusSource]]  # the configured feeds (HTTP), built afresh for each run
    read_file: Callable[[Path], StatusBatch]
    drop_folder: Path | None = None
    notify_channels: tuple[str, ...] = ("email",)
    digest_roles: tuple[str, ...] = ("ip_manager",)
    settle_seconds: float = 5.0  # a file younger than this may still be being copied in


def sync_source(engine: Engine, fetch: Callable[[], StatusBatch], name: str, rules: RuleSet, now: datetime,
                settings: ReminderSettings | None = None, dry_run: bool = False) -> SyncResult:
    """Read one source and apply it in one transaction. A source that cannot be read, or has any unreadable
    record, changes nothing: the failure is recorded (and the operator alerted) and the error raised."""
    try:
        batch = fetch()
        with Session(engine, expire_on_commit=False) as session:
            take_turn(session, "status")
            result = ingest(session, batch, rules, calendar_from(session), now)
            record_sync(session, result, batch.source)
            if settings is not None and result.unknown:
                _alert_unknown(session, settings, result, now)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        return result
    except (StatusSourceError, SyncRefused) as exc:
        if not dry_run:
            _record_failure(engine, name, str(exc), settings, now)
        raise


def _alert_unknown(session: Session, settings: ReminderSettings, result: SyncResult, now: datetime) -> None:
    details = [f"{u['application_number']} {u['announced_on']} {u['status']} ({u['location']})"
               for u in result.unknown[:10]]
    source = source_label(result.source, "zh")  # the alert is in Chinese: "file:x.csv" as 文件 x.csv
    plan_alert(session, settings, f"status-unknown:{result.source}:{now:%Y%m%d%H%M}", now,
               f"法律状态同步：{len(result.unknown)}条未识别的法律状态，已保留待核对（{source}）", details)


def _record_failure(engine: Engine, name: str, error: str, settings: ReminderSettings | None,
                    now: datetime) -> None:
    with session_for(engine) as session:
        record_sync(session, None, name, error=error)
        if settings is not None:
            plan_alert(session, settings, f"status-failed:{name}:{now:%Y%m%d%H}", now,
                       f"法律状态同步失败，未做任何更改：{source_label(name, 'zh')}", [error[:500]])


# ---------------------------------------------------------------------------------------------- drop folder


class WrongFolder(ValueError):
    """A folder named to `custody status sync` that is most likely not a legal-status folder: nothing is touched."""


def folder_exports(folder: Path, refuse_without_exports: bool) -> tuple[list[Path], list[str]]:
    """(the folder's legal-status exports, the names of its other files). A folder that holds files but no export,
    and was never synced before (no done/ or failed/), is refused: most likely the wrong folder, such as the
    installation's own."""
    from custody.status_vocab import STATUS_FILE_SUFFIXES, is_status_export

    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    exports = [p for p in files if is_status_export(p.name)]
    others = [p.name for p in files if not is_status_export(p.name)]
    synced_before = (folder / "done").is_dir() or (folder / "failed").is_dir()
    if refuse_without_exports and others and not exports and not synced_before:
        raise WrongFolder(f"{folder} holds no legal-status export ({', '.join(STATUS_FILE_SUFFIXES)}), only other "
                          f"files ({', '.join(others[:5])}{', …' if len(others) > 5 else ''}): nothing was "
                          f"touched; is it the right folder?")
    return exports, others


def _candidates(folder: Path, settle_seconds: float) -> list[Path]:
    """The settled legal-status exports in the folder: only CSV/Excel files are ever claimed and filed away, so a
    database, a config file or anything else that shares the folder is never moved."""
    from custody.status_vocab import is_status_export

    settled = time.time() - settle_seconds
    found = [p for p in folder.iterdir() if p.is_file() and is_status_export(p.name)
             and not p.name.startswith(IGNORED_PREFIXES) and not p.name.lower().endswith(IGNORED_SUFFIXES)
             and (settle_seconds <= 0 or p.stat().st_mtime <= settled)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _claim(path: Path, processing: Path) -> Path | None:
    """Move the file into a private folder (atomic on one file system); None if another process took it."""
    target = processing / uuid.uuid4().hex[:12] / path.name
    target.parent.mkdir(parents=True)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        target.parent.rmdir()
        return None
    return target


def _release_stale_claims(folder: Path, processing: Path) -> None:
    if not processing.is_dir():
        return
    for claim in processing.iterdir():
        if claim.is_dir() and time.time() - claim.stat().st_mtime > STALE_CLAIM_SECONDS:
            for file in claim.iterdir():
                os.replace(file, folder / file.name)
            claim.rmdir()


def _file_away(claimed: Path, folder: Path, now: datetime, problems: str | None = None) -> Path:
    target_dir = folder / ("failed" if problems is not None else "done")
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{now.astimezone(SHANGHAI):%Y%m%d-%H%M%S}-{claimed.name}"
    shutil.move(str(claimed), target)
    claimed.parent.rmdir()
    if problems is not None:
        target.with_name(target.name + ".problems.txt").write_text(problems + "\n", encoding="utf-8")
    return target


def sync_drop_folder(engine: Engine, wiring: StatusWiring, rules: RuleSet, now: datetime,
                     settings: ReminderSettings | None = None) -> list[dict[str, Any]]:
    """Apply every settled file in the drop folder, each on its own; returns one line per file."""
    folder = wiring.drop_folder
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    processing = folder / "processing"
    _release_stale_claims(folder, processing)
    outcomes = []
    for path in _candidates(folder, wiring.settle_seconds):
        claimed = _claim(path, processing)
        if claimed is None:
            continue
        try:
            result = sync_source(engine, lambda c=claimed: wiring.read_file(c), f"file:{path.name}", rules, now,
                                 settings)
        except (StatusSourceError, SyncRefused) as exc:
            problems = "\n".join(getattr(exc, "problems", None) or [str(exc)])
            moved = _file_away(claimed, folder, now, problems)
            outcomes.append({"file": path.name, "error": str(exc), "moved_to": str(moved)})
            continue
        moved = _file_away(claimed, folder, now)
        outcomes.append({"file": path.name, "summary": result.summary(), "moved_to": str(moved)})
    return outcomes


# ---------------------------------------------------------------------------------------------- ticks


def plan_status_notices(engine: Engine, wiring: StatusWiring, rules: RuleSet, now: datetime,
                        settings: ReminderSettings | None = None) -> dict[str, Any]:
    """Pledgee alerts and watch digests, planned into the reminders outbox (idempotent); an alert for a pledge
    with no contact, or a digest nobody can receive, goes out on `settings`' alert channel."""
    today = now.astimezone(SHANGHAI).date()
    with session_for(engine) as session:
        take_turn(session, "status")
        calendar = calendar_from(session)
        pledgee = plan_pledgee_alerts(session, rules, calendar, today, now, wiring.notify_channels, settings)
        digests = plan_watch_digests(session, today, now, wiring.notify_channels, wiring.digest_roles, settings)
    return {"pledgee_alerts": len(pledgee), "digests": len(digests)}


def run_status(engine: Engine, wiring: StatusWiring, rules: RuleSet, now: datetime,
               settings: ReminderSettings | None = None, feeds: bool = True) -> dict[str, Any]:
    """Feeds (unless `feeds` is False), then the drop folder, then the notices; one failing source does not stop
    the others."""
    summary: dict[str, Any] = {}
    for feed in wiring.feeds() if feeds else ():
        try:
            summary[feed.name] = sync_source(engine, feed.fetch, feed.name, rules, now, settings).summary()
        except (StatusSourceError, SyncRefused) as exc:
            summary[feed.name] = f"{FEED_FAILED}{exc}"
    summary["drop_folder"] = sync_drop_folder(engine, wiring, rules, now, settings)
    summary.update(plan_status_notices(engine, wiring, rules, now, settings))
    return summary


def status_tick(ticks: Any, wiring: StatusWiring) -> dict[str, Any]:
    """The daily status tick (feeds, drop folder, notices), recorded in tick_run as "status".

    `ticks` is scheduler.ticks.Ticks (engine, settings, rules, clock).
    """
    from scheduler.ticks import recorded

    return recorded("status", ticks, lambda: run_status(ticks.engine, wiring, ticks.rules, ticks.clock(),
                                                        ticks.settings))


def drop_folder_tick(ticks: Any, wiring: StatusWiring) -> dict[str, Any]:
    """The frequent look into the drop folder ("when a file lands"); notices only when a file was applied."""
    from scheduler.ticks import recorded

    def work() -> dict[str, Any]:
        files = sync_drop_folder(ticks.engine, wiring, ticks.rules, ticks.clock(), ticks.settings)
        applied = any("summary" in f for f in files)
        if not applied:
            return {"files": files}
        return {"files": files, **plan_status_notices(ticks.engine, wiring, ticks.rules, ticks.clock(), ticks.settings)}

    return recorded("status_drop", ticks, work)


def status_today(ticks: Any, wiring: StatusWiring) -> dict[str, Any]:
    """For `custody run-once` (cron, every few minutes): the daily status tick (feeds too) when it has not
    succeeded yet today (Asia/Shanghai), else only the drop folder, so a feed is read once a day, not every run."""
    with session_for(ticks.engine) as session:
        last = getattr(tick_runs(session).get("status"), "last_success_at", None)
    today = ticks.clock().astimezone(SHANGHAI).date()
    if last is None or last.astimezone(SHANGHAI).date() < today:
        return status_tick(ticks, wiring)
    return drop_folder_tick(ticks, wiring)


def status_failures(summary: dict[str, Any]) -> list[str]:
    """What a status tick's summary says went wrong: each drop-folder file refused (and where it was moved) and
    each feed that failed; empty when everything was applied. `custody run-once` exits 1 on any."""
    files = [*summary.get("drop_folder", ()), *summary.get("files", ())]
    refused = [f"drop folder: {f['file']} refused, moved to {f['moved_to']}: {f['error']}" for f in files
               if "error" in f]
    feeds = [f"{name}: {line}" for name, line in summary.items() if isinstance(line, str)
             and line.startswith(FEED_FAILED)]
    return refused + feeds


def status_jobs(wiring: StatusWiring, at: clock_time, drop_minutes: int = 1) -> list:
    """The daemon's legal-status jobs: the daily status tick (feeds, drop folder, notices) at `at` and at start,
    and a look into the drop folder every `drop_minutes` ("when a file lands")."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from scheduler.daemon import ExtraJob

    # Triggers get the zone: a trigger object built without one uses the machine's zone (reference: apscheduler.md).
    jobs = [ExtraJob("status", partial(status_tick, wiring=wiring),
                     CronTrigger(hour=at.hour, minute=at.minute, timezone=SHANGHAI))]
    if wiring.drop_folder is not None:
        # Not at start: the status job that runs then looks into the folder too.
        jobs.append(ExtraJob("status_drop", partial(drop_folder_tick, wiring=wiring),
                             IntervalTrigger(minutes=drop_minutes, timezone=SHANGHAI), at_start=False))
    return jobs
