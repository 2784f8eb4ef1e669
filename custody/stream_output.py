"""Rows written as they come, block by block, for lists too long to hold (`custody patent list` over a million
patents): CSV (formula-like text neutralised, as in the reports), JSON (one array, written item by item) or an
aligned plain table whose widths come from the headings and the first block (a later, wider cell pushes only its
own line).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterable, Sequence
from typing import IO, Any

from custody.export import CONTROL_STARTS, FORMULA_STARTS, display_width, neutralised
from custody.i18n import tr

# What a cell that may be read as a formula starts with: a formula sign or a control character (or white space
# before one, which is checked apart).
RISKY = frozenset((*CONTROL_STARTS, *FORMULA_STARTS))


def write_stream(blocks: Iterable[list[Sequence[Any]]], columns: Sequence[tuple[str, str]], fmt: str,
                 out: IO[str], title: str | None = None, free_text: Collection[str] = (), width: int | None = None,
                 droppable: Sequence[str] = ()) -> int:
    """Write every block's rows (sequences in `columns` order) in `fmt` (table, csv or json); returns how many
    rows were written. `free_text`: the keys whose text comes from a file or a person (CSV neutralises those).
    A table wider than `width` leaves out the `droppable` keys in their order (a note names them), and when even
    that does not fit prints each row as a record: an amount or a date is never cut."""
    writer: _Csv | _Json | _Table
    if fmt == "csv":
        writer = _Csv(out, columns, [i for i, (k, _) in enumerate(columns) if k in free_text])
    else:
        writer = _Json(out, columns) if fmt == "json" else _Table(out, columns, title, width, droppable)
    count = 0
    for block in blocks:
        writer.rows(block)
        count += len(block)
        out.flush()
    writer.close(count)
    return count


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class _Csv:
    def __init__(self, out: IO[str], columns: Sequence[tuple[str, str]], free: list[int]) -> None:
        self.writer, self.free = csv.writer(out), free
        self.writer.writerow([k for k, _ in columns])

    def rows(self, rows: list[Sequence[Any]]) -> None:
        if self.free:  # only the free-text columns can hold a formula; the others are ours (numbers, words)
            rows = list(rows)
            for n, row in enumerate(rows):
                for i in self.free:
                    text = row[i]
                    if text.__class__ is str and text and (text[0] in RISKY or text[0].isspace()):
                        row = rows[n] = [*row[:i], neutralised(text), *row[i + 1:]]
        self.writer.writerows(rows)  # csv writes None as an empty cell

    def close(self, count: int) -> None:
        pass


class _Json:
    def __init__(self, out: IO[str], columns: Sequence[tuple[str, str]]) -> None:
        self.out, self.keys, self.first = out, [k for k, _ in columns], True
        out.write("[")

    def rows(self, rows: list[Sequence[Any]]) -> None:
        for row in rows:
            self.out.write(("\n  " if self.first else ",\n  ")
                           + json.dumps(dict(zip(self.keys, row, strict=True)), ensure_ascii=False, default=str))
            self.first = False

    def close(self, count: int) -> None:
        self.out.write("\n]\n" if count else "]\n")


class _Table:
    def __init__(self, out: IO[str], columns: Sequence[tuple[str, str]], title: str | None,
                 width: int | None = None, droppable: Sequence[str] = ()) -> None:
        self.out, self.headings, self.title = out, [h for _, h in columns], title
        self.keys, self.width, self.droppable = [k for k, _ in columns], width, droppable
        self.widths: list[int] | None = None  # from the headings and the first block
        self.shown: list[int] = list(range(len(columns)))
        self.records = False

    def rows(self, rows: list[Sequence[Any]]) -> None:
        cells = [[_text(v) for v in row] for row in rows]
        if self.widths is None:
            self._start(cells)
        if self.records:
            self.out.write("".join(self._record(row) for row in cells))
            return
        self.out.write("".join(self._line([row[i] for i in self.shown]) + "\n" for row in cells))

    def _start(self, cells: list[list[str]]) -> None:
        full = [max([display_width(h)] + [display_width(row[i]) for row in cells]) for i, h in enumerate(self.headings)]
        left_out = self._fit(full)
        self.widths = [full[i] for i in self.shown]
        if self.title:
            self.out.write(self.title + "\n")
        if left_out:
            note = tr("(left out to fit {width} columns: {names}; --format csv shows every column)",
                      width=self.width, names=tr(", ").join(left_out))
            self.out.write("\n".join(_folded(note, self.width or 0)) + "\n")
        if self.records:
            return
        self.out.write(self._line([self.headings[i] for i in self.shown]) + "\n")
        self.out.write(self._line(["-" * w for w in self.widths]) + "\n")

    def _fit(self, full: list[int]) -> list[str]:
        """Leave out droppable columns until the table fits; records when it never does. Returns the headings
        left out."""
        if self.width is None:
            return []
        left_out = []
        for key in self.droppable:
            if _table_width([full[i] for i in self.shown]) <= self.width:
                break
            index = self.keys.index(key)
            self.shown.remove(index)
            left_out.append(self.headings[index])
        if _table_width([full[i] for i in self.shown]) > self.width:
            self.records, self.shown = True, list(range(len(self.keys)))
            return []
        return left_out

    def _record(self, row: list[str]) -> str:
        label_width = max(display_width(h) for h in self.headings) + 2
        room = max(10, (self.width or 0) - label_width)
        lines = []
        for heading, cell in zip(self.headings, row, strict=True):
            for n, part in enumerate(_folded(cell, room) if cell else ()):
                lines.append((heading if n == 0 else "").ljust(label_width - display_width(heading) + len(heading)
                                                                if n == 0 else label_width) + part)
        return "\n".join(lines) + "\n\n"

    def _line(self, cells: Sequence[str]) -> str:
        assert self.widths is not None  # _start sets them before the first line
        pairs = zip(cells, self.widths, strict=True)
        return "  ".join(c + " " * max(0, w - display_width(c)) for c, w in pairs).rstrip()

    def close(self, count: int) -> None:
        if self.widths is None:
            self._start([])


def _folded(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` display columns (a record's long title, a note); never cut, only folded."""
    if width <= 0 or display_width(text) <= width:
        return [text]
    lines, line = [], ""
    for char in text:
        if display_width(line + char) > width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line]


def _table_width(widths: list[int]) -> int:
    return sum(widths) + 2 * max(0, len(widths) - 1)
