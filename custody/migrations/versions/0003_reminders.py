"""Reminders outbox: reminder, reminder_item, reminder_attempt, patent_due, tick_run, channel_pause,
enterprise_reminder_instruction.

Revision ID: 0003_reminders
Revises: 0002_imports

Written by hand to run identically on SQLite and PostgreSQL (see custody/models/reminders.py for what each table
is for). Constraint names follow the naming convention in custody/models/core.py, marked final with op.f().
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_reminders"
down_revision: str | Sequence[str] | None = "0002_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REMINDER_STATES = "state IN ('planned', 'sending', 'unknown', 'sent', 'delivered', 'failed', 'cancelled')"
ITEM_STATES = "state IN ('planned', 'sent', 'failed', 'cancelled')"


def _stamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric(precision=12, scale=2), nullable=nullable)


def _rate(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric(precision=5, scale=4), nullable=nullable)


def upgrade() -> None:
    _create_reminder()
    _create_reminder_item()
    _create_reminder_attempt()
    _create_patent_due()
    _create_small_tables()


def downgrade() -> None:
    # Children first, so foreign keys never point at a dropped table.
    op.drop_table("enterprise_reminder_instruction")
    op.drop_table("channel_pause")
    op.drop_table("tick_run")
    op.drop_index(op.f("ix_patent_due_next_fire_on"), table_name="patent_due")
    op.drop_table("patent_due")
    op.drop_index(op.f("ix_reminder_attempt_reminder_id"), table_name="reminder_attempt")
    op.drop_table("reminder_attempt")
    op.drop_index(op.f("ix_reminder_item_reminder_id"), table_name="reminder_item")
    op.drop_table("reminder_item")
    op.drop_index(op.f("ix_reminder_enterprise_id"), table_name="reminder")
    op.drop_index("ix_reminder_recipient_sent_at", table_name="reminder")
    op.drop_index("ix_reminder_state_not_before", table_name="reminder")
    op.drop_table("reminder")


def _create_reminder() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("recipient_name", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        _stamp("not_before", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        _stamp("claimed_at"),
        _stamp("sent_at"),
        _stamp("delivered_at"),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.Column("last_code", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("fallback_of", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        _stamp("created_at", nullable=False),
        _stamp("updated_at", nullable=False),
        sa.CheckConstraint(REMINDER_STATES, name=op.f("ck_reminder_state")),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], name=op.f("fk_reminder_contact_id_contact"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"],
                                name=op.f("fk_reminder_enterprise_id_enterprise")),
        sa.ForeignKeyConstraint(["fallback_of"], ["reminder.id"], name=op.f("fk_reminder_fallback_of_reminder")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("key", name=op.f("uq_reminder_key")),
    )
    op.create_index("ix_reminder_state_not_before", "reminder", ["state", "not_before"], unique=False)
    op.create_index("ix_reminder_recipient_sent_at", "reminder", ["channel", "recipient", "sent_at"], unique=False)
    op.create_index(op.f("ix_reminder_enterprise_id"), "reminder", ["enterprise_id"], unique=False)


def _create_reminder_item() -> None:
    op.create_table(
        "reminder_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("fee_year", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("grace_end", sa.Date(), nullable=True),
        _money("fee"),
        _money("full_fee"),
        _money("late_fee"),
        _rate("late_fee_rate"),
        sa.Column("pay_by", sa.Date(), nullable=False),
        _rate("next_rate", nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        _stamp("created_at", nullable=False),
        sa.CheckConstraint(ITEM_STATES, name=op.f("ck_reminder_item_state")),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminder.id"], name=op.f("fk_reminder_item_reminder_id_reminder"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patent_id"], ["patent.id"], name=op.f("fk_reminder_item_patent_id_patent"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_item")),
        sa.UniqueConstraint("patent_id", "fee_year", "tier", "channel", "recipient",
                            name=op.f("uq_reminder_item_patent_id")),
    )
    op.create_index(op.f("ix_reminder_item_reminder_id"), "reminder_item", ["reminder_id"], unique=False)


def _create_reminder_attempt() -> None:
    op.create_table(
        "reminder_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        _stamp("started_at", nullable=False),
        _stamp("finished_at"),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminder.id"],
                                name=op.f("fk_reminder_attempt_reminder_id_reminder"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_attempt")),
    )
    op.create_index(op.f("ix_reminder_attempt_reminder_id"), "reminder_attempt", ["reminder_id"], unique=False)


def _create_patent_due() -> None:
    op.create_table(
        "patent_due",
        sa.Column("patent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("fee_year", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("grace_end", sa.Date(), nullable=True),
        _money("fee"),
        _money("full_fee"),
        sa.Column("rises", sa.Text(), nullable=False),
        sa.Column("next_fire_on", sa.Date(), nullable=True),
        _stamp("refreshed_at", nullable=False),
        sa.ForeignKeyConstraint(["patent_id"], ["patent.id"], name=op.f("fk_patent_due_patent_id_patent"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("patent_id", name=op.f("pk_patent_due")),
    )
    op.create_index(op.f("ix_patent_due_next_fire_on"), "patent_due", ["next_fire_on"], unique=False)


def _create_small_tables() -> None:
    op.create_table(
        "tick_run",
        sa.Column("name", sa.String(length=32), nullable=False),
        _stamp("last_started_at"),
        _stamp("last_success_at"),
        _stamp("last_failure_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_summary", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tick_run")),
    )
    op.create_table(
        "channel_pause",
        sa.Column("channel", sa.String(length=16), nullable=False),
        _stamp("until", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _stamp("created_at", nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_pause")),
    )
    op.create_table(
        "enterprise_reminder_instruction",
        sa.Column("enterprise_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("remind_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("no_sms", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("via_agency", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("skip_abandoned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _stamp("updated_at", nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"],
                                name=op.f("fk_enterprise_reminder_instruction_enterprise_id_enterprise"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_enterprise_reminder_instruction")),
    )
