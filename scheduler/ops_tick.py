"""The OPS watch tick: check the legal events of every watched patent that is due (custody.ops_schedule), apply
them like any other legal-status source, and keep within OPS's quota and throttling.

Each patent is applied all or nothing in its own transaction (an unreadable answer changes nothing of it), and the
same event twice (from OPS again, or from a file) is one event. The volume each exchange cost is recorded in its
own transaction, dry run or not, failure or not: it was downloaded. OPS's word stops the run: a black light or a
403 pauses the watch (stored, so the daemon and cron both obey it), "overloaded" pauses it for a while, and the
weekly quota near its end stops it for the day. scheduler/ never imports importers/: cli.py hands the gateway and
the source over in an `OpsWiring`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from custody.appno import parse_application_number
from custody.clock import SHANGHAI
from custody.i18n import tr
from custody.ops_legal import (
    DocdbNumber,
    OpsAuthError,
    OpsError,
    OpsNotFound,
    OpsPort,
    OpsQuotaExceeded,
    OpsRefused,
    OpsReply,
    OpsUnavailable,
    Throttle,
    docdb_from_number_service,
    docdb_guess,
)
from custody.ops_schedule import PAUSES, OpsSettings, is_quota_near, start_of_next_day
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RuleSet
from custody.status_vocab import StatusSource, StatusSourceError
from custody.store.calendar import calendar_from
from custody.store.db import session_for
from custody.store.ops_watch import (
    DuePatent,
    add_usage,
    due_count,
    due_patents,
    enrol_watched,
    is_urgent,
    never_checked,
    ops_state,
    pause,
    record_checked,
    record_failed,
    urgent_ids,
    used_this_week,
)
from custody.store.outbox import plan_alert
from custody.store.status import SyncRefused, SyncResult, ingest, record_sync
from custody.store.ticks import take_turn

log = logging.getLogger(__name__)
SOURCE = "ops"
# The run stops on these: OPS (or the network) will say the same for the next patent.
STOPPING = (OpsQuotaExceeded, OpsRefused, OpsAuthError, OpsUnavailable)


@dataclass(frozen=True)
class OpsWiring:
    """What the OPS tick needs, built by cli.py: settings, a gateway per run (None without credentials, with the
    reason in `missing`), and the source that reads one patent's events through it."""

    settings: OpsSettings
    gateway: Callable[[], OpsPort] | None
    source: Callable[[OpsPort, Any, DocdbNumber], StatusSource]
    missing: str | None = None
    notices: Callable[[Engine, RuleSet, datetime, ReminderSettings | None], Any] | None = None


@dataclass
class OpsRun:
    """What one run did, shown by `custody status sync ops` and kept as the tick's summary."""

    result: SyncResult = field(default_factory=lambda: SyncResult(SOURCE))
    checked: int = 0
    failed: list[dict] = field(default_factory=list)
    bytes: int = 0
    stopped: str | None = None
    is_error: bool = False  # stopped by a refusal or failure (quota, auth, network), not by OPS's pacing
    due_left: int = 0

    def summary(self) -> dict[str, Any]:
        return {"checked": self.checked, "failed": len(self.failed), "new_events": len(self.result.new_events),
                "unknown": len(self.result.unknown), "bytes": self.bytes, "stopped": self.stopped,
                "error": self.is_error, "due_left": self.due_left}


def run_ops(engine: Engine, wiring: OpsWiring, rules: RuleSet, now: datetime, settings: ReminderSettings | None = None,
            only: str | None = None, dry_run: bool = False, stop: Callable[[], bool] = lambda: False) -> OpsRun:
    """Check the due patents (or only the patent `only`), in the order the schedule gives."""
    run = OpsRun()
    if wiring.gateway is None:
        run.stopped, run.is_error = wiring.missing or tr("OPS credentials are not set"), True
        return run
    blocked, due = _prepare(engine, wiring.settings, now, only)
    if blocked:
        run.stopped, run.is_error = blocked, True
        return run
    gateway = wiring.gateway()
    for patent in due:
        if stop():
            run.stopped = "stopping (signal)"
            break
        halt = _check(engine, wiring, gateway, patent, rules, now, run, dry_run, urgent=patent.patent_id in due.urgent)
        if halt:
            run.stopped = halt
            break
    _finish(engine, wiring, rules, now, run, settings, only, dry_run)
    return run


class _Due(list):
    urgent: set[int]


def _prepare(engine: Engine, settings: OpsSettings, now: datetime, only: str | None) -> tuple[str | None, _Due]:
    with session_for(engine) as session:
        take_turn(session, "ops")
        state = ops_state(session, now)
        due = _Due()
        due.urgent = urgent_ids(session, now.astimezone(SHANGHAI).date())
        if state.paused_until and state.paused_until > now:
            return f"paused until {_local(state.paused_until)}: {state.pause_reason}", due
        if is_quota_near(used_this_week(session, now), settings):
            until = start_of_next_day(now.astimezone(SHANGHAI))
            pause(session, until, f"weekly quota near ({settings.stop_at_percent}% of {settings.weekly_quota_mb} "
                                  f"MB in the last 7 days): stopped for the day", now)
            return f"weekly quota near: stopped until {_local(until)}", due
        if only is not None:
            due.extend(_one(session, only, now, settings))
            return None, due
        enrol_watched(session, settings, now)
        due.extend(due_patents(session, settings, now, settings.max_checks_per_run))
        return None, due


def _one(session: Session, appno: str, now: datetime, settings: OpsSettings) -> list[DuePatent]:
    from custody.models.ops import OpsPatent
    from custody.store.ops_watch import ops_row
    from custody.store.patents import patent_by_number

    patent = patent_by_number(session, appno)
    if patent is None:
        raise LookupError(f"{appno} is not in the portfolio")
    row: OpsPatent = ops_row(session, patent.id, now, settings)
    session.flush()
    return [DuePatent(patent.id, patent.application_number, row.docdb, row.docdb_via, row.failures)]


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _check(engine: Engine, wiring: OpsWiring, gateway: OpsPort, patent: DuePatent, rules: RuleSet, now: datetime,
           run: OpsRun, dry_run: bool, urgent: bool) -> str | None:
    """Check one patent; returns why the run must stop, or None."""
    costs: list[OpsReply | OpsError] = []
    number = parse_application_number(patent.application_number)
    try:
        docdb, via = _resolve(gateway, patent, number, costs)
        source = wiring.source(gateway, number, docdb)
        batch = _fetched(source, costs)
    except OpsNotFound as exc:
        if patent.docdb_via == "guess" or (patent.docdb is None and docdb_guess(number) is not None):
            try:
                docdb, via = _looked_up(gateway, number, costs), "number-service"
                source = wiring.source(gateway, number, docdb)
                batch = _fetched(source, costs)
            except (OpsError, StatusSourceError) as again:
                return _failed(engine, wiring, patent, again, now, run, costs, dry_run)
        else:
            return _failed(engine, wiring, patent, exc, now, run, costs, dry_run)
    except (OpsError, StatusSourceError) as exc:
        return _failed(engine, wiring, patent, exc, now, run, costs, dry_run)
    return _apply(engine, wiring, patent, batch, docdb, via, rules, now, run, dry_run, urgent, costs)


def _resolve(gateway: OpsPort, patent: DuePatent, number, costs: list) -> tuple[DocdbNumber, str]:
    """The DOCDB number: cached, else the direct form of a 12-digit number, else the number service."""
    if patent.docdb:
        return DocdbNumber.from_key(patent.docdb), patent.docdb_via or "guess"
    guess = docdb_guess(number)
    if guess is not None:
        return guess, "guess"
    return _looked_up(gateway, number, costs), "number-service"


def _looked_up(gateway: OpsPort, number, costs: list) -> DocdbNumber:
    try:
        reply = gateway.number_service(number)
    except OpsError as exc:
        costs.append(exc)
        raise
    costs.append(reply)
    return docdb_from_number_service(reply.body, tr("OPS number service for CN {number}", number=number))


def _fetched(source: StatusSource, costs: list):
    try:
        return source.fetch()
    except OpsError as exc:
        costs.append(exc)
        raise
    finally:
        costs.extend(getattr(source, "reply", ()))


def _cost(costs: list) -> tuple[int, int, Throttle | None, int | None]:
    size = sum(c.size for c in costs)
    requests = sum(c.requests for c in costs)
    throttle = next((c.throttle for c in reversed(costs) if c.throttle is not None), None)
    reported = next((c.reported_week for c in reversed(costs) if getattr(c, "reported_week", None)), None)
    return size, requests, throttle, reported


def _apply(engine, wiring, patent, batch, docdb, via, rules, now, run, dry_run, urgent, costs) -> str | None:
    size, requests, throttle, reported = _cost(costs)
    try:
        with Session(engine, expire_on_commit=False) as session:
            take_turn(session, "status")
            result = ingest(session, batch, rules, calendar_from(session), now)
            if dry_run:
                session.rollback()
            else:
                # Urgency after the events: a termination just applied makes the restoration window urgent.
                urgent = urgent or is_urgent(session, patent.patent_id, now.astimezone(SHANGHAI).date())
                record_checked(session, patent.patent_id, now, wiring.settings, size, docdb.key, via, urgent)
                session.commit()
    except SyncRefused as exc:
        return _failed(engine, wiring, patent, exc, now, run, costs, dry_run)
    _account(engine, now, size, requests, reported, checks=1)
    run.checked += 1
    run.bytes += size
    _merge(run.result, result)
    return _throttle_stop(engine, wiring.settings, throttle, now)


def _merge(total: SyncResult, one: SyncResult) -> None:
    total.records += one.records
    total.duplicates += one.duplicates
    for name in ("new_events", "unknown", "unmatched", "effects"):
        getattr(total, name).extend(getattr(one, name))


def _account(engine: Engine, now: datetime, size: int, requests: int, reported: int | None, checks: int) -> None:
    with session_for(engine) as session:
        take_turn(session, "ops")
        add_usage(session, now, size, requests, checks, reported)


def _failed(engine, wiring, patent, exc, now, run, costs, dry_run: bool) -> str | None:
    """Record the failure on the patent (and the volume it cost); returns why the run stops, if it must."""
    size, requests, throttle, reported = _cost(costs)
    code = getattr(exc, "code", "malformed_response" if isinstance(exc, (StatusSourceError, SyncRefused)) else "error")
    message = str(exc)[:1000]
    run.failed.append({"application_number": patent.application_number, "code": code, "message": message})
    run.bytes += size
    stopping = isinstance(exc, STOPPING)
    with session_for(engine) as session:
        take_turn(session, "ops")
        add_usage(session, now, size, requests, 1, reported)
        if not dry_run and (not stopping or isinstance(exc, OpsAuthError)):
            record_failed(session, patent.patent_id, now, wiring.settings, code, message)
        if stopping:
            _pause_for(session, exc, now)  # OPS's refusal holds for a dry run too
    if stopping:
        run.is_error = True
        return message
    return _throttle_stop(engine, wiring.settings, throttle, now)


def _pause_for(session: Session, exc: OpsError, now: datetime) -> None:
    if isinstance(exc, OpsQuotaExceeded):
        until = now + PAUSES[exc.scope]
        if exc.scope == "week":
            until = max(until, start_of_next_day(now.astimezone(SHANGHAI)))
        pause(session, until, str(exc), now)
    elif isinstance(exc, OpsRefused):
        pause(session, now + PAUSES["refused"], str(exc), now)
    elif isinstance(exc, OpsUnavailable):
        pause(session, now + PAUSES["unavailable"], str(exc), now)


def _throttle_stop(engine: Engine, settings: OpsSettings, throttle: Throttle | None, now: datetime) -> str | None:
    """OPS's throttling header after each patent: black-listed or overloaded stops the run and pauses the watch;
    idle and busy go on (the client already spaces requests by the header's allowance)."""
    if throttle is None or not throttle.system:
        return None
    header = f"{throttle.system} ({', '.join(f'{k}={v[0]}:{v[1]}' for k, v in sorted(throttle.services.items()))})"
    reason, until = None, None
    if throttle.is_black_listed:
        reason, until = tr("OPS black-listed a service: {header}", header=header), now + PAUSES["black"]
    elif throttle.system == "overloaded":
        reason, until = (tr("OPS is overloaded: {header}", header=header),
                         now + timedelta(minutes=settings.overloaded_pause_minutes))
    with session_for(engine) as session:
        take_turn(session, "ops")
        ops_state(session, now).last_throttle = header
        if reason and until:
            pause(session, until, reason, now)
    return f"{reason}: paused until {_local(until)}" if reason and until else None


def _finish(engine, wiring, rules, now, run: OpsRun, settings, only, dry_run) -> None:
    with session_for(engine) as session:
        take_turn(session, "ops")
        state = ops_state(session, now)
        state.last_run_at = now
        run.due_left = due_count(session, now)
        if only is None and run.stopped is None and run.due_left == 0 and never_checked(session) == 0:
            state.cycle_completed_at = now  # every watched patent checked at least once, none left due
        session.add(state)
        if not dry_run and (run.checked or run.failed):
            record_sync(session, run.result, SOURCE, error=_failures_text(run))
        if settings is not None and not dry_run:
            _alerts(session, settings, run, now)
    if wiring.notices is not None and not dry_run and run.result.new_events:
        wiring.notices(engine, rules, now, settings)


def _failures_text(run: OpsRun) -> str | None:
    """The run's error for status_sync (listed by `custody status review`): only a refusal that stopped it; each
    patent's own failure is listed on the patent."""
    return tr("run stopped: {why}", why=run.stopped) if run.is_error and run.stopped else None


def _alerts(session: Session, settings: ReminderSettings, run: OpsRun, now: datetime) -> None:
    if run.result.unknown:
        details = [f"{u['application_number']} {u['announced_on']} {u['status']} ({u['location']})"
                   for u in run.result.unknown[:10]]
        plan_alert(session, settings, f"status-unknown:ops:{now:%Y%m%d%H%M}", now,
                   f"OPS法律状态：{len(run.result.unknown)}条未识别的法律事件代码，已保留待核对", details)
    if run.failed:
        details = [f"{f['application_number']}: {f['message']}" for f in run.failed[:10]]
        plan_alert(session, settings, f"status-failed:ops:{now:%Y%m%d%H}", now,
                   f"OPS法律状态：{len(run.failed)}件专利查询失败（见 custody status review）", details)


def ops_tick(ticks: Any, wiring: OpsWiring) -> dict[str, Any]:
    """The daemon's OPS tick, recorded in tick_run as "ops"."""
    from scheduler.ticks import recorded

    return recorded("ops", ticks, lambda: run_ops(ticks.engine, wiring, ticks.rules, ticks.clock(), ticks.settings,
                                                  stop=ticks.stop.is_set).summary())


def ops_jobs(wiring: OpsWiring) -> list:
    """The daemon's OPS job: every `run_every_minutes` and at start, when credentials are configured."""
    from apscheduler.triggers.interval import IntervalTrigger

    from scheduler.daemon import ExtraJob

    if not watching(wiring):
        return []
    return [ExtraJob("ops", partial(ops_tick, wiring=wiring),
                     IntervalTrigger(minutes=wiring.settings.run_every_minutes, timezone=SHANGHAI))]


def watching(wiring: OpsWiring) -> bool:
    """Whether the timed runs (daemon and cron) run the watch: [status.ops] enabled and credentials set."""
    return wiring.gateway is not None and wiring.settings.enabled


def ops_once(wiring: OpsWiring) -> dict[str, Callable[[Any], dict[str, Any]]]:
    """The OPS tick for `custody run-once`, by name, when the daemon would run it: cron alone keeps the watch
    going. A run every few minutes asks OPS only about the patents due by the weekly schedule."""
    return {"ops": partial(ops_tick, wiring=wiring)} if watching(wiring) else {}
