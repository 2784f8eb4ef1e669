"""`custody patent list`: the stored patents, filtered, as rows that stream out a chunk at a time.

Read through the columnar store (custody.store.portfolio_read, chunks of patent ids) and evaluated by the same
vectorised engine as the reports (custody.portfolio_figures.shown: state, next fee, due date, import flag), so a
patent's state in this list is the state `report due` and `patent show` give it. Never the whole portfolio in
memory, no ORM objects, no `IN (…)` over the portfolio: a million patents stream in chunks of 50 000.

The filters are applied per chunk: enterprise and (through Scope) by the database; type, state, due-within and
flag on the chunk's columns.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from custody.domain import PatentType
from custody.i18n import label, tr
from custody.portfolio_figures import figures, import_flags, shown
from custody.portfolio_screen import screen
from custody.report_engine import Chunk
from custody.ruleset import RuleSet
from custody.workdays import WorkCalendar

# The states a patent can be listed by (the engine's own words; labels.toml domain "state").
STATES = ("in_force", "in_grace", "lapsed", "expired")
COLUMNS = (("application_number", "Application no."), ("type", "Patent type"), ("title", "Patent title"),
           ("credit_code", "Credit code (USCC)"), ("enterprise", "Enterprise name"), ("mode", "Custody mode"),
           ("state", "Patent state"), ("year", "Next fee year"), ("due_date", "Next fee due"),
           ("fee", "Next fee (CNY)"), ("flag", "Import flag"))


def state_option(text: str) -> str:
    """A state as the operator types it: the stored word, or its English or Chinese label (有效, ...)."""
    wanted = text.strip().lower()
    for value in STATES:
        if wanted in (value, label("state", value, "en").lower(), label("state", value, "zh")):
            return value
    shown = ", ".join(f"{value}/{label('state', value, 'zh')}" for value in STATES)
    raise ValueError(f"{text!r} is not a state: use {shown}")


@dataclass(frozen=True)
class PatentFilter:
    type: PatentType | None = None
    state: str | None = None
    due_within: int | None = None  # days from today
    flagged: bool = False  # only patents with an import flag (paid-through inferred, unknown — check)

    @property
    def needs_figures(self) -> bool:
        return self.state is not None or self.due_within is not None or self.flagged


def patent_rows(chunks: Iterator[Chunk], rules: RuleSet, calendar: WorkCalendar, today: date,
                wanted: PatentFilter) -> Iterator[list[dict[str, Any]]]:
    """Per chunk, the listed rows (ordered by patent id within the store), labels in the current language."""
    for chunk in chunks:
        frame = chunk.patents
        if wanted.type is not None:
            frame = frame[(frame["type"].astype(str) == wanted.type.value).to_numpy()]
        if len(frame):
            yield _rows(Chunk(frame, chunk.licences, chunk.paid_years), rules, calendar, today, wanted)


def _rows(chunk: Chunk, rules: RuleSet, calendar: WorkCalendar, today: date,
          wanted: PatentFilter) -> list[dict[str, Any]]:
    frame = chunk.patents
    verdict = screen(frame, rules, calendar)
    found: dict[int, dict[str, Any]] = {}
    if not wanted.needs_figures:  # a patent whose fee facts the engine refuses is still listed, with why
        for i, text in verdict.problems.items():
            found[i] = {**_plain(frame, i), "flag": tr("fee facts incomplete: {problem}", problem=text)}
    accepted = np.flatnonzero(verdict.accepted)
    if len(accepted):
        part = frame.iloc[accepted].copy()
        part["grant_year"] = verdict.grant_year[verdict.accepted]
        f = figures(part, rules, calendar, today, chunk.licences, chunk.paid_years)
        keep = _kept(f, wanted)
        rows = np.flatnonzero(keep)
        columns = shown(f, rows)
        cells = {k: columns[k].values() for k in ("state", "year", "due_date", "fee")}
        cells["flag"] = import_flags(f, rows, f.unpaid.year[rows]).values()
        for n, r in enumerate(rows.tolist()):
            found[int(accepted[r])] = {**_plain(frame, int(accepted[r])),
                                       **{k: v[n] for k, v in cells.items()}}
    return [_labelled(found[i]) for i in sorted(found)]


def _kept(f, wanted: PatentFilter) -> np.ndarray:
    keep = np.ones(len(f.frame), bool)
    if wanted.state is not None:
        states = shown(f, np.arange(len(f.frame)))["state"].values()
        keep &= np.array([s == wanted.state for s in states], bool)
    if wanted.due_within is not None:
        left = f.unpaid.due - f.today
        keep &= f.fee_shown & (left >= 0) & (left <= wanted.due_within)
    if wanted.flagged:
        flags = import_flags(f, np.arange(len(f.frame)), f.unpaid.year).values()
        keep &= np.array([flag is not None for flag in flags], bool)
    return keep


def _plain(frame, i: int) -> dict[str, Any]:
    row = frame.iloc[i]
    return {"application_number": row["application_number"], "type": str(row["type"]), "title": row["title"],
            "credit_code": row["enterprise_code"] or None, "enterprise": row["enterprise_name"] or None,
            "mode": row["mode"], "state": None, "year": None, "due_date": None, "fee": None, "flag": None}


def _state_word(state: str | None) -> str | None:
    """The engine's states from the catalogue; a state the watch ended the patent with (expired, invalidated,
    ...) in the legal-status vocabulary's own words."""
    if state is None or state in STATES:
        return label("state", state) if state else None
    from custody.i18n import current_language
    from custody.status_vocab import default_vocabulary

    return default_vocabulary().label_of(state, current_language())


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    """Enumerated values as words of the current language; dates as ISO text, money as text."""
    return {**row, "type": label("type", row["type"]), "mode": label("mode", row["mode"]),
            "state": _state_word(row["state"]),
            "due_date": str(row["due_date"]) if row["due_date"] is not None else None,
            "fee": str(row["fee"]) if row["fee"] is not None else None,
            "flag": label("import_flag", row["flag"]) if row["flag"] is not None else None}
