"""Legal-status watch: status_event, status_effect, patent_watch, fee_decision, status_sync.

Revision ID: 0004_status
Revises: 0003_reminders

Written by hand to run identically on SQLite and PostgreSQL (see 0001_core): enums are VARCHAR with a CHECK,
timestamps are TIMESTAMP WITH TIME ZONE kept in UTC. Tables match custody/models/status.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_status"
down_revision: str | Sequence[str] | None = "0003_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _patent_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["patent_id"], ["patent.id"], name=op.f(f"fk_{table}_patent_id_patent"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    _create_status_sync()
    _create_fee_decision()
    _create_patent_watch()
    _create_status_event()
    _create_status_effect()


def downgrade() -> None:
    # Children first, so foreign keys never point at a dropped table.
    op.drop_index(op.f("ix_status_effect_patent_id"), table_name="status_effect")
    op.drop_table("status_effect")
    op.drop_index(op.f("ix_status_event_patent_id"), table_name="status_event")
    op.drop_table("status_event")
    op.drop_table("patent_watch")
    op.drop_index(op.f("ix_fee_decision_patent_id"), table_name="fee_decision")
    op.drop_table("fee_decision")
    op.drop_table("status_sync")


def _create_status_sync() -> None:
    op.create_table(
        "status_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        _timestamp("started_at"),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("new_events", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("unknown_statuses", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_sync")),
    )


def _create_fee_decision() -> None:
    op.create_table(
        "fee_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        _timestamp("decided_at"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("choice IN ('pay', 'abandon', 'undecided')", name=op.f("ck_fee_decision_choice")),
        _patent_fk("fee_decision"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_decision")),
    )
    op.create_index(op.f("ix_fee_decision_patent_id"), "fee_decision", ["patent_id"], unique=False)


def _create_patent_watch() -> None:
    op.create_table(
        "patent_watch",
        sa.Column("patent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ended", sa.String(length=32), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("lapsed_on", sa.Date(), nullable=True),
        sa.Column("restore_by", sa.Date(), nullable=True),
        sa.Column("restoration_year", sa.Integer(), nullable=True),
        sa.Column("pledgee", sa.Text(), nullable=True),
        sa.Column("pledged_on", sa.Date(), nullable=True),
        sa.Column("transfer_to", sa.Text(), nullable=True),
        sa.Column("transfer_on", sa.Date(), nullable=True),
        _timestamp("updated_at"),
        _patent_fk("patent_watch"),
        sa.PrimaryKeyConstraint("patent_id", name=op.f("pk_patent_watch")),
    )


def _create_status_event() -> None:
    op.create_table(
        "status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        _timestamp("ingested_at"),
        _timestamp("digested_at", nullable=True),
        _patent_fk("status_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_event")),
        # The same patent, day and kind is one event, whichever source said it (custody.status_vocab.event_key).
        sa.UniqueConstraint("patent_id", "event_key", name="uq_status_event_patent_id_event_key"),
    )
    op.create_index(op.f("ix_status_event_patent_id"), "status_event", ["patent_id"], unique=False)


def _create_status_effect() -> None:
    op.create_table(
        "status_effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        _timestamp("recorded_at"),
        sa.ForeignKeyConstraint(["decision_id"], ["fee_decision.id"],
                                name=op.f("fk_status_effect_decision_id_fee_decision"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["status_event.id"],
                                name=op.f("fk_status_effect_event_id_status_event"), ondelete="CASCADE"),
        _patent_fk("status_effect"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_effect")),
    )
    op.create_index(op.f("ix_status_effect_patent_id"), "status_effect", ["patent_id"], unique=False)
