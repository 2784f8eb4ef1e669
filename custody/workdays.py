"""The Chinese working-day calendar that CNIPA deadlines are moved on (Rule 5; Guidelines Part V ch. 7 §2.3).

A deadline that falls on a rest day moves to the first working day on or after it. Rest days are weekends and
the public holidays; a weekend day the State Council declares a make-up working day (调休上班) is a working day,
e.g. Saturday 2026-02-28.

Where each year's days come from, in order of precedence:

1. A loaded schedule (`YearSchedule`, usually parsed from a TOML file with `parse_year_schedule`). The State
   Council publishes next year's schedule around November; the operator loads it before the libraries catch up,
   or loads a correction. A loaded year wins over everything below and is not provisional.
2. The `chinesecalendar` package (import `chinese_calendar`), which transcribes the State Council notices for
   the years it covers (2004-2026 in 1.11.0) and raises NotImplementedError for any other year.
3. Otherwise weekends plus the statutory public holidays from `holidays.China`.
   Only the statutory days themselves are taken. Entries named "... (observed)" and "Day off (substituted
   from ...)" are python-holidays' guesses at (or its record of) the make-up arrangement. Their partner
   make-up Saturdays can't be represented, so taking half of the arrangement would be worse than taking none.
   Such a year has no make-up working days. For a year AFTER chinesecalendar's range it is only an estimate
   until the State Council publishes the schedule: wherever a date from such a year is shown, say it is
   provisional (`is_provisional`). A year BEFORE the range (before 2004) is history: no schedule will be
   published to load, so marking it provisional would flag every old date for ever. Those years are taken as
   final; README (limitations) says this is an approximation of history. In particular the six-day week
   (before 1995-05-01) and the make-up days of the 1999-2003 golden weeks are not modelled.

Everything here is pure: no clock, no database, no network. Per-year data is built once and memoised.
A moved date depends on every day from the deadline up to the result. If either end lies in a provisional
year, treat the result as provisional.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custody.explained import Explained, tx
from custody.table_errors import toml_problem

if TYPE_CHECKING:  # numpy, holidays and chinesecalendar load when a table or a schedule is first asked for
    import numpy as np

CALENDAR_DIR = Path(__file__).parent / "rules" / "calendar"
SCHEDULE_KEYS = frozenset({"year", "source", "holidays", "workdays"})
# python-holidays' names for its make-up guesses; only matched in the en_US names we ask for.
GUESSED_NAME_MARKERS = ("(observed)", "Day off")


class ScheduleError(Explained, ValueError):
    """A year schedule is malformed; the message starts with `origin: field:`."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's official arrangement.

    `rest_days` are the declared holiday rest days and may include weekend days. Ordinary weekends are
    implied, so they are not listed. `workdays` are the make-up working days, which all fall on weekends.
    """

    year: int
    source: str
    rest_days: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.rest_days)


# --- Parsing an operator-supplied schedule -------------------------------------------------------------


@dataclass(frozen=True)
class _Origin:
    """A schedule's file name and text, to name the line an error is on (`file:line: field: message`)."""

    name: str
    text: str

    def at(self, value: object) -> str:
        """`name:line` of the first line holding `value` (a date, a string, a number); just `name` if none does."""
        first = value[0] if isinstance(value, list) and value else value
        needle = first.isoformat() if isinstance(first, date) else str(first)
        found = next((n for n, line in enumerate(self.text.splitlines(), 1) if needle and needle in line), None)
        return f"{self.name}:{found}" if found else self.name

    def key(self, name: str) -> str:
        """`name:line` of the line that sets `name` (`name = …`); just `name` if none does."""
        pattern = re.compile(rf"\s*{re.escape(name)}\s*=")
        found = next((n for n, line in enumerate(self.text.splitlines(), 1) if pattern.match(line)), None)
        return f"{self.name}:{found}" if found else self.name


def parse_year_schedule(text: str, origin: str) -> YearSchedule:
    """The schedule in `text` (TOML), validated. A `ScheduleError` names `origin`, the line and the bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise ScheduleError(tx("{where}: invalid TOML: {error}", where=f"{origin}{':' + line.group(1) if line else ''}",
                                error=toml_problem(exc))) from exc
    at = _Origin(origin, text)
    unknown = sorted(set(data) - SCHEDULE_KEYS)
    if unknown:
        raise ScheduleError(tx("{where}: {key}: unknown field (expected {expected})", where=at.key(unknown[0]),
                               key=unknown[0], expected=", ".join(sorted(SCHEDULE_KEYS))))
    year = _year_field(data, at)
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ScheduleError(tx("{where}: source: required, the notice this schedule transcribes",
                               where=at.key("source")))
    rest_days = _rest_days_field(data.get("holidays"), year, at)
    workdays = _workdays_field(data.get("workdays", []), year, at)
    for i, day in enumerate(sorted(workdays)):
        if day in rest_days:
            raise ScheduleError(tx("{where}: workdays[{i}]: {day} is also inside a holidays range", where=at.at(day),
                                   i=i, day=day))
    return YearSchedule(year, source.strip(), rest_days, workdays)


def read_schedule_text(path: Path) -> str:
    """The text of a schedule file, which must be UTF-8 (a BOM is fine): a GBK file is refused with its line,
    never guessed at. OSError (missing, unreadable) is the caller's to report."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ScheduleError(tx("{where}: not UTF-8 text (GBK?): save the file as UTF-8",
                               where=f"{path}:{line}")) from None


def load_year_schedule(path: Path) -> YearSchedule:
    """The schedule in the TOML file at `path`; errors name the file."""
    return parse_year_schedule(read_schedule_text(path), str(path))


def bundled_schedules(directory: Path = CALENDAR_DIR) -> tuple[YearSchedule, ...]:
    """The verified schedules shipped in custody/rules/calendar/*.toml, in file-name order."""
    return tuple(load_year_schedule(path) for path in sorted(directory.glob("*.toml")))


def _year_field(data: dict[str, Any], at: _Origin) -> int:
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2999:
        raise ScheduleError(tx("{where}: year: required, a four-digit year, got {year!r}", where=at.key("year"),
                               year=year))
    return year


def _date_in_year(value: object, year: int, where: str) -> date:
    # TOML allows bare dates (2027-01-01) as well as quoted ISO strings; accept both.
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ScheduleError(tx("{where}: {value!r} is not a date (YYYY-MM-DD)", where=where, value=value)) from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ScheduleError(tx("{where}: {value!r} is not a date (YYYY-MM-DD)", where=where, value=value))
    if value.year != year:
        raise ScheduleError(tx("{where}: {value} is outside year {year}", where=where, value=value, year=year))
    return value


def _rest_days_field(ranges: object, year: int, at: _Origin) -> frozenset[date]:
    if not isinstance(ranges, list) or not ranges:
        raise ScheduleError(tx("{where}: holidays: required, a non-empty list of [first, last] date pairs",
                               where=at.key("holidays")))
    days: set[date] = set()
    for i, pair in enumerate(ranges):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScheduleError(tx("{where}: holidays[{i}]: expected a [first, last] pair, got {pair!r}",
                                   where=at.at(pair), i=i, pair=pair))
        first, last = (_date_in_year(v, year, f"{at.at(v)}: holidays[{i}][{j}]") for j, v in enumerate(pair))
        if last < first:
            raise ScheduleError(tx("{where}: holidays[{i}]: range ends ({last}) before it starts ({first})",
                                   where=at.at(first), i=i, last=last, first=first))
        days.update(first + timedelta(n) for n in range((last - first).days + 1))
    return frozenset(days)


def _workdays_field(values: object, year: int, at: _Origin) -> frozenset[date]:
    if not isinstance(values, list):
        raise ScheduleError(tx("{where}: workdays: expected a list of dates, got {values!r}", where=at.key("workdays"),
                               values=values))
    days = set()
    for i, value in enumerate(values):
        day = _date_in_year(value, year, f"{at.at(value)}: workdays[{i}]")
        # A make-up working day only means something on a weekend; a weekday is a working day anyway.
        if day.weekday() < 5:
            raise ScheduleError(tx("{where}: workdays[{i}]: {day} is a {day:%A}, not a Saturday or Sunday",
                                   where=at.at(day), i=i, day=day))
        days.add(day)
    return frozenset(days)


# --- Where a year's schedule comes from when none is loaded -------------------------------------------


@cache
def official_schedule(year: int) -> YearSchedule | None:
    """The State Council schedule as transcribed by chinesecalendar, or None outside its years."""
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 1, 1))  # the public API decides which years are covered
    except NotImplementedError:
        return None
    # Read the package's own tables: its per-day functions rescan them on every call, which is too slow
    # for 76 years of portfolio tables. `holidays` holds the declared rest days, `workdays` the make-up days.
    rest = {d for d in chinese_calendar.constants.holidays if d.year == year}
    make_up = {d for d in chinese_calendar.constants.workdays if d.year == year}
    source = f"State Council 部分节假日安排 notice for {year}, via chinesecalendar {_version('chinesecalendar')}"
    return YearSchedule(year, source, frozenset(rest), frozenset(make_up))


@cache
def first_official_year() -> int:
    """The first year chinesecalendar transcribes (2004 in 1.11.0)."""
    import chinese_calendar

    return min(day.year for day in chinese_calendar.constants.holidays)


@cache
def provisional_schedule(year: int) -> YearSchedule:
    """Weekends plus the statutory holidays only (see the module docstring for what is left out)."""
    statutory = _china_holidays()(years=year, language="en_US")
    rest = {d for d, name in statutory.items() if not any(m in name for m in GUESSED_NAME_MARKERS)}
    source = (
        f"PROVISIONAL: State Council schedule for {year} not loaded; weekends and statutory holidays "
        f"from python-holidays {_version('holidays')}, without make-up days"
    )
    return YearSchedule(year, source, frozenset(rest), frozenset())


@cache
def _version(package: str) -> str:
    """An installed package's version, read once (importlib.metadata parses the METADATA file on every call)."""
    return version(package)


@cache
def _china_holidays() -> type:
    """python-holidays' China, without the package's every country: `holidays.China` imports all of
    holidays.countries (about 0.2 s, most of a `custody fees` run), so the one module is loaded from its file."""
    import importlib.util
    import sys

    import holidays

    name = "holidays.countries.china"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(holidays.__file__).parent / "countries" / "china.py")
        assert spec is not None and spec.loader is not None  # a file path always has a spec and a loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = sys.modules[name]
    return module.China


def _days_in_year(year: int) -> int:
    return date(year + 1, 1, 1).toordinal() - date(year, 1, 1).toordinal()


# --- The calendar --------------------------------------------------------------------------------------


class WorkCalendar:
    """Answers "is this a working day" and "when does a deadline on this day fall due" (Rule 5)."""

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        self._loaded: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if schedule.year in self._loaded:
                raise ScheduleError(tx("two schedules for {year}: {first!r} and {second!r}", year=schedule.year,
                                       first=self._loaded[schedule.year].source, second=schedule.source))
            self._loaded[schedule.year] = schedule
        # Rest day -> next working day, per year; a working day is absent (it maps to itself).
        self._moves: dict[int, dict[date, date]] = {}
        self._next_ordinals: dict[int, np.ndarray] = {}

    def schedule_for(self, year: int) -> YearSchedule:
        """The schedule in force for `year`, so a caller can show its source."""
        loaded = self._loaded.get(year)
        if loaded is not None:
            return loaded
        return official_schedule(year) or provisional_schedule(year)

    def is_working_day(self, day: date) -> bool:
        return self.schedule_for(day.year).is_working_day(day)

    def is_provisional(self, day: date) -> bool:
        """True when `day`'s year comes after chinesecalendar's years and no schedule for it is loaded (a year
        before them is history, computed on weekends and statutory holidays: see the module docstring)."""
        year = day.year
        return year not in self._loaded and official_schedule(year) is None and year > first_official_year()

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it (Rule 5)."""
        moves = self._moves.get(day.year)
        if moves is None:
            moves = self._year_moves(day.year)
        return moves.get(day, day)

    def working_day_table(self, start: date, end: date) -> np.ndarray:
        """int64 array over `start`..`end` INCLUSIVE: index i holds the ordinal of next_working_day(start + i).

        For vectorised portfolio code: `table[d.toordinal() - start.toordinal()]`. Empty when end < start.
        """
        import numpy as np

        if end < start:
            return np.empty(0, dtype=np.int64)
        years = np.concatenate([self._year_next_ordinals(y) for y in range(start.year, end.year + 1)])
        offset = start.toordinal() - date(start.year, 1, 1).toordinal()
        return years[offset : offset + (end - start).days + 1]

    def _year_moves(self, year: int) -> dict[date, date]:
        # Walk the year backwards, carrying the next working day; the carry starts in the following year
        # because a rest day at the end of December can move into January.
        following = self._first_working_day_from(date(year + 1, 1, 1))
        moves: dict[date, date] = {}
        day = date(year, 12, 31)
        while day.year == year:
            if self.is_working_day(day):
                following = day
            else:
                moves[day] = following
            day -= timedelta(1)
        self._moves[year] = moves
        return moves

    def _first_working_day_from(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(1)
        return day

    def _year_next_ordinals(self, year: int) -> np.ndarray:
        cached = self._next_ordinals.get(year)
        if cached is not None:
            return cached
        import numpy as np

        first = date(year, 1, 1).toordinal()
        table = np.arange(first, first + _days_in_year(year), dtype=np.int64)
        moves = self._moves.get(year)
        if moves is None:
            moves = self._year_moves(year)
        for rest_day, working_day in moves.items():
            table[rest_day.toordinal() - first] = working_day.toordinal()
        table.flags.writeable = False
        self._next_ordinals[year] = table
        return table


def work_calendar(loaded: Iterable[YearSchedule] = (), directory: Path | None = None) -> WorkCalendar:
    """THE calendar builder, for every path: chinesecalendar, then the verified schedules shipped in
    custody/rules/calendar/ (or `directory`), then the schedules an operator loaded, which win for their year
    (a correction, or a year published after this release)."""
    by_year = {s.year: s for s in bundled_schedules(directory or CALENDAR_DIR)}
    by_year.update({s.year: s for s in loaded})
    return WorkCalendar(by_year.values())


PROVISIONAL_HORIZON_YEARS = 21  # a patent's longest term (20 years, invention) and the year it is read in


def provisional_years(calendar: WorkCalendar, this_year: int) -> list[int]:
    """The years from `this_year` over a patent's term whose deadlines are provisional (no schedule known)."""
    return [y for y in range(this_year, this_year + PROVISIONAL_HORIZON_YEARS)
            if calendar.is_provisional(date(y, 1, 1))]


@cache
def default_calendar() -> WorkCalendar:
    """The shared calendar with no operator-loaded schedules (the packaged data only)."""
    return work_calendar()
