"""Whether a reminder about a patent may go out on a day, and if not, why: the one gate every reminder passes. Pure.

Planning asks before it plans, and dispatch asks again just before it sends, so a payment, an abandon decision,
expiry or a status change made in between still stops the message. The answer is a reason (shown by
`custody remind plan --dry-run` and stored on cancelled reminders, as data: custody.reasons) or None.

The legal-status watch (issue 5) decides its part in `custody.status_effects.status_block_reason` (ended,
terminated for non-payment, transfer held, abandon decision) and `restoration_reminder_due` (restoration
reminders run from CNIPA's termination notice to the request deadline); `Standing` carries what it needs,
gathered by custody.store.standing. Anything new that should stop reminders is a field here and a line in
`reminder_block_reason`.

What the fee schedule says is not asked here: an expired patent has no `patent_due` row, so nothing is planned for
it, and a fee reminder past its grace end (a lapse notice past its window) is refused by the tier windows when
planning and by `custody.store.cancel` just before sending.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from custody.decisions import Decision, abandon_in_effect, undone_by_restoration
from custody.reasons import Reason, reason
from custody.status_effects import (
    WatchState,
    restoration_closed,
    restoration_reminder_due,
    status_block,
)


@dataclass(frozen=True)
class Standing:
    """Everything that decides whether a patent's reminders go out."""

    mode: str = "custody"  # "custody" or "watch"
    has_enterprise: bool = True
    watch: WatchState | None = None  # what the legal-status watch knows (issue 5)
    decision: Decision | None = None  # the enterprise's latest fee decision (`custody decide`)
    skip_abandoned: bool = False  # standing instruction: no reminders at all once a patent is marked to abandon


def _restoration_reason(standing: Standing, on: date) -> Reason | None:
    """Restoration reminders (Rule 6 ¶2) go out only from a recorded non-payment termination notice to the
    request deadline, and not once the enterprise lets the patent go."""
    watch = standing.watch
    if restoration_reminder_due(watch, standing.decision, standing.mode, on):
        return None
    if watch is None or watch.lapsed_on is None:
        return reason("no_termination")
    if watch.ended is not None:
        return reason("ended_no_restore", how=watch.ended, day=watch.ended_on)
    if abandon_in_effect(standing.decision, on):
        return reason("abandoned", text=standing.decision.fields())
    return restoration_closed(watch, on) or reason("restoration_unquotable")


def _watch_reason(standing: Standing, kind: str, on: date) -> Reason | None:
    watch = standing.watch
    if kind == "restore":
        return _restoration_reason(standing, on)
    if watch is None and standing.decision is None:
        return None  # nearly every patent, every day: nothing on record that could stop a reminder
    if kind == "lapse" and watch is not None and watch.restored_on is not None:
        # A restoration made the patent in force again: no lapse notice while it is the latest word.
        return reason("restored", day=watch.restored_on)
    if kind == "lapse" and watch is not None:
        closed = restoration_closed(watch, on)
        if closed:
            return closed
        # A lapse notice is exactly what a patent terminated for non-payment still gets (Rule 6 ¶2 restoration).
        watch = replace(watch, lapsed_on=None, restore_by=None)
    return status_block(watch, standing.decision, standing.mode, on)


def _instruction_reason(standing: Standing) -> Reason | None:
    decision = standing.decision
    restored_on = standing.watch.restored_on if standing.watch is not None else None
    if (standing.skip_abandoned and decision is not None and decision.choice == "abandon"
            and not undone_by_restoration(decision, restored_on)):
        return reason("skip_abandoned", text=decision.fields())
    return None


def reminder_block(standing: Standing, kind: str, on: date) -> Reason | None:
    """Why a reminder of `kind` ("fee", "lapse" or "restore") about this patent must not go out on `on`, as data
    (custody.reasons: stored on what it cancels, worded when shown); None if it may."""
    if standing.mode == "watch":
        return reason("watch_only")
    if standing.mode == "ended":
        return reason("custody_ended")
    if not standing.has_enterprise:
        return reason("no_enterprise")
    return _watch_reason(standing, kind, on) or _instruction_reason(standing)


def reminder_block_reason(standing: Standing, kind: str, on: date) -> str | None:
    """`reminder_block` in words (the current language)."""
    found = reminder_block(standing, kind, on)
    return found.worded() if found is not None else None
