"""Helpers every kind's row parser shares: reading a field from a row with located problems, and duplicates.

Duplicates: rows with the same key and the same values (after parsing: 2023/3/15 and 2023-03-15 agree) are
one row; rows with the same key that disagree are both rejected, since the file cannot say which is right.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from importers.columns import KINDS
from importers.header import Header
from importers.problems import ERROR, ProblemSink
from importers.readers import Cell
from importers.values import CellProblem

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
        except CellProblem as problem:
            self.problem(field, problem.code, **problem.params)
            return None

    def problem(self, at: str | None, code: str, severity: str = ERROR, **params: Any) -> None:
        if severity == ERROR:
            self.has_error = True
        self.sink.add(self.number, self.labels.get(at, at) if at else None, code, severity, **params)


def labels_for(kind: str, header: Header) -> dict[str, str]:
    """Column names for messages: the file's own header text, else our Chinese name for the field."""
    labels = {c.field: c.zh for c in KINDS[kind]}
    labels.update(header.labels)
    return labels


class Dedup:
    """Keeps the first row of each key; an identical later row merges, a different one rejects both."""

    def __init__(self, sink: ProblemSink, column: str, field_labels: Sequence[str]) -> None:
        self.sink, self.column, self.field_labels = sink, column, field_labels
        self.seen: dict[Hashable, tuple[int, tuple]] = {}

    def offer(self, key: Hashable, row: int, record: tuple, shown_key: str) -> None:
        prior = self.seen.setdefault(key, (row, record))
        if prior[0] == row or prior[1] == record:
            return
        fields = ", ".join(label for label, a, b in zip(self.field_labels, prior[1], record, strict=True) if a != b)
        self.sink.add(row, self.column, "duplicate_disagrees", key=shown_key, other=prior[0], fields=fields)
        self.sink.add(prior[0], self.column, "duplicate_disagrees", key=shown_key, other=row, fields=fields)

    def accepted(self, error_rows: set[int]) -> list[tuple]:
        return [record for row, record in self.seen.values() if row not in error_rows]
