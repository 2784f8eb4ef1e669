"""OPS legal-status watch: ops_patent (each watched patent's check), ops_usage (volume per day, for the quota),
ops_state (pause and cycle).

Revision ID: 0013_ops_watch
Revises: 0008_status2_unmatched

Written by hand like 0008; matches custody/models/ops.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_ops_watch"
down_revision: str | Sequence[str] | None = "0011_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_patent",
        sa.Column("patent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("docdb", sa.String(length=40), nullable=True),
        sa.Column("docdb_via", sa.String(length=16), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_bytes", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patent_id"], ["patent.id"], name=op.f("fk_ops_patent_patent_id_patent"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("patent_id", name=op.f("pk_ops_patent")),
    )
    op.create_index(op.f("ix_ops_patent_next_check_at"), "ops_patent", ["next_check_at"], unique=False)
    op.create_table(
        "ops_usage",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("reported_week_bytes", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_ops_usage")),
    )
    op.create_table(
        "ops_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("cycle_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_throttle", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_state")),
    )


def downgrade() -> None:
    op.drop_table("ops_state")
    op.drop_table("ops_usage")
    op.drop_index(op.f("ix_ops_patent_next_check_at"), table_name="ops_patent")
    op.drop_table("ops_patent")
