"""Rule rows checked against their sources (issue 10 point 6): one worked example per correction, citing the text.

The sources are quoted in the project's CNIPA rules reference (ref §N); the rows live in custody/rules/cnipa.toml.
Each example runs through the scalar engine (custody.fees) and, where the portfolio engine computes the same
figure, through it too (custody.portfolio), so the two cannot disagree about a corrected row.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from custody.domain import DatePeriod, PatentFacts, PatentState, PatentType, Reduction
from custody.fees import fee_schedule, patent_state, quote, remaining_total, restoration_quote
from custody.portfolio import next_due_frame
from custody.ruleset import default_rules
from custody.workdays import default_calendar

D = date.fromisoformat
INVENTION = PatentType.INVENTION


def schedule(**kwargs):
    return fee_schedule(PatentFacts(**kwargs), default_rules(), default_calendar())


def portfolio_row(on: str, **columns) -> pd.Series:
    frame = pd.DataFrame([columns])
    for name in ("filing_date", "open_licence_from"):
        if name in frame:
            frame[name] = pd.to_datetime(frame[name])
    return next_due_frame(frame, D(on), default_rules(), default_calendar()).iloc[0]


# --- Open licence: 财税〔2024〕23号 took effect on 2024-07-15 (ref §8) ----------------------------------------


@pytest.mark.parametrize("filed, year, fee", [
    # Year 10 of an invention (4000), anniversary Wed 2024-04-10: between 2024-01-20 and 2024-07-14 the notice
    # was not in force yet, so an open licence declared on 2024-01-01 takes nothing off.
    pytest.param("2015-04-10", 10, 4000, id="due-2024-04-10-before-the-notice-full-fee"),
    # Year 10, anniversary Mon 2024-07-15: the first day the notice is in force: 15 % off, 3400.
    pytest.param("2015-07-15", 10, 3400, id="due-2024-07-15-licence-takes-15-percent"),
])
def test_open_licence_reduction_starts_on_2024_07_15_as_caishui_2024_23_says(filed, year, fee):
    licence = (DatePeriod(D("2024-01-01")),)
    found = schedule(type=INVENTION, filing_date=D(filed), grant_year=4, paid_through=year - 1,
                     open_licences=licence).year(year)
    assert found.fee == fee
    assert default_rules().open_licence[0].effective_from == date(2024, 7, 15)
    assert "2024-07-15" in default_rules().open_licence[0].source
    row = portfolio_row("2024-03-01", type="invention", filing_date=filed, grant_year=4, paid_through=year - 1,
                        reduction="none", open_licence_from="2024-01-01")
    assert row["fee"] == fee


# --- CNIPA announcement No. 486 (2022): the deadline is the anniversary itself (ref §9) ----------------------

# A reduced (85 %) invention filed 2016-12-31: its year-7 fee (2000 full, 300 payable) has its anniversary on
# Saturday 2022-12-31, whose working-day deadline is Tue 2023-01-03. CNIPA's Q&A: 缴费期限届满日即申请日在该年的
# 相应日, so the anniversary is inside 2022-06-15..2022-12-31 and the deadline moves to 2023-06-15.
SATURDAY_486 = dict(type=INVENTION, filing_date=D("2016-12-31"), grant_year=3, paid_through=6,
                    reduction=Reduction.R85)


def test_announcement_486_selects_by_the_anniversary_not_the_holiday_moved_date():
    fees = schedule(**SATURDAY_486)
    year7 = fees.year(7)
    assert (year7.anniversary, year7.due_date) == (date(2022, 12, 31), date(2023, 6, 15))
    assert year7.citations["exception"].rule_id == "exception.cnipa486"
    # Paid on 2023-03-01 it costs the reduced fee and no late fee (the old reading quoted a 10 % late fee).
    assert (quote(fees, D("2023-03-01")).fee, quote(fees, D("2023-03-01")).late_fee) == (300, 0)
    row = portfolio_row("2023-03-01", type="invention", filing_date="2016-12-31", grant_year=3, paid_through=6,
                        reduction="85")
    assert (row["due_date"], row["late_fee"], row["state"]) == (pd.Timestamp("2023-06-15"), 0, "in_force")


def test_an_extended_fee_never_paid_terminates_from_its_2022_deadline():
    # No. 486 Q&A: 专利权自2022年应当缴纳年费期满之日起终止: the lapse dates from the 2022 deadline, as any lapse
    # dates from the day the unpaid fee fell due (Rule 115), not from the extended 2023-06-15.
    fees = schedule(**SATURDAY_486)
    assert patent_state(fees, D("2023-12-18")) == PatentState.LAPSED
    assert restoration_quote(fees).lapsed_on == date(2022, 12, 31)


def test_the_late_fee_bands_of_an_ordinary_fee_still_count_from_the_raw_anniversary():
    # UNCONFIRMED (ref §4), kept as the stricter reading and said so: rules.grace_base = "anniversary". A
    # non-reduced fee with the same Saturday anniversary is not extended; its first band ends 2023-01-31.
    fees = schedule(**{**SATURDAY_486, "reduction": Reduction.NONE})
    assert fees.rules.settings.grace_base == "anniversary"
    assert fees.year(7).due_date == date(2023, 1, 3)
    assert fees.year(7).bands[0].end == date(2023, 1, 31)
    assert quote(fees, D("2023-02-01")).late_fee == 100  # 5 % of the full 2000
    assert fees.rules.late_fee.confirmed and not default_rules().exceptions[0].confirmed


# --- Term compensation: the 200 request fee is paid with the request (ref §3; announcement No. 594) ----------


def test_term_compensation_request_fee_is_paid_already_and_not_still_to_pay():
    # Invention filed 2010-01-04, paid through year 19, 400 days of compensation = 1 whole year: 8000. Year 20
    # (8000) and the compensation (8000) are still to pay on 2028-12-01; the 200 went with the request.
    fees = schedule(type=INVENTION, filing_date=D("2010-01-04"), grant_year=5, paid_through=19,
                    term_extension_days=400)
    comp = fees.compensation
    assert (comp.annual_fee, comp.request_fee, comp.fee) == (8000, 200, 8000)
    assert remaining_total(fees, D("2028-12-01")) == 16_000
    assert "request" in default_rules().term_compensation.source
