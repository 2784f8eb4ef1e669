"""Problems found in an import file, as values: `file:row:column: message`, all collected, none raised.

A problem carries a message code and its parameters, not a finished sentence, so the same problem renders in
Chinese or English (config [general] language). Errors block the file (or, with --partial, the row); warnings
are shown and change nothing; notes say what was left out on purpose (a totals row below the table).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from custody.i18n import tr
from importers.messages import render_message

ERROR = "error"
WARNING = "warning"
NOTE = "note"
# Said before a problem's message (Chinese in custody/locale/zh/import.toml).
PREFIX = {ERROR: "", WARNING: "warning: ", NOTE: "note: "}


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(str(self.row))
        if self.column:
            parts.append(self.column)
        return ":".join(parts)

    def message(self, language: str) -> str:
        return render_message(self.code, self.params, language)

    def render(self, language: str) -> str:
        prefix = tr(PREFIX[self.severity], language) if PREFIX[self.severity] else ""
        return f"{self.location()}: {prefix}{self.message(language)}"

    def as_dict(self, language: str) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "code": self.code,
                "severity": self.severity, "message": self.message(language)}


@dataclass
class ProblemSink:
    """Collects problems for one file, and keeps the rows with errors at hand (asked after every chunk)."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    error_rows: set[int] = field(default_factory=set)
    has_file_error: bool = False  # an error not tied to a row (unreadable file, unidentifiable columns)

    def add(self, row: int | None, column: str | None, code: str, severity: str = ERROR, **params: Any) -> None:
        self.problems.append(Problem(self.file, row, column, code, params, severity))
        if severity == ERROR:
            if row is None:
                self.has_file_error = True
            else:
                self.error_rows.add(row)

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p.row, p.column, p.code, p.severity, **p.params)

    def replace(self, old: Problem, new: Problem) -> None:
        """Put `new` where `old` is (same row and severity: a message completed once more is known)."""
        index = next(i for i, p in enumerate(self.problems) if p is old)
        self.problems[index] = new

    @property
    def has_errors(self) -> bool:
        return self.has_file_error or bool(self.error_rows)

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == NOTE]

    def sort(self, columns: list[str]) -> None:
        """File-level problems first, then by row, then by the column's place in the header (`columns`)."""
        place = {name: i for i, name in enumerate(columns)}
        self.problems.sort(key=lambda p: (p.row is not None, p.row or 0,
                                          -1 if p.column is None else place.get(p.column, len(place))))


def rows_messages(problems: Iterable[Problem], language: str) -> dict[int, list[str]]:
    """Error messages per row, with their column, for the rejects file's error column."""
    by_row: dict[int, list[str]] = {}
    for problem in problems:
        if problem.is_error and problem.row is not None:
            text = problem.message(language)
            by_row.setdefault(problem.row, []).append(f"{problem.column}: {text}" if problem.column else text)
    return by_row
