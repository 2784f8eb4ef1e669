"""Reading .xlsx, .xls and .csv files into numbered rows of cells, whatever their encoding.

Excel files are read with python-calamine (fast, and it keeps a text cell as text: only a cell Excel itself
stored as a number arrives as a float). CSV files are UTF-8, UTF-8 with BOM or GBK/GB18030 in practice; the
encoding is detected, never asked for: strict UTF-8 first (a GBK file almost never decodes as UTF-8), then
GB18030 (a superset of GBK and GB2312), and charset-normalizer's best guess for anything else.
"""
from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from importers.read_error import ReadError

if TYPE_CHECKING:
    from importers.workbook_guard import SheetLimits

Cell = str | float | int | bool | date | datetime | None

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
CHUNK_BYTES = 1 << 20
DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class Source:
    """An opened import file: where it is, how to decode it, which sheet."""

    path: Path
    format: str  # "csv" or "excel"
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None
    # What reading found out on the way (the sheet's height, once loaded); not part of the identity.
    found: dict[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return self.path.name


def open_source(path: str | Path, sheet: str | None = None, limits: SheetLimits | None = None) -> Source:
    """Identify the file's format (and encoding and delimiter, or sheet); ReadError when it cannot be read. A
    workbook is checked against `limits` (importers.workbook_guard) before calamine opens it."""
    from importers.workbook_guard import SheetLimits, check_workbook

    path = Path(path)
    if not path.is_file():
        raise ReadError("file_missing")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        check_workbook(path, limits or SheetLimits())
        return Source(path, "excel", sheet=_sheet_name(path, sheet))
    if suffix in CSV_SUFFIXES:
        encoding = detect_encoding(path)
        return Source(path, "csv", encoding, _delimiter(path, encoding))
    raise ReadError("file_type", suffix=suffix or "(no suffix)")


def rows(source: Source) -> Iterator[tuple[int, list[Cell]]]:
    """(row number as the operator sees it, cells) for every row; empty cells are None, text is stripped."""
    if source.format == "csv":
        return _csv_rows(source)
    return _excel_rows(source)


def row_estimate(source: Source) -> int | None:
    """About how many rows the file has, for a progress bar: a worksheet's height (known once it is read), or
    a CSV file's line count (a quoted cell with a line break in it counts one too many)."""
    if source.format == "excel":
        return source.found.get("height")
    count = 0
    with open(source.path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            count += chunk.count(b"\n")
    return count


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        if _decodes_as(path, encoding):
            return encoding
    return _guessed_encoding(path)


def _decodes_as(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _guessed_encoding(path: Path) -> str:
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None:
        raise ReadError("encoding")
    return best.encoding


def _delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as fh:
        sample = [line for _, line in zip(range(20), fh, strict=False)]
    counts = {d: sum(line.count(d) for line in sample) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(source: Source) -> Iterator[tuple[int, list[Cell]]]:
    try:
        with open(source.path, encoding=source.encoding, newline="") as fh:
            for number, record in enumerate(csv.reader(fh, delimiter=source.delimiter), start=1):
                # The apostrophe rule looked at only where one may apply: a million rows have ten million cells.
                if "'" in "".join(record):
                    yield number, [_csv_cell(value) for value in record]
                else:
                    yield number, [value.strip() or None for value in record]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ReadError("file_unreadable", detail=str(exc)) from None


def _csv_cell(value: str) -> Cell:
    """A CSV cell, stripped; the apostrophe our CSV files put before formula-like text ('-300, '=…: the rejects
    file, the reports) is taken off again, so a fixed rejects file imports as it was."""
    value = value.strip()
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
        value = value[1:]
    return value or None


def _workbook(path: Path):
    from python_calamine import load_workbook

    try:
        return load_workbook(str(path))
    except Exception:  # calamine raises its own error types for zip, xml and format problems: none tells an
        # operator what to do, so the message says it (the file is another kind renamed, or damaged)
        raise ReadError("not_a_workbook", suffix=path.suffix) from None


def sheet_names(path: Path) -> list[str]:
    """A workbook's visible sheets, in order."""
    workbook = _workbook(path)
    visible = [m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible")]
    return visible or workbook.sheet_names


def _sheet_name(path: Path, wanted: str | None) -> str:
    workbook = _workbook(path)
    names = workbook.sheet_names
    if wanted is not None:
        if wanted not in names:
            raise ReadError("sheet_missing", sheet=wanted, sheets=", ".join(names))
        return wanted
    visible = [m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible")]
    if not names:
        raise ReadError("empty_file")
    return (visible or names)[0]


def _excel_rows(source: Source) -> Iterator[tuple[int, list[Cell]]]:
    sheet = _workbook(source.path).get_sheet_by_name(source.sheet)
    source.found["height"] = sheet.height
    # calamine starts at the first used cell; keep the operator's row numbers.
    first_row = (sheet.start or (0, 0))[0] + 1
    for number, record in enumerate(sheet.iter_rows(), start=first_row):
        yield number, [(value.strip() or None) if value.__class__ is str else _excel_cell(value) for value in record]


def _excel_cell(value: object) -> Cell:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, (float, int, bool, date, datetime)):
        return value
    return str(value)  # time and timedelta cells: shown as written
