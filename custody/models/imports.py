"""The import log and the patent audit trail: which file brought what, and where every patent value came from.

ImportRecord is one run of `custody import …` that passed its checks (a file with errors changes nothing, so
it leaves no record; a dry run is recorded with dry_run set). PatentChange is one field of one patent changed,
or the patent created, with the import (or other source) that did it.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from custody.models.core import UtcDateTime, utc_now

IMPORT_KINDS = ("enterprises", "patents", "payments")
# The field name of the audit row written when an import creates a patent (its values are the file's).
CREATED = "(created)"


class ImportRecord(SQLModel, table=True):
    __tablename__ = "import_record"
    __table_args__ = (sa.CheckConstraint(f"kind IN {IMPORT_KINDS!r}", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(sa_type=sa.Text)
    sha256: str = Field(sa_type=sa.String(64), index=True)
    kind: str = Field(sa_type=sa.String(16))
    dry_run: bool = Field(default=False)
    partial: bool = Field(default=False)
    rows_read: int = 0
    rows_rejected: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # Counts per table ({"patent": {"new": 3, "updated": 1, "unchanged": 0}, ...}).
    counts: dict = Field(default_factory=dict, sa_type=sa.JSON)
    started_at: datetime = Field(sa_type=UtcDateTime)
    finished_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class PatentChange(SQLModel, table=True):
    __tablename__ = "patent_change"

    id: int | None = Field(default=None, primary_key=True)
    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", index=True)
    field: str = Field(sa_type=sa.String(32))
    old_value: str | None = Field(default=None, sa_type=sa.Text)
    new_value: str | None = Field(default=None, sa_type=sa.Text)
    import_id: int | None = Field(default=None, foreign_key="import_record.id", index=True)
    source: str = Field(sa_type=sa.String(200))  # "import:portfolio.xlsx", "cli", ...
    changed_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
