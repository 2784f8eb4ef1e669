"""The paid-through inference (importers/inference.py) agrees with the whole fee schedule it abbreviates.

The reference below is the reading straight from custody.fees.fee_schedule: paid through the last year whose
grace period ended before the day, and every later fee past its due date is "unknown — check". Random patents
cover every type, reduction, grant year, the CNIPA 486 window (reduced fees due 2022-06-15..12-31, moved to
2023-06-15) and 29 February.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from custody.domain import PatentFacts, PatentType, Reduction
from custody.fees import FeeInputError, fact_problems, fee_schedule
from custody.ruleset import default_rules
from custody.workdays import WorkCalendar
from importers.inference import Inference, PaidThroughInference

RULES = default_rules()
CALENDAR = WorkCalendar()
INFER = PaidThroughInference(RULES, CALENDAR)


def reference(facts: PatentFacts, as_of: date) -> Inference:
    schedule = fee_schedule(facts, RULES, CALENDAR)
    if as_of >= schedule.expiry_date:
        return Inference(None, (), schedule.expiry_date)
    paid = schedule.grant_year
    for fee in schedule.years:
        if fee.is_grant_year:
            continue
        if fee.grace_end is not None and fee.grace_end < as_of:
            paid = fee.year
        else:
            break
    unknown = tuple((f.year, f.due_date, f.grace_end) for f in schedule.years
                    if f.year > paid and f.due_date < as_of and not f.is_grant_year)
    return Inference(paid, unknown, schedule.expiry_date)


@st.composite
def patents(draw) -> tuple[PatentFacts, date]:
    filing = draw(st.dates(date(2004, 1, 1), date(2023, 12, 31)) | st.sampled_from(
        [date(2008, 2, 29), date(2012, 2, 29), date(2016, 2, 29), date(2019, 6, 20), date(2020, 10, 1)]))
    patent_type = draw(st.sampled_from(list(PatentType)))
    granted = None
    grant_year = draw(st.integers(1, 5) | st.none())
    if grant_year is None:
        granted = filing + timedelta(days=draw(st.integers(60, 1500)))
    facts = PatentFacts(patent_type, filing, grant_year, granted, reduction=draw(st.sampled_from(list(Reduction))),
                        term_extension_days=draw(st.sampled_from([0, 0, 0, 400])) if patent_type ==
                        PatentType.INVENTION else 0)
    as_of = draw(st.dates(date(2018, 1, 1), date(2027, 12, 31)) | st.dates(date(2022, 6, 1), date(2024, 1, 31)))
    return facts, as_of


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(patents())
def test_inference_agrees_with_the_fee_schedule(case):
    facts, as_of = case
    if fact_problems(facts, RULES):
        return
    try:
        expected = reference(facts, as_of)
    except FeeInputError:
        return
    assert INFER(replace(facts, paid_through=None), as_of) == expected


def test_a_reduced_fee_due_in_the_486_window_is_in_its_grace_period_until_the_moved_deadline():
    # Filed 2015-08-10, granted in year 3 with an 85 % reduction: year 8 falls due 2022-08-10, moved to 2023-06-15.
    facts = PatentFacts(PatentType.INVENTION, date(2015, 8, 10), 3, reduction=Reduction.R85)
    found = INFER(facts, date(2023, 9, 1))
    assert found == reference(facts, date(2023, 9, 1))
    assert found.paid_through == 7 and found.unknown[0][:2] == (8, date(2023, 6, 15))
