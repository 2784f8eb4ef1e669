"""Import: patent.unknown_through, the fees an import could not tell paid or not ("unknown — check").

Revision ID: 0006_import
Revises: 0005_fees

Written by hand to run identically on SQLite and PostgreSQL (batch mode on SQLite); matches
custody/models/core.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_import"
down_revision: str | Sequence[str] | None = "0005_fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patent") as batch:
        batch.add_column(sa.Column("unknown_through", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patent") as batch:
        batch.drop_column("unknown_through")
