"""An enterprise's instruction about a patent's fee (`custody decide`): pay it, abandon the patent, or undecided.

Pure: the store keeps every decision (who, when, why); these functions say when one takes effect and whether
it stops reminders on a day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeGuard

from custody.clock import SHANGHAI
from custody.explained import tx
from custody.fees import FeeInputError, Schedule, first_unpaid

CHOICES = ("pay", "abandon", "undecided")


@dataclass(frozen=True)
class Decision:
    choice: str
    year: int
    effective_on: date  # the first day an abandonment stops reminders; the decision day for the other choices
    decided_by: str
    decided_at: datetime
    note: str | None = None

    @property
    def decided_on(self) -> date:
        # Stored in UTC; the day is the platform's (Asia/Shanghai), as the operator saw it.
        moment = self.decided_at.astimezone(SHANGHAI) if self.decided_at.tzinfo else self.decided_at
        return moment.date()

    @property
    def text(self) -> str:
        return decision_text(self.choice, self.year, self.decided_on.isoformat(), self.decided_by, self.note)

    def fields(self) -> dict[str, object]:
        """What `text` says, as data: how a stored reason keeps the decision (custody.reasons)."""
        return {"choice": self.choice, "year": self.year, "day": self.decided_on.isoformat(), "by": self.decided_by,
                "note": self.note}


def decision_text(choice: str, year: object, day: str, by: str, note: str | None, language: str | None = None
                  ) -> str:
    """A decision in words: 'abandon year 5 (decided 2025-03-01 by ops: no longer used)', in the language."""
    from custody.i18n import label, tr

    said = tr(": {note}", language, note=note) if note else ""
    return tr("{choice} year {year} (decided {day} by {by}{note})", language,
              choice=label("decision", choice, language), year=year, day=day, by=by, note=said)


def decision_year(schedule: Schedule, year: int | None) -> int:
    """The fee year a decision is about: the one given, else the first unpaid; a paid year cannot be decided."""
    if year is None:
        unpaid = first_unpaid(schedule)
        if unpaid is None:
            raise FeeInputError(tx("every annual fee up to expiry is already paid: nothing to decide"))
        return unpaid.year
    fee = schedule.year(year)
    if fee.paid:
        raise FeeInputError(tx("the year {year} fee is already paid", year=year))
    return year


def effective_on(schedule: Schedule, choice: str, year: int, today: date, immediately: bool) -> date:
    """When the decision takes effect. Abandoning lets the grace period run out first, unless `immediately`:
    until the grace end the enterprise can still change its mind and pay (Rule 115), so reminders go on until then.
    """
    if choice != "abandon" or immediately:
        return today
    fee = schedule.year(year)
    # The grant-year fee has no grace period (Rule 114): its due date is the last day.
    last_day = fee.grace_end or fee.due_date
    return max(today, last_day + timedelta(days=1))


def latest_decision(decisions: tuple[Decision, ...] | list[Decision]) -> Decision | None:
    """The decision in force: the most recently recorded one (a later "pay" or "undecided" undoes an abandon)."""
    return max(decisions, key=lambda d: d.decided_at, default=None)


def abandon_in_effect(decision: Decision | None, on: date, restored_on: date | None = None) -> TypeGuard[Decision]:
    return (decision is not None and decision.choice == "abandon" and on >= decision.effective_on
            and not undone_by_restoration(decision, restored_on))


def undone_by_restoration(decision: Decision | None, restored_on: date | None) -> bool:
    """A restoration (Rule 6: requested and paid by the owner) announced on or after the day an abandonment took
    effect undoes it: the owner chose to keep the patent after all. A later abandonment stands."""
    return decision is not None and restored_on is not None and decision.effective_on <= restored_on
