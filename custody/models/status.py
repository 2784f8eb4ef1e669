"""Tables of the legal-status watch: events as announced, what each did (with its cause), the watch's state per
patent, enterprises' fee decisions, and one row per sync run.

`status_event` is the history: one row per (patent, event key), so ingesting the same announcement twice from any
source is one event. `status_effect` answers "why did (or didn't) we remind": every effect names its cause.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from custody.decisions import CHOICES
from custody.models.core import UtcDateTime, utc_now

CHOICE_CHECK = f"choice IN ({', '.join(repr(c) for c in CHOICES)})"


class StatusEvent(SQLModel, table=True):
    __tablename__ = "status_event"
    __table_args__ = (sa.UniqueConstraint("patent_id", "event_key", name="uq_status_event_patent_id_event_key"),)

    id: int | None = Field(default=None, primary_key=True)
    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", index=True)
    event_key: str = Field(sa_type=sa.String(32))  # custody.status_vocab.event_key
    kind: str = Field(sa_type=sa.String(32))  # vocabulary kind, "unknown" when no wording matched
    status: str = Field(sa_type=sa.Text)  # the source's own wording, kept raw
    detail: str = Field(default="", sa_type=sa.Text)
    fields: str = Field(default="{}", sa_type=sa.Text)  # JSON of values read from the detail (pledgee, new owner)
    announced_on: date
    source: str = Field(sa_type=sa.String(300))  # e.g. "file:status-2024.xlsx", "http:https://feed.example/…"
    location: str = Field(default="", sa_type=sa.Text)  # file:row or url#index
    # False when it arrived after a later announcement: every event was then replayed in announcement order.
    is_current: bool = Field(default=True)
    ingested_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
    # Watch-only patents: set when the event went out in the watching enterprise's digest.
    digested_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class StatusEffect(SQLModel, table=True):
    __tablename__ = "status_effect"

    id: int | None = Field(default=None, primary_key=True)
    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", index=True)
    event_id: int | None = Field(default=None, foreign_key="status_event.id", ondelete="CASCADE")
    decision_id: int | None = Field(default=None, foreign_key="fee_decision.id", ondelete="CASCADE")
    code: str = Field(sa_type=sa.String(40))  # e.g. fee_reminders_stopped, restoration_reminders_started
    message: str = Field(sa_type=sa.Text)
    effective_on: date
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


class PatentWatch(SQLModel, table=True):
    """The watch's current state of one patent (custody.status_effects.WatchState); absent = nothing known."""

    __tablename__ = "patent_watch"

    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", primary_key=True,
                           sa_column_kwargs={"autoincrement": False})
    ended: str | None = Field(default=None, sa_type=sa.String(32))
    ended_on: date | None = None
    lapsed_on: date | None = None
    restore_by: date | None = None
    restoration_year: int | None = None
    restored_on: date | None = None  # the latest event that mattered was this restoration
    pledgee: str | None = Field(default=None, sa_type=sa.Text)
    pledged_on: date | None = None
    transfer_to: str | None = Field(default=None, sa_type=sa.Text)
    transfer_on: date | None = None
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


class FeeDecision(SQLModel, table=True):
    """An enterprise's instruction about one fee year (`custody decide`); the latest one is in force."""

    __tablename__ = "fee_decision"
    __table_args__ = (sa.CheckConstraint(CHOICE_CHECK, name="choice"),)

    id: int | None = Field(default=None, primary_key=True)
    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", index=True)
    year: int
    choice: str = Field(sa_type=sa.String(16))
    effective_on: date
    decided_by: str = Field(sa_type=sa.Text)
    decided_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
    note: str | None = Field(default=None, sa_type=sa.Text)


class StatusSync(SQLModel, table=True):
    """One run of `custody status sync` or the status tick: what it read and what it changed, or why it failed."""

    __tablename__ = "status_sync"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(sa_type=sa.String(300))
    started_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
    records: int = 0
    new_events: int = 0
    duplicates: int = 0
    unknown_statuses: int = 0
    unmatched: int = 0  # records for application numbers not in the portfolio
    error: str | None = Field(default=None, sa_type=sa.Text)


class StatusUnmatched(SQLModel, table=True):
    """A legal-status record for an application number not in the portfolio: kept for the operator (`custody status
    review`), never dropped; once per (application number, event key), however often a source repeats it."""

    __tablename__ = "status_unmatched"
    __table_args__ = (sa.UniqueConstraint("application_number", "event_key",
                                          name="uq_status_unmatched_application_number_event_key"),)

    id: int | None = Field(default=None, primary_key=True)
    application_number: str = Field(sa_type=sa.String(40))
    event_key: str = Field(sa_type=sa.String(32))
    status: str = Field(sa_type=sa.Text)
    detail: str = Field(default="", sa_type=sa.Text)
    announced_on: date
    source: str = Field(sa_type=sa.String(300))
    location: str = Field(default="", sa_type=sa.Text)
    ingested_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
