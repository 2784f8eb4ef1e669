"""The date a patent's fee reduction was put on record: patent.reduction_recorded_on (issue 2).

Revision ID: 0005_fees
Revises: 0004_status

Nullable: an unknown date means the reduction is taken as on record in time (rules.reduction_lead_months).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_fees"
down_revision: str | Sequence[str] | None = "0004_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patent") as batch:
        batch.add_column(sa.Column("reduction_recorded_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patent") as batch:
        batch.drop_column("reduction_recorded_on")
