"""Loaded holiday schedules: store one, and read them all back as `YearSchedule`s for the calendar."""
from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from custody.workdays import WorkCalendar, YearSchedule, parse_year_schedule, work_calendar

if TYPE_CHECKING:
    from sqlmodel import Session

# The calculator (`custody fees`) reads the loaded schedules without the models (sqlmodel and pydantic are most
# of its start-up): a plain statement on the table.
TABLE = "calendar_schedule"


def save_schedule(session: Session, text: str, origin: str) -> tuple[YearSchedule, bool]:
    """Validate and store a year's schedule; True when it replaced an earlier one for that year."""
    from custody.models.calendar import CalendarSchedule

    schedule = parse_year_schedule(text, origin)
    existing = session.get(CalendarSchedule, schedule.year)
    if existing is None:
        session.add(CalendarSchedule(year=schedule.year, source=schedule.source, text=text, loaded_from=origin))
        return schedule, False
    existing.source, existing.text, existing.loaded_from = schedule.source, text, origin
    session.add(existing)
    return schedule, True


def stored_schedules(session: Session) -> tuple[YearSchedule, ...]:
    import sqlalchemy as sa

    return _parsed(session.execute(sa.text(f"SELECT year, text FROM {TABLE} ORDER BY year")).all())


def _parsed(rows) -> tuple[YearSchedule, ...]:
    return tuple(parse_year_schedule(text, f"database: schedule {year}") for year, text in rows)


def loaded_schedules(url: str) -> tuple[YearSchedule, ...]:
    """Schedules stored at `url`; none when the database or its table does not exist yet (calculator use).

    A database that cannot be reached raises (sqlalchemy's OperationalError), and so does a malformed URL: the
    caller decides whether to go on without the loaded years.
    """
    if url.startswith("sqlite:///") and not _sqlite_file_exists(url):
        return ()
    if url.startswith("sqlite:///") and "?" not in url:
        return _sqlite_schedules(url.removeprefix("sqlite:///"))
    import sqlalchemy as sa
    from sqlalchemy.exc import ProgrammingError

    from custody.store.db import engine_for

    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(TABLE):
                return ()
            return _parsed(connection.execute(sa.text(f"SELECT year, text FROM {TABLE} ORDER BY year")).all())
    except ProgrammingError:
        return ()
    finally:
        engine.dispose()


def calendar_from(session: Session) -> WorkCalendar:
    """The working-day calendar with the packaged schedules and those loaded into this database."""
    return work_calendar(stored_schedules(session))


def _sqlite_schedules(path: str) -> tuple[YearSchedule, ...]:
    """The plain driver, read-only (a calculator writes nothing): SQLAlchemy's import alone is most of
    `custody fees`'s start-up. sqlite3.Error is the caller's, like SQLAlchemy's OperationalError."""
    target = path if path == ":memory:" else f"file:{path}?mode=ro"
    connection = sqlite3.connect(target, uri=path != ":memory:", timeout=15)
    try:
        if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone():
            return _parsed(connection.execute(f"SELECT year, text FROM {TABLE} ORDER BY year").fetchall())
        return ()
    finally:
        connection.close()


def _sqlite_file_exists(url: str) -> bool:
    from pathlib import Path

    path = url.removeprefix("sqlite:///")
    return path == ":memory:" or Path(path).is_file()
