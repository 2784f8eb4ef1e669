"""A workbook checked before any reader touches it: nothing in a file may take the process down.

python-calamine builds a sheet as one dense rectangle from its first used cell to its last: one cell at XFD1048576
asks for seventeen billion cells and the process aborts (a Rust panic, SIGABRT), and a small zip that inflates to
gigabytes exhausts memory. So, before calamine (or openpyxl) opens an .xlsx/.xlsm:

- the zip's members: their total inflated size and each one's inflation ratio, as the archive declares them;
- every worksheet's declared size (`<dimension ref="A1:XFD1048576">`) and its actual extent, from the position of
  every cell, read from the XML as it streams (numpy over the bytes: about as fast as inflating it). A sheet whose
  cells do not all lead with their position (`<c r="B7"`), as Excel and openpyxl write them, is walked with expat.

A breach is a ReadError naming the sheet and the limit ([import] in config.toml). An .xls (BIFF) sheet is bounded
by its format (65,536 rows x 256 columns); only its file size is checked.
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np

from importers.read_error import ReadError

MB = 1 << 20
CHUNK = 4 * MB
SMALL_MEMBER = MB  # ratios of members smaller than this are not judged: tiny XML files compress very well
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_LEADING_R = np.frombuffer(b' r="', dtype=np.uint8)
_IS_TAG_END = np.zeros(256, dtype=bool)
_IS_TAG_END[list(b" \t\r\n>/")] = True
_WINDOW = np.arange(11)  # the longest reference, XFD1048576, and its closing quote


@dataclass(frozen=True)
class SheetLimits:
    max_rows: int = 1_048_576
    max_columns: int = 256
    max_cells: int = 30_000_000
    max_unzipped_bytes: int = 2048 * MB
    max_zip_ratio: float = 200.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> SheetLimits:
        """From [import] (custody.config_schema.Import); missing keys keep the defaults."""
        default = cls()
        return cls(int(section.get("max_sheet_rows", default.max_rows)),
                   int(section.get("max_sheet_columns", default.max_columns)),
                   int(section.get("max_sheet_cells", default.max_cells)),
                   int(float(section.get("max_unzipped_mb", default.max_unzipped_bytes / MB)) * MB),
                   float(section.get("max_zip_ratio", default.max_zip_ratio)))


@dataclass(frozen=True)
class Extent:
    first_row: int
    last_row: int
    first_column: int
    last_column: int

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1

    @property
    def columns(self) -> int:
        return self.last_column - self.first_column + 1


def check_workbook(path: Path, limits: SheetLimits) -> None:
    """ReadError when the workbook at `path` is over a limit; a file that is not a zip is left to the reader."""
    if path.suffix.lower() == ".xls":
        if path.stat().st_size > limits.max_unzipped_bytes:
            raise ReadError("workbook_too_big", size=_mb(path.stat().st_size), limit=_mb(limits.max_unzipped_bytes))
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:  # an .xlsx is a zip: this one is another file renamed, or damaged
        raise ReadError("not_a_workbook", suffix=path.suffix) from None
    except OSError:
        return  # the reader says it cannot read it
    with archive:
        _check_members(archive.infolist(), limits)
        for name, member in _worksheets(archive).items():
            _check_sheet(archive, member, name, limits)


def _check_members(members: list[zipfile.ZipInfo], limits: SheetLimits) -> None:
    total = sum(m.file_size for m in members)
    if total > limits.max_unzipped_bytes:
        raise ReadError("workbook_too_big", size=_mb(total), limit=_mb(limits.max_unzipped_bytes))
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > SMALL_MEMBER and ratio > limits.max_zip_ratio:
            raise ReadError("workbook_zip_ratio", member=member.filename, size=_mb(member.file_size),
                            ratio=f"{ratio:.0f}", limit=f"{limits.max_zip_ratio:g}")


def _mb(size: int) -> str:
    return f"{size / MB:,.0f} MB"


def _worksheets(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> member (xl/worksheets/sheet1.xml); members the workbook does not name keep their own name."""
    members = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    named: dict[str, str] = {}
    try:
        ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
              "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
        targets = {rel.get("Id"): rel.get("Target", "").lstrip("/").removeprefix("xl/")
                   for rel in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
        for sheet in ElementTree.fromstring(archive.read("xl/workbook.xml")).iterfind("m:sheets/m:sheet", ns):
            target = targets.get(sheet.get(f"{{{ns['r']}}}id"))
            if target and f"xl/{target}" in members:
                named[sheet.get("name", target)] = f"xl/{target}"
    except (KeyError, ElementTree.ParseError):
        pass
    return {**{m: m for m in members if m not in named.values()}, **named}


def _check_sheet(archive: zipfile.ZipFile, member: str, name: str, limits: SheetLimits) -> None:
    with archive.open(member) as stream:
        head = stream.read(64 * 1024)
    declared = _DIMENSION.search(head)
    if declared:
        first, last = (declared[1], declared[2]), (declared[3] or declared[1], declared[4] or declared[2])
        _within(Extent(int(first[1]), int(last[1]), column_number(first[0]), column_number(last[0])),
                name, "declared", limits)
    actual = sheet_extent(archive, member)
    if actual is not None:
        _within(actual, name, "actual", limits)


def _within(extent: Extent, sheet: str, which: str, limits: SheetLimits) -> None:
    code, size = f"sheet_too_big_{which}", {"sheet": sheet, "rows": f"{extent.rows:,}",
                                            "columns": f"{extent.columns:,}"}
    if extent.rows > limits.max_rows:
        raise ReadError(code, **size, limit=f"max_sheet_rows = {limits.max_rows:,}")
    if extent.columns > limits.max_columns:
        raise ReadError(code, **size, limit=f"max_sheet_columns = {limits.max_columns:,}")
    if extent.rows * extent.columns > limits.max_cells:
        raise ReadError(code, **size, limit=f"max_sheet_cells = {limits.max_cells:,}")


def column_number(letters: bytes | str) -> int:
    """'A' -> 1, 'XFD' -> 16384."""
    number = 0
    for letter in letters.encode() if isinstance(letters, str) else letters:
        number = number * 26 + letter - 64
    return number


def sheet_extent(archive: zipfile.ZipFile, member: str) -> Extent | None:
    """The rectangle a reader builds for the sheet (first to last used cell); None for a sheet with no cell."""
    found = [e for e in (_chunk_extent(c) for c in _tag_chunks(archive, member)) if e is not None]
    if found and all(isinstance(e, Extent) for e in found):
        return Extent(min(e.first_row for e in found), max(e.last_row for e in found),
                      min(e.first_column for e in found), max(e.last_column for e in found))
    return _walked_extent(archive, member) if found else None


def _tag_chunks(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The member's XML in pieces that never cut a tag (each ends before its last '<')."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            data = tail + chunk
            cut = data.rfind(b"<")
            data, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            yield data
    if tail:
        yield tail


def _chunk_extent(data: bytes) -> Extent | bool | None:
    """The extent of the cells in `data`; None when it has none; False when some cell has no plain A1 position
    (then the sheet is walked with expat)."""
    if b":c " in data or b":c>" in data:  # cells under a namespace prefix (<x:c r=...>): expat reads those
        return False
    raw = np.frombuffer(data + b"\0\0", dtype=np.uint8)
    starts = np.flatnonzero((raw[:-2] == ord("<")) & (raw[1:-1] == ord("c")))
    cells = starts[_IS_TAG_END[raw[starts + 2]]]
    if not len(cells):
        return None
    positions = _leading_positions(raw, cells) if len(raw) > cells[-1] + 6 else None
    if positions is None:  # an attribute before r="...": find each cell's r="..." wherever it stands
        opens = np.flatnonzero(raw == ord("<"))
        hits = np.flatnonzero((raw[:-3] == ord(" ")) & (raw[1:-2] == ord("r")) & (raw[2:-1] == ord("="))
                              & (raw[3:] == ord('"')))
        owner = opens[np.searchsorted(opens, hits) - 1]  # the tag each attribute stands in
        positions = hits[np.isin(owner, cells, assume_unique=True)] + 4
        if len(positions) != len(cells):
            return False
    padded = np.concatenate([raw, np.zeros(len(_WINDOW), np.uint8)])
    return _refs_extent(padded[positions[:, None] + _WINDOW].astype(np.int32))


def _leading_positions(raw: np.ndarray, cells: np.ndarray) -> np.ndarray | None:
    """Where each cell's reference starts when every cell leads with it (`<c r="`, as Excel and openpyxl write):
    the common case, read without scanning the whole chunk again; else None."""
    if not (raw[cells[:, None] + np.arange(2, 6)] == _LEADING_R).all():
        return None
    return cells + 6


def _refs_extent(window: np.ndarray) -> Extent | bool:
    """From windows each starting at a cell reference (`XFD1048576"`): the rows' and columns' span. False when a
    reference is not 1-3 letters, 1-7 digits and a quote."""
    letter = (window >= 65) & (window <= 90)
    digit = (window >= 48) & (window <= 57)
    n_letters = 1 + letter[:, 1] + (letter[:, 1] & letter[:, 2])
    quote = np.argmax(window == 34, axis=1)
    place = np.arange(window.shape[1])
    inside = (place >= n_letters[:, None]) & (place < quote[:, None])
    n_digits = quote - n_letters
    if not (letter[:, 0].all() and ((n_digits >= 1) & (n_digits <= 7)).all() and (digit | ~inside).all()):
        return False
    values = window - 48
    row = np.zeros(len(window), np.int64)
    for k in range(1, window.shape[1]):
        row = np.where(inside[:, k], row * 10 + values[:, k], row)
    letters = window - 64
    column = np.select([n_letters == 1, n_letters == 2],
                       [letters[:, 0], letters[:, 0] * 26 + letters[:, 1]],
                       letters[:, 0] * 676 + letters[:, 1] * 26 + letters[:, 2])
    return Extent(int(row.min()), int(row.max()), int(column.min()), int(column.max()))


def _walked_extent(archive: zipfile.ZipFile, member: str) -> Extent | None:
    """The exact extent by the rules readers follow: a cell's own `r`, else the one after the previous cell in
    its row (`<row r=...>`, else the row after the previous one)."""
    state = {"row": 0, "column": 0, "rows": [], "columns": []}

    def start(tag: str, attributes: dict[str, str]) -> None:
        tag = tag.rsplit("}", 1)[-1]
        if tag == "row":
            state["row"] = int(attributes.get("r", state["row"] + 1))
            state["column"] = 0
        elif tag == "c":
            ref = re.fullmatch(r"([A-Z]{1,3})(\d{1,7})", attributes.get("r", ""))
            row, column = (int(ref[2]), column_number(ref[1])) if ref else (state["row"], state["column"] + 1)
            state["column"] = column
            for key, value in (("rows", row), ("columns", column)):
                low, high = state[key] or [value, value]
                state[key] = [min(low, value), max(high, value)]

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    try:
        with archive.open(member) as stream:
            parser.ParseFile(stream)
    except expat.ExpatError as exc:
        raise ReadError("file_unreadable", detail=f"{member}: {exc}") from None
    if not state["rows"]:
        return None
    return Extent(state["rows"][0], state["rows"][1], state["columns"][0], state["columns"][1])
