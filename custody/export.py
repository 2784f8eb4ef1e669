"""Reports written out: CSV, XLSX and JSON-ready rows, with formula neutralisation (CSV/formula injection).

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

import csv
import io
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
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


# ---------------------------------------------------------------------------------------------- CSV


def report_csv(report: Report, language: str) -> str:
    """The report as CSV text (headings in `language`); every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralised(c.heading(language)) for c in report.columns])
    for row in report.rows:
        writer.writerow([_csv_cell(row.get(c.key), c) for c in report.columns])
    return buffer.getvalue()


def _csv_cell(value: Any, column: Column) -> str:
    text = text_value(value, column)
    # Only text coming from data can carry a formula; a negative amount we formatted is a number, left alone.
    return neutralised(text) if isinstance(value, str) else text


def write_csv(report: Report, path: Path, language: str) -> None:
    # UTF-8 with a BOM: Excel and WPS then read Chinese text correctly on double-click.
    path.write_text(report_csv(report, language), encoding="utf-8-sig", newline="")


# ---------------------------------------------------------------------------------------------- XLSX


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def write_xlsx(report: Report, path: Path, language: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = report.name[:31]
    for col, column in enumerate(report.columns, start=1):
        _text_cell(sheet.cell(row=1, column=col), column.heading(language)).font = Font(bold=True)
    for r, row in enumerate(report.rows, start=2):
        for col, column in enumerate(report.columns, start=1):
            _write_cell(sheet.cell(row=r, column=col), row.get(column.key), column)
    sheet.freeze_panes = "A2"
    if report.rows:
        sheet.auto_filter.ref = sheet.dimensions
    _fit_widths(sheet, report, language)
    if report.chart is not None and report.rows:
        _add_chart(sheet, report)
    _about_sheet(book, report, language)
    book.save(path)


def _text_cell(cell: Any, text: str) -> Any:
    cell.value = text
    if is_formula_like(text):
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
        cell.quotePrefix = True
    return cell


def _write_cell(cell: Any, value: Any, column: Column) -> None:
    if value is None:
        return
    if isinstance(value, str):
        _text_cell(cell, value)
        return
    cell.value = value
    if isinstance(value, (date, datetime, Decimal, int, float)) and not isinstance(value, bool):
        kind = "date" if isinstance(value, (date, datetime)) else column.kind
        cell.number_format = (PROVISIONAL_DATE_FORMAT if is_provisional_date(value)
                              else NUMBER_FORMATS.get(kind, "General"))


def _fit_widths(sheet: Any, report: Report, language: str) -> None:
    from openpyxl.utils import get_column_letter

    for col, column in enumerate(report.columns, start=1):
        texts = [column.heading(language), *(text_value(row.get(column.key), column) for row in report.rows)]
        width = max(display_width(t) for t in texts) + 2
        sheet.column_dimensions[get_column_letter(col)].width = min(max(width, MIN_WIDTH), MAX_WIDTH)


def _add_chart(sheet: Any, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.utils import get_column_letter

    chart_spec = report.chart
    keys = [c.key for c in report.columns]
    title_col = keys.index(chart_spec.title_key) + 1
    first, last = keys.index(chart_spec.value_keys[0]) + 1, keys.index(chart_spec.value_keys[-1]) + 1
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title, chart.y_axis.title = chart_spec.title, "CNY"
    # One series per row; openpyxl names a series after the cell just left of its values (the enterprise).
    titled = title_col == first - 1
    data = Reference(sheet, min_col=title_col if titled else first, max_col=last, min_row=2,
                     max_row=1 + chart_spec.series_rows)
    chart.add_data(data, from_rows=True, titles_from_data=titled)
    chart.set_categories(Reference(sheet, min_col=first, max_col=last, min_row=1, max_row=1))
    chart.width, chart.height = 24, 12
    sheet.add_chart(chart, f"{get_column_letter(len(keys) + 2)}2")


def _about_sheet(book: Any, report: Report, language: str) -> None:
    about = book.create_sheet("说明" if language == "zh" else "About")
    lines = [report.title, *report.notes]
    for r, line in enumerate(lines, start=1):
        _text_cell(about.cell(row=r, column=1), line)
    about.column_dimensions["A"].width = min(max((display_width(t) for t in lines), default=10) + 2, 120)


def write_report(report: Report, path: Path, fmt: str, language: str) -> None:
    """Write `report` to `path` as csv or xlsx (json is written by the caller from `json_rows`)."""
    if fmt == "xlsx":
        write_xlsx(report, path, language)
    elif fmt == "csv":
        write_csv(report, path, language)
    else:
        raise ValueError(f"cannot write {fmt} to a file here")

