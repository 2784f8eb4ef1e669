"""Legal-status export files (CSV or XLSX) read into `StatusRecord`s, with every unreadable cell as a problem.

The columns are declared as data with the header wordings CNIPA exports and commercial databases use. A file
whose header cannot be identified unambiguously is refused as a whole. The reader never writes anything:
`custody.store.status.ingest` applies a batch, all or nothing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from custody.appno import InvalidApplicationNumber, parse_application_number
from custody.dates import DateParseError, parse_date
from custody.i18n import current_language, tr
from custody.status_vocab import (
    STATUS_FILE_SUFFIXES,
    SourceProblem,
    StatusBatch,
    StatusRecord,
    StatusSourceError,
    compact,
)
from importers.messages import render_message
from importers.readers import ReadError, open_source
from importers.readers import rows as read_rows
from importers.values import CellProblem, one_line

# field -> header wordings (compared after NFKC, whitespace removed, lower case)
COLUMNS: dict[str, tuple[str, ...]] = {
    "application_number": ("申请号", "专利号", "申请号/专利号", "专利申请号", "申请(专利)号", "applicationnumber",
                           "application_number", "appno"),
    "announced_on": ("法律状态公告日", "法律状态日", "法律状态生效日", "公告日", "生效日", "状态日期", "日期",
                     "announcementdate", "announced_on", "date"),
    "status": ("法律状态", "法律状态名称", "法律事件", "状态", "legalstatus", "status"),
    "detail": ("法律状态信息", "法律状态详情", "详细信息", "详情", "备注", "说明", "detail", "details", "information"),
}
REQUIRED = ("application_number", "announced_on", "status")
SUFFIXES = STATUS_FILE_SUFFIXES  # one list, in custody (the drop folder in scheduler/ reads it too)
HEADER_SEARCH_ROWS = 10  # title rows (often merged cells) may sit above the header


@dataclass(frozen=True)
class StatusFile:
    """A legal-status export file as a source; also what the drop folder hands over for each file landing."""

    path: Path

    @property
    def name(self) -> str:
        return f"file:{self.path.name}"

    def fetch(self) -> StatusBatch:
        return read_status_file(self.path)


def _key(text: object) -> str:
    return compact(str(text or "")).lower()


_ALIASES = {_key(alias): field for field, aliases in COLUMNS.items() for alias in aliases}


def read_status_file(path: Path) -> StatusBatch:
    """Every record of the file, or the problems that keep it from being applied."""
    if path.suffix.lower() not in SUFFIXES:
        raise StatusSourceError(tr("{name}: not a legal-status export (a {suffixes} file)", name=path.name,
                                   suffixes=", ".join(SUFFIXES)))
    try:
        rows = list(read_rows(open_source(path)))
    except ReadError as exc:
        raise StatusSourceError(f"{path.name}: {render_message(exc.code, exc.params, current_language())}") from None
    header_row, columns = _header(rows, path.name)
    # A problem is located file:row:column, the column named as the file's header names it (as an import does).
    names = {f: str(rows[header_row][1][col]).strip() for f, col in columns.items()}
    records, problems = [], []
    for number, cells in rows[header_row + 1:]:
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        record, found = _record(cells, columns, f"{path.name}:{number}", names)
        records.extend([record] if record else [])
        problems.extend(found)
    return StatusBatch(f"file:{path.name}", tuple(records), tuple(problems))


def _header(rows: Sequence[tuple[int, list[object]]], name: str) -> tuple[int, dict[str, int]]:
    """(index into rows of the header, field -> column index); refuses a missing or doubled column."""
    for index, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, list[int]] = {}
        for col, cell in enumerate(cells):
            field = _ALIASES.get(_key(cell))
            if field:
                found.setdefault(field, []).append(col)
        if all(f in found for f in REQUIRED):
            doubled = [f for f, cols in found.items() if len(cols) > 1]
            if doubled:
                raise StatusSourceError(tr("{name}:{number}: column for {field} is ambiguous ({count} headers match "
                                           "it)", name=name, number=number, field=COLUMNS[doubled[0]][0],
                                           count=len(found[doubled[0]])))
            return index, {f: cols[0] for f, cols in found.items()}
    wanted = "、".join("/".join(COLUMNS[f][:2]) for f in REQUIRED)  # 申请号/专利号、…: the headers files have
    raise StatusSourceError(tr("{name}: no header row with the columns {wanted} in the first {rows} rows", name=name,
                               wanted=wanted, rows=HEADER_SEARCH_ROWS))


def _cell(cells: list[object], columns: dict[str, int], field: str) -> object:
    col = columns.get(field)
    return cells[col] if col is not None and col < len(cells) else None


def _record(cells: list[object], columns: dict[str, int], where: str,
            names: dict[str, str]) -> tuple[StatusRecord | None, list[SourceProblem]]:
    problems = []
    at = {f: f"{where}:{names.get(f) or f}" for f in COLUMNS}
    raw_number = str(_cell(cells, columns, "application_number") or "").strip()
    try:
        number = str(parse_application_number(raw_number))
    except InvalidApplicationNumber as exc:
        problems.append(SourceProblem(at["application_number"], str(exc)))
    raw_date = _cell(cells, columns, "announced_on")
    try:
        announced = parse_date(raw_date)
    except DateParseError as exc:
        problems.append(SourceProblem(at["announced_on"], str(exc)))
    status, detail = (_one_line(_cell(cells, columns, f), at[f], problems) for f in ("status", "detail"))
    if not status and not any(p.location == at["status"] for p in problems):
        problems.append(SourceProblem(at["status"], tr("the legal status is empty")))
    if problems:
        return None, problems
    return StatusRecord(number, announced, status, detail, where), []


def _one_line(cell: object, where: str, problems: list[SourceProblem]) -> str:
    """A text cell with its line breaks folded to one space; another control character is a problem."""
    try:
        return one_line(str(cell or "").strip())
    except CellProblem as exc:
        problems.append(SourceProblem(where, render_message(exc.code, exc.params, current_language())))
        return ""

