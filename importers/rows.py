"""Helpers every kind's row parser shares: reading a field from a row with located problems, and duplicates.

Duplicates: rows with the same key and the same values (after parsing: 2023/3/15 and 2023-03-15 agree) are
one row; rows with the same key that disagree are both rejected, since the file cannot say which is right.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from importers import values
from importers.columns import KINDS
from importers.header import Header
from importers.problems import ERROR, WARNING, Problem, ProblemSink
from importers.readers import Cell

T = TypeVar("T")


class RowCells:
    """One data row: its cells by field, and problems located at this row and the field's column."""

    __slots__ = ("number", "cells", "header", "sink", "has_error", "labels")

    def __init__(self, number: int, cells: list[Cell], header: Header, sink: ProblemSink,
                 labels: dict[str, str]) -> None:
        self.number, self.cells, self.header, self.sink, self.labels = number, cells, header, sink, labels
        self.has_error = False

    def cell(self, field: str) -> Cell:
        position = self.header.index.get(field)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def value(self, field: str, reader: Callable[[Cell], T], required: bool = False) -> T | None:
        position = self.header.index.get(field)
        cell = None if position is None or position >= len(self.cells) else self.cells[position]
        if cell is None:
            if required:
                self.problem(field, "required", field=self.labels[field])
            return None
        try:
            return reader(cell)
        except values.CellProblem as problem:
            self.problem(field, problem.code, **problem.params)
            return None

    def problem(self, at: str | None, code: str, severity: str = ERROR, **params: Any) -> None:
        if severity == ERROR:
            self.has_error = True
        self.sink.add(self.number, self.labels.get(at, at) if at else None, code, severity, **params)


def application_number(r: RowCells) -> str | None:
    """The row's application number, canonical; warns when it was a number cell or came without its check
    character (the computed one is named, so the operator can compare it with the certificate)."""
    read = r.value("application_number", values.application_number_read, required=True)
    if read is None:
        return None
    number, check_given = read
    cell = r.cell("application_number")
    if isinstance(cell, float):
        r.problem("application_number", "appno_number_cell_read", WARNING, value=values.shown(cell), number=number)
    elif not check_given:
        r.problem("application_number", "appno_check_computed", WARNING, value=values.shown(cell), number=number,
                  check=number[-1])
    return number


def labels_for(kind: str, header: Header) -> dict[str, str]:
    """Column names for messages: the file's own header text, else our Chinese name for the field."""
    labels = {c.field: c.zh for c in KINDS[kind]}
    labels.update(header.labels)
    return labels


class Dedup:
    """Keeps the first row of each key; an identical later row merges, a different one rejects both.

    Small files keep each key's record (`keep_records`); a portfolio keeps only a 64-bit hash of it with the row
    (about 100 bytes a key, so a million rows stay well under the memory bound), plus the records of the current
    chunk. Two rows that disagree are told apart by their hashes; which fields differ is worked out from the
    records when both are at hand, else left to `unresolved` (the caller reads the earlier row again)."""

    def __init__(self, sink: ProblemSink, column: str, field_labels: Sequence[str], keep_records: bool = True) -> None:
        self.sink, self.column, self.field_labels, self.keep_records = sink, column, field_labels, keep_records
        self.seen: dict[Hashable, Any] = {}  # key -> (row, record), or row | hash << 32
        self.recent: dict[Hashable, tuple[int, tuple]] = {}  # this chunk's records (hash mode)
        self.unresolved: list[tuple[Problem, Problem, tuple]] = []  # (later, earlier, later's record)

    def offer(self, key: Hashable, row: int, record: tuple, shown_key: str) -> bool:
        """True when `record` is the first of its key (the caller keeps it); False for a merge or a clash."""
        if self.keep_records:
            prior = self.seen.setdefault(key, (row, record))
            if prior[0] == row:
                return True
            return self._clash(row, record, shown_key, prior) if prior[1] != record else False
        packed = self.seen.setdefault(key, row | (hash(record) & _HASH_MASK) << 32)
        prior_row = packed & _ROW_MASK
        if prior_row == row:
            self.recent[key] = (row, record)
            return True
        if packed >> 32 == hash(record) & _HASH_MASK:
            return False
        return self._clash(row, record, shown_key, self.recent.get(key) or (prior_row, None))

    def next_chunk(self) -> None:
        self.recent.clear()

    def _clash(self, row: int, record: tuple, shown_key: str, prior: tuple[int, tuple | None]) -> bool:
        fields = self.differing(prior[1], record) if prior[1] is not None else "…"
        later = Problem(self.sink.file, row, self.column, "duplicate_disagrees",
                        {"key": shown_key, "other": prior[0], "fields": fields})
        earlier = Problem(self.sink.file, prior[0], self.column, "duplicate_disagrees",
                          {"key": shown_key, "other": row, "fields": fields})
        self.sink.extend([later, earlier])
        if prior[1] is None:
            self.unresolved.append((self.sink.problems[-2], self.sink.problems[-1], record))
        return False

    def differing(self, first: tuple, second: tuple) -> str:
        return ", ".join(label for label, a, b in zip(self.field_labels, first, second, strict=True) if a != b)

    def accepted(self, error_rows: set[int]) -> list[tuple]:
        return [record for row, record in self.seen.values() if row not in error_rows]


_ROW_MASK = (1 << 32) - 1
_HASH_MASK = (1 << 64) - 1
