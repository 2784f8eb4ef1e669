"""Loaded holiday schedules: store one, and read them all back as `YearSchedule`s for the calendar."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session, select

from custody.models.calendar import CalendarSchedule
from custody.store.db import engine_for
from custody.workdays import WorkCalendar, YearSchedule, parse_year_schedule, work_calendar


def save_schedule(session: Session, text: str, origin: str) -> tuple[YearSchedule, bool]:
    """Validate and store a year's schedule; True when it replaced an earlier one for that year."""
    schedule = parse_year_schedule(text, origin)
    existing = session.get(CalendarSchedule, schedule.year)
    if existing is None:
        session.add(CalendarSchedule(year=schedule.year, source=schedule.source, text=text, loaded_from=origin))
        return schedule, False
    existing.source, existing.text, existing.loaded_from = schedule.source, text, origin
    session.add(existing)
    return schedule, True


def stored_schedules(session: Session) -> tuple[YearSchedule, ...]:
    rows = session.exec(select(CalendarSchedule).order_by(CalendarSchedule.year)).all()
    return tuple(parse_year_schedule(row.text, f"database: schedule {row.year}") for row in rows)


def loaded_schedules(url: str) -> tuple[YearSchedule, ...]:
    """Schedules stored at `url`; none when the database or its table does not exist yet (calculator use).

    A database that cannot be reached raises (sqlalchemy's OperationalError), and so does a malformed URL: the
    caller decides whether to go on without the loaded years.
    """
    if url.startswith("sqlite:///") and not _sqlite_file_exists(url):
        return ()
    engine = engine_for(url)
    try:
        with Session(engine) as session:
            if not sa.inspect(engine).has_table(CalendarSchedule.__tablename__):
                return ()
            return stored_schedules(session)
    except ProgrammingError:
        return ()
    finally:
        engine.dispose()


def calendar_from(session: Session) -> WorkCalendar:
    """The working-day calendar with the packaged schedules and those loaded into this database."""
    return work_calendar(stored_schedules(session))


def _sqlite_file_exists(url: str) -> bool:
    from pathlib import Path

    path = url.removeprefix("sqlite:///")
    return path == ":memory:" or Path(path).is_file()
