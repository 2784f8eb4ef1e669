"""Terminal tables that fit the width they are given: an amount, a date or a number is never cut.

A column is *whole* (an amount, a date, a number, an application number or credit code: read out or copied, so
shown entire on one line) or *text* (a name, a title, a note: wrapped, or folded when a word is too long). When
the whole columns and the text columns at their narrowest do not fit, text columns are left out from the right,
the least needed first, and a note names them; when that would leave out more than half the columns (or the
whole columns alone do not fit), each row is printed as a record, one `heading: value` line per cell.

The width is $COLUMNS when set (how the tests and `make demo` choose it), else the terminal's, else 80. Kept
outside custody/ (issue 12: rich stays out of the core); cli.py is its only user.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from custody.export import display_width
from custody.i18n import cell_label, tr

WHOLE_KINDS = frozenset({"date", "money", "int", "rate", "number", "whole"})
WHOLE_KEYS = frozenset({"application_number", "credit_code", "enterprise_code", "patent", "id"})
TEXT_MIN = 8  # a text column narrower than this is unreadable: it is left out instead
HEADING_MIN = 6  # a whole column's heading folds to its cells' width, but not below this
DEFAULT_WIDTH = 80


@dataclass(frozen=True)
class Col:
    key: str
    heading: str
    kind: str = "text"  # one of WHOLE_KINDS, "text", or "main" (text that says what the table is for)
    domain: str | None = None  # an enumerated value: shown as its word (custody.i18n.cell_label)

    @property
    def whole(self) -> bool:
        return self.kind in WHOLE_KINDS or self.key in WHOLE_KEYS


def terminal_width() -> int:
    """$COLUMNS, else the terminal's width, else 80."""
    given = os.environ.get("COLUMNS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def _widest(texts: Sequence[str]) -> int:
    return max((display_width(t) for t in texts), default=0)


def _needed(cols: Sequence[Col], cells: dict[str, list[str]], fold_headings: bool = True) -> list[int]:
    """Each column's narrowest width: a whole column its widest cell (its heading whole, or folded when
    `fold_headings`), a text column TEXT_MIN (or its widest cell or heading when narrower)."""
    widths = []
    for c in cols:
        cell, heading = _widest(cells[c.key]), display_width(c.heading)
        if c.whole:
            widths.append(max(cell, heading if not fold_headings else min(heading, max(cell, HEADING_MIN)), 1))
        else:
            widths.append(max(1, min(TEXT_MIN, max(cell, heading))))
    return widths


def _whole_widths(cols: Sequence[Col], cells: dict[str, list[str]], width: int) -> list[int]:
    """The widths to give: headings whole when that fits, else folded to their cells' width."""
    unfolded = _needed(cols, cells, fold_headings=False)
    return unfolded if _table_width(unfolded) <= width else _needed(cols, cells)


def _table_width(widths: Sequence[int]) -> int:
    """rich's box table: a border, then each column with one space each side and a border after it."""
    return 1 + sum(w + 3 for w in widths)


def fitted(cols: Sequence[Col], cells: dict[str, list[str]], width: int) -> tuple[list[Col], list[Col]] | None:
    """(columns shown, columns left out) for a table of `width`, or None when a record list reads better."""
    shown = list(cols)
    left_out: list[Col] = []
    droppable = drop_order(cols, cells)
    while _table_width(_needed(shown, cells)) > width:
        if not droppable or len(left_out) + 1 > len(cols) // 2:
            return None
        gone = droppable.pop(0)
        shown.remove(gone)
        left_out.append(gone)
    return shown, left_out


def drop_order(cols: Sequence[Col], cells: dict[str, list[str]]) -> list[Col]:
    """The columns a narrow table leaves out, first to last: those empty in every row (nothing is lost), then long
    text (notes, decisions, names) from the right, then short words (a type, a state) from the right, and the
    first text column (the name that says what a row is) last. Amounts, dates and numbers are never left out:
    below that the rows become records."""
    empty = [c for c in reversed(cols) if not any(cells[c.key])]
    texts = [c for c in cols if not c.whole and c not in empty]
    main = [c for c in texts if c.kind == "main"]  # what the table is for (a dry run's outcome): kept longest
    rest = [c for c in reversed(texts[1:]) if c not in main]
    long = [c for c in rest if _widest(cells[c.key]) > TEXT_MIN]
    short = [c for c in rest if c not in long]
    return empty + long + short + [c for c in texts[:1] if c not in main] + main


def print_table(cols: Sequence[Col], rows: Sequence[dict[str, str]], title: str | None = None,
                width: int | None = None, console: Console | None = None) -> None:
    """`rows` (each a dict of texts by key) as a table of at most `width` characters, or as records."""
    width = width or terminal_width()
    console = console or Console(highlight=False, width=width)
    cells = {c.key: [_word(c, r.get(c.key)) for r in rows] for c in cols}
    if not rows:  # a table of headings alone says less than a word, and may not fit
        if title:
            console.print(Text(title))
        console.print(Text(tr("(none)")))
        return
    fit = fitted(cols, cells, width)
    if fit is None:
        print_records(console, cols, rows, title)
        return
    shown, left_out = fit
    _table(console, shown, cells, rows, title, _whole_widths(shown, cells, width))
    if left_out:
        console.print(Text(tr("(columns left out to fit {width} characters: {names}; --format csv shows every "
                              "column)", width=width, names="、".join(c.heading for c in left_out))))


def _word(col: Col, text: str | None) -> str:
    return cell_label(col.domain, text) if col.domain and text else (text or "")


def _table(console: Console, cols: Sequence[Col], cells: dict[str, list[str]], rows: Sequence[dict[str, str]],
           title: str | None, widths: list[int]) -> None:
    table = Table(title=title)
    for c, need in zip(cols, widths, strict=True):
        if c.whole:  # fixed at its widest cell: never cut; its heading folds to that width
            table.add_column(c.heading, width=need, no_wrap=False, overflow="fold")
        else:
            table.add_column(c.heading, min_width=need, overflow="fold")
    for i in range(len(rows)):
        table.add_row(*[Text(cells[c.key][i]) for c in cols])
    console.print(table)


def print_records(console: Console, cols: Sequence[Col], rows: Sequence[dict[str, str]],
                  title: str | None = None) -> None:
    """Each row as `heading: value` lines (values whole, whatever the width), rows numbered."""
    if title:
        console.print(Text(title))
    label_width = max(display_width(c.heading) for c in cols)
    for n, row in enumerate(rows, start=1):
        console.print(Text(f"── {n} ──"))
        for c in cols:
            value = _word(c, row.get(c.key))
            if value:
                pad = " " * (label_width - display_width(c.heading))
                console.print(Text(f"{c.heading}{pad}  {value}"), soft_wrap=True)
