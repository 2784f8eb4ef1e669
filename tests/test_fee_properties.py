"""Properties of the annual-fee engine that must hold for any patent, checked with hypothesis on the real calendar."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from custody.domain import DatePeriod, PatentFacts, PatentType, Reduction
from custody.fees import LapsedError, Schedule, fact_problems, fee_schedule, quote
from custody.ruleset import RuleSet, RuleSettings, default_rules, load_rules
from custody.workdays import default_calendar

MODEST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULE_SETS = {base: load_rules(settings=RuleSettings(grace_base=base)) for base in ("anniversary", "due_date")}


@st.composite
def licence_periods(draw) -> DatePeriod:
    start = draw(st.dates(date(2023, 1, 1), date(2045, 12, 31)))
    length = draw(st.none() | st.integers(0, 3000))
    return DatePeriod(start, None if length is None else start + timedelta(days=length))


@st.composite
def patents(draw) -> PatentFacts:
    """Any patent the engine accepts: filed 1995-2030, any grant year in its term, any reduction and licences."""
    patent_type = draw(st.sampled_from(PatentType))
    filed = draw(st.dates(date(1995, 1, 1), date(2030, 12, 31)))
    last = default_rules().term(patent_type, filed).years
    grant_year = draw(st.integers(1, last))
    facts = PatentFacts(
        type=patent_type,
        filing_date=filed,
        grant_year=grant_year,
        paid_through=draw(st.none() | st.integers(grant_year, last)),
        reduction=draw(st.sampled_from(Reduction)),
        open_licences=tuple(draw(st.lists(licence_periods(), max_size=2))),
        # PL Art. 42 ¶2: term compensation extends inventions only.
        term_extension_days=draw(st.integers(0, 1500)) if patent_type == PatentType.INVENTION else 0,
    )
    assert fact_problems(facts, default_rules()) == []
    return facts


def schedule_of(facts: PatentFacts, rules: RuleSet | None = None) -> Schedule:
    return fee_schedule(facts, rules or default_rules(), default_calendar())


@MODEST
@given(patents())
def test_due_dates_are_working_days_on_or_after_the_anniversary(facts):
    # Rule 5: a deadline on a rest day moves to the next working day, never earlier.
    calendar = default_calendar()
    for fee in schedule_of(facts).years:
        assert calendar.is_working_day(fee.due_date), fee
        assert fee.due_date >= fee.anniversary


@MODEST
@given(patents())
def test_a_reduction_or_open_licence_never_raises_a_fee(facts):
    plain = schedule_of(replace(facts, reduction=Reduction.NONE, open_licences=()))
    for with_relief, without in zip(schedule_of(facts).years, plain.years, strict=True):
        assert with_relief.full_fee == without.full_fee == without.fee
        assert with_relief.fee <= without.fee


@MODEST
@given(patents(), st.sampled_from(sorted(RULE_SETS)), st.data())
def test_late_fee_never_falls_as_payment_moves_later_and_never_exceeds_25_percent(facts, base, data):
    # Rule 115: 0 in the first month, then +5 % of the full fee a month up to 25 %; past the grace: lapsed.
    schedule = schedule_of(facts, RULE_SETS[base])
    graced = [y for y in schedule.years if not y.is_grant_year]
    assume(graced)
    fee = data.draw(st.sampled_from(graced))
    previous = None
    day = fee.due_date - timedelta(days=3)
    while day <= fee.grace_end:
        late_fee = quote(schedule, day, fee.year).late_fee
        assert 0 <= late_fee <= fee.full_fee * RULE_SETS[base].late_fee.max_rate
        assert previous is None or late_fee >= previous
        previous, day = late_fee, day + timedelta(days=1)
    assert previous == fee.full_fee * RULE_SETS[base].late_fee.max_rate  # the last grace day is the 25 % band
    with pytest.raises(LapsedError):
        quote(schedule, day, fee.year)


@MODEST
@given(patents())
def test_nothing_falls_due_on_or_after_expiry(facts):
    # ref §3: the last patent year is year 20 (10, 15); no fee is due at or after expiry.
    schedule = schedule_of(facts)
    for fee in schedule.years:
        if "exception" in fee.citations:
            # Pinned (see test_fees): announcement No. 486's fixed date can coincide with the expiry date.
            assert fee.due_date <= schedule.expiry_date
        else:
            assert fee.due_date < schedule.expiry_date, fee


@MODEST
@given(patents(), st.sampled_from(sorted(RULE_SETS)))
def test_grace_end_is_on_or_after_the_due_date_and_bands_tile_the_grace(facts, base):
    for fee in schedule_of(facts, RULE_SETS[base]).years:
        if fee.is_grant_year:
            # Rule 114: the grant-year fee has no grace.
            assert (fee.bands, fee.grace_end) == ((), None)
            continue
        assert fee.grace_end >= fee.due_date
        assert fee.bands[-1].end == fee.grace_end
        for earlier, later in zip(fee.bands, fee.bands[1:], strict=False):
            assert later.start == earlier.end + timedelta(days=1)
            assert later.rate > earlier.rate


@given(day=st.dates(min_value=date(1985, 1, 1), max_value=date(2100, 12, 31)), months=st.integers(0, 400))
@settings(max_examples=500, deadline=None)
def test_add_months_agrees_with_relativedelta(day, months):
    from dateutil.relativedelta import relativedelta

    from custody.fees import add_months

    assert add_months(day, months) == day + relativedelta(months=months)
