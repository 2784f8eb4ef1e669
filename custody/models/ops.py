"""Tables of the OPS legal-status watch: each watched patent's check (its DOCDB number, when it is due, how the
last check went), the volume downloaded per day (what the quota is counted from, so a restart counts it), and the
watch's own state (a pause after a quota or throttling refusal, when a full cycle last completed).
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from custody.models.core import UtcDateTime, utc_now


class OpsPatent(SQLModel, table=True):
    __tablename__ = "ops_patent"

    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", primary_key=True,
                           sa_column_kwargs={"autoincrement": False})
    docdb: str | None = Field(default=None, sa_type=sa.String(40))  # e.g. CN.201710601862.A, cached
    docdb_via: str | None = Field(default=None, sa_type=sa.String(16))  # "guess" or "number-service"
    next_check_at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)
    last_checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    last_success_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    last_bytes: int = 0
    failures: int = 0  # consecutive failed checks
    error_code: str | None = Field(default=None, sa_type=sa.String(32))
    error: str | None = Field(default=None, sa_type=sa.Text)
    failed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class OpsUsage(SQLModel, table=True):
    """Volume downloaded from OPS per day (Asia/Shanghai), and the weekly figure OPS itself last reported."""

    __tablename__ = "ops_usage"

    day: date = Field(primary_key=True)
    bytes: int = Field(default=0, sa_type=sa.BigInteger)
    requests: int = 0
    checks: int = 0
    reported_week_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)  # X-RegisteredQuotaPerWeek-Used


class OpsState(SQLModel, table=True):
    """The watch's one row: a pause OPS asked for, the first run and the last completed cycle."""

    __tablename__ = "ops_state"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    started_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
    paused_until: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    pause_reason: str | None = Field(default=None, sa_type=sa.Text)
    cycle_completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    last_run_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    last_throttle: str | None = Field(default=None, sa_type=sa.Text)
