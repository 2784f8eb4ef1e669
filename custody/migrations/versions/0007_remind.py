"""Reminders: indexes for the daily planning's look at what changed since the last refresh.

Revision ID: 0007_remind
Revises: 0006_import

Planning refreshes `patent_due` for the patents changed since its last run (patent rows updated, payments
recorded). Without these indexes that look read every patent and every payment, every day; with them it reads
only what changed. Matches the indexes declared in custody/models/core.py.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_remind"
down_revision: str | Sequence[str] | None = "0006_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_patent_updated_at", "patent", ["updated_at"])
    op.create_index("ix_payment_recorded_at", "payment", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_recorded_at", table_name="payment")
    op.drop_index("ix_patent_updated_at", table_name="patent")
