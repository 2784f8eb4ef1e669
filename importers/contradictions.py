"""Impossible histories in one portfolio row: facts that contradict each other on the file's date (issue 10 point 4).

Each is a warning at the row's cell (file:row:column), never a refusal: the file may be right and our reading of
it wrong, but the operator must hear of it before reminders go out on it.

- In force (法律状态 有效) while the paid-through year implies a lapse: the next fee's grace period ended before the
  file's date, so the patent would have terminated from that fee's due date (Rule 115).
- Terminated (未缴年费终止, 终止, 失效) while the paid-through year covers the patent year of the file's date: no fee
  can have been missed.
- A grant year after the paid-through year: the grant-year fee is paid with registration (Rule 114).

Only a paid-through year given in the file is checked: an inferred one agrees with the legal status by construction.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from custody.domain import PatentFacts
from custody.fees import anniversary, patent_year_on
from importers import legal_status
from importers.inference import PaidThroughInference

# Endings that are not a termination for non-payment: a later "terminated" reading would be a guess.
_OTHER_ENDINGS = ("届满", "期满", "放弃", "无效", "驳回", "撤回", "expired", "abandoned", "invalid", "withdrawn",
                  "rejected")
_TERMINATION = ("未缴", "终止", "失效", "lapsed", "terminated")

Contradiction = tuple[str, str, dict[str, Any]]  # (column, message code, its parameters)


def is_termination(status: str) -> bool:
    """The wording reads as a termination that could be for non-payment (not expiry, abandonment, invalidation)."""
    text = status.lower()
    return any(w in text for w in _TERMINATION) and not any(w in text for w in _OTHER_ENDINGS)


def contradictions(facts: PatentFacts, grant_year: int | None, meaning: str | None, status: str | None,
                   as_of: date, infer: PaidThroughInference) -> list[Contradiction]:
    """Every contradiction among the row's facts on `as_of` (its legal-status date, else the file's date)."""
    paid = facts.paid_through
    if paid is None:
        return []
    found: list[Contradiction] = []
    if grant_year is not None and grant_year > paid:
        found.append(("grant_year", "grant_after_paid_through", {"grant_year": grant_year, "paid": paid}))
    # The fee of year paid + 1 falls due on the anniversary `paid` years after filing (custody.fees.anniversary).
    next_anniversary = anniversary(facts.filing_date, paid)
    if status and meaning == legal_status.IN_FORCE and grant_year is not None and paid >= grant_year \
            and next_anniversary < as_of and paid < infer.term_years(facts.type, facts.filing_date):
        deadline = infer.deadline(facts, paid + 1, grant_year, next_anniversary)
        if deadline.grace_end < as_of:
            found.append(("paid_through", "in_force_but_lapsed", {
                "status": status, "as_of": as_of.isoformat(), "paid": paid, "year": paid + 1,
                "grace_end": deadline.grace_end.isoformat()}))
    if status and meaning == legal_status.ENDED and is_termination(status) and next_anniversary > as_of:
        year = patent_year_on(facts.filing_date, as_of)
        found.append(("legal_status", "terminated_but_paid", {"status": status, "as_of": as_of.isoformat(),
                                                               "paid": paid, "year": year}))
    return found
