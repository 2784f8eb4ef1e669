"""Contact roles are the enterprise's own: no contact has the platform operator's role any more (issue 10).

Revision ID: 0011_roles
Revises: 0008_status2_unmatched

The enterprises import used to store 联系人, 经办人 and 办理人 as role "operator", so those people got no before-due
reminder. They were always the enterprise's own contacts (the operator's people are configured, [reminders]
call_list): they become "ip_manager", as custody/rules/contact_roles.toml now reads those words, and the CHECK on
contact.role no longer admits "operator". The downgrade admits it again and leaves the rows as they are.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_roles"
down_revision: str | Sequence[str] | None = "0008_status2_unmatched"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "role IN ('ip_manager', 'legal_rep', 'finance', 'pledgee', 'other')"
ROLES_BEFORE = "role IN ('ip_manager', 'legal_rep', 'finance', 'operator', 'pledgee', 'other')"


def _check(condition: str) -> None:
    # SQLite cannot alter a CHECK: batch mode copies the table with the new one.
    with op.batch_alter_table("contact", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_contact_role"), type_="check")
        batch.create_check_constraint("role", condition)


def upgrade() -> None:
    op.execute("UPDATE contact SET role = 'ip_manager' WHERE role = 'operator'")
    _check(ROLES)


def downgrade() -> None:
    _check(ROLES_BEFORE)
