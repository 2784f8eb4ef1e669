"""Tables of the reminders outbox (issue 4): the outbox is the truth about what was, or will be, sent.

- `reminder`: one message to one recipient on one channel (an enterprise's digest of the day, a fallback, an
  enterprise statement's email, or an operator alert), with its state, its next allowed time, attempts and
  provider id. States: planned -> sending -> sent -> delivered; sending -> planned (retry, with `not_before`
  pushed back) or failed; sending -> unknown (the provider may have it; looked up before any resend);
  planned -> cancelled.
- `reminder_item`: one fee's tier for one recipient and channel, unique on (patent, fee year, tier, channel,
  recipient); its `reminder_id` is the message that carries it. The unique key makes planning idempotent.
- `reminder_attempt`: every send attempt, written before the network call and completed after it.
- `patent_due`: each custody patent's next unpaid fee and the next day one of its tiers fires (indexed), so
  planning reads only patents near a deadline.
- `tick_run`: each tick's last start, success and failure (for `custody health`) and cursors.
- `channel_pause`: a channel resting after an account or credential error (until the operator acts).
- `enterprise_reminder_instruction`: each enterprise's standing instructions (no SMS, pays through an agency...).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from custody.models.core import UtcDateTime, utc_now

REMINDER_STATES = ("planned", "sending", "unknown", "sent", "delivered", "failed", "cancelled")
OPEN_STATES = ("planned", "sending", "unknown")
ITEM_STATES = ("planned", "sent", "failed", "cancelled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _stamp(nullable: bool = True) -> Any:
    if nullable:
        return Field(default=None, sa_type=UtcDateTime, nullable=True)
    return Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


class Reminder(SQLModel, table=True):
    __tablename__ = "reminder"
    __table_args__ = (
        sa.Index("ix_reminder_state_not_before", "state", "not_before"),
        sa.Index("ix_reminder_recipient_sent_at", "channel", "recipient", "sent_at"),
        sa.CheckConstraint(_in("state", REMINDER_STATES), name="state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=sa.String(255), unique=True)
    kind: str = Field(sa_type=sa.String(16))  # fee, lapse, restore, alert, statement (custody.store.statements)
    channel: str = Field(sa_type=sa.String(16))
    recipient: str = Field(sa_type=sa.String(254))  # normalised mobile, email address, or webhook name
    recipient_name: str = Field(default="", sa_type=sa.Text)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    day: date  # the Asia/Shanghai day the message is for (one digest per enterprise, recipient, channel, day)
    state: str = Field(default="planned", sa_type=sa.String(16))
    not_before: datetime = Field(sa_type=UtcDateTime, nullable=False)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})
    claimed_by: str | None = Field(default=None, sa_type=sa.String(64))
    claimed_at: datetime | None = _stamp()
    sent_at: datetime | None = _stamp()
    delivered_at: datetime | None = _stamp()
    provider_id: str | None = Field(default=None, sa_type=sa.String(128))
    last_code: str | None = Field(default=None, sa_type=sa.String(64))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    template: str | None = Field(default=None, sa_type=sa.String(64))
    subject: str | None = Field(default=None, sa_type=sa.Text)
    body: str | None = Field(default=None, sa_type=sa.Text)  # plain text, rendered once at the first claim
    html: str | None = Field(default=None, sa_type=sa.Text)
    params: str | None = Field(default=None, sa_type=sa.Text)  # SMS template variables as JSON
    fallback_of: int | None = Field(default=None, foreign_key="reminder.id")
    cancel_reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _stamp(nullable=False)
    updated_at: datetime = _stamp(nullable=False)


class ReminderItem(SQLModel, table=True):
    __tablename__ = "reminder_item"
    __table_args__ = (
        sa.UniqueConstraint("patent_id", "fee_year", "tier", "channel", "recipient",
                            name="uq_reminder_item_patent_id"),
        sa.CheckConstraint(_in("state", ITEM_STATES), name="state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id", ondelete="CASCADE", index=True)
    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE")
    fee_year: int
    tier: str = Field(sa_type=sa.String(64))  # the TierEvent label, e.g. "before_due:due-30"
    channel: str = Field(sa_type=sa.String(16))
    recipient: str = Field(sa_type=sa.String(254))
    kind: str = Field(sa_type=sa.String(16))
    state: str = Field(default="planned", sa_type=sa.String(16))
    # What the message says about this fee, as of the day it is for (the snapshot the text is rendered from).
    due_date: date
    grace_end: date | None = None
    fee: Decimal = Field(max_digits=12, decimal_places=2)
    full_fee: Decimal = Field(max_digits=12, decimal_places=2)
    late_fee: Decimal = Field(max_digits=12, decimal_places=2)
    late_fee_rate: Decimal = Field(max_digits=5, decimal_places=4)
    pay_by: date  # pay by this day to avoid the next rise (or the grace end, or the due date)
    next_rate: Decimal | None = Field(default=None, max_digits=5, decimal_places=4)
    cancel_reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _stamp(nullable=False)


class ReminderAttempt(SQLModel, table=True):
    __tablename__ = "reminder_attempt"

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id", ondelete="CASCADE", index=True)
    number: int
    worker: str = Field(sa_type=sa.String(64))
    started_at: datetime = _stamp(nullable=False)
    finished_at: datetime | None = _stamp()
    outcome: str | None = Field(default=None, sa_type=sa.String(16))  # notifiers Outcome value, or "lookup"
    code: str | None = Field(default=None, sa_type=sa.String(64))
    detail: str | None = Field(default=None, sa_type=sa.Text)
    provider_id: str | None = Field(default=None, sa_type=sa.String(128))


class PatentDue(SQLModel, table=True):
    __tablename__ = "patent_due"

    patent_id: int = Field(primary_key=True, foreign_key="patent.id", ondelete="CASCADE",
                           sa_column_kwargs={"autoincrement": False})
    enterprise_id: int | None = None
    fee_year: int
    due_date: date
    grace_end: date | None = None
    fee: Decimal = Field(max_digits=12, decimal_places=2)
    full_fee: Decimal = Field(max_digits=12, decimal_places=2)
    rises: str = Field(default="", sa_type=sa.Text)  # "YYYY-MM-DD:rate,…": each day the late fee rises
    next_fire_on: date | None = Field(default=None, index=True)
    refreshed_at: datetime = _stamp(nullable=False)


class TickRun(SQLModel, table=True):
    __tablename__ = "tick_run"

    name: str = Field(primary_key=True, sa_type=sa.String(32))
    last_started_at: datetime | None = _stamp()
    last_success_at: datetime | None = _stamp()
    last_failure_at: datetime | None = _stamp()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_summary: str | None = Field(default=None, sa_type=sa.Text)
    runs: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})
    cursor: str | None = Field(default=None, sa_type=sa.Text)


class ChannelPause(SQLModel, table=True):
    __tablename__ = "channel_pause"

    channel: str = Field(primary_key=True, sa_type=sa.String(16))
    until: datetime = Field(sa_type=UtcDateTime, nullable=False)
    reason: str = Field(sa_type=sa.Text)
    created_at: datetime = _stamp(nullable=False)


class EnterpriseReminderInstruction(SQLModel, table=True):
    """An enterprise's standing instructions (`custody enterprise set CODE ...`)."""

    __tablename__ = "enterprise_reminder_instruction"

    enterprise_id: int = Field(primary_key=True, foreign_key="enterprise.id", ondelete="CASCADE",
                               sa_column_kwargs={"autoincrement": False})
    # The enterprise pays itself; we only remind.
    remind_only: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    no_sms: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # It pays through a patent agency: the text says so.
    via_agency: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # No reminders at all for patents it has marked to abandon (else they stop at the decision's effective day).
    skip_abandoned: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    note: str | None = Field(default=None, sa_type=sa.Text)
    updated_at: datetime = _stamp(nullable=False)
