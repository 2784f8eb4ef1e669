"""Core tables: enterprise, contact, patent, open_licence, payment, calendar_schedule.

Revision ID: 0001_core
Revises: (none)

Written by hand to run identically on SQLite and PostgreSQL: enums are VARCHAR (the models map them to StrEnums),
timestamps are TIMESTAMP WITH TIME ZONE (the models keep them in UTC), money is NUMERIC(12, 2). Constraint names
follow the naming convention in custody/models/core.py, marked final with op.f().
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_core"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACT_ROLES = "role IN ('ip_manager', 'legal_rep', 'finance', 'operator', 'pledgee', 'other')"


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    _create_enterprise()
    _create_contact()
    _create_patent()
    _create_open_licence()
    _create_payment()
    _create_calendar_schedule()


def downgrade() -> None:
    op.drop_table("calendar_schedule")
    # Children first, so foreign keys never point at a dropped table.
    op.drop_index("ix_payment_patent_id_year", table_name="payment")
    op.drop_table("payment")
    op.drop_index(op.f("ix_open_licence_patent_id"), table_name="open_licence")
    op.drop_table("open_licence")
    op.drop_index(op.f("ix_patent_enterprise_id"), table_name="patent")
    op.drop_table("patent")
    op.drop_index("ix_contact_enterprise_id_email", table_name="contact")
    op.drop_index("ix_contact_enterprise_id_mobile", table_name="contact")
    op.drop_table("contact")
    op.drop_table("enterprise")


def _create_enterprise() -> None:
    op.create_table(
        "enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_enterprise_credit_code")),
    )


def _create_contact() -> None:
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("consent_sms", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("consent_email", sa.Boolean(), server_default=sa.true(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(CONTACT_ROLES, name=op.f("ck_contact_role")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_contact_enterprise_id_enterprise"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    op.create_index("ix_contact_enterprise_id_mobile", "contact", ["enterprise_id", "mobile"], unique=False)
    op.create_index("ix_contact_enterprise_id_email", "contact", ["enterprise_id", "email"], unique=False)


def _create_patent() -> None:
    op.create_table(
        "patent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_number", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owners", sa.Text(), nullable=False),
        sa.Column("filing_date", sa.Date(), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=True),
        sa.Column("grant_year", sa.Integer(), nullable=True),
        sa.Column("grant_year_inferred", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paid_through", sa.Integer(), nullable=True),
        sa.Column("paid_through_inferred", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reduction", sa.String(length=16), server_default="none", nullable=False),
        sa.Column("term_extension_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("legal_status", sa.Text(), nullable=True),
        sa.Column("legal_status_date", sa.Date(), nullable=True),
        sa.Column("mode", sa.String(length=16), server_default="custody", nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("type IN ('invention', 'utility_model', 'design')", name=op.f("ck_patent_type")),
        sa.CheckConstraint("reduction IN ('none', '85', '70')", name=op.f("ck_patent_reduction")),
        sa.CheckConstraint("mode IN ('custody', 'watch')", name=op.f("ck_patent_mode")),
        sa.CheckConstraint("term_extension_days >= 0", name=op.f("ck_patent_term_extension_days")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_patent_enterprise_id_enterprise")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patent")),
        sa.UniqueConstraint("application_number", name=op.f("uq_patent_application_number")),
    )
    op.create_index(op.f("ix_patent_enterprise_id"), "patent", ["enterprise_id"], unique=False)


def _create_open_licence() -> None:
    op.create_table(
        "open_licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        # "end" is a reserved word in both databases, hence the quotes.
        sa.CheckConstraint('"end" IS NULL OR "end" >= start', name=op.f("ck_open_licence_end_after_start")),
        sa.ForeignKeyConstraint(
            ["patent_id"], ["patent.id"], name=op.f("fk_open_licence_patent_id_patent"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_licence")),
    )
    op.create_index(op.f("ix_open_licence_patent_id"), "open_licence", ["patent_id"], unique=False)


def _create_payment() -> None:
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _timestamp("recorded_at"),
        sa.CheckConstraint("year >= 1", name=op.f("ck_payment_year")),
        sa.ForeignKeyConstraint(["patent_id"], ["patent.id"], name=op.f("fk_payment_patent_id_patent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    op.create_index("ix_payment_patent_id_year", "payment", ["patent_id", "year"], unique=False)


def _create_calendar_schedule() -> None:
    op.create_table(
        "calendar_schedule",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_from", sa.Text(), nullable=False),
        _timestamp("loaded_at"),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_schedule")),
    )
