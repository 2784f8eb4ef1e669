"""The rejects file of a --partial import: the rejected rows as they were, with their errors in an added column.

Written as CSV in UTF-8 with a BOM (Excel opens it with the Chinese intact). The error column's header is not
an import column, so once the rows are fixed the same file imports as it is (the column is ignored). The file is
opened in Excel to fix the rows, so every cell is neutralised as in the reports (custody.export): a cell that
would read as a formula (=HYPERLINK(…), +, -, @) gets a leading apostrophe and stays text.
"""
from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from custody.export import neutralised
from importers.files import ImportFile
from importers.problems import rows_messages
from importers.readers import Cell, rows
from importers.values import shown

ERROR_COLUMN = {"zh": "错误", "en": "errors"}


def default_rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def _cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    return shown(cell)


def write_rejects(parsed: ImportFile, out: Path, language: str) -> int:
    """Write the rejected rows of `parsed` to `out`; returns how many were written."""
    messages = rows_messages(parsed.sink.problems, language)
    header = parsed.header
    assert header is not None and parsed.source is not None  # only a file whose header was found has row rejects
    written = 0
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([neutralised(c) for c in [*header.cells, ERROR_COLUMN.get(language, "errors")]])
        width = len(header.cells)
        for number, cells in rows(parsed.source):
            if number in messages and number > header.row:
                padded = [*(_cell(c) for c in cells), *[""] * (width - len(cells))][:max(width, len(cells))]
                writer.writerow([neutralised(c) for c in [*padded[:width], "; ".join(messages[number])]])
                written += 1
    return written
