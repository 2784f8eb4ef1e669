"""The paid-through year of a patent still in force, inferred from its legal status on the file's date.

A patent in force on day D has paid every annual fee whose grace period ended before D: had one been missed,
the patent would have terminated from that fee's due date (Rule 115). A fee past its due date whose grace
period is still running on D may or may not be paid: it is "unknown — check", and counted as unpaid so that
reminders and reports chase it. The fee engine (custody.fees) supplies every date; nothing is recomputed here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from custody.domain import PatentFacts
from custody.fees import Calendar, YearFee, fee_schedule
from custody.ruleset import RuleSet


@dataclass(frozen=True)
class Inference:
    paid_through: int | None  # None: the term had ended on the day, nothing to infer
    unknown: tuple[YearFee, ...] = ()  # fees in their grace period on the day: "unknown — check"
    expiry: date | None = None


class PaidThroughInference:
    """Infers paid-through years for many patents, remembering schedules shared by patents with the same facts."""

    def __init__(self, rules: RuleSet, calendar: Calendar) -> None:
        self.rules, self.calendar = rules, calendar
        self._cache: dict[tuple[PatentFacts, date], Inference] = {}

    def __call__(self, facts: PatentFacts, as_of: date) -> Inference:
        key = (replace(facts, application_number=None, paid_through=None), as_of)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = _inferred(key[0], self.rules, self.calendar, as_of)
        return found


def _inferred(facts: PatentFacts, rules: RuleSet, calendar: Calendar, as_of: date) -> Inference:
    schedule = fee_schedule(facts, rules, calendar)
    if as_of >= schedule.expiry_date:
        return Inference(None, (), schedule.expiry_date)
    paid = schedule.grant_year  # paid with registration (Rule 114), no grace period
    for fee in schedule.years:
        if fee.is_grant_year:
            continue
        if fee.grace_end is not None and fee.grace_end < as_of:
            paid = fee.year
        else:
            break
    unknown = tuple(f for f in schedule.years if f.year > paid and f.due_date < as_of and not f.is_grant_year)
    return Inference(paid, unknown, schedule.expiry_date)
