"""Bounded spreadsheets: a workbook is checked before python-calamine opens it, so nothing in a file takes the
process down. One cell at XFD1048576 made calamine abort the whole process (SIGABRT); a zip that inflates three
hundred times grew past 1.5 GB. Each is now a located error naming the sheet and the limit, exit 1, nothing
written; the limits are [import] settings whose defaults take a million-row portfolio."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from importers.readers import ReadError, open_source
from importers.workbook_guard import SheetLimits, check_workbook

ROOT = Path(__file__).resolve().parent.parent
HEADER = ('<row r="1"><c r="A1" t="inlineStr"><is><t>申请号</t></is></c>'
          '<c r="B1" t="inlineStr"><is><t>专利名称</t></is></c></row>')
PACKAGE = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="案件清单" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def _xlsx(path: Path, rows: str, dimension: str | None = None, pad_bytes: int = 0) -> Path:
    """A minimal workbook whose one sheet, 案件清单, holds `rows` (sheetData XML)."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
             f'2006/main">{declared}<sheetData>{rows}</sheetData></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in PACKAGE.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if pad_bytes:  # a member that inflates enormously: streamed in, never held whole
            with archive.open("xl/media/pad.bin", "w", force_zip64=True) as member:
                for _ in range(pad_bytes // (1 << 20)):
                    member.write(bytes(1 << 20))
    return path


FAR_CELL = HEADER + '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'


@pytest.mark.parametrize(("rows", "dimension", "limit"), [
    pytest.param(FAR_CELL, "A1:XFD1048576", "declared size 1,048,576 rows x 16,384 columns is over max_sheet_columns",
                 id="declared-far-cell"),
    pytest.param(FAR_CELL, "A1:B2", "actual size 1,048,576 rows x 16,384 columns is over max_sheet_columns",
                 id="far-cell-behind-a-lying-dimension"),
    pytest.param(FAR_CELL.replace('<c r="XFD1048576" t="inlineStr">', '<c t="inlineStr" r="XFD1048576">'), None,
                 "actual size 1,048,576 rows x 16,384 columns", id="far-cell-with-its-position-second"),
    pytest.param(HEADER + "<row>" + "<c><v>1</v></c>" * 300 + "</row>", None,
                 "actual size 2 rows x 300 columns is over max_sheet_columns = 256", id="cells-without-positions"),
    pytest.param(HEADER + '<row r="2"><c r="A2"/><c r="IV2"/></row><row r="200000"><c r="A200000"/></row>', None,
                 "actual size 200,000 rows x 256 columns is over max_sheet_cells = 30,000,000", id="too-many-cells"),
])
def test_an_oversized_sheet_is_refused_before_any_reader_opens_it(tmp_path: Path, rows: str, dimension: str | None,
                                                                   limit: str) -> None:
    from importers.messages import render_message

    with pytest.raises(ReadError) as caught:
        open_source(_xlsx(tmp_path / "portfolio.xlsx", rows, dimension))
    message = render_message(caught.value.code, caught.value.params, "en")
    assert message.startswith("sheet 案件清单: ") and limit in message
    assert "（config.toml 的 [import]）" in render_message(caught.value.code, caught.value.params, "zh")


def test_a_zip_bomb_is_refused_by_its_inflation_ratio(tmp_path: Path) -> None:
    bomb = _xlsx(tmp_path / "bomb.xlsx", HEADER, pad_bytes=300 << 20)
    assert bomb.stat().st_size < 2 << 20  # 300 MB of zeros packs into well under 2 MB
    with pytest.raises(ReadError) as caught:
        check_workbook(bomb, SheetLimits())
    assert caught.value.code == "workbook_zip_ratio" and caught.value.params["member"] == "xl/media/pad.bin"


def test_the_total_inflated_size_is_bounded(tmp_path: Path) -> None:
    padded = _xlsx(tmp_path / "padded.xlsx", HEADER, pad_bytes=3 << 20)
    with pytest.raises(ReadError) as caught:
        check_workbook(padded, SheetLimits(max_unzipped_bytes=2 << 20, max_zip_ratio=1e9))
    assert caught.value.code == "workbook_too_big"


def test_the_limits_are_import_settings(tmp_path: Path) -> None:
    rows = HEADER + "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 22))
    path = _xlsx(tmp_path / "twenty.xlsx", rows)
    check_workbook(path, SheetLimits())  # well within the defaults
    with pytest.raises(ReadError, match="sheet_too_big_actual"):
        check_workbook(path, SheetLimits.from_section({"max_sheet_rows": 10}))


def test_a_real_export_passes_with_its_extent_measured(tmp_path: Path) -> None:
    import openpyxl

    from importers.workbook_guard import sheet_extent

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["申请号", "专利名称"])
    for n in range(2, 502):
        sheet.append([f"2017106018{n:02d}.3", f"一种装置{n}"])
    sheet["AB7"] = "备注"
    workbook.save(tmp_path / "export.xlsx")
    check_workbook(tmp_path / "export.xlsx", SheetLimits())
    with zipfile.ZipFile(tmp_path / "export.xlsx") as archive:
        extent = sheet_extent(archive, "xl/worksheets/sheet1.xml")
    assert (extent.first_row, extent.last_row, extent.first_column, extent.last_column) == (1, 501, 1, 28)


def test_the_command_line_refuses_the_far_cell_with_one_located_error(tmp_path: Path) -> None:
    # In a child process: were calamine to meet the file, it would abort the process running it. The file is
    # refused before anything is written: one database (SQLite) is enough.
    from custody.store.db import upgrade

    db_url = f"sqlite:///{tmp_path / 'custody.sqlite3'}"
    upgrade(db_url)
    far = _xlsx(tmp_path / "portfolio.xlsx", FAR_CELL, "A1:XFD1048576")
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlanguage = "en"\nlog_file = "{tmp_path / "custody.log"}"\n', encoding="utf-8")
    env = {**os.environ, "CUSTODY_DATABASE_URL": db_url, "CUSTODY_CONFIG": str(config)}
    done = subprocess.run([sys.executable, "-m", "custody", "import", "patents", str(far), "--dry-run"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "portfolio.xlsx: sheet 案件清单: declared size 1,048,576 rows x 16,384 columns" in done.stdout + done.stderr
    assert "panicked" not in done.stderr and "Traceback" not in done.stderr


def test_a_legal_status_export_with_a_far_cell_is_refused_cleanly(tmp_path: Path) -> None:
    from custody.status_vocab import StatusSourceError
    from importers.status_file import read_status_file

    with pytest.raises(StatusSourceError, match=r"status\.xlsx: sheet 案件清单: actual size 1,048,576 rows"):
        read_status_file(_xlsx(tmp_path / "status.xlsx", FAR_CELL, "A1:B2"))
