"""The XLSX data rows written as sheet XML (custody.report_output._insert_rows) read back exactly as the rows
openpyxl writes cell by cell for the same values (_xlsx_cells): value, type, number format, quote prefix, font, for
every kind of cell a report holds."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

import custody.report_output as output
from custody.domain import ProvisionalDate
from custody.portfolio import NAT_DAYS
from custody.report_columns import Days, Fen, Ints, Objects, Rows, Steps
from custody.report_engine import TableReport
from custody.reports import Column

# (what the cell holds, as a column of two rows)
CELLS = [
    pytest.param(Objects(np.array(["plain 专利", None], object)), "text", id="text-and-empty"),
    pytest.param(Objects(np.array(['=HYPERLINK("x")', "+86 138"], object)), "text", id="formula-like"),
    pytest.param(Objects(np.array([" =1", "\u3000@x"], object)), "text", id="blank-then-formula"),
    pytest.param(Objects(np.array([" lead", "trail "], object)), "text", id="blanks-kept"),
    pytest.param(Objects(np.array(["a & b < c > d", ""], object)), "text", id="escaped-and-empty-text"),
    pytest.param(Objects(np.array(["#N/A", "#DIV/0!"], object)), "text", id="error-codes"),
    pytest.param(Objects(np.array([True, False], object)), "text", id="booleans"),
    pytest.param(Objects(np.array([Decimal("12.50"), 7], object)), "money", id="numbers-as-objects"),
    pytest.param(Objects(np.array([date(2025, 6, 16), ProvisionalDate(2027, 1, 4)], object)), "date",
                 id="dates-as-objects"),
    pytest.param(Days(np.array([20255, NAT_DAYS]), np.array([True, False])), "date", id="days-marked-and-empty"),
    pytest.param(Fen(np.array([123456, -5]), np.array([True, True])), "money", id="fen"),
    pytest.param(Fen(np.array([0, 99]), np.array([False, True])), "money", id="fen-empty"),
    pytest.param(Ints(np.array([3, 2**40]), np.array([True, True])), "int", id="whole-numbers"),
    pytest.param(Steps(np.array([2, 0]), np.array([True, True]), np.array([True, False]), Decimal("0.05")), "rate",
                 id="rates"),
]


def _cells(path: Path) -> list[list[tuple]]:
    return [[(c.coordinate, c.value, c.data_type, c.number_format, c.quotePrefix, c.font.b) for c in row]
            for sheet in load_workbook(path).worksheets for row in sheet.iter_rows()]


@pytest.mark.parametrize(("column", "kind"), CELLS)
def test_xml_rows_read_back_as_openpyxl_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column,
                                              kind: str) -> None:
    report = TableReport("t", "T", (Column("n", "N", "号"), Column("v", "V", "值", kind)),
                         Rows({"n": Objects(np.array(["a", "b"], object)), "v": column}, 2))
    assert output._xml_ready(report)
    output.write_xlsx(report, tmp_path / "xml.xlsx", "en")
    monkeypatch.setattr(output, "_xml_ready", lambda _: False)  # openpyxl writes every cell itself
    output.write_xlsx(report, tmp_path / "cells.xlsx", "en")
    assert _cells(tmp_path / "xml.xlsx") == _cells(tmp_path / "cells.xlsx")


def test_a_cell_of_another_kind_leaves_every_row_to_openpyxl(tmp_path: Path) -> None:
    from datetime import datetime

    report = TableReport("t", "T", (Column("v", "V", "值"),),
                         Rows({"v": Objects(np.array([datetime(2025, 6, 16, 9, 30)], object))}, 1))
    assert not output._xml_ready(report)
    output.write_xlsx(report, tmp_path / "t.xlsx", "en")
    assert load_workbook(tmp_path / "t.xlsx").active["A2"].value == datetime(2025, 6, 16, 9, 30)
