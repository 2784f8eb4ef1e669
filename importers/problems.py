"""Problems found in an import file, as values: `file:row:column: message`, all collected, none raised.

A problem carries a message code and its parameters, not a finished sentence, so the same problem renders in
Chinese or English (config [general] language). Errors block the file (or, with --partial, the row); warnings
are shown and change nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from importers.messages import render_message

ERROR = "error"
WARNING = "warning"


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
        prefix = "" if self.is_error else ("警告：" if language == "zh" else "warning: ")
        return f"{self.location()}: {prefix}{self.message(language)}"

    def as_dict(self, language: str) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "code": self.code,
                "severity": self.severity, "message": self.message(language)}


@dataclass
class ProblemSink:
    """Collects problems for one file; `where(row, column)` binds the location so parsers only say what."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, row: int | None, column: str | None, code: str, severity: str = ERROR, **params: Any) -> None:
        self.problems.append(Problem(self.file, row, column, code, params, severity))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def error_rows(self) -> set[int]:
        return {p.row for p in self.problems if p.is_error and p.row is not None}

    @property
    def has_file_error(self) -> bool:
        """An error not tied to a row (unreadable file, unidentifiable columns): nothing can be imported."""
        return any(p.is_error and p.row is None for p in self.problems)

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def rows_messages(problems: Iterable[Problem], language: str) -> dict[int, list[str]]:
    """Error messages per row, with their column, for the rejects file's error column."""
    by_row: dict[int, list[str]] = {}
    for problem in problems:
        if problem.is_error and problem.row is not None:
            text = problem.message(language)
            by_row.setdefault(problem.row, []).append(f"{problem.column}: {text}" if problem.column else text)
    return by_row
