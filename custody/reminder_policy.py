"""Reminder policy: which reminders a fee calls for, and which of them is due as of a day. Pure.

A *tier* (from config [reminders], see `custody.reminder_settings`) is a list of days relative to an anchor of
one fee: its due date, each day the late fee rises (Rule 115: +5 % of the full fee a month in the grace period),
the grace end, or, once the legal-status watch has recorded CNIPA's termination notice for non-payment, the
notice and the last day to request restoration (Rule 6 ¶2: two months from the notice). Each tier names its
channels and its audience (contact roles). Expanding the tiers over one fee's dates gives its `TierEvent`s;
`due_events` picks, per channel, the latest event that has fired and still means something. That is the whole
catch-up rule: after three days of downtime a fee gets one reminder per channel (the latest tier), never a burst
of the stale ones it missed.

Nothing here reads the clock or the database: `on` (a day in Asia/Shanghai) is always passed in.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

ANCHORS = ("due_date", "late_fee_rise", "grace_end", "notice", "restore_by")
# Anchors that exist only once a termination notice is on record: their tiers are of kind "restore", and only they.
RESTORATION_ANCHORS = ("notice", "restore_by")
KINDS = ("fee", "lapse", "restore")
# When two events of one channel fire on the same day, the one nearer the loss speaks (its tier id and kind).
_ANCHOR_WEIGHT = {"due_date": 0, "late_fee_rise": 1, "grace_end": 2, "notice": 3, "restore_by": 4}
ZERO = Decimal("0")


@dataclass(frozen=True)
class Tier:
    """Days relative to an anchor of a fee on which to remind, on which channels, to whom."""

    name: str
    anchor: str  # one of ANCHORS
    offsets: tuple[int, ...]  # days: negative before the anchor, 0 on it, positive after it
    channels: tuple[str, ...]
    audience: tuple[str, ...]  # contact roles, "all" (every contact) and "operator" (the operator's call list)
    # "fee": the fee can still be paid; "lapse": the grace period is over (restoration possible once CNIPA's
    # notice comes); "restore": the notice is on record, restoration can be requested until a known day.
    kind: str = "fee"
    escalate_from_rate: Decimal | None = None  # from this late-fee rate on, also remind `escalate_to`
    escalate_to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Kept in ascending order: the planner finds the last firing by a day with a bisection.
        object.__setattr__(self, "offsets", tuple(sorted(self.offsets)))


@dataclass(frozen=True)
class FeeDates:
    """The dates of one unpaid annual fee that tiers hang on."""

    due_date: date
    grace_end: date | None  # None for the grant-year fee (Rule 114: paid on registration, no grace)
    rises: tuple[tuple[date, Decimal], ...] = ()  # (first day of a band, its late-fee rate) for each rate > 0
    notice_on: date | None = None  # CNIPA's termination notice for non-payment (the legal-status watch)
    restore_by: date | None = None  # the last day to request restoration (Rule 6 ¶2, moved past rest days)

    def rate_on(self, day: date) -> Decimal:
        """The late-fee rate in force on `day` (Rule 115), as a share of the full fee."""
        for start, rate in reversed(self.rises):  # the bands only ever rise (Rule 115): the latest begun is it
            if start <= day:
                return rate
        return ZERO

    def next_rise_after(self, day: date) -> tuple[date, Decimal] | None:
        return next(((start, rate) for start, rate in self.rises if start > day), None)

    def payable_until(self) -> date:
        """The last day the fee can still be paid (with its late fee)."""
        return self.grace_end or self.due_date


@dataclass(frozen=True)
class TierEvent:
    """One tier applied to one fee: it fires on `fires_on` and is known by `label` (unique within the fee)."""

    label: str  # e.g. "due-30", "rise10-3", "grace_end-1", "lapse+1": part of the reminder's unique key
    tier: str
    anchor: str
    anchor_date: date
    fires_on: date
    channels: tuple[str, ...]
    audience: tuple[str, ...]
    kind: str
    rate: Decimal  # late-fee rate in force on the firing day


@dataclass(frozen=True)
class DueEvent:
    """What to plan for one channel of one fee: the event that speaks, and everyone it is addressed to."""

    channel: str
    event: TierEvent
    audience: tuple[str, ...]


def _label(tier: Tier, anchor_tag: str, offset: int) -> str:
    return f"{tier.name}:{anchor_tag}{offset:+d}"


def _anchors(tier: Tier, fee: FeeDates) -> tuple[tuple[str | Decimal, date], ...]:
    """(tag, date) of every anchor the tier hangs on for this fee; a rise's tag is its rate until an event is made
    of it (`_tag`): planning looks at every anchor of every due fee and keeps very few."""
    anchor = tier.anchor
    if anchor == "due_date":
        return (("due", fee.due_date),)
    if anchor == "late_fee_rise":
        return tuple((rate, start) for start, rate in fee.rises)
    found = fee.grace_end if anchor == "grace_end" else fee.notice_on if anchor == "notice" else fee.restore_by
    return ((anchor, found),) if found is not None else ()


def _tag(tag: str | Decimal) -> str:
    return tag if isinstance(tag, str) else f"rise{int(tag * 100)}"


def _audience(tier: Tier, rate: Decimal) -> tuple[str, ...]:
    if tier.escalate_from_rate is not None and rate >= tier.escalate_from_rate:
        return _union([tier.audience, tier.escalate_to])
    return tier.audience


def _union(groups: Iterable[Sequence[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


# One firing of a tier, before it is dressed as a TierEvent: (fires_on, anchor weight, tier, anchor tag, anchor date,
# offset). Planning looks at every firing of every due fee, and builds events only for the few it keeps.
_Fire = tuple[date, int, Tier, "str | Decimal", date, int]


def _fires(fee: FeeDates, tiers: Sequence[Tier]) -> list[_Fire]:
    found: list[_Fire] = []
    for tier in tiers:
        weight = _ANCHOR_WEIGHT[tier.anchor]
        for tag, anchor_date in _anchors(tier, fee):
            found.extend((anchor_date + timedelta(days=offset), weight, tier, tag, anchor_date, offset)
                         for offset in tier.offsets)
    return found


def _event(fire: _Fire, fee: FeeDates) -> TierEvent:
    fires_on, _, tier, tag, anchor_date, offset = fire
    rate = fee.rate_on(fires_on)
    return TierEvent(_label(tier, _tag(tag), offset), tier.name, tier.anchor, anchor_date, fires_on, tier.channels,
                     _audience(tier, rate), tier.kind, rate)


def _order(event: TierEvent) -> tuple:
    return event.fires_on, _ANCHOR_WEIGHT[event.anchor], event.label


def tier_events(fee: FeeDates, tiers: Sequence[Tier]) -> tuple[TierEvent, ...]:
    """Every event of every tier for this fee, in firing order."""
    return tuple(sorted((_event(fire, fee) for fire in _fires(fee, tiers)), key=_order))


def _window(kind: str, fee: FeeDates, lapse_notice_days: int) -> tuple[date, date] | None:
    """(first, last) day on which a firing of this kind means something; a firing that has happened stays
    meaningful until `last`. None: never (no grace period to lapse from, no notice on record)."""
    if kind == "restore":
        if fee.notice_on is None or fee.restore_by is None:
            return None
        return fee.notice_on, fee.restore_by
    if kind == "lapse":
        if fee.grace_end is None:
            return None
        return fee.grace_end + timedelta(days=1), fee.grace_end + timedelta(days=lapse_notice_days)
    return date.min, fee.payable_until()


def _until(kind: str, fires_on: date, fee: FeeDates, lapse_notice_days: int) -> date | None:
    window = _window(kind, fee, lapse_notice_days)
    return window[1] if window is not None and window[0] <= fires_on <= window[1] else None


def meaningful_until(event: TierEvent, fee: FeeDates, lapse_notice_days: int) -> date | None:
    """The last day on which sending `event` still makes sense; None when it never does.

    A fee reminder is worth sending while the fee can be paid (to the grace end). A lapse notice is worth sending
    while restoration is possible: Rule 6 ¶2 gives two months from CNIPA's notice, whose date we do not know, so
    the window is a setting (`lapse_notice_days`) counted from the grace end. A restoration reminder (kind
    "restore") is worth sending from the notice on record to the request deadline.
    """
    return _until(event.kind, event.fires_on, fee, lapse_notice_days)


def due_and_next(fee: FeeDates, tiers: Sequence[Tier], on: date,
                 lapse_notice_days: int) -> tuple[tuple[DueEvent, ...], date | None]:
    """What is due on `on` (see `due_events`) and the next day after `on` an event fires (see `next_fire_on`).

    Planning asks this of every fee due on a day, so it works on day numbers: per tier and anchor, only the last
    firing by `on` can be live (the latest one of a channel speaks) and only the first one after `on` can be next.
    """
    live: list[_Fire] = []
    later: int | None = None
    day = on.toordinal()
    for tier in tiers:
        window = _window(tier.kind, fee, lapse_notice_days)
        if window is None:
            continue
        first, last = window[0].toordinal(), window[1].toordinal()
        offsets = tier.offsets  # ascending (Tier.__post_init__)
        for tag, anchor_date in _anchors(tier, fee):
            base = anchor_date.toordinal()
            fired = bisect_right(offsets, day - base)
            # The last firing by `on` is live while `on` is in its window (it is, then, at most `last`).
            if fired and day <= last and base + offsets[fired - 1] >= first:
                offset = offsets[fired - 1]
                live.append((date.fromordinal(base + offset), _ANCHOR_WEIGHT[tier.anchor], tier, tag, anchor_date,
                             offset))
            for offset in offsets[fired:]:
                if base + offset > last:
                    break
                if base + offset >= first:
                    later = base + offset if later is None or base + offset < later else later
                    break
    return _speaking(live, fee), date.fromordinal(later) if later is not None else None


def _speaking(live: list[_Fire], fee: FeeDates) -> tuple[DueEvent, ...]:
    """Per channel, the live firings of its latest day merged: the one nearest the loss names the event, and the
    audience is everyone any of them addresses."""
    latest: dict[str, list[_Fire]] = {}
    for fire in live:
        for channel in fire[2].channels:
            mine = latest.get(channel)
            if mine is None or fire[0] > mine[0][0]:
                latest[channel] = [fire]
            elif fire[0] == mine[0][0]:
                mine.append(fire)
    found = []
    for channel, fires in latest.items():
        if len(fires) == 1:
            event = _event(fires[0], fee)
            found.append(DueEvent(channel, event, event.audience))
            continue
        same_day = sorted((_event(fire, fee) for fire in fires), key=_order)
        found.append(DueEvent(channel, same_day[-1], _union(e.audience for e in same_day)))
    return tuple(found)


def due_events(fee: FeeDates, tiers: Sequence[Tier], on: date, lapse_notice_days: int) -> tuple[DueEvent, ...]:
    """Per channel, the latest event fired by `on` that is still meaningful (the catch-up rule).

    Events of one channel firing on the same day are merged: the one nearest the loss names the reminder, and
    the audience is everyone any of them addresses.
    """
    return due_and_next(fee, tiers, on, lapse_notice_days)[0]


def next_fire_on(fee: FeeDates, tiers: Sequence[Tier], after: date, lapse_notice_days: int) -> date | None:
    """The first day after `after` on which an event of this fee fires and means something; None if none will."""
    return due_and_next(fee, tiers, after, lapse_notice_days)[1]


@dataclass(frozen=True)
class PaymentTerms:
    """What a reminder says about paying a fee on a day: the late-fee rate then, and until when it holds."""

    rate: Decimal
    pay_by: date  # pay by this day: the due date, the day before the next rise, or the grace end
    next_rate: Decimal | None  # the rate from the day after `pay_by`, when the late fee rises again


def payment_terms(fee: FeeDates, on: date, kind: str = "fee", restoration_rate: Decimal = ZERO) -> PaymentTerms:
    """For a restoration reminder: the restoration late fee (Rule 6 ¶2: 25 % of the full fee, `restoration_rate`)
    and the request deadline."""
    if kind == "restore":
        return PaymentTerms(restoration_rate, fee.restore_by or fee.payable_until(), None)
    if kind == "lapse":
        return PaymentTerms(fee.rate_on(on), fee.payable_until(), None)
    if on <= fee.due_date:
        return PaymentTerms(ZERO, fee.due_date, None)
    rate, rise = fee.rate_on(on), fee.next_rise_after(on)
    if rise is None:
        return PaymentTerms(rate, fee.payable_until(), None)
    return PaymentTerms(rate, rise[0] - timedelta(days=1), rise[1])
