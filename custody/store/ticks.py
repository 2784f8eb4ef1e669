"""Tick bookkeeping: each tick's last start, success and failure (what `custody health` reads), cursors, and the
lock that makes two planners (the daemon and a cron run) take turns instead of racing.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from custody.models.reminders import TickRun

TICKS = ("plan", "dispatch", "receipts")


def _row(session: Session, name: str) -> TickRun:
    row = session.get(TickRun, name)
    if row is None:
        row = TickRun(name=name)
        session.add(row)
        session.flush()
    return row


def read_cursor(session: Session, name: str) -> dict[str, Any] | None:
    row = session.get(TickRun, name)
    return json.loads(row.cursor) if row is not None and row.cursor else None


def write_cursor(session: Session, name: str, cursor: str) -> None:
    row = _row(session, name)
    row.cursor = cursor
    session.add(row)


def tick_started(session: Session, name: str, now: datetime) -> None:
    row = _row(session, name)
    row.last_started_at = now
    row.runs = (row.runs or 0) + 1
    session.add(row)


def tick_succeeded(session: Session, name: str, now: datetime, summary: dict[str, Any]) -> None:
    row = _row(session, name)
    row.last_success_at = now
    row.last_summary = json.dumps(summary, ensure_ascii=False, default=str)
    session.add(row)


def tick_failed(session: Session, name: str, now: datetime, error: str) -> None:
    row = _row(session, name)
    row.last_failure_at = now
    row.last_error = error
    session.add(row)


def tick_runs(session: Session) -> dict[str, TickRun]:
    return {row.name: row for row in session.execute(sa.select(TickRun)).scalars()}


def take_turn(session: Session, name: str) -> None:
    """Wait for any other transaction holding the `name` turn (PostgreSQL advisory lock, released at commit).

    SQLite needs nothing: custody.store.db begins every transaction IMMEDIATE, so writers already take turns.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"custody:{name}".encode()).digest()[:8], "big", signed=True)
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
