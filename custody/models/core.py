"""The core tables: enterprises and their contacts, patents, open licences and annual-fee payments.

Only custody/models and custody/store touch SQLModel. Every column is portable between SQLite and PostgreSQL:
enums are short strings (not native ENUM types), timestamps are UTC, money is NUMERIC(12, 2).
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from custody.domain import PatentType, Reduction

# Deterministic constraint names, identical on both databases, so migrations can drop and alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An enterprise's own people (custody/contact_roles.py reads its sheet's words into these). The platform operator's
# people are not contacts: they are configured ([reminders] call_list). Migration 0011_roles dropped "operator".
CONTACT_ROLES = ("ip_manager", "legal_rep", "finance", "pledgee", "other")
# custody: we pay and remind; watch: we only follow the legal status; ended: custody ended (kept for its history,
# nothing sent; importing it again takes it back: custody.store.custody_end).
PATENT_MODES = ("custody", "watch", "ended")


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime stored as UTC and read back as UTC on both databases.

    SQLite keeps no zone, so values are converted to UTC before storing; text comparison then orders correctly.
    A naive datetime is refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass an aware datetime (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(sa.TypeDecorator[StrEnum]):
    """A StrEnum stored as its short string value in a VARCHAR (no native ENUM type to migrate)."""

    impl = sa.String(16)
    cache_ok = True

    def __init__(self, enum: type[StrEnum], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enum = enum

    def process_bind_param(self, value: StrEnum | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def _in(column: str, values: tuple[str, ...] | type[StrEnum]) -> str:
    """SQL text for a CHECK that `column` holds one of `values`."""
    return f"{column} IN ({', '.join(repr(str(value)) for value in values)})"


def _created_at() -> Any:
    return Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


def _updated_at() -> Any:
    return Field(
        default_factory=utc_now, sa_type=UtcDateTime, nullable=False, sa_column_kwargs={"onupdate": utc_now}
    )


class Enterprise(SQLModel, table=True):
    __tablename__ = "enterprise"

    id: int | None = Field(default=None, primary_key=True)
    # 统一社会信用代码, GB 32100-2015: always 18 characters.
    credit_code: str = Field(sa_type=sa.String(18), unique=True)
    name: str = Field(sa_type=sa.Text)
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (
        sa.Index("ix_contact_enterprise_id_mobile", "enterprise_id", "mobile"),
        sa.Index("ix_contact_enterprise_id_email", "enterprise_id", "email"),
        sa.CheckConstraint(_in("role", CONTACT_ROLES), name="role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE")
    name: str = Field(sa_type=sa.Text)
    role: str = Field(sa_type=sa.String(16))
    # Normalised to the 11-digit mainland number (no +86, no spaces) so lookups match.
    mobile: str | None = Field(default=None, sa_type=sa.String(11))
    email: str | None = Field(default=None, sa_type=sa.String(254))
    consent_sms: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    consent_email: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()


class Patent(SQLModel, table=True):
    __tablename__ = "patent"
    __table_args__ = (
        sa.CheckConstraint(_in("type", PatentType), name="type"),
        sa.CheckConstraint(_in("reduction", Reduction), name="reduction"),
        sa.CheckConstraint(_in("mode", PATENT_MODES), name="mode"),
        sa.CheckConstraint("term_extension_days >= 0", name="term_extension_days"),
        # Daily planning refreshes the patents changed since its last run (custody.store.due): read by index.
        sa.Index("ix_patent_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Canonical form from custody.appno, e.g. "201710601862.3".
    application_number: str = Field(sa_type=sa.String(20), unique=True)
    type: PatentType = Field(sa_type=StrEnumType(PatentType))
    title: str = Field(sa_type=sa.Text)
    owners: str = Field(default="", sa_type=sa.Text)
    filing_date: date
    granted_on: date | None = None  # grant announcement date (授权公告日)
    grant_year: int | None = None
    grant_year_inferred: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    paid_through: int | None = None  # the last patent year whose annual fee is paid
    paid_through_inferred: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # With paid_through inferred from the legal status: the fees after it up to this year were in their grace
    # period on the file's date, paid or not unknown ("unknown — check"); reminders and reports count them unpaid.
    unknown_through: int | None = None
    reduction: Reduction = Field(
        default=Reduction.NONE, sa_type=StrEnumType(Reduction), sa_column_kwargs={"server_default": "none"}
    )
    # When the reduction was put on record (备案); None = unknown, taken as in time (rules.reduction_lead_months).
    reduction_recorded_on: date | None = None
    # A confirmed transfer to another owner made the reduction on record the old owner's, on this day: full fee
    # until `custody patent set --reduction` records the new owner's (custody.store.status_transfer).
    reduction_refile_on: date | None = None
    # The latest restoration's announcement (专利权的恢复), while no later lapse is on record: fees that fell due
    # while the patent was terminated are due from it (custody.fees.back_fee_dates). Mirrors patent_watch.
    restored_on: date | None = None
    term_extension_days: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})
    legal_status: str | None = Field(default=None, sa_type=sa.Text)  # CNIPA's own wording, kept raw
    legal_status_date: date | None = None
    mode: str = Field(default="custody", sa_type=sa.String(16), sa_column_kwargs={"server_default": "custody"})
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()


class OpenLicence(SQLModel, table=True):
    """A period in which the patent was declared open for licensing (开放许可): its annual fees are 15 % lower."""

    __tablename__ = "open_licence"
    __table_args__ = (sa.CheckConstraint('"end" IS NULL OR "end" >= start', name="end_after_start"),)

    id: int | None = Field(default=None, primary_key=True)
    patent_id: int = Field(foreign_key="patent.id", ondelete="CASCADE", index=True)
    start: date
    end: date | None = None


class Payment(SQLModel, table=True):
    """One payment towards one patent year; several rows for the same year are a top-up, not a duplicate."""

    __tablename__ = "payment"
    __table_args__ = (
        sa.Index("ix_payment_patent_id_year", "patent_id", "year"),
        sa.Index("ix_payment_recorded_at", "recorded_at"),  # payments since the last planning (custody.store.due)
        sa.CheckConstraint("year >= 1", name="year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No cascade: payments are a financial record; a patent that has them cannot be deleted by accident.
    patent_id: int = Field(foreign_key="patent.id")
    year: int
    amount: Decimal = Field(max_digits=12, decimal_places=2)  # fee plus any late fee paid, in yuan
    paid_on: date
    source: str = Field(sa_type=sa.String(200))  # e.g. "cli", "import:payments.xlsx"
    note: str | None = Field(default=None, sa_type=sa.Text)
    recorded_at: datetime = _created_at()
