"""Whether an annual-fee payment may be recorded, and for how much: the checks `custody pay` makes before writing.

Refused unless forced: an implausible date (custody.fees.implausible_payment) and an amount other than the one
due that day (fee plus that day's late fee, less what is already on record). Refused even when forced: a year
outside the patent's fee years (FeeInputError), a year already paid, and a payment after the grace end (the patent
has lapsed: restoring it under Rule 6 ¶2 is a separate request, its cost is named). Pure: `today` is an argument.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from custody.explained import tx
from custody.fees import LapsedError, Schedule, expected_payment, implausible_payment, restoration_quote


class PaymentRefused(ValueError):
    """The payment cannot be recorded as given; the message says why and, when --force would record it, so."""


def accepted_amount(schedule: Schedule, number: str, year: int, day: date, already: Decimal,
                    given: Decimal | None, force: bool, today: date) -> Decimal:
    """The amount to record for `year` of patent `number` paid on `day`: `given`, else the amount due;
    PaymentRefused when it may not be recorded."""
    implausible = implausible_payment(schedule, year, day, today)
    if implausible and not force:
        raise PaymentRefused(tx("year {year} of {number}: {implausible} (use --force to record it anyway)",
                                year=year, number=number, implausible=implausible))
    expected = expected_or_refused(schedule, year, day, already)
    paid = given if given is not None else expected
    if paid != expected and not force:
        raise PaymentRefused(tx("year {year} of {number} paid on {day} should be {expected} yuan, not {paid} (use "
                                "--force to record it anyway)", year=year, number=number, day=day, expected=expected,
                                paid=paid))
    return paid


def expected_or_refused(schedule: Schedule, year: int, day: date, already: Decimal) -> Decimal:
    """What a payment for `year` on `day` should be; refuses (whatever --force says) a year that is not a fee year
    of this patent, one already paid, and a payment after the grace end."""
    fee = schedule.year(year)  # FeeInputError: outside this patent's fee years
    if fee.paid and already == 0:
        raise PaymentRefused(tx("year {year} is already paid (paid through year {paid_through} on record)",
                                year=year, paid_through=schedule.facts.paid_through))
    try:
        expected = expected_payment(schedule, year, day, already)
    except LapsedError as exc:
        restoring = restoration_quote(schedule, year)
        raise PaymentRefused(tx("{why}; a payment cannot be recorded now: restoring (Rule 6) costs {total} yuan and "
                                "is a separate request", why=exc, total=restoring.total)) from None
    if expected <= 0:
        raise PaymentRefused(tx("year {year} is already paid in full ({already} yuan on record)", year=year,
                                already=already))
    return expected
