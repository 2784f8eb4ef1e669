"""`custody import …` end to end through cli.run, on SQLite and PostgreSQL: one transaction per file, idempotent
upserts, dry runs, --partial with a fixable rejects file, the import log and the patent audit trail."""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

import cli

DATA = Path(__file__).parent / "data" / "import"
AS_OF = ["--as-of", "2024-05-01"]
DATA_TABLES = ("enterprise", "contact", "patent", "payment", "patent_change")
P1, P4 = "201710601862.3", "201510308494.4"


@pytest.fixture
def custody(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run `custody ARGS` on the test database with English messages; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    config = tmp_path / "config.toml"
    config.write_text('[general]\nlanguage = "en"\nlog_file = "%s"\n\n[import.profiles.agency]\nkind = "patents"\n'
                      '[import.profiles.agency.columns]\n"案件编号" = "application_number"\n"递交日" = "filing_date"\n'
                      '"授权年" = "grant_year"\n"年费截止年度" = "paid_through"\n' % (tmp_path / "custody.log"),
                      encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.run(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def with_enterprises(custody) -> None:
    assert custody("import", "enterprises", str(DATA / "enterprises.csv"))[0] == 0


def snapshot(engine: Engine, tables=DATA_TABLES + ("import_record",)) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{t}" ORDER BY 1'))] for t in tables}


def sqlite_bytes(db_url: str) -> str:
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so the file alone is the database
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rewrite(source: Path, target: Path, changes: dict[int, dict[int, str]], extra: list[list[str]] = ()) -> Path:
    """A copy of a CSV sample (any encoding) as UTF-8, with cells changed by (row index, column index)."""
    from importers.readers import detect_encoding

    with open(source, encoding=detect_encoding(source), newline="") as fh:
        rows = list(csv.reader(fh))
    for row, cells in changes.items():
        for column, value in cells.items():
            rows[row][column] = value
    with open(target, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([*rows, *extra])
    return target


def both_p1_rows(cells: dict[int, str]) -> dict[int, dict[int, str]]:
    # Rows 1 and 9 of portfolio_gbk.csv are the same patent (an identical duplicate): change both alike.
    return {1: cells, 9: cells}


def test_a_file_with_any_error_changes_nothing_byte_for_byte(custody, with_enterprises, db_url, engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    before = sqlite_bytes(db_url) if db_url.startswith("sqlite") else snapshot(engine)
    code, out, err = custody("import", "patents", str(DATA / "patents_problems.csv"), *AS_OF)
    assert code == 1
    assert "patents_problems.csv:2:申请号: invalid application number 201710601862.4" in out
    assert err.startswith("Error: 15 error(s) in the file: nothing imported")
    after = sqlite_bytes(db_url) if db_url.startswith("sqlite") else snapshot(engine)
    assert after == before


@pytest.mark.parametrize(("kind", "name"), [("enterprises", "enterprises_problems.csv"),
                                          ("payments", "payments_problems.csv")])
def test_a_failing_enterprises_or_payments_file_changes_nothing_byte_for_byte(custody, with_enterprises, db_url,
                                                                               engine, kind, name):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    before = sqlite_bytes(db_url) if db_url.startswith("sqlite") else snapshot(engine)
    assert custody("import", kind, str(DATA / name))[0] == 1
    assert (sqlite_bytes(db_url) if db_url.startswith("sqlite") else snapshot(engine)) == before


def test_every_problem_of_a_rejected_file_is_listed_at_once(custody, with_enterprises):
    code, out, _ = custody("import", "patents", str(DATA / "patents_problems.csv"), *AS_OF)
    assert code == 1
    expected = json.loads((DATA / "expected" / "patents_problems.json").read_text(encoding="utf-8"))
    assert out.splitlines() == expected["problems_en"]


def test_reimporting_the_same_file_changes_nothing_and_says_so(custody, with_enterprises, engine):
    assert custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)[0] == 0
    before = snapshot(engine, DATA_TABLES)
    code, out, _ = custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    assert code == 0
    assert "patent: new 0, updated 0, unchanged 8" in out
    assert "nothing changed in the database (the same file was imported on" in out
    assert snapshot(engine, DATA_TABLES) == before


def test_the_same_rows_from_another_format_are_unchanged_too(custody, with_enterprises, tmp_path, engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    copy = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "utf8.csv", {1: {4: "2017-04-25"}})
    before = snapshot(engine, DATA_TABLES)
    code, out, _ = custody("import", "patents", str(copy), *AS_OF, "--format", "json")
    summary = json.loads(out)
    assert (code, summary["changed"], summary["tables"]["patent"]) == (0, False, {"new": 0, "updated": 0,
                                                                                 "unchanged": 8})
    assert snapshot(engine, DATA_TABLES) == before


def test_dry_run_lists_new_updated_field_by_field_and_writes_only_the_log(custody, with_enterprises, tmp_path,
                                                                          engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    changed = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "changed.csv",
                      both_p1_rows({2: "一种智能装配机械臂（改）", 7: "8"}),
                      [["10", "201620700007.9", "新专利", "实用新型", "2016-08-18", "2017-04-05", "1", "8", "", "有效",
                        "", "91350100MA2YQ1A008"]])
    before = snapshot(engine, DATA_TABLES)
    code, out, _ = custody("import", "patents", str(changed), *AS_OF, "--dry-run", "--format", "json")
    summary = json.loads(out)
    assert code == 0 and summary["dry_run"] and not summary["imported"]
    assert summary["tables"]["patent"] == {"new": 1, "updated": 1, "unchanged": 7}
    assert summary["new_keys"]["patent"] == ["201620700007.9"]
    assert {(c["key"], c["field"], c["old"], c["new"]) for c in summary["changes"]} == {
        (P1, "title", "一种智能装配机械臂", "一种智能装配机械臂（改）"), (P1, "paid_through", 7, 8)}
    assert snapshot(engine, DATA_TABLES) == before
    log = snapshot(engine, ("import_record",))["import_record"]
    assert log[-1][4] in (True, 1)  # dry_run


def test_dry_run_table_output_reads_as_a_diff(custody, with_enterprises, tmp_path):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    changed = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "changed.csv", both_p1_rows({8: "70%"}))
    code, out, _ = custody("import", "patents", str(changed), *AS_OF, "--dry-run")
    assert code == 0
    assert "dry run (nothing written)" in out
    assert f"  ~ patent {P1} reduction: 85 -> 70" in out


def test_every_patent_change_is_in_the_audit_trail_with_its_import(custody, with_enterprises, tmp_path, engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    changed = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "ledger.csv", both_p1_rows({7: "8"}))
    assert custody("import", "patents", str(changed), *AS_OF)[0] == 0
    query = sa.text("SELECT c.field, c.old_value, c.new_value, r.file_name, c.source FROM patent_change c "
                    "JOIN patent p ON p.id = c.patent_id JOIN import_record r ON r.id = c.import_id "
                    "WHERE p.application_number = :n ORDER BY c.id")
    with engine.connect() as conn:
        trail = [tuple(r) for r in conn.execute(query, {"n": P1})]
    assert trail == [("(created)", None, None, "portfolio_gbk.csv", "import:portfolio_gbk.csv"),
                     ("paid_through", "7", "8", "ledger.csv", "import:ledger.csv")]


def test_partial_imports_the_good_rows_and_the_fixed_rejects_import_as_they_are(custody, with_enterprises, tmp_path,
                                                                                engine):
    mixed = rewrite(DATA / "portfolio_gbk.csv", tmp_path / "mixed.csv",
                    {2: {1: "201820123456.1"}, 4: {4: "2015-02-30"}})
    rejects = tmp_path / "rejects.csv"
    code, out, _ = custody("import", "patents", str(mixed), *AS_OF, "--partial", "--rejects-out", str(rejects))
    assert code == 1
    assert "patent: new 6, updated 0, unchanged 0" in out
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "errors" and [r[1] for r in rows[1:]] == ["201820123456.1", P4]
    assert "check digit should be 0, got 1" in rows[1][-1]
    rows[1][1], rows[2][4] = "201820123456.0", "2015-10-30"
    with open(rejects, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, out, _ = custody("import", "patents", str(rejects), *AS_OF)
    assert code == 0, out
    assert "patent: new 2, updated 0, unchanged 0" in out
    assert len(snapshot(engine, ("patent",))["patent"]) == 8


def test_an_inferred_paid_through_never_lowers_the_year_on_record(custody, with_enterprises, engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    code, out, _ = custody("import", "patents", str(DATA / "portfolio_gbk.csv"), "--as-of", "2021-01-01",
                           "--format", "json")
    summary = json.loads(out)
    assert code == 0
    assert not any(c["field"] == "paid_through" for c in summary["changes"])
    with engine.connect() as conn:
        paid = conn.execute(sa.text("SELECT paid_through FROM patent WHERE application_number = :n"), {"n": P4})
        assert paid.scalar() == 9


def test_payments_advance_paid_through_and_import_once(custody, with_enterprises, engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    code, out, _ = custody("import", "payments", str(DATA / "payments.csv"))
    assert code == 0, out
    assert "payment: new 4, updated 0, unchanged 0" in out
    query = sa.text("SELECT application_number, paid_through, paid_through_inferred FROM patent "
                    "WHERE application_number IN ('201710601862.3', '201930456789.5', '202110246810.5') ORDER BY 1")
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(query)] == [
            (P1, 8, False), ("201930456789.5", 6, False), ("202110246810.5", 6, False)]
    # Each payment is in the patent's audit trail with its import, as `custody pay` writes it.
    query = sa.text("SELECT c.new_value, c.source, r.file_name FROM patent_change c JOIN patent p ON p.id = "
                    "c.patent_id JOIN import_record r ON r.id = c.import_id WHERE c.field = 'payment' AND "
                    "p.application_number = :n")
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(query, {"n": P1})] == [
            ("year 8: 300.00 paid on 2024-04-20", "import:payments.csv", "payments.csv")]
    before = snapshot(engine, DATA_TABLES)
    code, out, _ = custody("import", "payments", str(DATA / "payments.csv"))
    assert code == 0 and "payment: new 0, updated 0, unchanged 4" in out
    assert snapshot(engine, DATA_TABLES) == before


def test_a_late_fee_row_joined_to_a_rejected_annual_fee_is_rejected_with_it(custody, with_enterprises, tmp_path,
                                                                            engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    number = "202110246810.5"  # year 6: 360 + a late fee of 120 on 2024-05-20
    paid = tmp_path / "paid.csv"
    paid.write_text("申请号,费用名称,金额,缴费日期\n"
                    f"{number},发明专利第6年年费,999,2024-05-20\n{number},发明专利年费滞纳金,120,2024-05-20\n"
                    f"{P1},发明专利第8年年费,300,2024-04-20\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    code, out, _ = custody("import", "payments", str(paid), "--partial", "--rejects-out", str(rejects))
    assert code == 1 and "payment: new 1, updated 0, unchanged 0" in out
    assert "amount 1119.00 (999.00 + 120.00) matches no fee for year 6" in out
    assert "paid.csv:3:费用名称: late fee joined to the annual fee on row 2, which was rejected" in out
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[1] for r in rows[1:]] == ["发明专利第6年年费", "发明专利年费滞纳金"]
    rows[1][2] = "360"  # fixed: the rejects file imports as it is, late fee and all
    with open(rejects, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, out, _ = custody("import", "payments", str(rejects))
    assert code == 0 and "payment: new 1, updated 0, unchanged 0" in out
    with engine.connect() as conn:
        amount = conn.execute(sa.text("SELECT amount FROM payment JOIN patent ON patent.id = payment.patent_id "
                                      "WHERE application_number = :n"), {"n": number}).scalar()
    assert float(amount) == 480


def test_payments_that_match_no_fee_reject_the_file(custody, with_enterprises):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    code, out, _ = custody("import", "payments", str(DATA / "payments_problems.csv"))
    assert code == 1
    assert "amount 1500.00 matches no fee for year 9 paid on 2024-05-01: expected 2000.00" in out


def test_contacts_upsert_by_enterprise_and_mobile(custody, tmp_path, engine):
    custody("import", "enterprises", str(DATA / "enterprises.csv"))
    renamed = rewrite(DATA / "enterprises.csv", tmp_path / "renamed.csv", {1: {2: "林晓锋", 3: "财务"}})
    code, out, _ = custody("import", "enterprises", str(renamed), "--format", "json")
    summary = json.loads(out)
    assert code == 0
    assert summary["tables"] == {"enterprise": {"new": 0, "updated": 0, "unchanged": 4},
                                 "contact": {"new": 0, "updated": 1, "unchanged": 3}}
    assert {(c["field"], c["old"], c["new"]) for c in summary["changes"]} == {("name", "林晓峰", "林晓锋"),
                                                                           ("role", "ip_manager", "finance")}


def test_a_profile_maps_an_unusual_export(custody, with_enterprises):
    file = str(DATA / "profile_export.csv")
    code, out, _ = custody("import", "patents", file, "--enterprise", "91350100MA2YQ1A008")
    assert code == 1 and "no header row in the first 2 rows" in out
    code, out, _ = custody("import", "patents", file, "--enterprise", "91350100MA2YQ1A008", "--profile", "agency")
    assert code == 0, out
    assert "patent: new 1" in out


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_a_workbook_whose_first_sheet_is_a_cover_note_is_read_from_its_one_data_sheet(custody, with_enterprises,
                                                                                      tmp_path):
    table = [["申请号", "专利名称", "专利类型", "申请日", "授权年度", "已缴至年度", "法律状态", "统一社会信用代码"],
             [P1, "一种智能装配机械臂", "发明", "2017-04-25", 3, 7, "有效", "91350100MA2YQ1A008"]]
    cover = ["本表为专利清单，数据见“专利”工作表"]
    one = _workbook(tmp_path / "one.xlsx", {"说明": [cover], "专利": table})
    code, out, _ = custody("import", "patents", str(one), *AS_OF)
    assert code == 0 and "one.xlsx: note: read sheet 专利: the first sheet has no header row" in out
    assert "patent: new 1" in out
    # Two sheets that could be the data: which one is meant is not guessed.
    two = _workbook(tmp_path / "two.xlsx", {"说明": [cover], "专利": table, "专利(旧)": table})
    code, out, _ = custody("import", "patents", str(two), *AS_OF)
    assert code == 1 and "no header row" in out and "read sheet" not in out


def test_an_unknown_profile_or_enterprise_is_one_error_line(custody, with_enterprises):
    code, _, err = custody("import", "patents", str(DATA / "portfolio_bom.csv"), "--profile", "nope")
    assert (code, err.strip()) == (2, "Error: no import profile 'nope' in the configuration (profiles: agency)")
    code, out, err = custody("import", "patents", str(DATA / "portfolio_bom.csv"), "--enterprise",
                             "91330100MA27XK9Q0G")
    assert code == 1 and "unknown enterprise 91330100MA27XK9Q0G" in out


def test_the_import_log_records_file_hash_counts_and_times(custody, with_enterprises, engine):
    custody("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    digest = hashlib.sha256((DATA / "portfolio_gbk.csv").read_bytes()).hexdigest()
    query = sa.text("SELECT file_name, kind, dry_run, rows_read, new, updated, unchanged, started_at, finished_at "
                    "FROM import_record WHERE sha256 = :h")
    with engine.connect() as conn:
        row = conn.execute(query, {"h": digest}).one()
    assert tuple(row)[:7] == ("portfolio_gbk.csv", "patents", False, 9, 8, 0, 0)
    assert row.started_at <= row.finished_at


def test_chinese_is_the_default_language_of_messages(db_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    assert cli.run(["import", "enterprises", str(DATA / "enterprises_problems.csv")]) == 1
    out = capsys.readouterr().out
    assert "enterprises_problems.csv:3:手机: 1380013800 不是有效的中国大陆手机号" in out


def test_csv_format_is_refused_for_imports_as_a_usage_error(custody):
    code, _, err = custody("import", "enterprises", str(DATA / "enterprises.csv"), "--format", "csv")
    assert code == 2 and err.startswith("Error: import prints table or json")  # the fixture speaks English


def test_an_uninitialised_database_is_one_error_line(empty_db_url, monkeypatch, capsys):
    monkeypatch.setenv("CUSTODY_DATABASE_URL", empty_db_url)
    assert cli.run(["import", "patents", str(DATA / "portfolio_gbk.csv")]) == 1
    assert capsys.readouterr().err.startswith("错误：数据库尚未初始化")
