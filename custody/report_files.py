"""A scalar `Report` (custody.reports) written to a file, CSV or XLSX, by the one writer of every report
(custody.report_output) after custody.report_totals.as_table_report has typed its columns. Apart from
custody.export, whose cell rules the writer uses, so that imports go one way.
"""
from __future__ import annotations

import io
from pathlib import Path

from custody.report_output import write_csv as write_table_csv
from custody.report_output import write_xlsx as write_table_xlsx
from custody.report_totals import as_table_report
from custody.reports import Report


def report_csv(report: Report, language: str) -> str:
    """The report as CSV text (headings in `language`); every text cell neutralised (custody.report_output)."""
    buffer = io.StringIO()
    write_table_csv(as_table_report(report), buffer, language)
    return buffer.getvalue()


def write_csv(report: Report, path: Path, language: str) -> None:
    # UTF-8 with a BOM: Excel and WPS then read Chinese text correctly on double-click.
    path.write_text(report_csv(report, language), encoding="utf-8-sig", newline="")


def write_xlsx(report: Report, path: Path, language: str) -> None:
    """The report as an XLSX workbook (custody.report_output.write_xlsx, the one writer of every report)."""
    write_table_xlsx(as_table_report(report), path, language)


def write_report(report: Report, path: Path, fmt: str, language: str) -> None:
    """Write `report` to `path` as csv or xlsx (json is written by the caller from `json_rows`)."""
    if fmt == "xlsx":
        write_xlsx(report, path, language)
    elif fmt == "csv":
        write_csv(report, path, language)
    else:
        raise ValueError(f"cannot write {fmt} to a file here")
