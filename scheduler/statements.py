"""The statement tick: each period, plan the enterprise statement emails in the outbox; the dispatch tick sends them.

The tick is a catch-up like the others: from `[statement] day` of the period's first month to the period's end,
every run plans the period's statement for each enterprise's email contacts, and the outbox's unique key
(custody.store.statements.statement_key) makes every run after the first a no-op. A daemon down on the day sends
the statements when it is back; two daemons, or cron beside one, plan each email once.
"""
from __future__ import annotations

from datetime import time
from typing import Any

from custody.clock import SHANGHAI
from custody.i18n import tr
from custody.statement import period_of, period_start
from custody.store.db import session_for
from custody.store.outbox import local_day
from custody.store.statements import plan_statement_mails
from scheduler.ticks import Ticks, dispatch_tick, recorded

STATEMENT_AT = time(9, 0)  # after the morning's planning (08:00): the statements go in office hours


def plan_statements(ticks: Ticks, codes: list[str] | None = None, period: str | None = None,
                    scheduled: bool = False) -> dict[str, Any]:
    """Plan the current period's statement emails (all enterprises, or those of `codes`). `scheduled`: only from
    the period's sending day on (the daemon); by hand they are planned at once."""
    settings, now = ticks.statements, ticks.clock()
    today, chosen = local_day(now), period or settings.period
    if not ticks.settings.can_send("email"):  # planned, they would only be cancelled as stranded
        return {"not_planned": tr("email is not enabled ([email] enabled = true, or [outbox] replace = true)")}
    if scheduled and today < period_start(today, chosen, settings.day):
        return {"waiting_until": period_start(today, chosen, settings.day).isoformat()}
    with session_for(ticks.engine) as session:
        found = plan_statement_mails(session, codes, period_of(today, chosen), today, now)
    return {"period": period_of(today, chosen), **found}


def statement_plan_tick(ticks: Ticks) -> dict[str, Any]:
    """Plan the period's statements when due, recorded as tick "statements" (`custody run-once` runs it before its
    dispatch when [statement] enabled)."""
    return recorded("statements", ticks, lambda: plan_statements(ticks, scheduled=True))


def statement_tick(ticks: Ticks) -> dict[str, Any]:
    """The daemon's job: plan the period's statements when due, then send what is due at once."""
    summary = statement_plan_tick(ticks)
    if summary.get("planned") and not ticks.stop.is_set():
        dispatch_tick(ticks, wait=True)
    return summary


def statement_jobs(ticks: Ticks, at: time = STATEMENT_AT) -> list:
    """The daemon's statement job (daily at `at` and at start), when [statement] enabled."""
    from apscheduler.triggers.cron import CronTrigger

    from scheduler.daemon import ExtraJob

    if not ticks.statements.enabled:
        return []
    return [ExtraJob("statements", statement_tick, CronTrigger(hour=at.hour, minute=at.minute, timezone=SHANGHAI))]
