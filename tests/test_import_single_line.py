"""Names are single-line, and a rejects file is safe to open in Excel. An enterprise name with CR/LF used to import
and then make every email to it fail for good; now any control character in a name is refused at
file:row:column, line breaks in free text (a title typed with Alt+Enter) fold to one space, and the --partial
rejects file neutralises formula text like the reports while still importing as it is once fixed."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from importers import values
from tests import test_import_cli as base
from tests.test_import_cli import AS_OF, DATA, rewrite

custody, with_enterprises = base.custody, base.with_enterprises  # the import tests' fixtures

EVIL = '=HYPERLINK("http://evil.example","点击")'


@pytest.mark.parametrize(("cell", "read"), [
    pytest.param("一种智能\n装配机械臂", "一种智能 装配机械臂", id="line-break"),
    pytest.param("一种智能 \r\n 装配机械臂", "一种智能 装配机械臂", id="crlf-with-spaces"),
    pytest.param("一种\t智能\u2028装置", "一种 智能 装置", id="tab-and-line-separator"),
    pytest.param("一种智能装置", "一种智能装置", id="plain"),
    pytest.param("一种\u3000智能装置", "一种\u3000智能装置", id="ideographic-space-kept"),
])
def test_free_text_folds_line_breaks_to_one_space(cell: str, read: str) -> None:
    assert values.text(cell) == read


@pytest.mark.parametrize(("cell", "char", "position"), [
    pytest.param("福州闽江\r\n智能装备有限公司", "\\r", 5, id="crlf"),
    pytest.param("福州闽江\n智能装备有限公司", "\\n", 5, id="lf"),
    pytest.param("福州\x00闽江", "\\x00", 3, id="nul"),
    pytest.param("福州\x1b[31m闽江", "\\x1b", 3, id="escape"),
    pytest.param("福州\x85闽江", "\\x85", 3, id="c1-next-line"),
])
def test_a_name_with_a_control_character_is_refused(cell: str, char: str, position: int) -> None:
    with pytest.raises(values.CellProblem) as caught:
        values.name(cell)
    assert caught.value.code == "control_character_in_name"
    assert caught.value.params == {"char": char, "position": position}


def test_free_text_refuses_control_characters_that_are_not_line_breaks() -> None:
    with pytest.raises(values.CellProblem, match="control_character"):
        values.text("一种\x07装置")


def _db(engine: sa.Engine, query: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(query))]


def test_an_enterprise_name_with_crlf_is_refused_at_its_row_and_column(custody, tmp_path: Path, engine) -> None:
    broken = rewrite(DATA / "enterprises.csv", tmp_path / "enterprises.csv", {1: {0: "福州闽江\r\n智能装备有限公司"},
                                                                            2: {2: "陈美\n玲"}})
    code, out, err = custody("import", "enterprises", str(broken))
    assert code == 1
    assert ("enterprises.csv:2:企业名称: a name must be one line: \\r at position 5" in out + err)
    assert "enterprises.csv:3:联系人: a name must be one line: \\n at position 3" in out + err
    assert _db(engine, "SELECT count(*) FROM enterprise") == [(0,)]


def test_a_title_with_a_line_break_imports_on_one_line_fast_or_not(custody, with_enterprises, tmp_path: Path,
                                                                    engine) -> None:
    ledger = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "ledger.csv",
                     {2: {2: "一种自动\r\n送料装置", 10: "福州闽江智能装备\n有限公司"}})
    code, out, _ = custody("import", "patents", str(ledger), *AS_OF)
    assert code == 0, out
    assert _db(engine, "SELECT title, owners FROM patent WHERE application_number = '201820123456.0'") == [
        ("一种自动 送料装置", "福州闽江智能装备 有限公司")]


def test_a_title_with_an_escape_character_is_refused_where_it_is(custody, with_enterprises, tmp_path: Path) -> None:
    ledger = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "ledger.csv", {1: {2: "一种\x1b[2J装置"}})
    code, out, err = custody("import", "patents", str(ledger), *AS_OF)
    assert code == 1 and "ledger.csv:2:专利名称: a control character (\\x1b) at position 3" in out + err


def test_the_rejects_file_neutralises_formulas_and_still_imports_once_fixed(custody, with_enterprises,
                                                                             tmp_path: Path, engine) -> None:
    mixed = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "mixed.csv", {4: {2: EVIL, 4: "2015-02-30"}})
    rejects = tmp_path / "rejects.csv"
    code, _, _ = custody("import", "patents", str(mixed), *AS_OF, "--partial", "--rejects-out", str(rejects))
    assert code == 1
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][2] == "'" + EVIL  # text in Excel, not a live link
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    rows[1][4] = "2015-10-30"
    with open(rejects, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, out, _ = custody("import", "patents", str(rejects), *AS_OF)
    assert code == 0, out
    assert _db(engine, "SELECT title FROM patent WHERE filing_date = '2015-10-30'") == [(EVIL,)]
