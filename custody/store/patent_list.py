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
from custody.i18n import cell_label, label, tr
from custody.portfolio_figures import figures, import_flags, shown
from custody.portfolio_screen import screen
from custody.report_engine import Chunk
from custody.ruleset import RuleSet
from custody.workdays import WorkCalendar

# The states a patent can be listed by (the engine's own words; labels.toml domain "state").
STATES = ("in_force", "in_grace", "lapsed", "expired")
# The listed columns, in the order of each row's tuple: (key, English heading, a text from the data that a
# spreadsheet could read as a formula).
TEXT_FROM_DATA = frozenset({"title", "enterprise"})
COLUMNS = (("application_number", "Application no."), ("type", "Patent type"), ("title", "Patent title"),
           ("credit_code", "Credit code (USCC)"), ("enterprise", "Enterprise name"), ("mode", "Custody mode"),
           ("state", "Patent state"), ("year", "Next fee year"), ("due_date", "Next fee due"),
           ("fee", "Next fee (CNY)"), ("flag", "Import flag"))
# What a narrow terminal leaves out first: long text, then words; the number, dates and amounts stay.
DROPPABLE = ("title", "credit_code", "enterprise", "flag", "mode", "type")


def state_option(text: str) -> str:
    """A state as the operator types it: the stored word, or its English or Chinese label (有效, ...)."""
    wanted = text.strip().lower()
    for value in STATES:
        if wanted in (value, label("state", value, "en").lower(), label("state", value, "zh")):
            return value
    shown = ", ".join(f"{value}/{label('state', value, 'zh')}" for value in STATES)
    raise ValueError(tr("{text!r} is not a state: use {shown}", text=text, shown=shown))


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
                wanted: PatentFilter) -> Iterator[list[tuple]]:
    """Per chunk, the listed rows (ordered by patent id within the store) as tuples in COLUMNS order, labels in
    the current language."""
    for chunk in chunks:
        frame = chunk.patents
        if wanted.type is not None:
            frame = frame[(frame["type"].astype(str) == wanted.type.value).to_numpy()]
        if len(frame):
            yield _rows(Chunk(frame, chunk.licences, chunk.paid_years), rules, calendar, today, wanted)


FIGURES = ("state", "year", "due_date", "fee")


def _rows(chunk: Chunk, rules: RuleSet, calendar: WorkCalendar, today: date,
          wanted: PatentFilter) -> list[tuple]:
    """The chunk's listed rows, built a column at a time (no per-row frame access: a chunk is 50 000 patents)."""
    frame = chunk.patents
    verdict = screen(frame, rules, calendar)
    size = len(frame)
    cells: dict[str, list[Any]] = {k: [None] * size for k in (*FIGURES, "flag")}
    listed = np.zeros(size, bool)
    if not wanted.needs_figures:  # a patent whose fee facts the engine refuses is still listed, with why
        for i, text in verdict.problems.items():
            listed[i] = True
            cells["flag"][i] = tr("fee facts incomplete: {problem}", problem=text)
    accepted = np.flatnonzero(verdict.accepted)
    if len(accepted):
        part = frame.iloc[accepted].copy()
        part["grant_year"] = verdict.grant_year[verdict.accepted]
        f = figures(part, rules, calendar, today, chunk.licences, chunk.paid_years)
        every = np.arange(len(accepted))
        columns = shown(f, every)  # once per chunk: the filters and the output read the same values
        found = {k: columns[k].values() for k in FIGURES}
        found["flag"] = import_flags(f, every, f.unpaid.year).values()
        keep = _kept(f, found, wanted)
        for key, values in found.items():
            column = cells[key]
            for r in np.flatnonzero(keep).tolist():
                column[accepted[r]] = values[r]
        listed[accepted[keep]] = True
    return _labelled(frame, np.flatnonzero(listed), cells)


def _kept(f, found: dict[str, list[Any]], wanted: PatentFilter) -> np.ndarray:
    keep = np.ones(len(f.frame), bool)
    if wanted.state is not None:
        keep &= np.array([s == wanted.state for s in found["state"]], bool)
    if wanted.due_within is not None:
        left = f.unpaid.due - f.today
        keep &= f.fee_shown & (left >= 0) & (left <= wanted.due_within)
    if wanted.flagged:
        keep &= np.array([flag is not None for flag in found["flag"]], bool)
    return keep


def _state_word(state: str | None) -> str | None:
    """The engine's states from the catalogue; a state the watch ended the patent with (expired, invalidated,
    ...) in the legal-status vocabulary's own words."""
    if state is None or state in STATES:
        return label("state", state) if state else None
    from custody.i18n import current_language
    from custody.status_vocab import default_vocabulary

    return default_vocabulary().label_of(state, current_language())


def _labelled(frame, rows: np.ndarray, cells: dict[str, list[Any]]) -> list[tuple]:
    """The rows as tuples in COLUMNS order, enumerated values as words of the current language (each distinct
    value looked up once), dates and money as text."""
    def column(name: str) -> list[Any]:
        return frame[name].to_numpy(object)[rows].tolist()

    def picked(name: str) -> list[Any]:
        values = cells[name]
        return [values[i] for i in rows.tolist()]

    def words(values: list[Any], word) -> list[Any]:
        table = {v: (None if v is None else word(v)) for v in set(values)}
        return [table[v] for v in values]

    return list(zip(
        column("application_number"), words([str(t) for t in column("type")], lambda v: label("type", v)),
        column("title"), [c or None for c in column("enterprise_code")],
        [n or None for n in column("enterprise_name")], words(column("mode"), lambda v: label("mode", v)),
        words(picked("state"), _state_word), picked("year"), words(picked("due_date"), str),
        words(picked("fee"), str), words(picked("flag"), lambda v: cell_label("flag", v)), strict=True))
