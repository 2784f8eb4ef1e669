"""Import log and patent audit trail: import_record, patent_change (issue 3).

Revision ID: 0002_imports
Revises: 0001_core

Written by hand to run identically on SQLite and PostgreSQL; names follow the naming convention in
custody/models/core.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_imports"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "import_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at"),
        sa.CheckConstraint("kind IN ('enterprises', 'patents', 'payments')", name=op.f("ck_import_record_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_record")),
    )
    op.create_index(op.f("ix_import_record_sha256"), "import_record", ["sha256"], unique=False)
    op.create_table(
        "patent_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        _timestamp("changed_at"),
        sa.ForeignKeyConstraint(
            ["patent_id"], ["patent.id"], name=op.f("fk_patent_change_patent_id_patent"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_record.id"], name=op.f("fk_patent_change_import_id_import_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patent_change")),
    )
    op.create_index(op.f("ix_patent_change_patent_id"), "patent_change", ["patent_id"], unique=False)
    op.create_index(op.f("ix_patent_change_import_id"), "patent_change", ["import_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_patent_change_import_id"), table_name="patent_change")
    op.drop_index(op.f("ix_patent_change_patent_id"), table_name="patent_change")
    op.drop_table("patent_change")
    op.drop_index(op.f("ix_import_record_sha256"), table_name="import_record")
    op.drop_table("import_record")
