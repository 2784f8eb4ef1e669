"""A patent's custody can end (`custody patent remove`, `custody enterprise end`): patent.mode admits "ended".

Revision ID: 0015_custody_ended
Revises: 0014_restore

An ended patent keeps its row, payments and history; it gets no reminders and no watch digest, and importing it
again takes it back into custody. The downgrade puts ended patents back in custody (the old CHECK knows no other
mode) and admits only custody and watch again.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_custody_ended"
down_revision: str | Sequence[str] | None = "0014_restore"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODES = "mode IN ('custody', 'watch', 'ended')"
MODES_BEFORE = "mode IN ('custody', 'watch')"


def _check(condition: str) -> None:
    # SQLite cannot alter a CHECK: batch mode copies the table with the new one (foreign keys are off here).
    with op.batch_alter_table("patent", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_patent_mode"), type_="check")
        batch.create_check_constraint("mode", condition)


def upgrade() -> None:
    _check(MODES)


def downgrade() -> None:
    op.execute("UPDATE patent SET mode = 'custody' WHERE mode = 'ended'")
    _check(MODES_BEFORE)
