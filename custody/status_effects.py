"""What a legal-status event does to a patent's custody, and why: pure, so every effect can be tested and explained.

`apply_event` takes what the watch knew (`WatchState`), one classified event and the patent's context, and returns
the new state with a list of `Effect`s, each a sentence naming its cause. The store writes both; the reminders
engine asks `status_block_reason` whether fee reminders may go out. Nothing here reads the clock or the database.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from custody.decisions import Decision, abandon_in_effect
from custody.domain import PatentState
from custody.fees import (
    Calendar,
    RestorationQuote,
    Schedule,
    add_months,
    fee_schedule,
    first_unpaid,
    patent_state,
    restoration_quote,
)
from custody.i18n import current_language, label, tr
from custody.reasons import Reason, reason
from custody.ruleset import RuleSet
from custody.status_vocab import Classified, compact

# Effects about fee reminders: a watch-only patent has none, so they give way to its digest.
REMINDER_EFFECTS = frozenset({
    "fee_reminders_stopped", "fee_reminders_resumed", "fee_reminders_held", "restoration_reminders_started",
    "restoration_window_closed", "pledgee_recorded", "pledgee_cleared",
})
NOT_GIVEN = "(not named in the record)"  # stored as the transferee or pledgee a record leaves unnamed


def transfer_name(name: str | None) -> str:
    """A transferee or pledgee as a person reads it: NOT_GIVEN (stored) in the operator's words."""
    return tr(NOT_GIVEN) if not name or name == NOT_GIVEN else name
TRANSFER_CONFIRMED = "transfer_confirmed"  # the operator's confirmation; a replay of the events keeps it
# Without CNIPA's termination notice on record, the notice is assumed to come within this many months of the grace
# end (it usually comes within a few); restoration can then be asked for within 2 months of it (Rule 6 ¶2). An
# assumption, not a rule: config.toml [status] assumed_notice_months overrides it.
ASSUMED_NOTICE_MONTHS = 4
# Words that follow an organisation's own name in a pledgee's registered name (招商银行股份有限公司福州分行).
_ORG_TAIL = re.compile(r"(股份有限公司|有限责任公司|有限公司|股份公司|总行|分行|支行|营业部|分公司|公司).*$")
MIN_PLEDGEE_NAME = 4  # a shorter core (e.g. "银行") would match every bank's contact
PLEDGEE_SEPARATOR = "\n"  # several pledgees share WatchState.pledgee (and its column), in registration order


@dataclass(frozen=True)
class WatchState:
    """What the watch knows about one patent beyond its raw legal status."""

    ended: str | None = None  # the event kind that ended the patent (expired, invalidated_full, abandoned, ...)
    ended_on: date | None = None
    lapsed_on: date | None = None  # date of the termination-for-non-payment notice, while not restored
    restore_by: date | None = None
    restoration_year: int | None = None
    # The announcement of the latest restoration, cleared by a later lapse: from it the patent is in force again,
    # the fees that fell due meanwhile are due (custody.fees.back_fee_dates) and no lapse notice goes out.
    restored_on: date | None = None
    pledgee: str | None = None  # every pledgee, joined by PLEDGEE_SEPARATOR: read it with pledgees_of
    pledged_on: date | None = None
    transfer_to: str | None = None  # a transfer the operator has not confirmed yet
    transfer_on: date | None = None


@dataclass(frozen=True)
class Effect:
    code: str
    message: str


@dataclass(frozen=True)
class EventFacts:
    """One classified event; `cause` says what and where from (e.g. '授权 2024-01-05, status.csv:3')."""

    kind: str
    effect: str
    label: str
    announced_on: date
    cause: str
    fields: Mapping[str, str] = field(default_factory=dict)


def event_facts(meaning: Classified, status: str, announced_on: date, where: str) -> EventFacts:
    """One record as the effects see it; `where` is its file:row (or the source when it has none)."""
    # The Chinese wording is CNIPA's own: shown alone in zh, with the English meaning beside it otherwise.
    label = meaning.label_zh if current_language() == "zh" else f"{meaning.label_zh} ({meaning.label})"
    return EventFacts(meaning.kind, meaning.effect, label, announced_on,
                      tr("{status} announced {day}, {where}", status=status, day=announced_on, where=where),
                      meaning.fields)


def watch_summary(state: WatchState) -> str:
    """The watch state in a few words, for the record of a replay (what it was, what it is now)."""
    parts = [tr("ended ({kind}, {day})", kind=ended_word(state.ended), day=state.ended_on) if state.ended else None,
             tr("lapsed (notice {day})", day=state.lapsed_on) if state.lapsed_on else None,
             tr("restored ({day})", day=state.restored_on) if state.restored_on else None,
             tr("transfer to {transferee} held", transferee=transfer_name(state.transfer_to))
             if state.transfer_to else None,
             tr("pledged to {pledgees}", pledgees=tr(", ").join(transfer_name(p) for p in pledgees_of(state)))
             if state.pledgee else None]
    return tr(", ").join(p for p in parts if p) or tr("in force")


@dataclass(frozen=True)
class PatentContext:
    mode: str  # "custody" or "watch"
    owners: str
    enterprise_name: str
    schedule: Schedule | None  # None when the patent's fee facts are incomplete
    has_pledgee_contact: bool = False


@dataclass(frozen=True)
class Outcome:
    state: WatchState
    effects: tuple[Effect, ...]
    owners: str | None = None  # the new owners when the event changed them
    paid_through: int | None = None  # the fee year a restoration paid, when our records still showed it unpaid


# ---------------------------------------------------------------------------------------------- restoration


def restoration_text(q: RestorationQuote) -> str:
    """A restoration quote as the status effects state it: the parts, the total, the deadline and the rule row."""
    return tr("year {year} fee {fee} + late fee {late} + restoration fee {restoration} = {total} CNY, request by "
              "{by} ({rule})", year=q.year, fee=q.fee, late=q.late_fee, restoration=q.restoration_fee, total=q.total,
              by=q.request_by, rule=q.citation.rule_id)


def is_restorable(state: WatchState, on: date) -> bool:
    return state.ended is None and state.restore_by is not None and on <= state.restore_by


RESTORABLE, NOT_RESTORABLE, RESTORABLE_UNKNOWN = "yes", "no", "unknown — check"


@dataclass(frozen=True)
class RestorationWindow:
    """How long a lapsed patent may still be restored: `request_months` from CNIPA's notice (Rule 6 ¶2, from the
    rule tables) and, while no notice is on record, the notice assumed within `notice_months` of the grace end."""

    request_months: int
    notice_months: int = ASSUMED_NOTICE_MONTHS

    def assumed_last_day(self, grace_end: date) -> date:
        return add_months(grace_end, self.notice_months + self.request_months)


def restorability(state: WatchState, grace_end: date | None, on: date, window: RestorationWindow) -> str:
    """Whether a patent lapsed for non-payment can still be restored on `on`: yes or no by the recorded notice's
    deadline; without a notice, "unknown — check" within the assumed window after the grace end, "no" after it."""
    if state.lapsed_on is not None:
        return RESTORABLE if is_restorable(state, on) else NOT_RESTORABLE
    if state.ended is not None or grace_end is None:
        return NOT_RESTORABLE
    return RESTORABLE_UNKNOWN if on <= window.assumed_last_day(grace_end) else NOT_RESTORABLE


# ---------------------------------------------------------------------------------------------- pledgees


def pledgee_core(pledgee: str) -> str:
    """The pledgee's own name without its legal form or branch: 招商银行股份有限公司福州分行 → 招商银行."""
    text = _ORG_TAIL.sub("", compact(pledgee))
    bank = text.find("银行")
    return text[:bank + 2] if bank > 0 else text


def is_pledgee_contact(contact_name: str, pledgee: str | None) -> bool:
    """Whether a contact (role pledgee) speaks for this pledgee: its name holds the pledgee's name or its core.
    A pledgee the record does not name matches nobody: the operator is told instead of a guess."""
    if not pledgee or pledgee == NOT_GIVEN:
        return False
    name = compact(contact_name)
    return any(len(wanted) >= MIN_PLEDGEE_NAME and wanted in name for wanted in (compact(pledgee),
                                                                                 pledgee_core(pledgee)))


def pledgees_of(state: WatchState | None) -> tuple[str, ...]:
    """Every pledgee on record, in registration order (a patent may be pledged to several, one contract each)."""
    return tuple(p for p in ((state.pledgee if state else None) or "").split(PLEDGEE_SEPARATOR) if p)


def _joined(pledgees: tuple[str, ...] | list[str]) -> str | None:
    return PLEDGEE_SEPARATOR.join(pledgees) or None


def is_same_pledgee(on_record: str, named: str | None) -> bool:
    """Whether a registration or cancellation naming `named` is about the pledgee on record: the same name, or the
    same organisation (招商银行股份有限公司福州分行 and 招商银行股份有限公司 are one bank)."""
    if not named or NOT_GIVEN in (on_record, named):
        return False
    core = pledgee_core(named)
    return compact(on_record) == compact(named) or (len(core) >= MIN_PLEDGEE_NAME and pledgee_core(on_record) == core)


# ---------------------------------------------------------------------------------------------- effects


def apply_event(event: EventFacts, state: WatchState, patent: PatentContext, rules: RuleSet, calendar: Calendar,
                today: date) -> Outcome:
    """The state after `event` and every effect it had, each naming the event as its cause.

    Restoration figures come from `patent.schedule`'s own rule set (custody.fees.restoration_quote); no handler
    reads `rules` today, which stays so every handler keeps one signature."""
    handler = _HANDLERS[event.effect]
    outcome = handler(event, state, patent, rules, calendar, today)
    if patent.mode == "watch":
        kept = tuple(e for e in outcome.effects if e.code not in REMINDER_EFFECTS)
        digest = Effect("watch_digest", tr("watch-only patent: {label} goes into {name}'s status digest "
                                           "(cause: {cause})",
                                           label=event.label, name=patent.enterprise_name, cause=event.cause))
        outcome = replace(outcome, effects=(*kept, digest))
    return outcome


def _lapse(event, state, patent, rules, calendar, today, reason: str = "") -> Outcome:
    stopped = Effect("fee_reminders_stopped", tr("fee reminders stopped: {label}{reason} "
                                                 "(cause: {cause})", label=event.label,
                                                 reason=reason, cause=event.cause))
    # A lapse after a restoration: the patent is terminated again, the restoration no longer the latest word.
    new = replace(state, lapsed_on=event.announced_on, restored_on=None)
    schedule = _unrestored(patent.schedule, calendar)
    why = _unquotable_reason(schedule)
    if why is not None or schedule is None:  # (None has its reason: the second test is for the type checker)
        review = Effect("operator_review", tr("cannot quote restoration ({why}): check the patent's fee records "
                                              "(cause: {cause})",
                                              why=why, cause=event.cause))
        return Outcome(replace(new, restore_by=None, restoration_year=None), (stopped, review))
    # The figures come from the schedule's own rule set (custody.fees.restoration_cost), as everywhere else.
    q = restoration_quote(schedule, notice_on=event.announced_on, calendar=calendar)
    new = replace(new, restore_by=q.request_by, restoration_year=q.year)
    if today > q.request_by:
        closed = Effect("restoration_window_closed", tr("restoration window closed on {day} (Rule 6 ¶2; cause: "
                                                        "{cause})", day=q.request_by, cause=event.cause))
        return Outcome(new, (stopped, closed))
    started = Effect("restoration_reminders_started", tr("restoration reminders to the enterprise and the operator: "
                                                         "{quote} "
                                                         "(cause: {cause})",
                                                         quote=restoration_text(q), cause=event.cause))
    return Outcome(new, (stopped, started))


def _unquotable_reason(schedule: Schedule | None) -> str | None:
    """Why no restoration can be quoted from our records, or None when one can."""
    if schedule is None:
        return tr("fee facts incomplete")
    unpaid = first_unpaid(schedule)
    if unpaid is None:
        return tr("our records show every fee paid")
    # Rule 114: the grant-year fee is paid with registration; a notice of non-payment contradicts our records.
    return tr("our records show the grant-year fee of year {year} unpaid", year=unpaid.year) if unpaid.is_grant_year \
        else None


def _restore(event, state, patent, rules, calendar, today) -> Outcome:
    if state.ended is not None:
        kept = Effect("history_only", tr("restoration recorded; reminders stay stopped: the patent ended ({how}, "
                                         "{day}) (cause: {cause})", how=ended_word(state.ended), day=state.ended_on,
                                         cause=event.cause))
        return Outcome(state, (kept,))
    # From the restoration the patent is in force again: the fees that fell due while it was terminated are due
    # (custody.fees.back_fee_dates) and no lapse notice goes out while it is the latest word.
    new = replace(state, lapsed_on=None, restore_by=None, restoration_year=None, restored_on=event.announced_on)
    effects = [Effect("fee_reminders_resumed", tr("fee reminders resumed: {label} (cause: {cause})", label=event.label,
                                                  cause=event.cause))]
    if state.lapsed_on is None:
        effects[0] = Effect("fee_reminders_resumed", tr("restoration recorded; fee reminders were not stopped "
                                                        "(cause: {cause})",
                                                        cause=event.cause))
    year = _restored_year(state, _unrestored(patent.schedule, calendar), event.announced_on)
    if year is None:
        return Outcome(new, tuple(effects))
    # Rule 6 ¶2: CNIPA restores a patent only once the unpaid fee, its 25 % late fee and the restoration fee are
    # paid, so the restoration itself is the evidence that the lapsed year is paid.
    effects.append(Effect("fee_paid_by_restoration", tr("year {year} fee paid with the restoration (fee, 25 % late "
                                                        "fee and restoration fee, Rule 6 ¶2): paid through year "
                                                        "{year}; fee reminders go on from year {next} (cause: {cause})",
                                                        year=year, next=year + 1, cause=event.cause)))
    return Outcome(new, tuple(effects), paid_through=year)


def _unrestored(schedule: Schedule | None, calendar: Calendar) -> Schedule | None:
    """The schedule as it stood before any restoration on record, so that a replay of the events that led to it
    reads the fee that lapsed as lapsed (custody.fees.back_fee_dates moves it otherwise)."""
    if schedule is None or schedule.facts.restored_on is None:
        return schedule
    return fee_schedule(replace(schedule.facts, restored_on=None), schedule.rules, calendar)


def _restored_year(state: WatchState, schedule: Schedule | None, on: date) -> int | None:
    """The fee year a restoration announced on `on` paid, when our records still show it unpaid: the year named by
    the termination notice on record, else the first unpaid year if our schedule has the patent lapsed on `on`
    (the notice may arrive later than the restoration, or never)."""
    if schedule is None:
        return None
    year = state.restoration_year
    if year is None and patent_state(schedule, on) == PatentState.LAPSED:
        unpaid = first_unpaid(schedule)
        year = unpaid.year if unpaid else None
    if year is None or not schedule.years[0].year <= year <= schedule.years[-1].year:
        return None
    fee = schedule.year(year)
    # Only a fee whose grace period was over can have lapsed the patent (Rule 115), so only it was restored.
    return None if fee.paid or fee.grace_end is None or fee.grace_end >= on else year


def _end(event, state, patent, rules, calendar, today) -> Outcome:
    new = replace(state, ended=event.kind, ended_on=event.announced_on, restore_by=None)
    return Outcome(new, (Effect("fee_reminders_stopped", tr("reminders stopped, history kept: {label} (cause: {cause})",
                                                            label=event.label, cause=event.cause)),))


def _terminate(event, state, patent, rules, calendar, today) -> Outcome:
    """A termination whose reason the record leaves out: read it from the fee schedule on the announcement day."""
    schedule = patent.schedule
    on = event.announced_on
    if schedule is not None and patent_state(schedule, on) == PatentState.LAPSED:
        year = first_unpaid(schedule)
        assert year is not None  # a lapsed schedule has an unpaid year (fees.patent_state)
        reason = tr("; reason not given, taken as non-payment: the year {year} fee was unpaid at its grace end",
                    year=year.year)
        return _lapse(event, state, patent, rules, calendar, today, reason)
    if schedule is not None and patent_state(schedule, on) == PatentState.EXPIRED:
        return _end(replace(event, kind="expired"), state, patent, rules, calendar, today)
    outcome = _end(event, state, patent, rules, calendar, today)
    review = Effect("operator_review", tr("termination without a reason: check whether it was for non-payment "
                                          "(restorable within 2 months of the notice) "
                                          "(cause: {cause})", cause=event.cause))
    return replace(outcome, effects=(*outcome.effects, review))


def _transfer(event, state, patent, rules, calendar, today) -> Outcome:
    new_owner = event.fields.get("new_owner")
    if new_owner and new_owner == patent.enterprise_name:
        return Outcome(state, (Effect("history_only", tr("transfer to {owner}, the custody enterprise itself: "
                                                         "reminders unchanged (cause: {cause})", owner=new_owner,
                                                         cause=event.cause)),))
    new = replace(state, transfer_to=new_owner or NOT_GIVEN, transfer_on=event.announced_on)
    held = Effect("fee_reminders_held", tr("reminders held: transferred to {owner}; the patent may have left "
                                           "{name}; confirm the new owner and contacts with `custody status confirm` "
                                           "(cause: {cause})",
                                           owner=transfer_name(new_owner), name=patent.enterprise_name,
                                           cause=event.cause))
    return Outcome(new, (held,))


def _rename(event, state, patent, rules, calendar, today) -> Outcome:
    old, new = event.fields.get("old_owner"), event.fields.get("new_owner")
    if not new:
        return Outcome(state, (Effect("operator_review", tr("owner name change without the new name: update the "
                                                            "owner by hand (cause: {cause})", cause=event.cause)),))
    if old and old in patent.owners:
        owners = patent.owners.replace(old, new)
    elif not patent.owners.strip() or not old:
        owners = new
    else:
        return Outcome(state, (Effect("operator_review", tr("owner renamed {old} → {new}, but the owners on record "
                                                            "are {owners}: check (cause: {cause})", old=old, new=new,
                                                            owners=patent.owners, cause=event.cause)),))
    effects = [Effect("owner_updated", tr("owner: {old} → {new} "
                                          "(cause: {cause})", old=patent.owners or tr("(none)"), new=owners,
                                          cause=event.cause))]
    if old and old == patent.enterprise_name:
        effects.append(Effect("operator_review", tr("the enterprise record still says {old}: update its name to "
                                                    "{new} (cause: {cause})", old=old, new=new, cause=event.cause)))
    return Outcome(state, tuple(effects), owners)


def _pledge(event, state, patent, rules, calendar, today) -> Outcome:
    pledgee = event.fields.get("pledgee") or NOT_GIVEN
    contact = (tr("the pledgee contact will be alerted if the patent enters the grace period")
               if patent.has_pledgee_contact
               else tr("no pledgee contact configured for {pledgee}: add one (role pledgee, named after the pledgee) "
                       "to alert it if a fee goes late; until then the operator is alerted instead",
                       pledgee=transfer_name(pledgee)))
    names = pledgees_of(state)
    kept = names if any(is_same_pledgee(n, pledgee) for n in names) else (*names, pledgee)
    new = replace(state, pledgee=_joined(kept), pledged_on=event.announced_on)
    return Outcome(new, (Effect("pledgee_recorded", tr("pledgee {pledgee} recorded; {contact} "
                                                       "(cause: {cause})", pledgee=transfer_name(pledgee),
                                                       contact=contact, cause=event.cause)),))


def _pledge_cancel(event, state, patent, rules, calendar, today) -> Outcome:
    """A cancellation ends the pledge it names (by pledgee); unnamed, it can only be the one pledge on record."""
    names, named = pledgees_of(state), event.fields.get("pledgee")
    cancelled = [n for n in names if is_same_pledgee(n, named)] if named else list(names[:1] if len(names) == 1
                                                                                    else ())
    if names and not cancelled:
        return Outcome(state, (Effect("operator_review", tr("pledge cancellation for {named} matches none of the "
                                                            "pledges on record ({names}): their pledgees are still "
                                                            "alerted; check (cause: {cause})",
                                                            named=transfer_name(named), names=", ".join(names),
                                                            cause=event.cause)),))
    kept = tuple(n for n in names if n not in cancelled)
    new = replace(state, pledgee=_joined(kept), pledged_on=state.pledged_on if kept else None)
    still = tr("; still pledged to {names}", names=", ".join(kept)) if kept else ""
    return Outcome(new, (Effect("pledgee_cleared", tr("pledge cancelled: no more pledgee alerts (was {was}){still} "
                                                      "(cause: {cause})",
                                                      was=", ".join(cancelled) or transfer_name(named),
                                                      still=still, cause=event.cause)),))


def _note(event, state, patent, rules, calendar, today) -> Outcome:
    if event.kind == "unknown":
        return Outcome(state, (Effect("operator_review", tr("unrecognised status kept for the operator; reminders "
                                                            "unchanged (cause: {cause})", cause=event.cause)),))
    if event.kind == "invalidation":
        return Outcome(state, (Effect("operator_review", tr("invalidation decision of unstated extent: reminders go "
                                                            "on; check whether it was in full (cause: {cause})",
                                                            cause=event.cause)),))
    return Outcome(state, (Effect("history_only", tr("{label}: recorded, reminders unchanged (cause: {cause})",
                                                     label=event.label, cause=event.cause)),))


_HANDLERS: dict[str, Callable[..., Outcome]] = {
    "lapse": _lapse, "restore": _restore, "end": _end, "terminate": _terminate, "transfer": _transfer,
    "rename": _rename, "pledge": _pledge, "pledge_cancel": _pledge_cancel, "note": _note,
}


def confirm_transfer(state: WatchState, owner: str, holder: str, by: str) -> Outcome:
    """The operator confirmed who owns the patent now (`owner`) and who gets its reminders (`holder`: the enterprise
    and its contacts): release the hold and make `owner` the owner on record."""
    if state.transfer_to is None:
        return Outcome(state, ())
    effect = Effect(TRANSFER_CONFIRMED, tr("transfer to {transferee} confirmed by {by}: owner {owner}; reminders "
                                           "released to {holder}", transferee=transfer_name(state.transfer_to),
                                           by=by, owner=owner, holder=holder))
    return Outcome(replace(state, transfer_to=None, transfer_on=None), (effect,), owners=owner)


# ---------------------------------------------------------------------------------------------- reminders gate


def ended_word(kind: str) -> str:
    """How an ended patent's event kind is named: the word in Chinese; the kind itself in English, the wording
    the English messages (and the records written in them) have always had."""
    return kind if current_language() == "en" else label("state", kind)


def status_block(state: WatchState | None, decision: Decision | None, mode: str, on: date) -> Reason | None:
    """Why fee reminders for this patent must not go out on `on` (as data: custody.reasons), or None when the
    watch has no objection."""
    if mode == "watch":
        return reason("watch_only")
    if mode == "ended":
        return reason("custody_ended")
    state = state or WatchState()
    if state.ended is not None:
        return reason("ended", how=state.ended, day=state.ended_on)
    if state.lapsed_on is not None:
        return reason("lapsed", day=state.lapsed_on)
    if state.transfer_to is not None:
        return reason("transfer_held", owner=state.transfer_to, day=state.transfer_on)
    if abandon_in_effect(decision, on, state.restored_on):
        return reason("abandoned", text=decision.fields())
    return None


def status_block_reason(state: WatchState | None, decision: Decision | None, mode: str, on: date) -> str | None:
    """`status_block` in words (the current language), for what is shown at once."""
    found = status_block(state, decision, mode, on)
    return found.worded() if found is not None else None


def restoration_reminder_due(state: WatchState | None, decision: Decision | None, mode: str, on: date) -> bool:
    """Restoration reminders run from the notice until the request deadline, unless the patent is let go."""
    if mode != "custody" or state is None or state.lapsed_on is None or not is_restorable(state, on):
        return False
    return not abandon_in_effect(decision, on)


def pledgee_alert_year(state: WatchState | None, schedule: Schedule | None, mode: str, on: date) -> int | None:
    """The fee year to alert the pledgee about: a pledged custody patent that is in its grace period on `on`.

    A lapse destroys the pledgee's collateral, so the bank hears of a late fee while it can still be paid.
    """
    if mode != "custody" or state is None or state.pledgee is None or schedule is None:
        return None
    if status_block_reason(state, None, mode, on) is not None or patent_state(schedule, on) != PatentState.IN_GRACE:
        return None
    unpaid = first_unpaid(schedule)
    return unpaid.year if unpaid else None


def restoration_closed(state: WatchState | None, on: date) -> Reason | None:
    """Why a restoration reminder must not go out on `on`: the Rule 6 ¶2 window from the notice has closed."""
    if state is None or state.lapsed_on is None or state.restore_by is None or on <= state.restore_by:
        return None
    return reason("restoration_closed", day=state.restore_by, notice=state.lapsed_on)


def restoration_closed_reason(state: WatchState | None, on: date) -> str | None:
    """`restoration_closed` in words (the current language)."""
    found = restoration_closed(state, on)
    return found.worded() if found is not None else None
