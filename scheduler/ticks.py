"""The three ticks (plan, dispatch, receipts) and `run_once`: idempotent units of work the daemon and cron run.

Within one process, dispatch ticks never overlap (`Ticks.dispatching`): the daemon's minute job and the dispatch
that follows each planning take turns; a second process (cron beside the daemon) is safe by the atomic claims.

APScheduler only decides *when* a tick runs; *what* is due comes from the database, so a tick run late, twice,
or from cron at the same time as the daemon does the right thing. Each tick records its start, success or
failure in `tick_run` (read by `custody health`); a failing tick is logged and the next run tries again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from custody import clock
from custody.masking import mask_text
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RestorationRule, RuleSet
from custody.statement import StatementSettings
from custody.store.calendar import calendar_from
from custody.store.db import session_for
from custody.store.planner import PlanResult, plan
from custody.store.ticks import tick_failed, tick_started, tick_succeeded
from scheduler.ports import Transports

log = logging.getLogger(__name__)


@dataclass
class Ticks:
    """Everything a tick needs, built once by cli.py (`custody daemon`, `custody run-once`)."""

    engine: Engine
    settings: ReminderSettings
    rules: RuleSet
    transports: Transports
    clock: Callable[[], datetime] = clock.now
    stop: threading.Event = field(default_factory=threading.Event)  # set on SIGTERM: finish, claim no more
    dispatching: threading.Lock = field(default_factory=threading.Lock)  # one dispatch at a time in this process
    statements: StatementSettings = field(default_factory=StatementSettings)  # [statement], [platform]

    @property
    def restoration(self) -> RestorationRule:
        return self.rules.restoration

    def unready(self) -> dict[str, str]:
        """{channel: the secret this process lacks for it}: such channels are left for a process that has it."""
        return {channel: why for channel, transport in self.transports.items()
                if (why := getattr(transport, "missing_secret", None))}

    def worker(self) -> str:
        """A name for one run of a dispatcher: host, process and a random part (threads differ too)."""
        return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def recorded(name: str, ticks: Ticks, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` as tick `name`, recording start and success or failure; failures are logged, not raised."""
    with session_for(ticks.engine) as session:
        tick_started(session, name, ticks.clock())
    try:
        summary = work()
    except Exception as exc:  # noqa: BLE001 - a tick must never kill the daemon; the next run tries again
        log.error("tick %s failed: %s", name, mask_text("".join(traceback.format_exception(exc))))
        with session_for(ticks.engine) as session:
            tick_failed(session, name, ticks.clock(), mask_text(f"{type(exc).__name__}: {exc}")[:2000])
        return {"error": f"{type(exc).__name__}: {mask_text(str(exc))[:300]}"}
    with session_for(ticks.engine) as session:
        tick_succeeded(session, name, ticks.clock(), summary)
    log.info("tick %s: %s", name, summary)
    return summary


def plan_now(ticks: Ticks, keep_lines: bool = False, full_refresh: bool = False) -> PlanResult:
    with session_for(ticks.engine) as session:
        return plan(session, ticks.settings, ticks.rules, calendar_from(session), ticks.clock(), keep_lines,
                    full_refresh, unready=ticks.unready())


def plan_tick(ticks: Ticks) -> dict[str, Any]:
    return recorded("plan", ticks, lambda: plan_now(ticks).summary())


def dispatch_tick(ticks: Ticks, wait: bool = True) -> dict[str, Any]:
    """The dispatch tick; with `wait` False it steps aside when another one in this process is running (the
    daemon's minute job while the dispatch after planning runs: it already sends everything due)."""
    from scheduler.dispatch import dispatch

    if not ticks.dispatching.acquire(blocking=wait):
        log.debug("dispatch: another dispatch tick is running in this process")
        return {"skipped": 1}
    try:
        return recorded("dispatch", ticks, lambda: dispatch(ticks))
    finally:
        ticks.dispatching.release()


def scheduled_dispatch_tick(ticks: Ticks) -> dict[str, Any]:
    return dispatch_tick(ticks, wait=False)


def receipts_tick(ticks: Ticks) -> dict[str, Any]:
    from scheduler.receipts import pull_receipts

    return recorded("receipts", ticks, lambda: pull_receipts(ticks))


def run_once(ticks: Ticks, before: Mapping[str, Callable[[Ticks], dict[str, Any]]] | None = None
             ) -> dict[str, dict[str, Any]]:
    """Every tick once, in order (for crontab); safe while the daemon runs. `before`: other ticks to run first,
    by name (the legal-status tick, wired by cli.py: what it changes is then planned for at once)."""
    results = {name: run(ticks) for name, run in (before or {}).items()}
    return {**results, "plan": plan_tick(ticks), "dispatch": dispatch_tick(ticks), "receipts": receipts_tick(ticks)}
