"""custody.payment_acceptance: what `custody pay` may record, as a pure function (moved out of cli.py, issue 12).

The patent of tests/test_cli_storage.py: invention filed 2017-04-25, granted in year 3, paid through year 8, 85 %
reduction. Year 9 falls due 2025-04-25 (300 yuan after the reduction); grace ends 2025-10-27; in the 10 % band
(from 2025-06-26) 300 + 10 % of the full 2000 = 500 (Rule 115: the late fee is on the full fee).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from custody.domain import PatentFacts, PatentType, Reduction
from custody.fees import FeeInputError, fee_schedule
from custody.payment_acceptance import PaymentRefused, accepted_amount
from custody.ruleset import default_rules
from custody.workdays import default_calendar

NUMBER = "201710601862.3"
TODAY = date(2025, 12, 1)


def schedule():
    facts = PatentFacts(type=PatentType.INVENTION, filing_date=date(2017, 4, 25), grant_year=3, paid_through=8,
                        reduction=Reduction.R85, application_number=NUMBER)
    return fee_schedule(facts, default_rules(), default_calendar())


@pytest.mark.parametrize(("year", "day", "already", "given", "force", "expected"), [
    (9, date(2025, 4, 20), "0", None, False, "300.00"),  # the amount due on time
    (9, date(2025, 7, 1), "0", None, False, "500.00"),  # in the 10 % band
    (9, date(2025, 7, 1), "0", "300", True, "300"),  # forced: a different amount is recorded as given
    (9, date(2025, 7, 1), "300", None, False, "200.00"),  # a top-up, at the band of its own date
], ids=["on-time", "late-fee-band", "forced-amount", "top-up"])
def test_the_amount_recorded(year, day, already, given, force, expected):
    paid = accepted_amount(schedule(), NUMBER, year, day, Decimal(already),
                           Decimal(given) if given else None, force, TODAY)
    assert paid == Decimal(expected)


@pytest.mark.parametrize(("year", "day", "already", "given", "force", "message"), [
    (9, date(2025, 7, 1), "0", "300", False, "should be 500.00 yuan, not 300 (use --force"),
    (9, date(2025, 12, 2), "0", None, False, "(use --force to record it anyway)"),  # after today
    (9, date(2025, 11, 3), "0", "300", True, "restoring (Rule 6) costs 1800.00 yuan"),  # after the grace end
    (8, date(2025, 4, 20), "0", "300", True, "year 8 is already paid (paid through year 8 on record)"),
    (9, date(2025, 7, 1), "500", None, True, "year 9 is already paid in full (500 yuan on record)"),
], ids=["wrong-amount", "after-today", "lapsed-even-forced", "already-paid-even-forced", "paid-in-full"])
def test_refused(year, day, already, given, force, message):
    with pytest.raises(PaymentRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        accepted_amount(schedule(), NUMBER, year, day, Decimal(already), Decimal(given) if given else None, force,
                        TODAY)


def test_a_year_outside_the_fee_years_is_the_fee_engines_error():
    with pytest.raises(FeeInputError, match="outside this patent's fee years 3-20"):
        accepted_amount(schedule(), NUMBER, 21, date(2025, 4, 20), Decimal(0), None, True, TODAY)
