"""Legal-status watch: status_unmatched, the records for application numbers not in the portfolio.

Revision ID: 0008_status2_unmatched
Revises: 0007_remind

They used to be counted and dropped; now each is kept once for the operator's review. Written by hand like
0004_status; matches custody/models/status.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_status2_unmatched"
down_revision: str | Sequence[str] | None = "0007_remind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_unmatched",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_number", sa.String(length=40), nullable=False),
        sa.Column("event_key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_unmatched")),
        sa.UniqueConstraint("application_number", "event_key",
                            name="uq_status_unmatched_application_number_event_key"),
    )


def downgrade() -> None:
    op.drop_table("status_unmatched")
