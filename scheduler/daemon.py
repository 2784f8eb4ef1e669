"""`custody daemon`: one APScheduler BlockingScheduler in Asia/Shanghai running the ticks.

Planning runs at start and daily at `plan_at`, each time followed at once by a dispatch (in the same job, so the
two never race); dispatch also runs every minute from one minute after start; receipts every 10 minutes, and any
extra jobs (the legal-status ticks, wired by cli.py) on their own triggers. Jobs coalesce and have no misfire
grace limit (APScheduler 3.11 would otherwise drop a run missed by more than a second), and
every tick is a catch-up by design anyway: it works from what the database says is due by now. SIGTERM (and
SIGINT) stop claiming new work, let the running tick finish (`shutdown(wait=True)`), and the process exits 0.
Run one daemon per database; cron's `custody run-once` alongside it is safe (claims are atomic).
"""
from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from custody.clock import SHANGHAI
from scheduler.ticks import Ticks, dispatch_tick, plan_tick, receipts_tick, scheduled_dispatch_tick

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class ExtraJob:
    """Another tick for the daemon (e.g. the legal-status tick, wired by cli.py): `run(ticks)` on `trigger`."""

    id: str
    run: Callable[[Ticks], Any]
    trigger: BaseTrigger
    at_start: bool = True  # also run once right at start


def plan_then_dispatch(ticks: Ticks) -> None:
    """The plan tick, then a dispatch at once (not at the next minute): what was planned goes out now. The
    dispatch waits for a minute job still running rather than racing it (`Ticks.dispatching`)."""
    plan_tick(ticks)
    if not ticks.stop.is_set():
        dispatch_tick(ticks, wait=True)


def build_scheduler(ticks: Ticks, pool: ThreadPoolExecutor, plan_at: time = time(8, 0), dispatch_minutes: int = 1,
                    receipts_minutes: int = 10, extra: Sequence[ExtraJob] = ()) -> BlockingScheduler:
    """The scheduler with its jobs, run by `pool`. At start: planning (then its dispatch), receipts and the extra
    jobs marked `at_start`; the minute's dispatch job first runs one interval later, so it never races the
    dispatch that follows the first planning."""
    scheduler = BlockingScheduler(timezone=SHANGHAI, job_defaults=JOB_DEFAULTS, executors={"default": pool})
    now = ticks.clock()
    # Triggers built here get the zone too: a trigger object without one uses the machine's zone.
    scheduler.add_job(plan_then_dispatch, CronTrigger(hour=plan_at.hour, minute=plan_at.minute, timezone=SHANGHAI),
                      args=[ticks], id="plan", name="plan reminders, then send", next_run_time=now, **JOB_DEFAULTS)
    scheduler.add_job(scheduled_dispatch_tick, IntervalTrigger(minutes=dispatch_minutes, timezone=SHANGHAI),
                      args=[ticks], id="dispatch", name="send due reminders",
                      next_run_time=now + timedelta(minutes=dispatch_minutes), **JOB_DEFAULTS)
    scheduler.add_job(receipts_tick, IntervalTrigger(minutes=receipts_minutes, timezone=SHANGHAI), args=[ticks],
                      id="receipts", name="pull SMS receipts", next_run_time=now, **JOB_DEFAULTS)
    for job in extra:
        start = {"next_run_time": now} if job.at_start else {}
        scheduler.add_job(job.run, job.trigger, args=[ticks], id=job.id, name=job.id, **start, **JOB_DEFAULTS)
    return scheduler


def run_daemon(ticks: Ticks, plan_at: time = time(8, 0), extra: Sequence[ExtraJob] = ()) -> int:
    """Run until SIGTERM or SIGINT; returns the exit code (0)."""
    pool = ThreadPoolExecutor(max_workers=3 + len(extra))  # one per job: a long plan never delays dispatch
    scheduler = build_scheduler(ticks, pool, plan_at, extra=extra)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: finishing the running tick, then exiting", signal.Signals(signum).name)
        ticks.stop.set()
        try:
            scheduler.shutdown(wait=False)  # ends the main loop; running jobs are waited for below
        except SchedulerNotRunningError:
            pass

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("daemon started: plan daily at %s and at start, dispatch every minute, receipts every 10 minutes%s",
             plan_at.strftime("%H:%M"), "".join(f", {job.id}" for job in extra))
    scheduler.start()
    pool.shutdown(wait=True)  # start() has returned: let a tick that is still running finish its work
    log.info("daemon stopped")
    return 0
