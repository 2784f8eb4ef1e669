"""Finding the header row (below any merged title rows and notes) and what each column means.

The header is the row, among the first few, whose cells name the most known columns; it must name every
required one. A file whose columns cannot be identified unambiguously (a required one missing, two columns
meaning the same thing) is refused as a whole, never guessed at.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from custody.dates import DateParseError, parse_date
from importers.columns import IGNORE, KINDS, Profile, alias_table, header_key
from importers.problems import NOTE, WARNING, ProblemSink
from importers.readers import Cell

SCAN_ROWS = 30
TWINNED = "application_number"  # the one field several columns may name, if they agree on every row
# Rows that only total the table up (合计 12 件, 小计, Total): skipped with a note, in the key column or with the
# key column empty.
TOTAL_WORDS = ("合计", "总计", "小计", "total")
# Columns that are never data: row numbers, and the error column of a rejects file being re-imported.
SILENT_COLUMNS = frozenset({"序号", "编号", "行号", "no", "no.", "#", "错误", "errors"})
_DATE_IN_TEXT = re.compile(r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)")

Rows = Iterator[tuple[int, list[Cell]]]


@dataclass(frozen=True)
class Header:
    row: int
    index: dict[str, int]  # field -> column position
    labels: dict[str, str]  # field -> the header text as written in the file
    cells: list[str]  # the whole header row as text (the rejects file repeats it)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # text above the header: titles, "截至…" notes
    # Further columns naming the application number (申请号 beside 专利号): read only to check they agree.
    twins: tuple[int, ...] = ()

    def label(self, field_name: str) -> str:
        return self.labels.get(field_name, field_name)

    @property
    def file_date(self) -> date | None:
        """A date written in a title or note above the header (导出日期 2024-05-01, 截至2024年5月1日)."""
        for note in self.notes:
            for text in _DATE_IN_TEXT.findall(note):
                try:
                    return parse_date(text)
                except DateParseError:
                    continue
        return None


def _text(cell: Cell) -> str:
    return "" if cell is None else str(cell).strip()


def _matches(cells: list[Cell], aliases: dict[str, str]) -> dict[str, list[int]]:
    """Field -> the positions of the columns that name it (IGNORE: columns a profile says to leave out)."""
    found: dict[str, list[int]] = {}
    for position, cell in enumerate(cells):
        field_name = aliases.get(header_key(cell)) if cell is not None else None
        if field_name:
            found.setdefault(field_name, []).append(position)
    return found


def _score(cells: list[Cell], aliases: dict[str, str]) -> int:
    return len(set(_matches(cells, aliases)) - {IGNORE})


def find_header(rows: Rows, kind: str, sink: ProblemSink, profile: Profile | None = None) -> tuple[Header, Rows] | None:
    """The header and the data rows after it, or None with the reason in `sink` (a file-level error)."""
    aliases = alias_table(kind, profile)
    scan = (profile.header_row if profile and profile.header_row else SCAN_ROWS)
    buffered = list(itertools.islice(rows, scan))
    if not buffered:
        sink.add(None, None, "empty_file")
        return None
    candidates = buffered[-1:] if profile and profile.header_row else buffered
    scored = [(_score(cells, aliases), i) for i, (_, cells) in enumerate(candidates)]
    best_score, best = max(scored, key=lambda s: (s[0], -s[1]))
    if best_score == 0:
        expected = ", ".join(c.zh for c in KINDS[kind] if c.required)
        sink.add(None, None, "no_header", scan=len(buffered), expected=expected)
        return None
    offset = len(buffered) - len(candidates)
    number, cells = candidates[best]
    header = _header(number, cells, aliases, kind, sink, [_note(c) for _, c in buffered[: offset + best]])
    if header is None:
        return None
    rest = itertools.chain(buffered[offset + best + 1:], rows)
    return header, _data_rows(rest, header, sink)


def _note(cells: list[Cell]) -> str:
    return " ".join(_text(c) for c in cells if c is not None)


def _header(number: int, cells: list[Cell], aliases: dict[str, str], kind: str, sink: ProblemSink,
            notes: list[str]) -> Header | None:
    found = _matches(cells, aliases)
    left_out = set(found.pop(IGNORE, []))
    texts = [_text(c) for c in cells]
    columns = {c.field: c for c in KINDS[kind]}
    # 申请号 and 专利号 side by side is the commonest export of all: one key, the others checked row by row.
    twins = tuple(found.get(TWINNED, [])[1:])
    if twins:
        found[TWINNED] = found[TWINNED][:1]
    for field_name, positions in found.items():
        if len(positions) > 1:
            sink.add(None, None, "ambiguous_columns", columns=", ".join(texts[p] for p in positions),
                     field=columns[field_name].label, example=texts[positions[-1]])
    missing = [c.label for c in KINDS[kind] if c.required and c.field not in found]
    if missing:
        sink.add(None, None, "missing_columns", missing=", ".join(missing), header_row=number,
                 found=", ".join(t for t in texts if t))
    if missing or any(len(p) > 1 for p in found.values()):
        return None
    index = {f: p[0] for f, p in found.items()}
    used = set(index.values()) | left_out | set(twins)
    ignored = [t for i, t in enumerate(texts) if t and i not in used and header_key(t) not in SILENT_COLUMNS]
    if ignored:
        sink.add(number, None, "ignored_columns", WARNING, columns=", ".join(ignored))
    return Header(number, index, {f: texts[p] for f, p in index.items()}, texts, ignored, notes, twins)


def _canonical(cell: Cell) -> str | None:
    """An application number as one spelling (ZL prefix, dots and check characters told apart), or the text."""
    from custody.appno import InvalidApplicationNumber, parse_application_number

    text = _text(cell)
    if not text:
        return None
    try:
        return str(parse_application_number(text))
    except InvalidApplicationNumber:
        return text.upper()


def _check_twins(number: int, cells: list[Cell], key: int | None, header: Header, sink: ProblemSink) -> None:
    """Each further application-number column must say what the key column says (an empty cell says nothing)."""
    mine = _canonical(cells[key]) if key is not None and key < len(cells) else None
    for position in header.twins:
        other = _canonical(cells[position]) if position < len(cells) else None
        if mine is not None and other is not None and other != mine:
            sink.add(number, header.cells[position], "twin_columns_disagree", key_column=header.cells[key],
                     value=_text(cells[key]), other_column=header.cells[position], other=_text(cells[position]))


def _data_rows(rows: Rows, header: Header, sink: ProblemSink) -> Rows:
    """The data rows, each made one cell longer than the header with a None at the end, so every field has its
    position and a field the file lacks can point at that last cell (importers.patents_fast reads a row with one
    itemgetter); cells past the header are nobody's and dropped. Empty rows and totals rows are left out, the
    totals with a note."""
    key = header.index.get("application_number", header.index.get("credit_code"))
    width = len(header.cells)
    for number, cells in rows:
        key_cell = cells[key] if key is not None and key < len(cells) else None
        if key_cell is None and all(c is None for c in cells):
            continue
        # The cheap test first: an application number or a credit code starts with a digit.
        if (key_cell is None or key_cell.__class__ is not str or not key_cell[:1].isdigit()) and (
                _is_total(key_cell) or (key_cell is None and any(_is_total(c) for c in cells))):
            sink.add(number, None, "total_row_skipped", NOTE, text=" ".join(_text(c) for c in cells if c is not None))
            continue
        if header.twins:
            _check_twins(number, cells, key, header, sink)
        size = len(cells)
        if size == width:
            cells.append(None)
        elif size < width:
            cells.extend([None] * (width + 1 - size))
        else:
            cells = [*cells[:width], None]
        yield number, cells


def _is_total(cell: Cell) -> bool:
    if not isinstance(cell, str):
        return False
    text = cell.lower()
    return any(word in text for word in TOTAL_WORDS)
