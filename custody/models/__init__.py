"""All tables of the engine, and the one `SQLModel.metadata` that Alembic compares migrations against.

Later issues add their own modules here (`imports.py` for the import audit, `reminders.py` for the reminders
outbox, `status.py` for the legal-status watch) and import them below, so that every table is registered on
the metadata whenever `custody.models` is imported.
"""
from sqlmodel import SQLModel

from custody.models import reminders  # noqa: F401  (registers the reminders outbox tables, issue 4)
from custody.models.calendar import CalendarSchedule
from custody.models.core import (
    CONTACT_ROLES,
    PATENT_MODES,
    Contact,
    Enterprise,
    OpenLicence,
    Patent,
    Payment,
    UtcDateTime,
    utc_now,
)
from custody.models.imports import ImportRecord, PatentChange  # noqa: F401  (import log and audit, issue 3)
from custody.models.ops import OpsPatent, OpsState, OpsUsage  # noqa: F401  (the OPS legal-status watch, issue 13)
from custody.models.status import (  # noqa: F401
    FeeDecision,
    PatentWatch,
    StatusEffect,
    StatusEvent,
    StatusSync,
    StatusUnmatched,
)

metadata = SQLModel.metadata

__all__ = [
    "CalendarSchedule",
    "CONTACT_ROLES",
    "PATENT_MODES",
    "Contact",
    "Enterprise",
    "OpenLicence",
    "Patent",
    "Payment",
    "SQLModel",
    "UtcDateTime",
    "metadata",
    "utc_now",
]
