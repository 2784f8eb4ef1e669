"""Report cells as files hold them: CSV text, XLSX formats and JSON-ready rows, with formula neutralisation
(CSV/formula injection). custody.report_files writes a report's files with these rules (via custody.report_output).

A cell whose text starts with `=`, `+`, `-`, `@` (also after leading blanks: spaces, the full-width space, a tab
or a line break) or with a tab or carriage return is something Excel and WPS would
run as a formula; a project name or a title from an import can carry one. In CSV such text gets a leading
apostrophe (OWASP's advice: the spreadsheet shows the text and never evaluates it). In XLSX it is written as a
string cell with the quote-prefix style, which is exactly what Excel stores when a person types 'text: shown
as written, never a formula, even after editing the cell. Numbers and dates are written as numbers and dates,
so only text is ever touched.

XLSX files open cleanly in Excel and WPS: a frozen header row with a filter, column widths fitted to the text
(CJK characters count double), dates formatted as dates, amounts as numbers with two decimals, rates as
percentages, the title and notes on a second sheet, and the report's chart when it has one.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from custody.domain import PROVISIONAL_MARK, date_text, is_provisional_date
from custody.reports import Column, Report

FORMULA_STARTS = ("=", "+", "-", "@")
# Leading blanks hide nothing: a spreadsheet trims spaces (and reads a tab or CR as a cell start) before deciding
# whether text is a formula, so " =1+1" and "\t=1+1" are formulas too. A text starting with a tab or CR is
# neutralised whatever follows (OWASP's list).
CONTROL_STARTS = ("\t", "\r", "\n")
# A provisional date stays a date cell; its format shows the mark the other views print.
PROVISIONAL_DATE_FORMAT = f'yyyy-mm-dd"{PROVISIONAL_MARK}"'
NUMBER_FORMATS = {"date": "yyyy-mm-dd", "money": "#,##0.00", "rate": "0%", "int": "0", "number": "General"}
MIN_WIDTH, MAX_WIDTH = 6, 60


def is_formula_like(text: str) -> bool:
    return text.startswith(CONTROL_STARTS) or text.lstrip().startswith(FORMULA_STARTS)


def neutralised(text: str) -> str:
    """`text` safe for a CSV cell: a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if is_formula_like(text) else text


# ---------------------------------------------------------------------------------------------- plain values


def json_value(value: Any) -> Any:
    """A cell for JSON: dates as ISO text, amounts as numbers (whole yuan as integers)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def json_rows(report: Report) -> list[dict[str, Any]]:
    """Each row's cells, plus `provisional_dates`: the keys of its dates in a year whose holiday schedule is not
    published yet (the text views mark those dates)."""
    return [{**{c.key: json_value(row.get(c.key)) for c in report.columns},
             "provisional_dates": [c.key for c in report.columns if is_provisional_date(row.get(c.key))]}
            for row in report.rows]


def text_value(value: Any, column: Column) -> str:
    """A cell as text for CSV and the terminal table; amounts with two decimals, rates as percentages."""
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return date_text(value)
    if isinstance(value, Decimal):
        if column.kind == "rate":
            return f"{value * 100:g}%"
        return f"{value:.2f}" if column.kind == "money" else f"{value:f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def table_rows(report: Report) -> list[dict[str, str]]:
    return [{c.key: text_value(row.get(c.key), c) for c in report.columns} for row in report.rows]


# ---------------------------------------------------------------------------------------------- widths


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
