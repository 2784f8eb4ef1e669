"""Restoration and transfer facts the fee engine reads: patent.restored_on (fees that fell due while the patent was
terminated are due from it), patent.reduction_refile_on (a transferred patent's reduction is the old owner's until
re-filed), and patent_watch.restored_on (the watch's latest restoration, which the patent row mirrors).

Revision ID: 0014_restore
Revises: 0013_ops_watch

Written by hand like 0013; matches custody/models/core.py and custody/models/status.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_restore"
down_revision: str | Sequence[str] | None = "0013_ops_watch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patent") as batch:
        batch.add_column(sa.Column("reduction_refile_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("restored_on", sa.Date(), nullable=True))
    with op.batch_alter_table("patent_watch") as batch:
        batch.add_column(sa.Column("restored_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patent_watch") as batch:
        batch.drop_column("restored_on")
    with op.batch_alter_table("patent") as batch:
        batch.drop_column("restored_on")
        batch.drop_column("reduction_refile_on")
