"""Rule 5 working-day calendar: worked examples from the Guidelines and the State Council notices."""
from __future__ import annotations

import random
import time
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody.workdays import (
    ScheduleError,
    WorkCalendar,
    YearSchedule,
    bundled_schedules,
    default_calendar,
    first_official_year,
    load_year_schedule,
    parse_year_schedule,
    work_calendar,
)

SAMPLE_2027 = Path(__file__).parent / "data" / "calendar-2027-sample.toml"


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar()


@cache
def _sample_calendar() -> WorkCalendar:
    # Shared so its per-year memo is reused; hypothesis tests can't take pytest fixtures.
    return WorkCalendar([load_year_schedule(SAMPLE_2027)])


@pytest.fixture(scope="module")
def sample_calendar() -> WorkCalendar:
    return _sample_calendar()


# (deadline, due date after Rule 5); sources in the ids.
MOVES = [
    pytest.param(date(2007, 12, 30), date(2008, 1, 2),
                 id="guidelines: New Year holiday 2007-12-30..2008-01-01 moves a deadline to 2008-01-02"),
    pytest.param(date(2008, 2, 6), date(2008, 2, 13),
                 id="guidelines: Spring Festival 2008-02-06..12 moves a deadline to 2008-02-13"),
    pytest.param(date(2008, 2, 12), date(2008, 2, 13), id="last day of Spring Festival 2008 moves one day"),
    pytest.param(date(2026, 2, 28), date(2026, 2, 28), id="make-up Saturday 2026-02-28 is a working day"),
    pytest.param(date(2026, 2, 14), date(2026, 2, 14), id="make-up Saturday 2026-02-14 is a working day"),
    pytest.param(date(2026, 3, 7), date(2026, 3, 9), id="a plain Saturday moves to Monday"),
    pytest.param(date(2026, 3, 8), date(2026, 3, 9), id="a plain Sunday moves to Monday"),
    pytest.param(date(2026, 3, 10), date(2026, 3, 10), id="a plain Tuesday stays"),
    pytest.param(date(2026, 2, 17), date(2026, 2, 24),
                 id="notice 2026: Spring Festival 2026-02-15..23 moves a deadline to 2026-02-24"),
    pytest.param(date(2026, 2, 15), date(2026, 2, 24), id="first day of Spring Festival 2026 moves to 02-24"),
    pytest.param(date(2025, 10, 1), date(2025, 10, 9),
                 id="notice 2025: National Day 2025-10-01..08 moves a deadline to 2025-10-09"),
    pytest.param(date(2025, 10, 11), date(2025, 10, 11), id="make-up Saturday 2025-10-11 is a working day"),
    pytest.param(date(2024, 2, 29), date(2024, 2, 29), id="29 February 2024 is a plain working Thursday"),
    pytest.param(date(2027, 1, 1), date(2027, 1, 4), id="provisional: New Year 2027 moves to Monday 01-04"),
    pytest.param(date(2027, 2, 6), date(2027, 2, 9),
                 id="provisional: Spring Festival 2027-02-05..08 moves a deadline to 02-09"),
]


@pytest.mark.parametrize(("deadline", "due"), MOVES)
def test_deadline_moves_to_next_working_day(calendar: WorkCalendar, deadline: date, due: date) -> None:
    assert calendar.next_working_day(deadline) == due


@pytest.mark.parametrize(
    ("day", "working", "provisional"),
    [
        pytest.param(date(2026, 2, 28), True, False, id="2026-02-28 Saturday is a working official day"),
        pytest.param(date(2026, 2, 20), False, False, id="2026-02-20 Friday in Spring Festival is a rest day"),
        pytest.param(date(2027, 1, 1), False, True, id="2027-01-01 is a provisional rest day"),
        pytest.param(date(2027, 2, 6), False, True, id="2027-02-06 Spring Festival is a provisional rest day"),
        pytest.param(date(2027, 2, 9), True, True,
                     id="2027-02-09 observed day guessed by python-holidays is not a rest day"),
        pytest.param(date(2027, 5, 3), True, True, id="2027-05-03 observed Labour Day is not a rest day"),
        # Before chinesecalendar's range the years are history (weekends + statutory holidays, README
        # limitations): no schedule will ever be published for them, so they are not provisional.
        pytest.param(date(2003, 10, 1), False, False, id="2003 is before chinesecalendar and taken as final"),
        pytest.param(date(1996, 3, 9), False, False, id="1996 Saturday is a rest day taken as final"),
        pytest.param(date(2004, 1, 1), False, False, id="2004 is the first chinesecalendar year"),
    ],
)
def test_default_calendar_knows_rest_and_provisional_days(
    calendar: WorkCalendar, day: date, working: bool, provisional: bool
) -> None:
    assert (calendar.is_working_day(day), calendar.is_provisional(day)) == (working, provisional)


def test_calendar_agrees_with_chinesecalendar_on_every_day_it_covers(calendar: WorkCalendar) -> None:
    day, disagreements = date(2004, 1, 1), []
    while day.year <= 2026:
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(1)
    assert disagreements == []


def test_official_year_names_the_state_council_source(calendar: WorkCalendar) -> None:
    assert "chinesecalendar" in calendar.schedule_for(2026).source
    assert calendar.schedule_for(2027).source.startswith("PROVISIONAL")


@pytest.mark.parametrize(
    ("day", "working", "due"),
    [
        pytest.param(date(2027, 2, 20), True, date(2027, 2, 20),
                     id="sample 2027 make-up Saturday 02-20 is a working day"),
        pytest.param(date(2027, 2, 11), False, date(2027, 2, 12),
                     id="sample 2027 Spring Festival 02-05..11 moves a deadline to 02-12"),
        pytest.param(date(2027, 1, 2), False, date(2027, 1, 4), id="sample 2027 New Year Saturday moves to 01-04"),
        pytest.param(date(2027, 2, 9), False, date(2027, 2, 12),
                     id="sample 2027 outranks the provisional estimate on 02-09"),
    ],
)
def test_loaded_schedule_wins_and_makes_its_year_official(
    sample_calendar: WorkCalendar, day: date, working: bool, due: date
) -> None:
    assert sample_calendar.is_working_day(day) is working
    assert sample_calendar.next_working_day(day) == due
    assert not sample_calendar.is_provisional(day)
    assert sample_calendar.is_provisional(date(2028, 1, 1))


def test_loaded_schedule_can_correct_a_chinesecalendar_year() -> None:
    correction = YearSchedule(2026, "test correction", frozenset({date(2026, 3, 10)}), frozenset())
    corrected = WorkCalendar([correction])
    assert not corrected.is_working_day(date(2026, 3, 10))
    assert corrected.is_working_day(date(2026, 2, 20))  # the correction replaces the whole year
    assert corrected.next_working_day(date(2026, 3, 10)) == date(2026, 3, 11)


def test_two_schedules_for_one_year_are_refused() -> None:
    sample = load_year_schedule(SAMPLE_2027)
    with pytest.raises(ScheduleError, match="two schedules for 2027"):
        WorkCalendar([sample, sample])


def test_sample_schedule_parses_to_its_days() -> None:
    sample = load_year_schedule(SAMPLE_2027)
    assert (sample.year, len(sample.rest_days), sample.workdays) == (2027, 10, frozenset({date(2027, 2, 20)}))
    assert sample.source.startswith("SAMPLE")


def test_schedule_accepts_bare_toml_dates() -> None:
    text = 'year = 2027\nsource = "x"\nholidays = [[2027-01-01, 2027-01-01]]\nworkdays = [2027-02-20]\n'
    assert parse_year_schedule(text, "bare.toml").rest_days == frozenset({date(2027, 1, 1)})


GOOD = {"year": "2027", "source": '"notice"', "holidays": '[["2027-02-05", "2027-02-11"]]', "workdays": "[]"}


def schedule_text(**fields: str) -> str:
    return "".join(f"{key} = {value}\n" for key, value in {**GOOD, **fields}.items() if value != "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(schedule_text(holidays='[["2026-12-31", "2027-01-01"]]'),
                     "s.toml:3: holidays[0][0]: 2026-12-31 is outside year 2027", id="a holiday outside the year"),
        pytest.param(schedule_text(holidays='[["2027-02-11", "2027-02-05"]]'),
                     "s.toml:3: holidays[0]: range ends (2027-02-05) before it starts", id="a reversed range"),
        pytest.param(schedule_text(holidays="[]"), "s.toml:3: holidays: required", id="no holidays"),
        pytest.param(schedule_text(holidays=""), "s.toml: holidays: required", id="holidays missing"),
        pytest.param(schedule_text(holidays='[["2027-02-05"]]'), "s.toml:3: holidays[0]: expected a [first, last]",
                     id="a range with one date"),
        pytest.param(schedule_text(holidays='[["2027-02-30", "2027-03-01"]]'),
                     "s.toml:3: holidays[0][0]: '2027-02-30' is not a date", id="an impossible date"),
        pytest.param(schedule_text(workdays='["2027-02-22"]'),
                     "s.toml:4: workdays[0]: 2027-02-22 is a Monday, not a Saturday or Sunday",
                     id="a make-up day on a weekday"),
        pytest.param(schedule_text(workdays='["2028-01-08"]'), "s.toml:4: workdays[0]: 2028-01-08 is outside year",
                     id="a make-up day outside the year"),
        pytest.param(schedule_text(workdays='["2027-02-06"]'),
                     "s.toml:4: workdays[0]: 2027-02-06 is also inside a holidays range",
                     id="a make-up day inside a holiday"),
        pytest.param(schedule_text(workdays='"2027-02-20"'), "s.toml:4: workdays: expected a list",
                     id="workdays not a list"),
        pytest.param(schedule_text(year='"2027"'), "s.toml:1: year: required", id="year as a string"),
        pytest.param(schedule_text(source='""'), "s.toml:2: source: required", id="an empty source"),
        pytest.param(schedule_text(workday="[]"), "s.toml:5: workday: unknown field", id="a misspelt field"),
        pytest.param("year = ", "s.toml: invalid TOML", id="broken TOML"),
        pytest.param('year = 2027\nsource = "x"\nholidays = [["2027-01-01" "2027-01-02"]]\n', "s.toml:3: invalid TOML",
                     id="a malformed line"),
    ],
)
def test_bad_schedule_is_refused_naming_origin_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_year_schedule(text, "s.toml")
    assert str(caught.value).startswith(message)


def test_bundled_schedules_are_read_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(SAMPLE_2027.read_text(encoding="utf-8"), encoding="utf-8")
    assert [s.year for s in bundled_schedules(tmp_path)] == [2027]


def test_first_official_year_is_where_chinesecalendar_begins() -> None:
    assert first_official_year() == 2004


def test_work_calendar_takes_the_packaged_schedules_and_a_loaded_one_wins(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(SAMPLE_2027.read_text(encoding="utf-8"), encoding="utf-8")
    packaged = work_calendar(directory=tmp_path)
    assert not packaged.is_provisional(date(2027, 3, 1))
    assert packaged.schedule_for(2027).source == load_year_schedule(SAMPLE_2027).source
    correction = YearSchedule(2027, "operator correction", frozenset({date(2027, 3, 1)}), frozenset())
    corrected = work_calendar([correction], directory=tmp_path)  # no "two schedules for 2027" error
    assert corrected.schedule_for(2027).source == "operator correction"
    assert corrected.next_working_day(date(2027, 3, 1)) == date(2027, 3, 2)


def test_work_calendar_reads_the_packaged_directory_at_call_time(tmp_path: Path, monkeypatch) -> None:
    import custody.workdays

    (tmp_path / "2027.toml").write_text(SAMPLE_2027.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(custody.workdays, "CALENDAR_DIR", tmp_path)
    assert not work_calendar().is_provisional(date(2027, 3, 1))


def test_default_calendar_is_shared_and_ships_only_valid_schedules() -> None:
    assert default_calendar() is default_calendar()
    assert all(s.source for s in bundled_schedules())


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(date(2007, 12, 1), date(2008, 3, 1), id="table over the 2008 Guidelines examples"),
        pytest.param(date(2026, 12, 20), date(2027, 3, 1), id="table across into a provisional year"),
        pytest.param(date(2026, 2, 28), date(2026, 2, 28), id="table of a single day"),
    ],
)
def test_working_day_table_agrees_with_next_working_day(
    calendar: WorkCalendar, sample_calendar: WorkCalendar, start: date, end: date
) -> None:
    for cal in (calendar, sample_calendar):
        table = cal.working_day_table(start, end)
        expected = [cal.next_working_day(start + timedelta(i)).toordinal() for i in range((end - start).days + 1)]
        assert (table.dtype.name, table.tolist()) == ("int64", expected)


def test_working_day_table_over_1985_to_2060_is_fast_and_agrees_on_a_sample() -> None:
    fresh = WorkCalendar()
    start, end = date(1985, 1, 1), date(2060, 12, 31)
    began = time.perf_counter()
    table = fresh.working_day_table(start, end)
    assert time.perf_counter() - began < 1.0
    assert len(table) == (end - start).days + 1
    for i in random.Random(5).sample(range(len(table)), 2000):
        assert table[i] == fresh.next_working_day(start + timedelta(i)).toordinal()


def test_working_day_table_is_empty_when_end_precedes_start(calendar: WorkCalendar) -> None:
    assert calendar.working_day_table(date(2026, 1, 2), date(2026, 1, 1)).shape == (0,)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1985, 1, 1), max_value=date(2060, 12, 31)), loaded=st.booleans())
def test_next_working_day_is_the_first_working_day_on_or_after(day: date, loaded: bool) -> None:
    cal = _sample_calendar() if loaded else default_calendar()
    due = cal.next_working_day(day)
    assert due >= day and cal.is_working_day(due)
    assert not any(cal.is_working_day(day + timedelta(n)) for n in range((due - day).days))

