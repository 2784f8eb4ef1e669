"""The annual-fee engine against the worked examples of the CNIPA rules reference, on the real working-day calendar.

Each row cites the rule or example it checks ("ref §N" is a section of the project's CNIPA rules reference;
GL = Patent Examination Guidelines). Weekdays are noted where a row depends on them.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from custody.domain import DatePeriod, PatentFacts, PatentState, PatentType, Reduction
from custody.fees import (
    REQUIRED_GRANT_YEAR,
    FeeInputError,
    LapsedError,
    Schedule,
    YearFee,
    anniversary,
    fact_problems,
    fee_schedule,
    next_due,
    patent_state,
    patent_year_on,
    quote,
    remaining_total,
    restoration_quote,
)
from custody.ruleset import RuleError, RuleSet, RuleSettings, default_rules, load_rules
from custody.workdays import default_calendar

INVENTION, UTILITY, DESIGN = PatentType.INVENTION, PatentType.UTILITY_MODEL, PatentType.DESIGN
NONE, R85, R70 = Reduction.NONE, Reduction.R85, Reduction.R70
D = date.fromisoformat


def facts(patent_type: PatentType, filed: str, **kwargs) -> PatentFacts:
    return PatentFacts(type=patent_type, filing_date=D(filed), **kwargs)


def schedule_of(patent: PatentFacts, rules: RuleSet | None = None) -> Schedule:
    return fee_schedule(patent, rules or default_rules(), default_calendar())


def year_fee(patent: PatentFacts, year: int, rules: RuleSet | None = None) -> YearFee:
    return schedule_of(patent, rules).year(year)


# Invention filed 2017-04-10 (Mon), granted in year 2: the year-3 fee (900) is due Wed 2019-04-10, and the
# late-fee band ends (2019-05-10 Fri, 06-10 Mon, 07-10 Wed, 08-10 Sat -> 08-12 Mon, 09-10 Tue, 10-10 Thu) are
# all plain except one.
PLAIN = facts(INVENTION, "2017-04-10", grant_year=2, paid_through=2)


# --- Amounts over the whole term (ref §1) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "patent, years, total",
    [
        pytest.param(facts(INVENTION, "2010-01-04", grant_year=1), 20, 82_300, id="invention-1-20-is-82300"),
        pytest.param(facts(UTILITY, "2010-01-04", grant_year=1), 10, 11_200, id="utility-1-10-is-11200"),
        pytest.param(facts(DESIGN, "2021-06-01", grant_year=1), 15, 26_200, id="design-filed-2021-06-01-1-15"),
        # ref §3: a design filed before 2021-06-01 keeps the 10-year term, so years 11-15 never exist.
        pytest.param(facts(DESIGN, "2021-05-31", grant_year=1), 10, 11_200, id="design-filed-2021-05-31-1-10"),
    ],
)
def test_full_fees_of_every_patent_year_sum_to_the_reference_check(patent, years, total):
    schedule = schedule_of(patent)
    assert [y.year for y in schedule.years] == list(range(1, years + 1))
    assert sum(y.full_fee for y in schedule.years) == total


@pytest.mark.parametrize(
    "filed, expiry, last_year",
    [
        pytest.param("2021-05-31", date(2031, 5, 31), 10, id="filed-2021-05-31-10-years"),
        pytest.param("2021-06-01", date(2036, 6, 1), 15, id="filed-2021-06-01-15-years"),
    ],
)
def test_design_term_depends_on_filing_before_or_after_2021_06_01(filed, expiry, last_year):
    # ref §3 (PL Art. 42 as amended 2020).
    schedule = schedule_of(facts(DESIGN, filed, grant_year=1))
    assert (schedule.expiry_date, schedule.years[-1].year) == (expiry, last_year)
    if last_year == 15:
        assert schedule.year(11).full_fee == 3000  # ref §1: 发改价格〔2022〕465号
    else:
        with pytest.raises(FeeInputError, match="outside this patent's fee years 1-10"):
            schedule.year(11)


# --- Patent years and due dates (ref §2) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "filed, day, year",
    [
        # ref §2 / GL V-9 §2.2.1.1: filed 1999-06-01 -> year 1 is 1999-06-01..2000-05-31, year 2 from 2000-06-01.
        pytest.param("1999-06-01", "1999-06-01", 1, id="1999-06-01-filing-day-is-year-1"),
        pytest.param("1999-06-01", "2000-05-31", 1, id="2000-05-31-still-year-1"),
        pytest.param("1999-06-01", "2000-06-01", 2, id="2000-06-01-opens-year-2"),
        pytest.param("1999-06-01", "2001-05-31", 2, id="2001-05-31-still-year-2"),
        pytest.param("1999-06-01", "2001-06-01", 3, id="2001-06-01-opens-year-3"),
        # Rule 5: a 29 February filing has its anniversary on 28 February in a common year.
        pytest.param("2012-02-29", "2013-02-27", 1, id="29-feb-filing-day-before-28-feb-is-year-1"),
        pytest.param("2012-02-29", "2013-02-28", 2, id="29-feb-filing-28-feb-opens-year-2"),
        pytest.param("2012-02-29", "2016-02-28", 4, id="29-feb-filing-leap-year-28-feb-still-year-4"),
        pytest.param("2012-02-29", "2016-02-29", 5, id="29-feb-filing-leap-year-29-feb-opens-year-5"),
    ],
)
def test_patent_year_counts_from_the_filing_date(filed, day, year):
    assert patent_year_on(D(filed), D(day)) == year
    assert anniversary(D(filed), year - 1) <= D(day) < anniversary(D(filed), year)


@pytest.mark.parametrize(
    "year, anniv, due",
    [
        # Rule 5: 29 Feb filing -> 28 Feb anniversary in common years (2013-02-28 Thu, 2014-02-28 Fri).
        pytest.param(2, date(2013, 2, 28), date(2013, 2, 28), id="year-2-on-28-feb-2013"),
        pytest.param(3, date(2014, 2, 28), date(2014, 2, 28), id="year-3-on-28-feb-2014"),
        # 2016 is a leap year: the anniversary is 29 Feb itself (Mon).
        pytest.param(5, date(2016, 2, 29), date(2016, 2, 29), id="year-5-on-29-feb-2016"),
    ],
)
def test_a_29_february_filing_falls_due_on_28_february_in_common_years(year, anniv, due):
    fee = year_fee(facts(INVENTION, "2012-02-29", grant_year=1), year)
    assert (fee.anniversary, fee.due_date) == (anniv, due)


def test_guidelines_example_year_6_fee_after_registration_in_year_5():
    # GL V-9 §2.2.1.2: filed 1997-06-03, grant announced 2001-08-01, year-5 fee paid at registration ->
    # the year-6 fee is due at the latest on 2002-06-03 (a Monday), at the year-6 rate (invention 4-6: 1200).
    schedule = schedule_of(facts(INVENTION, "1997-06-03", granted_on=D("2001-08-01")))
    assert (schedule.grant_year, schedule.grant_year_inferred) == (5, True)
    assert schedule.year(5).paid and schedule.year(5).is_grant_year
    year6 = schedule.year(6)
    assert D("2002-06-03").weekday() == 0
    assert (year6.due_date, year6.full_fee, year6.fee, year6.paid) == (date(2002, 6, 3), 1200, 1200, False)
    assert next_due(schedule, date(2002, 1, 1)).year == 6


def test_utility_model_expiry_is_the_anniversary_never_moved_for_a_holiday():
    # GL V-9 §2.1: filed 1999-09-06, protected to 2009-09-05, expiry date 2009-09-06 (a Sunday, not moved).
    schedule = schedule_of(facts(UTILITY, "1999-09-06", grant_year=1, paid_through=10))
    assert D("2009-09-06").weekday() == 6
    assert (schedule.normal_expiry, schedule.expiry_date) == (date(2009, 9, 6), date(2009, 9, 6))
    # ref §3: the last patent year is year 10, due 2008-09-06 (Sat) -> Mon 2008-09-08; nothing due at expiry.
    assert (schedule.years[-1].year, schedule.years[-1].due_date) == (10, date(2008, 9, 8))
    assert patent_state(schedule, date(2009, 9, 5)) == PatentState.IN_FORCE
    assert patent_state(schedule, date(2009, 9, 6)) == PatentState.EXPIRED


# --- Rest days (ref §5: Rule 5; GL V-7 §2.3) --------------------------------------------------------------


@pytest.mark.parametrize(
    "patent, year, anniv, due",
    [
        # GL V-7 §2.3 example: a period ending 2007-12-30 -> 2008-01-02 (holiday 2007-12-30..2008-01-01).
        pytest.param(facts(UTILITY, "2005-12-30", grant_year=1), 3, date(2007, 12, 30), date(2008, 1, 2),
                     id="guidelines-new-year-2007-12-30-to-2008-01-02"),
        # GL V-7 §2.3 example: a period ending 2008-02-06 -> 2008-02-13 (Spring Festival 2008-02-06..12).
        pytest.param(facts(UTILITY, "2006-02-06", grant_year=1), 3, date(2008, 2, 6), date(2008, 2, 13),
                     id="guidelines-spring-festival-2008-02-06-to-2008-02-13"),
        # Spring Festival 2024 (02-10..02-17 off): Mon 2024-02-12 -> Sun 2024-02-18, a make-up working day.
        pytest.param(facts(INVENTION, "2020-02-12", grant_year=3), 5, date(2024, 2, 12), date(2024, 2, 18),
                     id="spring-festival-2024-to-make-up-sunday"),
        # Spring Festival 2025 (01-28..02-04 off): Wed 2025-01-29 -> Wed 2025-02-05.
        pytest.param(facts(INVENTION, "2021-01-29", grant_year=2), 5, date(2025, 1, 29), date(2025, 2, 5),
                     id="spring-festival-2025"),
        # ref §5: Saturday 2026-02-28 is a make-up working day, so a fee due that day stays.
        pytest.param(facts(UTILITY, "2020-02-28", grant_year=1), 7, date(2026, 2, 28), date(2026, 2, 28),
                     id="make-up-saturday-2026-02-28-stays"),
        # An ordinary Saturday, one week later, moves to Monday.
        pytest.param(facts(UTILITY, "2020-03-07", grant_year=1), 7, date(2026, 3, 7), date(2026, 3, 9),
                     id="ordinary-saturday-2026-03-07-moves-to-monday"),
        # A working-day anniversary is the due date.
        pytest.param(PLAIN, 3, date(2019, 4, 10), date(2019, 4, 10), id="working-day-stays"),
    ],
)
def test_due_date_is_the_anniversary_moved_to_the_next_working_day(patent, year, anniv, due):
    fee = year_fee(patent, year)
    assert (fee.anniversary, fee.due_date) == (anniv, due)
    # Every moved date names Rule 5; an unmoved one does not.
    assert ("due_date_moved" in fee.citations) == (anniv != due)


@pytest.mark.parametrize(
    "year, provisional",
    [
        # 2026 is in chinesecalendar: due 2026-02-28, grace end in 2026 -> not provisional.
        pytest.param(7, False, id="2026-published"),
        # ref §5: 2027's schedule is not published (when written): due 2027-02-28 (Sun) -> 2027-03-01, provisional.
        pytest.param(8, True, id="2027-provisional"),
    ],
)
def test_dates_in_a_year_without_a_published_schedule_are_provisional(year, provisional):
    assert year_fee(facts(UTILITY, "2020-02-28", grant_year=1), year).provisional is provisional


# --- Late fee bands (ref §4: Rule 115; GL V-9 §2.2.1.3) ---------------------------------------------------


@pytest.mark.parametrize(
    "pay_on, rate, late_fee",
    [
        pytest.param("2019-04-09", "0", 0, id="before-the-due-date"),
        pytest.param("2019-04-10", "0", 0, id="on-the-due-date"),
        pytest.param("2019-05-10", "0", 0, id="last-day-of-0-percent-D-plus-1-month"),
        pytest.param("2019-05-11", "0.05", 45, id="first-day-of-5-percent"),
        # ref §4: paying two months late costs 5 %, not 10 %.
        pytest.param("2019-06-10", "0.05", 45, id="two-months-late-is-still-5-percent"),
        pytest.param("2019-06-11", "0.10", 90, id="first-day-of-10-percent"),
        pytest.param("2019-07-10", "0.10", 90, id="last-day-of-10-percent"),
        pytest.param("2019-07-11", "0.15", 135, id="first-day-of-15-percent"),
        # D + 4 months is Sat 2019-08-10: the band end moves to Mon 08-12 (Rule 5).
        pytest.param("2019-08-12", "0.15", 135, id="last-day-of-15-percent-moved-past-weekend"),
        pytest.param("2019-08-13", "0.20", 180, id="first-day-of-20-percent"),
        pytest.param("2019-09-10", "0.20", 180, id="last-day-of-20-percent"),
        pytest.param("2019-09-11", "0.25", 225, id="first-day-of-25-percent"),
        pytest.param("2019-10-10", "0.25", 225, id="grace-end-D-plus-6-months"),
    ],
)
def test_late_fee_band_on_each_edge(pay_on, rate, late_fee):
    q = quote(schedule_of(PLAIN), D(pay_on), 3)
    assert (q.fee, q.late_fee_rate, q.late_fee, q.total) == (900, Decimal(rate), late_fee, 900 + late_fee)


def test_paying_the_day_after_grace_end_is_a_lapse():
    # ref §4 / §6: paid more than 6 months after D -> the patent terminates (restoration may still be possible).
    schedule = schedule_of(PLAIN)
    assert schedule.year(3).grace_end == date(2019, 10, 10)
    with pytest.raises(LapsedError, match="grace period ended 2019-10-10"):
        quote(schedule, date(2019, 10, 11), 3)


@pytest.mark.parametrize(
    "pay_on, late_fee",
    [
        # Utility filed 2021-08-31, year 3 due Thu 2023-08-31 (full 600). D + 1 month = 2023-09-30 (Rule 5:
        # no 31st) falls in National Day (09-29..10-06) and moves to Sat 10-07, a make-up working day.
        pytest.param("2023-10-07", 0, id="0-percent-band-ends-on-make-up-saturday"),
        pytest.param("2023-10-08", 30, id="5-percent-starts-on-make-up-sunday"),
        # D + 4 months = Sun 2023-12-31; 2024-01-01 is New Year -> band end 2024-01-02.
        pytest.param("2024-01-02", 90, id="15-percent-band-ends-after-new-year"),
        pytest.param("2024-01-03", 120, id="20-percent-starts-2024-01-03"),
        # D + 6 months = 2024-02-29, a leap day (month-end clamping counts from D, not from the last band end).
        pytest.param("2024-02-29", 150, id="grace-end-on-leap-day"),
    ],
)
def test_band_edges_at_month_end_and_across_holidays(pay_on, late_fee):
    schedule = schedule_of(facts(UTILITY, "2021-08-31", grant_year=1, paid_through=2))
    assert quote(schedule, D(pay_on), 3).late_fee == late_fee
    with pytest.raises(LapsedError):
        quote(schedule, date(2024, 3, 1), 3)


@pytest.mark.parametrize(
    "reduction, fee, late_fee",
    [
        # ref §4: the late fee is on the FULL fee of that year (当年全额年费), even when the fee is reduced.
        pytest.param(NONE, 900, 90, id="no-reduction"),
        pytest.param(R85, 135, 90, id="85-percent-reduction-late-fee-on-full-900"),
        pytest.param(R70, 270, 90, id="70-percent-reduction-late-fee-on-full-900"),
    ],
)
def test_late_fee_is_charged_on_the_full_fee_even_when_reduced(reduction, fee, late_fee):
    q = quote(schedule_of(replace(PLAIN, reduction=reduction)), date(2019, 6, 11), 3)  # 10 % band
    assert (q.fee, q.late_fee, q.total) == (fee, late_fee, fee + late_fee)


def test_guidelines_top_up_is_charged_at_the_band_of_the_top_up_date():
    # ref §4, GL example: the 5 % band runs to 6/10, late fee 45 (5 % of 900), only 25 paid; a top-up on 6/15
    # falls in the 10 % band, so the late fee is 90 and 65 more is owed. Year 3 of PLAIN: D = 2019-04-10.
    schedule = schedule_of(PLAIN)
    paid_late_fee = Decimal(25)
    assert quote(schedule, date(2019, 6, 10), 3).late_fee == 45
    assert quote(schedule, date(2019, 6, 15), 3).late_fee - paid_late_fee == 65


@pytest.mark.parametrize(
    "setting, pay_on, late_fee",
    [
        # Invention filed 2020-02-12: year 5 anniversary Mon 2024-02-12 (Spring Festival) -> due Sun 2024-02-18.
        # ref §4 UNCONFIRMED: bands count from the raw anniversary (default) or from the moved due date.
        pytest.param("anniversary", "2024-03-12", 0, id="anniversary-base-last-free-day-03-12"),
        pytest.param("anniversary", "2024-03-13", 60, id="anniversary-base-5-percent-from-03-13"),
        pytest.param("due_date", "2024-03-13", 0, id="due-date-base-still-free-03-13"),
        pytest.param("due_date", "2024-03-18", 0, id="due-date-base-last-free-day-03-18"),
        pytest.param("due_date", "2024-03-19", 60, id="due-date-base-5-percent-from-03-19"),
    ],
)
def test_grace_base_setting_moves_band_edges_when_the_anniversary_is_a_rest_day(setting, pay_on, late_fee):
    rules = load_rules(settings=RuleSettings(grace_base=setting))
    patent = facts(INVENTION, "2020-02-12", grant_year=3, paid_through=4)
    assert quote(schedule_of(patent, rules), D(pay_on), 5).late_fee == late_fee


@pytest.mark.parametrize(
    "setting, grace_end",
    [
        # 2024-08-12 is a Monday; 2024-08-18 a Sunday -> 2024-08-19.
        pytest.param("anniversary", date(2024, 8, 12), id="anniversary-base"),
        pytest.param("due_date", date(2024, 8, 19), id="due-date-base"),
    ],
)
def test_grace_base_setting_moves_the_grace_end(setting, grace_end):
    rules = load_rules(settings=RuleSettings(grace_base=setting))
    assert year_fee(facts(INVENTION, "2020-02-12", grant_year=3), 5, rules).grace_end == grace_end


def test_grant_year_fee_has_no_late_fee_and_no_grace():
    # ref §2 (Rule 114): the grant-year fee is paid with registration; no late fee or grace applies.
    schedule = schedule_of(facts(INVENTION, "2017-04-10", grant_year=2, paid_through=1))
    grant = schedule.year(2)
    assert (grant.is_grant_year, grant.bands, grant.grace_end) == (True, (), None)
    assert quote(schedule, date(2020, 1, 1), 2).late_fee == 0


# --- Restoration (ref §6: Rule 6 ¶2) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "reduction, fee, total",
    [
        # ref §6 example: invention year 13, no reduction: 6000 + 1500 + 1000 = 8500.
        pytest.param(NONE, 6000, 8500, id="ref-6-year-13-no-reduction-8500"),
        # Grant year 4 -> year 13 is inside the 10-year reduction: 900 + 1500 + 1000 (late and restoration
        # fees are not reducible, ref §4).
        pytest.param(R85, 900, 3400, id="year-13-reduced-fee-full-late-fee"),
    ],
)
def test_restoration_costs_the_fee_a_25_percent_late_fee_and_1000(reduction, fee, total):
    schedule = schedule_of(facts(INVENTION, "2010-03-01", grant_year=4, paid_through=12, reduction=reduction))
    assert patent_state(schedule, date(2022, 10, 1)) == PatentState.LAPSED  # year 13 due 2022-03-01
    restoring = restoration_quote(schedule)
    assert (restoring.year, restoring.lapsed_on, restoring.fee) == (13, date(2022, 3, 1), fee)
    assert (restoring.late_fee, restoring.late_fee_rate, restoring.restoration_fee) == (1500, Decimal("0.25"), 1000)
    assert restoring.total == total
    assert (restoring.request_months, restoring.citation.rule_id, restoring.request_by) == (2, "restoration.rule6",
                                                                                          None)


def test_restoration_request_is_due_two_months_after_the_notice_moved_past_a_rest_day():
    # Rule 6 ¶2: within 2 months of receiving the notice: 2024-08-03 + 2 months = Thu 2024-10-03, inside the
    # National Day holiday (10-01..10-07) -> Tue 2024-10-08 (Rule 5).
    schedule = schedule_of(facts(INVENTION, "2010-03-01", grant_year=4, paid_through=12))
    restoring = restoration_quote(schedule, 13, notice_on=date(2024, 8, 3), calendar=default_calendar())
    assert restoring.request_by == date(2024, 10, 8)


@pytest.mark.parametrize(
    "patent, year, message",
    [
        pytest.param(replace(PLAIN, paid_through=20), None, "nothing to restore", id="all-paid"),
        pytest.param(PLAIN, 2, "grant year", id="grant-year-fee-has-no-lapse"),
    ],
)
def test_restoration_of_nothing_is_an_input_error(patent, year, message):
    with pytest.raises(FeeInputError, match=message):
        restoration_quote(schedule_of(patent), year)


# --- Reductions (ref §7) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "patent, year, fee, key",
    [
        # Invention filed 2017-04-25, grant year 3: year 9 (full 2000) due Fri 2025-04-25.
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3), 9, 2000, None, id="invention-no-reduction"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, reduction=R85), 9, 300, "85",
                     id="invention-85-pays-15-percent"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, reduction=R70), 9, 600, "70",
                     id="invention-70-pays-30-percent"),
        # Utility year 4 (full 900).
        pytest.param(facts(UTILITY, "2020-03-02", grant_year=1, reduction=R85), 4, 135, "85", id="utility-85"),
        pytest.param(facts(UTILITY, "2020-03-02", grant_year=1, reduction=R70), 4, 270, "70", id="utility-70"),
        # A reduction also covers the grant-year fee (years G .. G+9).
        pytest.param(facts(DESIGN, "2022-03-01", grant_year=1, reduction=R85), 1, 90, "85",
                     id="design-grant-year-reduced"),
    ],
)
def test_reduction_pays_its_share_of_the_full_fee(patent, year, fee, key):
    found = year_fee(patent, year)
    assert (found.fee, found.reduction) == (fee, key)


@pytest.mark.parametrize(
    "filed, year, fee",
    [
        # ref §7, 2018 change, grant year G = 3, 85 % reduction (full fee in brackets):
        # G+5 = year 8 due Mon 2017-07-31: inside the 6-year window -> 300 (2000).
        pytest.param("2010-07-31", 8, 300, id="G+5-due-2017-07-31-reduced"),
        # G+6 = year 9 due Tue 2018-07-31, still under the 6-year window -> full 2000.
        pytest.param("2010-07-31", 9, 2000, id="G+6-due-2018-07-31-full"),
        # Same year due Wed 2018-08-01, under the 10-year window (财税〔2018〕37号) -> 300.
        pytest.param("2010-08-01", 9, 300, id="G+6-due-2018-08-01-reduced"),
        # CNIPA 2018 transition: in years 7-9 -> reduced again from the next fee until year 10 from grant.
        pytest.param("2010-07-31", 10, 600, id="G+7-due-2019-reduced-again"),
        # G+9 = year 12, anniversary Sat 2021-07-31 -> due 2021-08-02: last reduced year (4000 -> 600).
        pytest.param("2010-07-31", 12, 600, id="G+9-last-reduced-year"),
        # Years >= G+10 pay the full fee.
        pytest.param("2010-07-31", 13, 6000, id="G+10-full"),
        pytest.param("2010-08-01", 20, 8000, id="G+17-full"),
    ],
)
def test_2018_change_extends_reduction_to_ten_years_by_due_date(filed, year, fee):
    assert year_fee(facts(INVENTION, filed, grant_year=3, reduction=R85), year).fee == fee


# --- Open licence (ref §8) -------------------------------------------------------------------------------

# Invention filed 2015-03-10, grant year 4: year 11 (full 4000) due Mon 2025-03-10, after 财税〔2024〕23号 took
# effect (2024-07-15); year 14 (full 6000) due Fri 2028-03-10, past the 10-year reduction window (G+10 = 14).
LICENSED = DatePeriod(date(2024, 3, 1))


@pytest.mark.parametrize(
    "reduction, licences, year, fee, key",
    [
        pytest.param(NONE, (), 11, 4000, None, id="no-reduction-no-licence"),
        pytest.param(NONE, (LICENSED,), 11, 3400, "open_licence", id="open-licence-alone-pays-85-percent"),
        # Never stacked: the cheaper of 15 % (reduction) and 85 % (licence) wins, not 15 % x 85 %.
        pytest.param(R85, (LICENSED,), 11, 600, "85", id="85-reduction-beats-open-licence"),
        pytest.param(R70, (LICENSED,), 11, 1200, "70", id="70-reduction-beats-open-licence"),
        pytest.param(R85, (LICENSED,), 14, 5100, "open_licence", id="outside-reduction-window-licence-applies"),
        pytest.param(NONE, (DatePeriod(date(2023, 1, 1), date(2024, 3, 1)),), 11, 4000, None,
                     id="licence-ended-before-due-date"),
    ],
)
def test_open_licence_takes_15_percent_off_and_never_stacks_with_a_reduction(reduction, licences, year, fee, key):
    patent = facts(INVENTION, "2015-03-10", grant_year=4, reduction=reduction, open_licences=licences)
    found = year_fee(patent, year)
    assert (found.fee, found.reduction) == (fee, key)


def test_open_licence_before_its_rule_took_effect_reduces_nothing():
    # ref §8: 财税〔2024〕23号 applies from 2024-07-15; year 10 here is due Mon 2024-03-11, before it.
    patent = facts(INVENTION, "2015-03-10", grant_year=4, open_licences=(DatePeriod(date(2023, 1, 1)),))
    assert (year_fee(patent, 9).fee, year_fee(patent, 10).fee, year_fee(patent, 11).fee) == (2000, 4000, 3400)


@pytest.mark.parametrize(
    "mapping, licence, fee",
    [
        # ref §8 UNCONFIRMED: the licence applies to a fee whose due date (default) or anniversary is inside it.
        # Filed 2015-11-10: year 10 anniversary Sun 2024-11-10, due Mon 2024-11-11.
        pytest.param("due_date_in_period", DatePeriod(date(2024, 11, 11)), 3400, id="due-date-mapping-from-due"),
        pytest.param("anniversary_in_period", DatePeriod(date(2024, 11, 11)), 4000, id="anniv-mapping-from-due"),
        pytest.param("due_date_in_period", DatePeriod(date(2024, 10, 1), date(2024, 11, 10)), 4000,
                     id="due-date-mapping-ending-on-anniversary"),
        pytest.param("anniversary_in_period", DatePeriod(date(2024, 10, 1), date(2024, 11, 10)), 3400,
                     id="anniv-mapping-ending-on-anniversary"),
    ],
)
def test_open_licence_mapping_setting_picks_the_day_that_must_be_licensed(mapping, licence, fee):
    rules = load_rules(settings=RuleSettings(open_licence_mapping=mapping))
    patent = facts(INVENTION, "2015-11-10", grant_year=4, open_licences=(licence,))
    assert year_fee(patent, 10, rules).fee == fee


# --- Term compensation (ref §3: PL Art. 42 ¶2; announcement No. 594) --------------------------------------


@pytest.mark.parametrize(
    "days, whole_years, annual, expiry",
    [
        pytest.param(364, 0, 0, date(2031, 1, 3), id="364-days-part-year-costs-only-the-request-fee"),
        pytest.param(365, 1, 8000, date(2031, 1, 4), id="365-days-one-whole-year"),
        pytest.param(729, 1, 8000, date(2032, 1, 3), id="729-days-one-whole-year"),
        pytest.param(730, 2, 16000, date(2032, 1, 4), id="730-days-two-whole-years"),
    ],
)
def test_term_compensation_costs_8000_per_whole_year_plus_200_and_moves_expiry_by_the_days(days, whole_years,
                                                                                          annual, expiry):
    # Invention filed 2010-01-04: normal expiry 2030-01-04. Reading pinned: a whole year is 365 days.
    # ref §3 / announcement No. 594: 8000 per whole compensated year, nothing for a part-year, plus 200 request fee.
    schedule = schedule_of(facts(INVENTION, "2010-01-04", grant_year=5, term_extension_days=days))
    comp = schedule.compensation
    assert (comp.days, comp.whole_years, comp.due_before) == (days, whole_years, date(2030, 1, 3))
    # The 200 request fee went with the request (No. 594): shown, never owed.
    assert (comp.annual_fee, comp.request_fee, comp.fee) == (annual, 200, annual)
    assert (schedule.normal_expiry, schedule.expiry_date) == (date(2030, 1, 4), expiry)
    assert schedule.years[-1].year == 20  # compensation adds no annual-fee years


@pytest.mark.parametrize(
    "days, reading, whole_years",
    [
        # Filed 2018-03-01: normal expiry 2038-03-01; the year to 2040-03-01 holds 29 February 2040 (366 days).
        pytest.param(730, "365_days", 2, id="730-days-are-two-365-day-years"),
        pytest.param(730, "calendar_years", 1, id="730-days-end-before-the-second-anniversary"),
        pytest.param(731, "calendar_years", 2, id="731-days-reach-the-second-anniversary"),
        pytest.param(364, "calendar_years", 0, id="a-part-year-is-free-either-way"),
    ],
)
def test_what_a_whole_compensated_year_is_is_a_setting(days, reading, whole_years):
    # UNCONFIRMED (ref §3 says "per whole compensated year"): rules.compensation_whole_year.
    rules = load_rules(settings=RuleSettings(compensation_whole_year=reading))
    comp = schedule_of(facts(INVENTION, "2018-03-01", grant_year=5, term_extension_days=days), rules).compensation
    assert (comp.whole_years, comp.annual_fee) == (whole_years, 8000 * whole_years)


def test_a_bad_whole_year_reading_is_refused_with_its_name():
    with pytest.raises(RuleError, match="rules.compensation_whole_year must be one of 365_days, calendar_years"):
        RuleSettings(compensation_whole_year="days")


def test_no_term_compensation_leaves_the_normal_expiry():
    schedule = schedule_of(facts(INVENTION, "2010-01-04", grant_year=5))
    assert (schedule.compensation, schedule.expiry_date) == (None, date(2030, 1, 4))


# --- CNIPA announcement No. 486 (ref §9) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "patent, year, due, grace_end",
    [
        # Reduced invention, year 8 anniversary Wed 2022-06-15 (first day of the window) -> due 2023-06-15;
        # grace counted from the new date (the row's documented reading) -> Fri 2023-12-15.
        pytest.param(facts(INVENTION, "2015-06-15", grant_year=3, reduction=R85), 8, date(2023, 6, 15),
                     date(2023, 12, 15), id="reduced-fee-due-2022-06-15-moves"),
        # Last working day of the window: Fri 2022-12-30.
        pytest.param(facts(INVENTION, "2016-12-30", grant_year=3, reduction=R70), 7, date(2023, 6, 15),
                     date(2023, 12, 15), id="reduced-fee-due-2022-12-30-moves"),
        pytest.param(facts(INVENTION, "2015-06-15", grant_year=3), 8, date(2022, 6, 15), date(2022, 12, 15),
                     id="not-for-a-non-reduced-patent"),
        pytest.param(facts(INVENTION, "2020-06-15", grant_year=3, reduction=R85), 3, date(2022, 6, 15), None,
                     id="not-for-the-grant-year-fee"),
        # Reduction on record but year 16 >= G+10 is paid in full: not a reduced fee, not moved.
        pytest.param(facts(INVENTION, "2007-07-01", grant_year=2, reduction=R85), 16, date(2022, 7, 1),
                     date(2023, 1, 3), id="not-for-a-fee-past-the-reduction-window"),
        # CNIPA's Q&A on No. 486: the deadline is the anniversary itself (缴费期限届满日即申请日在该年的相应日), so
        # an anniversary on Sat 2022-12-31 (working-day deadline Tue 2023-01-03) is inside the window: moved.
        pytest.param(facts(INVENTION, "2016-12-31", grant_year=3, reduction=R85), 7, date(2023, 6, 15),
                     date(2023, 12, 15), id="anniversary-2022-12-31-is-inside-the-window"),
    ],
)
def test_announcement_486_moves_reduced_fees_due_in_its_window_to_2023_06_15(patent, year, due, grace_end):
    fee = year_fee(patent, year)
    assert (fee.due_date, fee.grace_end) == (due, grace_end)
    assert ("exception" in fee.citations) == (due == date(2023, 6, 15))


def test_announcement_486_fee_costs_no_late_fee_until_the_new_date():
    schedule = schedule_of(facts(INVENTION, "2015-06-15", grant_year=3, reduction=R85, paid_through=7))
    assert patent_state(schedule, date(2022, 12, 20)) == PatentState.IN_FORCE
    assert quote(schedule, date(2023, 6, 15)).total == 300
    # After the new date the bands run from it: 2023-07-20 is in the 5 % band, on the full 2000.
    assert quote(schedule, date(2023, 7, 20)).late_fee == 100


def test_announcement_486_can_put_a_last_year_fee_on_the_expiry_date():
    # Pinned literal reading (ref §9 vs §3 "no fee is due at or after expiry" disagree here): a reduced utility
    # model filed 2013-06-15 has its year-10 fee due 2022-06-15, moved to 2023-06-15 = its expiry date.
    schedule = schedule_of(facts(UTILITY, "2013-06-15", grant_year=1, reduction=R85, paid_through=9))
    assert schedule.year(10).due_date == schedule.expiry_date == date(2023, 6, 15)


# --- State, next due and remaining total on a date --------------------------------------------------------


@pytest.mark.parametrize(
    "patent, on, state",
    [
        pytest.param(PLAIN, "2019-01-01", PatentState.IN_FORCE, id="before-due"),
        pytest.param(PLAIN, "2019-04-10", PatentState.IN_FORCE, id="on-the-due-date"),
        pytest.param(PLAIN, "2019-04-11", PatentState.IN_GRACE, id="day-after-due"),
        pytest.param(PLAIN, "2019-10-10", PatentState.IN_GRACE, id="grace-end"),
        pytest.param(PLAIN, "2019-10-11", PatentState.LAPSED, id="day-after-grace-end"),
        # ref §6: a patent that lapsed for non-payment stays lapsed; it does not "expire" at the end of term.
        pytest.param(PLAIN, "2040-01-01", PatentState.LAPSED, id="lapsed-patent-after-its-term"),
        pytest.param(replace(PLAIN, paid_through=20), "2037-04-09", PatentState.IN_FORCE, id="last-day-of-term"),
        pytest.param(replace(PLAIN, paid_through=20), "2037-04-10", PatentState.EXPIRED, id="expiry-date"),
        # Between a rest-day anniversary (2024-02-12) and the moved due date (2024-02-18) nothing is late.
        pytest.param(facts(INVENTION, "2020-02-12", grant_year=3, paid_through=4), "2024-02-15",
                     PatentState.IN_FORCE, id="between-anniversary-and-moved-due-date"),
        # Paid years need not be contiguous: the first unpaid year decides.
        pytest.param(replace(PLAIN, paid_years=frozenset({4, 5})), "2019-05-01", PatentState.IN_GRACE,
                     id="gap-in-paid-years"),
        # Term compensation: in force after the normal expiry until the extended one.
        pytest.param(facts(INVENTION, "2010-01-04", grant_year=5, paid_through=20, term_extension_days=400),
                     "2030-06-01", PatentState.IN_FORCE, id="in-force-during-compensated-term"),
        pytest.param(facts(INVENTION, "2010-01-04", grant_year=5, paid_through=20, term_extension_days=400),
                     "2031-02-08", PatentState.EXPIRED, id="expired-at-extended-expiry"),
    ],
)
def test_patent_state_on_a_date(patent, on, state):
    assert patent_state(schedule_of(patent), D(on)) == state


@pytest.mark.parametrize(
    "patent, on, expected",
    [
        pytest.param(PLAIN, "2019-01-01", (3, 900, 0), id="before-due-no-late-fee"),
        pytest.param(PLAIN, "2019-06-15", (3, 900, 90), id="in-the-10-percent-band"),
        pytest.param(PLAIN, "2019-10-11", None, id="lapsed-nothing-due"),
        pytest.param(replace(PLAIN, paid_through=20), "2030-01-01", None, id="paid-up"),
        pytest.param(replace(PLAIN, paid_through=3), "2019-06-15", (4, 1200, 0), id="next-year-after-payment"),
    ],
)
def test_next_due_on_a_date(patent, on, expected):
    due = next_due(schedule_of(patent), D(on))
    assert (None if due is None else (due.year, due.fee, due.late_fee)) == expected


@pytest.mark.parametrize(
    "patent, on, total",
    [
        # Years 3-20 of an invention: 82,300 - 900 - 900.
        pytest.param(PLAIN, "2019-01-01", 80_500, id="full-fees-to-expiry"),
        pytest.param(PLAIN, "2019-06-15", 80_590, id="plus-todays-late-fee"),
        pytest.param(PLAIN, "2019-10-11", 0, id="lapsed"),
        pytest.param(replace(PLAIN, paid_through=20), "2030-01-01", 0, id="paid-up"),
        # 85 %, G = 2: years 3-11 reduced (135 + 3x180 + 3x300 + 2x600 = 2775), years 12-20 full (62,000).
        pytest.param(replace(PLAIN, reduction=R85), "2019-01-01", 64_775, id="reduced-years-then-full"),
        # Term compensation (400 days = 1 whole year, 8000) is owed until the normal expiry 2030-01-04; year 20
        # is 8000. The 200 request fee was paid with the request (No. 594): not owed.
        pytest.param(facts(INVENTION, "2010-01-04", grant_year=5, paid_through=19, term_extension_days=400),
                     "2028-12-01", 16_000, id="year-20-and-compensation-without-request-fee"),
        # The audit's example: 85 %, G = 4, paid through 12; 800 days -> 2 whole years: 16,000.
        # Years 13 (900, last reduced) + 14-15 (2 x 6000) + 16-20 (5 x 8000) = 52,900; + 16,000 = 68,900.
        pytest.param(facts(INVENTION, "2015-03-01", grant_year=4, paid_through=12, reduction=R85,
                           term_extension_days=800), "2026-12-01", 68_900, id="audit-example-68900"),
        pytest.param(facts(INVENTION, "2010-01-04", grant_year=5, paid_through=20, term_extension_days=400),
                     "2030-02-01", 0, id="compensation-not-owed-after-normal-expiry"),
    ],
)
def test_remaining_total_on_a_date(patent, on, total):
    assert remaining_total(schedule_of(patent), D(on)) == total


def test_quote_when_everything_is_paid_is_an_input_error():
    with pytest.raises(FeeInputError, match="already paid"):
        quote(schedule_of(replace(PLAIN, paid_through=20)), date(2030, 1, 1))


# --- Facts the engine refuses (errors as values) ----------------------------------------------------------


@pytest.mark.parametrize(
    "patent, message",
    [
        pytest.param(facts(INVENTION, "2017-04-25", granted_on=D("2016-01-01")),
                     "grant date 2016-01-01 is before the filing date 2017-04-25", id="grant-before-filing"),
        pytest.param(facts(UTILITY, "2017-04-25", grant_year=2, paid_through=11),
                     "paid-through year 11 is past expiry (the last patent year is 10)", id="paid-past-expiry"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=21), "grant year 21 is outside patent years 1-20",
                     id="grant-year-21"),
        # One message, not a second one comparing paid-through with an impossible grant year.
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=21, paid_through=3),
                     "grant year 21 is outside patent years 1-20", id="grant-year-21-paid-through-3"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=0), "grant year 0 is outside patent years 1-20",
                     id="grant-year-0"),
        pytest.param(facts(DESIGN, "2021-05-31", grant_year=11), "grant year 11 is outside patent years 1-10",
                     id="grant-year-11-of-a-10-year-design"),
        pytest.param(facts(INVENTION, "2017-04-25"), "the grant year is unknown", id="no-grant-year-or-date"),
        pytest.param(facts(INVENTION, "2000-01-01", granted_on=D("2020-01-01")),
                     "grant date 2020-01-01 is on or after the expiry date 2020-01-01", id="granted-at-expiry"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, term_extension_days=-1),
                     "term extension days cannot be negative", id="negative-extension"),
        pytest.param(facts(UTILITY, "2017-04-25", grant_year=1, term_extension_days=30),
                     "term compensation applies to inventions only", id="compensation-for-a-utility-model"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, term_extension_days=99_999_999),
                     "term extension of 99999999 days is more than 3653", id="absurd-extension"),
        pytest.param(facts(INVENTION, "1970-04-25", grant_year=3),
                     "filing date 1970-04-25 is before 1985-04-01", id="filed-before-the-patent-law"),
        pytest.param(facts(INVENTION, "9999-01-01", grant_year=3),
                     "filing date 9999-01-01 is after 2100-12-31", id="filed-in-year-9999"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=5, paid_through=3),
                     "paid-through year 3 is before the grant year 5", id="paid-through-below-grant-year"),
        pytest.param(facts(INVENTION, "2017-04-25", granted_on=D("2021-06-01"), paid_through=2),
                     "paid-through year 2 is before the grant year 5", id="paid-through-below-inferred-grant-year"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, paid_through=-1),
                     "paid-through year -1 cannot be negative", id="negative-paid-through"),
        # ZC 0006-2003 (ref §10): a filing date in a LATER year than the number's is impossible.
        pytest.param(facts(INVENTION, "2019-04-25", grant_year=3, application_number="201710601862.3"),
                     "filing date 2019-04-25 is after the year of application number 201710601862.3",
                     id="filed-after-the-numbers-year"),
    ],
)
def test_impossible_facts_are_reported_and_refused(patent, message):
    rules = default_rules()
    problems = fact_problems(patent, rules)
    assert len(problems) == 1 and problems[0].startswith(message)
    with pytest.raises(FeeInputError, match=message.split(" (")[0]):
        fee_schedule(patent, rules, default_calendar())


@pytest.mark.parametrize(
    "patent",
    [
        pytest.param(PLAIN, id="plain"),
        # Registration still open: the grant-year fee itself is unpaid.
        pytest.param(replace(PLAIN, paid_through=1), id="paid-through-one-below-the-grant-year"),
        # Divisional (Rule 49) or PCT national phase (Rule 119): an EARLIER filing year than the number's is normal.
        pytest.param(facts(INVENTION, "2015-04-25", grant_year=3, application_number="201710601862.3"),
                     id="divisional-filed-before-the-numbers-year"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, granted_on=D("2020-05-01")),
                     id="announced-the-year-after-the-grant-year"),
        pytest.param(facts(INVENTION, "2017-04-25", grant_year=3, term_extension_days=3653), id="ten-year-extension"),
        pytest.param(facts(INVENTION, "1985-04-01", grant_year=3), id="filed-the-day-the-patent-law-began"),
    ],
)
def test_possible_facts_have_no_problems(patent):
    assert fact_problems(patent, default_rules()) == []


# --- Grant year (ref §2, UNCONFIRMED inference) ------------------------------------------------------------


@pytest.mark.parametrize(
    "filed, granted_on, year",
    [
        pytest.param("1997-06-03", "2001-08-01", 5, id="guidelines-example-year-5"),
        pytest.param("2017-04-10", "2019-04-09", 2, id="day-before-anniversary"),
        pytest.param("2017-04-10", "2019-04-10", 3, id="on-the-anniversary"),
        pytest.param("2012-02-29", "2013-02-28", 2, id="29-feb-filing-28-feb-grant"),
    ],
)
def test_grant_year_is_inferred_as_the_patent_year_of_the_announcement(filed, granted_on, year):
    schedule = schedule_of(facts(INVENTION, filed, granted_on=D(granted_on)))
    assert (schedule.grant_year, schedule.grant_year_inferred) == (year, True)
    assert schedule.citations["grant_year"].confirmed is False


def test_a_given_grant_year_wins_over_the_announcement_date():
    schedule = schedule_of(facts(INVENTION, "1997-06-03", grant_year=4, granted_on=D("2001-08-01")))
    assert (schedule.grant_year, schedule.grant_year_inferred) == (4, False)
    assert "grant_year" not in schedule.citations


def test_grant_year_inference_can_be_switched_off_and_the_message_names_the_setting():
    rules = load_rules(settings=RuleSettings(grant_year_inference="require"))
    patent = facts(INVENTION, "1997-06-03", granted_on=D("2001-08-01"))
    assert fact_problems(patent, rules) == [REQUIRED_GRANT_YEAR]
    with pytest.raises(FeeInputError, match='grant year is required \\(rules.grant_year_inference = "require"\\)'):
        fee_schedule(patent, rules, default_calendar())


# --- Reduction lead time (ref §7 UNCONFIRMED: "on record 2½ or 3 months before the fee falls due") -----------


@pytest.mark.parametrize(
    "recorded, lead, fee, too_late",
    [
        # PLAIN, 85 %: the year-3 fee (full 900) is due Wed 2019-04-10.
        pytest.param(None, 3, 135, False, id="unknown-recording-date-reduction-applies"),
        pytest.param("2019-01-10", 3, 135, False, id="recorded-exactly-3-months-before"),
        pytest.param("2019-01-11", 3, 900, True, id="recorded-a-day-late-charged-in-full"),
        pytest.param("2019-02-10", 2, 135, False, id="setting-2-months"),
        pytest.param("2019-04-10", 0, 135, False, id="setting-0-recorded-on-the-due-date"),
        pytest.param("2019-06-01", 3, 900, True, id="recorded-after-the-due-date"),
    ],
)
def test_a_reduction_recorded_too_late_does_not_cover_that_fee(recorded, lead, fee, too_late):
    rules = load_rules(settings=RuleSettings(reduction_lead_months=lead))
    patent = replace(PLAIN, reduction=R85, reduction_recorded_on=recorded and D(recorded))
    found = year_fee(patent, 3, rules)
    assert (found.fee, found.reduction_too_late) == (fee, too_late)
    assert ("reduction_too_late" in found.citations) == too_late
    if too_late:
        assert found.citations["reduction_too_late"].rule_id == "reduction.lead_time"
        assert year_fee(patent, 4, rules).fee == 180  # the next fee is covered (due 2020-04-10)


def test_a_late_reduction_still_leaves_the_open_licence():
    # ref §8: year 11 due Mon 2025-03-10; reduction recorded 2025-02-01, too late -> the licence's 85 % applies.
    patent = facts(INVENTION, "2015-03-10", grant_year=4, reduction=R85, open_licences=(LICENSED,),
                   reduction_recorded_on=D("2025-02-01"))
    found = year_fee(patent, 11)
    assert (found.fee, found.reduction, found.reduction_too_late) == (3400, "open_licence", True)


def test_a_late_reduction_is_not_moved_by_announcement_486():
    # ref §9: No. 486 moved REDUCED fees only; recorded 2022-05-01 is too late for the fee due 2022-06-15.
    patent = facts(INVENTION, "2015-06-15", grant_year=3, reduction=R85, reduction_recorded_on=D("2022-05-01"))
    found = year_fee(patent, 8)
    assert (found.due_date, found.fee) == (date(2022, 6, 15), 2000)


@pytest.mark.parametrize("recorded", [None, "2019-01-11", "2019-01-10", "2024-12-01"])
def test_the_portfolio_engine_applies_the_lead_time_like_the_scalar_one(recorded):
    import pandas as pd

    from custody.portfolio import next_due_frame

    patent = replace(PLAIN, reduction=R85, reduction_recorded_on=recorded and D(recorded))
    frame = pd.DataFrame({"type": ["invention"], "filing_date": [pd.Timestamp("2017-04-10")], "grant_year": [2],
                          "paid_through": [2], "reduction": ["85"],
                          "reduction_recorded_on": [pd.Timestamp(recorded) if recorded else pd.NaT]})
    on = date(2019, 1, 1)
    assert next_due_frame(frame, on, default_rules(), default_calendar())["fee"].iloc[0] == \
        next_due(schedule_of(patent), on).fee


def test_the_portfolio_engine_refuses_a_paid_through_below_the_grant_year_like_the_scalar_one():
    import pandas as pd

    from custody.portfolio import portfolio_problems

    frame = pd.DataFrame({"type": ["invention", "invention"], "filing_date": pd.to_datetime(["2017-04-25"] * 2),
                          "grant_year": [5, 5], "paid_through": [3, 4]}, index=["low", "open-registration"])
    scalar = fact_problems(facts(INVENTION, "2017-04-25", grant_year=5, paid_through=3), default_rules())
    assert portfolio_problems(frame, default_rules()) == [f"row low: {scalar[0]}"]


# --- Provisional dates (ref §5) ------------------------------------------------------------------------------


def test_each_date_says_whether_it_is_provisional():
    # Year 8 of a utility model filed 2020-08-31: due 2027-08-31 would be provisional; year 7 is due Mon 2026-08-31
    # (2026 published) and its grace end 2027-02-28 lies in 2027, not published: only the grace end is provisional.
    fee = year_fee(facts(UTILITY, "2020-08-31", grant_year=1), 7)
    assert (fee.due_date_provisional, fee.grace_end_provisional, fee.provisional) == (False, True, True)


@pytest.mark.parametrize(
    "filed, year, provisional",
    [
        # Before chinesecalendar's first year (2004) the years are history: weekends and statutory holidays,
        # taken as final (README limitations), never "provisional until published".
        pytest.param("1995-06-01", 3, False, id="1997-is-history-not-provisional"),
        pytest.param("1999-09-06", 2, False, id="2000-is-history-not-provisional"),
        pytest.param("2020-02-28", 8, True, id="2027-unpublished-is-provisional"),
    ],
)
def test_only_unpublished_future_years_are_provisional(filed, year, provisional):
    assert year_fee(facts(UTILITY, filed, grant_year=1), year).provisional is provisional


# --- Every worked example of the rules reference is in a table above ----------------------------------------

# Each worked example of the project's CNIPA rules reference, and the test ids (in this file unless another file
# is named) that check it. The reference itself is not read here: the product never reads ../shared.
REFERENCE_EXAMPLES = {
    "§1 sums of full fees: invention 82,300, utility 11,200, design 26,200": (
        "invention-1-20-is-82300", "utility-1-10-is-11200", "design-filed-2021-06-01-1-15"),
    "§1/§3 design years 11-15 only when filed on or after 2021-06-01": (
        "design-filed-2021-05-31-1-10", "filed-2021-05-31-10-years", "filed-2021-06-01-15-years"),
    "§2 filed 1999-06-01: year 1 to 2000-05-31, year 2 from 2000-06-01": (
        "2000-05-31-still-year-1", "2000-06-01-opens-year-2", "2001-05-31-still-year-2"),
    "§2 GL V-9 §2.2.1.2: filed 1997-06-03, granted 2001-08-01, year 6 due 2002-06-03": (
        "guidelines-example-year-5",),
    "§2 Rule 5: 29 February -> 28 February": ("29-feb-filing-28-feb-opens-year-2", "year-2-on-28-feb-2013"),
    "§3 GL V-9 §2.1: utility filed 1999-09-06 expires 2009-09-06, not moved": (),
    "§3 term compensation: 8000 a whole year, nothing for a part-year, plus 200": (
        "364-days-part-year-costs-only-the-request-fee", "730-days-two-whole-years",
        "year-20-and-compensation-without-request-fee"),
    "§4 paying two months late costs 5 %, not 10 %": ("two-months-late-is-still-5-percent",),
    "§4 late fee on the full fee, even when reduced": ("85-percent-reduction-late-fee-on-full-900",),
    "§4 GL top-up: 45 due, 25 paid, top-up on 6/15 owes 65": (),
    "§5 make-up Saturday 2026-02-28 is a working day": ("make-up-saturday-2026-02-28-stays",),
    "§5 GL V-7 §2.3: 2007-12-30 -> 2008-01-02": ("guidelines-new-year-2007-12-30-to-2008-01-02",),
    "§5 GL V-7 §2.3: 2008-02-06 -> 2008-02-13": ("guidelines-spring-festival-2008-02-06-to-2008-02-13",),
    "§5 unpublished years are provisional": ("2027-provisional", "2027-unpublished-is-provisional"),
    "§6 restoration: invention year 13: 6000 + 1500 + 1000 = 8500": ("ref-6-year-13-no-reduction-8500",),
    "§7 85 % pays 15 %, 70 % pays 30 %": ("invention-85-pays-15-percent", "invention-70-pays-30-percent"),
    "§7 2018 change: 6 years -> 10 years, by due date, with the transition": (
        "G+6-due-2018-07-31-full", "G+6-due-2018-08-01-reduced", "G+7-due-2019-reduced-again", "G+10-full"),
    "§7 reduction lead time (UNCONFIRMED)": ("recorded-a-day-late-charged-in-full",),
    "§8 open licence 15 %, never stacked: the cheaper wins": (
        "open-licence-alone-pays-85-percent", "85-reduction-beats-open-licence"),
    "§9 CNIPA announcement No. 486": ("reduced-fee-due-2022-06-15-moves", "not-for-a-non-reduced-patent"),
    "§10 filing date in a later year than the number's is impossible": ("filed-after-the-numbers-year",
                                                                       "divisional-filed-before-the-numbers-year"),
}
# Examples checked by a single named test rather than a table row.
REFERENCE_TESTS = {
    "§3 GL V-9 §2.1: utility filed 1999-09-06 expires 2009-09-06, not moved":
        "test_utility_model_expiry_is_the_anniversary_never_moved_for_a_holiday",
    "§4 GL top-up: 45 due, 25 paid, top-up on 6/15 owes 65":
        "test_guidelines_top_up_is_charged_at_the_band_of_the_top_up_date",
}
# §10: the valid application numbers the reference lists, each in tests/test_appno.py's table of valid numbers.
REFERENCE_NUMBERS = ("201710601862.3", "200710308494.X", "201310699744.2", "95115608.X", "97101765.4", "90101673.X")


def _table_ids() -> set[str]:
    ids = set()
    for value in globals().values():
        for mark in getattr(value, "pytestmark", ()):
            if mark.name == "parametrize":
                ids |= {p.id for p in mark.args[1] if hasattr(p, "id") and p.id}
    return ids


@pytest.mark.parametrize("example", sorted(REFERENCE_EXAMPLES))
def test_every_worked_example_of_the_rules_reference_is_checked(example):
    ids = REFERENCE_EXAMPLES[example]
    if not ids:
        assert callable(globals().get(REFERENCE_TESTS[example])), example
        return
    missing = set(ids) - _table_ids()
    assert not missing, f"{example}: no table row with id {sorted(missing)}"


def test_every_application_number_of_the_rules_reference_is_in_the_appno_table():
    import test_appno  # tests/ is on sys.path as pytest runs it (rootdir-relative, no package)

    assert set(REFERENCE_NUMBERS) <= set(test_appno.RULES_EXAMPLES)


def test_a_reduction_recorded_after_the_due_date_is_too_late_even_far_in_the_future():
    # A typo such as 9999-12-31 must not overflow the date arithmetic: recorded after the due date is too late.
    patent = replace(PLAIN, reduction=R85, reduction_recorded_on=date(9999, 12, 31))
    assert [y.fee for y in schedule_of(patent).years[:3]] == [900, 900, 1200]
