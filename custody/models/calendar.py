"""Holiday schedules the operator loaded (State Council notices), kept in the database so every process sees them."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from custody.models.core import UtcDateTime, utc_now


class CalendarSchedule(SQLModel, table=True):
    """One year's published schedule, stored as the TOML the operator loaded (parsed again on use)."""

    __tablename__ = "calendar_schedule"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = Field(sa_type=sa.Text)
    text: str = Field(sa_type=sa.Text)
    loaded_from: str = Field(sa_type=sa.Text)
    loaded_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
