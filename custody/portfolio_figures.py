"""What a person is shown about each patent of a chunk on a day: the vectorised twin of custody.display.

`figures` computes, for every accepted patent of a chunk at once, what `display.evaluate` and `patent_display`
compute for one: the state, the first unpaid fee and what paying it today costs, the next rise of the late fee,
the provisional marks, and whether its fees are still followed. `shown` turns a selection of rows into report
columns. The rare rows that carry a watch state or a decision get their texts (decision, pledgee, why reminders
are held) from the very functions `patent_display` uses, so each such text has one implementation.

Pure: no clock, no database. tests/test_report_engine.py compares every column with the scalar engine.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from custody.decisions import Decision
from custody.display import BACK_FEE_CHECK, REDUCTION_TOO_LATE, decision_text, reduction_refile_text
from custody.domain import Reduction
from custody.fees import Calendar
from custody.portfolio import (
    EPOCH_ORDINAL,
    NAT_DAYS,
    REDUCTIONS,
    STATES,
    TableCalendar,
    YearFees,
    _Arrays,
    _days,
    _integers,
    _portfolio,
    _round_fen,
    _scaled,
    bands_passed,
    first_unpaid_years,
    missing_fee_error,
    states_on,
    year_fees,
)
from custody.report_columns import Column, Days, Fen, Ints, Objects, Steps, nones
from custody.ruleset import RuleSet
from custody.status_effects import WatchState, pledgees_of, status_block_reason

IN_FORCE, IN_GRACE, LAPSED, EXPIRED = range(4)
WATCH_FIELDS = tuple(WatchState.__dataclass_fields__)


class Provisional:
    """calendar.is_provisional over day numbers: a table over the days seen so far, each day asked once."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.low, self.flags = 0, np.zeros(0, np.int8)  # -1: not asked yet

    def __call__(self, days: np.ndarray) -> np.ndarray:
        present = days != NAT_DAYS
        found = np.zeros(len(days), bool)
        if not present.any():
            return found
        wanted = days[present]
        self._cover(int(wanted.min()), int(wanted.max()))
        index = wanted - self.low
        unknown = np.unique(index[self.flags[index] < 0])
        for i in unknown.tolist():
            self.flags[i] = self.calendar.is_provisional(date.fromordinal(self.low + i + EPOCH_ORDINAL))
        found[present] = self.flags[index] > 0
        return found

    def _cover(self, low: int, high: int) -> None:
        if len(self.flags) and self.low <= low and high < self.low + len(self.flags):
            return
        new_low = min(low, self.low) if len(self.flags) else low
        new_high = max(high, self.low + len(self.flags) - 1) if len(self.flags) else high
        flags = np.full(new_high - new_low + 1, -1, np.int8)
        flags[self.low - new_low:self.low - new_low + len(self.flags)] = self.flags
        self.low, self.flags = new_low, flags


@dataclass(frozen=True)
class Figures:
    """Per accepted patent of a chunk, on `today` (day number)."""

    frame: pd.DataFrame
    p: _Arrays
    today: int
    step: Decimal
    step_scaled: int
    unpaid: YearFees  # the first unpaid year (meaningless where has_unpaid is False)
    has_unpaid: np.ndarray
    state: np.ndarray  # index into STATES
    custody: np.ndarray
    ended: np.ndarray  # the watch ended the patent (expired, invalidated, abandoned, ...)
    lapsed_on: np.ndarray  # CNIPA's termination notice for non-payment, day number
    abandon: np.ndarray  # an abandon decision in effect today
    band: np.ndarray  # today's late-fee band (steps), in grace
    due_marks: np.ndarray
    grace_marks: np.ndarray
    end_marks: tuple[np.ndarray, ...]  # per band end: it lies in a provisional year (LateFeeBand.provisional)

    @property
    def tracked(self) -> np.ndarray:
        """display.is_tracked: a custody patent not ended, not terminated, not abandoned by decision."""
        return self.custody & ~self.ended & (self.lapsed_on == NAT_DAYS) & ~self.abandon

    @property
    def fee_shown(self) -> np.ndarray:
        """patent_display's `fee` is not None: an unpaid fee and no end or termination on record."""
        return self.has_unpaid & ~self.ended & (self.lapsed_on == NAT_DAYS)

    @property
    def payable(self) -> np.ndarray:
        return self.fee_shown & (self.state <= IN_GRACE)

    def late_fen(self, steps: np.ndarray) -> np.ndarray:
        return _round_fen(self.unpaid.full_fen, self.step_scaled * steps)


def figures(frame: pd.DataFrame, rules: RuleSet, calendar: TableCalendar, today: date,
            licences: pd.DataFrame | None = None, paid_years: pd.DataFrame | None = None,
            provisional: Provisional | None = None) -> Figures:
    """The figures of every row of `frame` (accepted rows only: see custody.portfolio_screen), its `grant_year`
    already inferred where the facts allow."""
    p, _ = _portfolio(frame, rules, licences, paid_years)
    provisional = provisional or Provisional(calendar)
    year = first_unpaid_years(p)
    has_unpaid = year <= p.last_year
    unpaid = year_fees(p, year, rules, calendar)
    error = missing_fee_error(frame.index, p, unpaid, has_unpaid)
    if error is not None:
        raise error
    day = today.toordinal() - EPOCH_ORDINAL
    state = states_on(p, unpaid, has_unpaid, day)
    ended = frame["ended"].notna().to_numpy() if "ended" in frame else np.zeros(len(frame), bool)
    raw_marks = [provisional(r) | provisional(e) for r, e in zip(unpaid.raw_ends, unpaid.band_ends, strict=True)]
    return Figures(
        frame, p, day, rules.late_fee.step_rate, _scaled(rules.late_fee.step_rate, rules.late_fee.id), unpaid,
        has_unpaid, state, (frame["mode"] == "custody").to_numpy(), ended, _days(frame, "lapsed_on"),
        _abandon_in_effect(frame, day), np.where(state == IN_GRACE, bands_passed(unpaid, day), 0),
        provisional(unpaid.anniversary) | provisional(unpaid.due), provisional(unpaid.grace_end), tuple(raw_marks))


def _abandon_in_effect(frame: pd.DataFrame, day: int) -> np.ndarray:
    if "d_choice" not in frame:
        return np.zeros(len(frame), bool)
    effective, restored = _days(frame, "d_effective_on"), _days(frame, "restored_on")
    # decisions.undone_by_restoration: a restoration on or after the abandonment took effect undoes it.
    undone = (restored != NAT_DAYS) & (effective <= restored)
    return (frame["d_choice"] == "abandon").to_numpy() & (effective <= day) & (effective != NAT_DAYS) & ~undone


# ---------------------------------------------------------------------------------------------- rare rows


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.item() if isinstance(value, np.generic) else value


def watch_of(frame: pd.DataFrame, i: int) -> WatchState:
    row = frame.iloc[i]
    values = {name: _plain(row.get(name)) for name in WATCH_FIELDS}
    for name in ("ended_on", "lapsed_on", "restore_by", "pledged_on", "transfer_on", "restored_on"):
        if isinstance(values[name], datetime):
            values[name] = values[name].date()
    if values["restoration_year"] is not None:
        values["restoration_year"] = int(values["restoration_year"])
    return WatchState(**values)


def decision_of(frame: pd.DataFrame, i: int) -> Decision | None:
    row = frame.iloc[i]
    if "d_choice" not in frame or _plain(row["d_choice"]) is None:
        return None
    effective = _plain(row["d_effective_on"])
    decided = row["d_decided_at"]
    if isinstance(decided, pd.Timestamp):
        decided = decided.to_pydatetime()
    if isinstance(decided, str):  # SQLite's text of a UTC moment (custody.models.core.UtcDateTime)
        decided = datetime.fromisoformat(decided)
    if decided.tzinfo is None:
        decided = decided.replace(tzinfo=UTC)
    return Decision(row["d_choice"], int(row["d_year"]), effective.date() if isinstance(effective, datetime)
                    else effective, row["d_decided_by"], decided, _plain(row["d_note"]))


def has_watch(frame: pd.DataFrame) -> np.ndarray:
    return frame["has_watch"].to_numpy(bool) if "has_watch" in frame else np.zeros(len(frame), bool)


def has_decision(frame: pd.DataFrame) -> np.ndarray:
    return frame["d_choice"].notna().to_numpy() if "d_choice" in frame else np.zeros(len(frame), bool)


def per_row(rows: np.ndarray, wanted: np.ndarray, make: Callable[[int], Any]) -> Objects:
    """A text column that is None except on the (few) wanted rows, whose text `make(position)` gives."""
    out = nones(len(rows))
    for k in np.flatnonzero(wanted[rows]):
        out.objects[k] = make(int(rows[k]))
    return out


# ---------------------------------------------------------------------------------------------- shown columns


def reduction_texts(f: Figures, rows: np.ndarray, applied: np.ndarray, too_late: np.ndarray,
                    present: np.ndarray) -> Objects:
    """display.reduction_text of each row's fee (`applied`, `too_late`: YearFees.reduction and .too_late of the
    rows): the reduction applied, or that it was recorded too late."""
    on_record = np.array([r.value for r in REDUCTIONS], object)[f.p.reduction[rows]]
    text = np.where(applied == 1, on_record, np.where(applied == 2, "open_licence",
                                                      np.where(too_late, REDUCTION_TOO_LATE, None)))  # type: ignore[call-overload]
    refile = f.p.refile[rows]
    waiting = np.flatnonzero((refile != NAT_DAYS) & (applied == 0)
                             & (f.p.reduction[rows] != REDUCTIONS.index(Reduction.NONE)))
    text = text.astype(object)
    for i in waiting:  # a few patents just transferred: text one by one
        text[i] = reduction_refile_text(date.fromordinal(int(refile[i]) + EPOCH_ORDINAL))
    return Objects(np.where(present, text, None).astype(object))  # type: ignore[call-overload]


def recorded_on(f: Figures, rows: np.ndarray) -> Days:
    """display.reduction_recorded_on: the recording day beside a reduction on record."""
    recorded = f.p.reduction_recorded[rows]
    none = f.p.reduction[rows] == REDUCTIONS.index(Reduction.NONE)
    return Days(np.where(none, NAT_DAYS, recorded), np.zeros(len(rows), bool))


def decision_texts(f: Figures, rows: np.ndarray, years: np.ndarray, present: np.ndarray) -> Objects:
    """display.decision_text beside each row's fee year (`present` False: no year)."""
    frame = f.frame
    lookup = dict(zip(rows.tolist(), zip(years.tolist(), present.tolist(), strict=True), strict=True))

    def text(i: int) -> str | None:
        year, shown = lookup[i]
        return decision_text(decision_of(frame, i), year if shown else None)
    return per_row(rows, has_decision(frame), text)


def shown(f: Figures, rows: np.ndarray) -> dict[str, Column]:
    """display.patent_display of the selected rows, column by column."""
    u, frame = f.unpaid, f.frame
    fee_shown, payable = f.fee_shown[rows], f.payable[rows]
    in_grace = payable & (f.state[rows] == IN_GRACE)
    band = f.band[rows]
    last_band = len(u.band_ends) - 1
    rise = in_grace & (band + 1 <= last_band)
    nxt = np.minimum(band + 1, last_band)
    ends = np.stack(u.band_ends)[:, rows] if len(rows) else np.zeros((len(u.band_ends), 0), np.int64)
    marks = np.stack(f.end_marks)[:, rows] if len(rows) else np.zeros((len(u.band_ends), 0), bool)
    cols = np.arange(len(rows))
    late = np.where(in_grace, f.late_fen(f.band)[rows], 0)
    grant = u.is_grant_year[rows]
    watched, decided = has_watch(frame), has_decision(frame)
    ended_text = frame["ended"].to_numpy(object)[rows] if "ended" in frame else np.full(len(rows), None, object)
    states = np.array([s.value for s in STATES], object)[f.state[rows]]
    return {
        "mode": Objects(frame["mode"].to_numpy(object)[rows]),
        "state": Objects(np.where(pd.isna(ended_text), states, ended_text).astype(object)),
        "year": Ints(u.year[rows], fee_shown),
        "due_date": Days(np.where(fee_shown, u.due[rows], NAT_DAYS), f.due_marks[rows]),
        "grace_end": Days(np.where(fee_shown & ~grant, u.grace_end[rows], NAT_DAYS), f.grace_marks[rows]),
        "fee": Fen(u.fee_fen[rows], payable),
        "late_fee_rate": Steps(band, payable, in_grace, f.step),
        "late_fee": Fen(late, payable),
        "total": Fen(u.fee_fen[rows] + late, payable),
        "next_rise_on": Days(np.where(rise, ends[band, cols] + 1, NAT_DAYS),
                             marks[band, cols] | marks[nxt, cols]),
        "next_late_fee_rate": Steps(nxt, rise, rise, f.step),
        "next_late_fee": Fen(f.late_fen(np.minimum(f.band + 1, last_band))[rows], rise),
        "reduction": reduction_texts(f, rows, u.reduction[rows], u.too_late[rows], fee_shown),
        "reduction_recorded_on": recorded_on(f, rows),
        "decision": decision_texts(f, rows, u.year[rows], f.has_unpaid[rows]),
        "pledgee": per_row(rows, watched, lambda i: ", ".join(pledgees_of(watch_of(frame, i))) or None),
        "note": per_row(rows, f.custody & (watched | decided),
                        lambda i: status_block_reason(watch_of(frame, i), decision_of(frame, i), "custody",
                                                      date.fromordinal(f.today + EPOCH_ORDINAL))),
    }


def import_flags(f: Figures, rows: np.ndarray, years: np.ndarray, back: np.ndarray | None = None) -> Objects:
    """reports._import_flag: what an import could not know about each row's fee (None when nothing)."""
    frame = f.frame
    inferred = frame["paid_through_inferred"].fillna(False).to_numpy(bool)[rows] \
        if "paid_through_inferred" in frame else np.zeros(len(rows), bool)
    through = _integers(frame, "unknown_through", 0)[rows]
    unknown = ("unknown_through" in frame) & frame["unknown_through"].notna().to_numpy()[rows] & (years <= through)
    text = np.where(inferred & unknown, "paid-through inferred; unknown — check",
                    np.where(inferred, "paid-through inferred", np.where(unknown, "unknown — check", None)))  # type: ignore[call-overload]
    text = text.astype(object)
    if back is not None:  # reports._import_flag: a back fee after a restoration (fees.back_fee_dates)
        for i in np.flatnonzero(back[rows]):
            text[i] = f"{text[i]}; {BACK_FEE_CHECK}" if text[i] else BACK_FEE_CHECK
    return Objects(text)
