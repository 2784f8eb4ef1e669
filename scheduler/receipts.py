"""The receipts tick: pull SMS delivery reports (QuerySendDetails) for messages sent in the last hours.

A message the carrier failed counts as failed: the fallback channel is planned and the operator alerted, the same
as a permanent failure at sending. Reports are asked for once per (number, day), not once per message. A message
with no report after `receipts_hours` is no longer asked for: it is marked "no receipt" and the operator alerted.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from custody.masking import mask_text
from custody.models.reminders import Reminder
from custody.store.db import session_for
from custody.store.outbox import fail, local_day, mark_delivered, mark_no_receipt
from scheduler.context import Ticks
from scheduler.ports import Reconciling

log = logging.getLogger(__name__)


def _awaiting(ticks: Ticks, channel: str) -> dict[tuple, list[Reminder]]:
    since = ticks.clock() - timedelta(hours=ticks.settings.receipts_hours)
    query = sa.select(Reminder).where(Reminder.channel == channel, Reminder.state == "sent", Reminder.sent_at > since)
    groups: dict[tuple, list[Reminder]] = defaultdict(list)
    with session_for(ticks.engine) as session:
        for reminder in session.execute(query.order_by(Reminder.id)).scalars():
            groups[(reminder.recipient, local_day(reminder.sent_at))].append(reminder)
    return groups


def pull_receipts(ticks: Ticks, channel: str = "sms") -> dict[str, Any]:
    transport = ticks.transports.get(channel)
    counts: dict[str, Any] = {"delivered": 0, "failed": 0, "waiting": 0, "query_errors": 0}
    if not isinstance(transport, Reconciling):
        return counts  # the file outbox standing in for SMS has no receipts
    missing = getattr(transport, "missing_secret", None)
    if missing:  # a cron run started without the keys: the daemon (or a run with them) asks
        return {**counts, "left_unasked": f"{channel}: left for a process that has it: {missing}"}
    for (mobile, day), reminders in _awaiting(ticks, channel).items():
        if ticks.stop.is_set():
            break
        try:
            reports = transport.delivery_reports(mobile, day, None)
        except Exception as exc:  # noqa: BLE001 - QueryFailed, or anything else: ask again next tick
            log.warning("receipts for %s on %s: %s", mask_text(mobile), day, mask_text(str(exc)))
            counts["query_errors"] += 1
            continue
        by_key = {r.out_id: r for r in reports if r.out_id}
        by_provider = {r.provider_id: r for r in reports if r.provider_id}
        for reminder in reminders:
            report = by_key.get(f"custody-{reminder.id}") or by_provider.get(reminder.provider_id)
            status = report.status if report is not None else "waiting"
            counts[status] = counts.get(status, 0) + 1
            with session_for(ticks.engine) as session:
                if status == "delivered":
                    mark_delivered(session, reminder.id, report.at, ticks.clock())
                elif status == "failed":
                    fail(session, reminder, ticks.clock(), ticks.settings, report.code,
                         f"the carrier did not deliver it ({report.code})", from_states=("sent",))
    with session_for(ticks.engine) as session:
        counts["no_receipt"] = mark_no_receipt(session, channel, ticks.clock(), ticks.settings)
    return counts
