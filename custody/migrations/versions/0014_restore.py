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
    # Patents restored before this revision: the restoration is their latest word when no termination or lapse
    # notice was announced after it and the watch shows them neither lapsed nor ended.
    op.execute(f"""
        UPDATE patent_watch SET restored_on = (
            SELECT MAX(e.announced_on) FROM status_event e
            WHERE e.patent_id = patent_watch.patent_id AND e.kind = 'restoration')
        WHERE lapsed_on IS NULL AND ended IS NULL
          AND EXISTS (SELECT 1 FROM status_event r WHERE r.patent_id = patent_watch.patent_id
                      AND r.kind = 'restoration')
          AND NOT EXISTS (SELECT 1 FROM status_event t WHERE t.patent_id = patent_watch.patent_id
                          AND t.kind IN {_ENDINGS}
                          AND t.announced_on > (SELECT MAX(r2.announced_on) FROM status_event r2
                                                WHERE r2.patent_id = patent_watch.patent_id
                                                AND r2.kind = 'restoration'))
    """)
    op.execute("""
        UPDATE patent SET restored_on = (SELECT w.restored_on FROM patent_watch w WHERE w.patent_id = patent.id)
        WHERE EXISTS (SELECT 1 FROM patent_watch w WHERE w.patent_id = patent.id AND w.restored_on IS NOT NULL)
    """)


# Event kinds after which a restoration is no longer the latest word (custody/rules/legal_status.toml).
_ENDINGS = "('lapse_nonpayment', 'termination')"


def downgrade() -> None:
    with op.batch_alter_table("patent_watch") as batch:
        batch.drop_column("restored_on")
    with op.batch_alter_table("patent") as batch:
        batch.drop_column("restored_on")
        batch.drop_column("reduction_refile_on")
