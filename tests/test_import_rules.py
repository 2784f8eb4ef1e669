"""What an import may and may not do to what is on record, and what it tells the operator, end to end through
`custody import …` on SQLite and PostgreSQL: an older file never lowers paid-through, contacts match by mobile
then email, a patent in custody needs its enterprise, watch-only patents, dry runs of failing files, long
problem lists, the inferred and "unknown — check" flags afterwards, and streaming in chunks."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

import cli
import cli_import
from importers import files

DATA = Path(__file__).parent / "data" / "import"
EXAMPLES = Path(__file__).parent.parent / "examples"
AS_OF = ["--as-of", "2024-05-01"]
P1, P2 = "201710601862.3", "201820123456.0"
MINJIANG = "91350100MA2YQ1A008"
HEADER = ["申请号", "专利名称", "专利类型", "申请日", "授权公告日", "授权年度", "已缴至年度", "法律状态",
          "统一社会信用代码"]


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """`custody ARGS` on the test database (messages in `language`): (exit code, stdout, stderr)."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)

    def custody(*args: str, language: str = "en") -> tuple[int, str, str]:
        config = tmp_path / f"config-{language}.toml"
        config.write_text(f'[general]\nlanguage = "{language}"\nlog_file = "{tmp_path / "custody.log"}"\n',
                          encoding="utf-8")
        capsys.readouterr()
        code = cli.run(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert custody("import", "enterprises", str(DATA / "enterprises.csv"))[0] == 0
    return custody


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def paid_through(engine: Engine, number: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT paid_through FROM patent WHERE application_number = :n"),
                            {"n": number}).scalar()


def stored(engine: Engine, number: str, columns: str) -> tuple:
    with engine.connect() as conn:
        row = conn.execute(sa.text(f"SELECT {columns} FROM patent WHERE application_number = :n"),
                           {"n": number}).one()
    names = [name.strip() for name in columns.split(",")]
    return tuple(bool(v) if name.endswith("inferred") else v for name, v in zip(names, row, strict=True))


def p1_row(paid: int) -> list[object]:
    return [P1, "一种智能装配机械臂", "发明", "2017-04-25", "2019-08-02", 3, paid, "有效", MINJIANG]


# ---------------------------------------------------------------------------------------------- paid-through


def test_an_older_file_never_lowers_paid_through_below_years_with_payments(run, engine, tmp_path):
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    assert run("import", "payments", str(DATA / "payments.csv"))[0] == 0  # year 8 paid: paid-through 7 -> 8
    older = write_csv(tmp_path / "older.csv", [p1_row(7)])
    code, out, _ = run("import", "patents", str(older), *AS_OF, "--dry-run", "--format", "json")
    summary = json.loads(out)
    assert code == 0 and summary["changes"] == []
    assert [p["message"] for p in summary["problems"]] == [
        "paid-through year 7 is below year 8 on record, and payments on record cover year(s) 8: kept 8"]
    assert (summary["problems"][0]["row"], summary["problems"][0]["column"]) == (2, "已缴至年度")
    # Even when lowering is allowed, the years with payments stay paid: 9 (from a file) goes down to 8, not 7.
    run("import", "patents", str(write_csv(tmp_path / "newer.csv", [p1_row(9)])), *AS_OF)
    code, out, _ = run("import", "patents", str(older), *AS_OF, "--allow-lower-paid-through")
    assert code == 0 and ("older.csv:2:已缴至年度: warning: paid-through year 7 is below year(s) 8, which have "
                          "payments on record: set to 8, not 7") in out
    assert paid_through(engine, P1) == 8


def test_an_older_file_keeps_the_higher_year_unless_lowering_is_allowed(run, engine, tmp_path):
    run("import", "patents", str(write_csv(tmp_path / "newer.csv", [p1_row(9)])), *AS_OF)
    older = write_csv(tmp_path / "older.csv", [p1_row(7)])
    code, out, _ = run("import", "patents", str(older), *AS_OF)
    assert code == 0
    assert ("older.csv:2:已缴至年度: warning: paid-through year 7 is below year 9 on record: kept 9 (an older file "
            "does not undo newer facts; --allow-lower-paid-through lowers it)") in out
    assert "nothing changed in the database" in out and paid_through(engine, P1) == 9
    code, out, _ = run("import", "patents", str(older), *AS_OF, "--allow-lower-paid-through")
    assert code == 0 and "paid-through year lowered from 9 to 7 (--allow-lower-paid-through)" in out
    assert f"~ patent {P1} paid_through: 9 -> 7" in out and paid_through(engine, P1) == 7


# ---------------------------------------------------------------------------------------------- contacts


def test_a_contact_known_by_email_gets_its_mobile_rather_than_a_twin(run, engine, tmp_path):
    header = ["企业名称", "统一社会信用代码", "联系人", "手机", "邮箱"]
    first = write_csv(tmp_path / "first.csv", [["福州榕城电子有限公司", "91350100M000100Y43", "周敏", "",
                                                "zhou@rongcheng.example.cn"]], header)
    again = write_csv(tmp_path / "again.csv", [["福州榕城电子有限公司", "91350100M000100Y43", "周敏", "13959112345",
                                                "zhou@rongcheng.example.cn"]], header)
    assert run("import", "enterprises", str(first))[0] == 0
    code, out, _ = run("import", "enterprises", str(again), "--format", "json")
    summary = json.loads(out)
    assert code == 0 and summary["tables"]["contact"] == {"new": 0, "updated": 1, "unchanged": 0}
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT name, mobile, email FROM contact WHERE email = :e"),
                             {"e": "zhou@rongcheng.example.cn"}).all()
    assert [tuple(r) for r in found] == [("周敏", "13959112345", "zhou@rongcheng.example.cn")]


def test_an_email_is_the_same_contact_whatever_its_case_and_spaces(run, engine, tmp_path):
    header = ["企业名称", "统一社会信用代码", "联系人", "邮箱"]
    first = write_csv(tmp_path / "first.csv", [["福州榕城电子有限公司", "91350100M000100Y43", "李华",
                                                "Li@Example.com"]], header)
    again = write_csv(tmp_path / "again.csv", [["福州榕城电子有限公司", "91350100M000100Y43", "李华",
                                                " li@example.com "]], header)
    both = write_csv(tmp_path / "both.csv", [["福州榕城电子有限公司", "91350100M000100Y43", "李华", "LI@example.COM"],
                                             ["福州榕城电子有限公司", "91350100M000100Y43", "李华", "li@example.com"]],
                     header)
    assert run("import", "enterprises", str(first))[0] == 0
    for path in (again, both):
        code, out, _ = run("import", "enterprises", str(path), "--format", "json")
        summary = json.loads(out)
        assert code == 0 and summary["tables"]["contact"] == {"new": 0, "updated": 0, "unchanged": 1}, path.name
        assert not summary["changed"] and summary["errors"] == 0
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT email FROM contact WHERE lower(email) = 'li@example.com'")).all()
    assert [r.email for r in found] == ["li@example.com"]


def test_a_contact_stored_with_a_capitalised_email_is_found_by_its_lower_case_twin(run, engine, tmp_path):
    # A contact written before addresses were stored in lower case (or by hand) still matches.
    header = ["企业名称", "统一社会信用代码", "联系人", "邮箱"]
    first = write_csv(tmp_path / "first.csv", [["福州榕城电子有限公司", "91350100M000100Y43", "李华",
                                                "li@example.com"]], header)
    assert run("import", "enterprises", str(first))[0] == 0
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contact SET email = 'Li@Example.com' WHERE email = 'li@example.com'"))
    code, out, _ = run("import", "enterprises", str(first), "--format", "json")
    assert code == 0 and json.loads(out)["tables"]["contact"] == {"new": 0, "updated": 0, "unchanged": 1}


# ---------------------------------------------------------------------------------------------- enterprise, mode


def test_a_patent_in_custody_without_an_enterprise_is_refused_a_watched_one_is_not(run, engine, tmp_path):
    header = ["申请号", "专利类型", "申请日", "授权年度", "已缴至年度", "托管方式"]
    file = write_csv(tmp_path / "nobody.csv", [["201620700007.9", "实用新型", "2016-08-18", 1, 8, "托管"],
                                               ["201510308494.4", "发明", "2015-10-30", 3, 9, "监控"]], header)
    code, out, err = run("import", "patents", str(file), *AS_OF)
    assert code == 1 and err.startswith("Error: 1 error(s) in the file: nothing imported")
    assert out.splitlines() == [
        "nobody.csv:2: no enterprise for this patent, so its reminders would go to nobody: give a 统一社会信用代码 or "
        "企业名称 column, or --enterprise CODE (a watch-only patent: 托管方式 监控)",
        "nobody.csv:3: warning: watch-only patent without a watching enterprise: its status changes go into nobody's "
        "digest"]
    code, out, _ = run("import", "patents", str(file), *AS_OF, "--enterprise", MINJIANG)
    assert code == 0, out
    with engine.connect() as conn:
        modes = dict(conn.execute(sa.text("SELECT application_number, mode FROM patent")).all())
    assert modes == {"201620700007.9": "custody", "201510308494.4": "watch"}


def test_a_file_without_enterprises_may_update_patents_that_have_one_on_record(run, engine, tmp_path):
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    header = ["申请号", "专利类型", "申请日", "授权年度", "已缴至年度"]
    code, out, _ = run("import", "patents", str(write_csv(tmp_path / "ledger.csv",
                                                           [[P1, "发明", "2017-04-25", 3, 8]], header)), *AS_OF)
    assert code == 0 and f"~ patent {P1} paid_through: 7 -> 8" in out


# ---------------------------------------------------------------------------------------------- what is shown


def test_a_dry_run_of_a_failing_file_shows_the_whole_picture(run, engine, tmp_path):
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    rows = [p1_row(8), ["201820123456.1", "一种自动送料装置", "实用新型", "2018-03-12", "", 1, 6, "有效", MINJIANG],
            ["201620700007.9", "新专利", "实用新型", "2016-08-18", "2017-04-05", 1, 8, "有效", MINJIANG]]
    file = write_csv(tmp_path / "mixed.csv", rows)
    code, out, err = run("import", "patents", str(file), *AS_OF, "--dry-run")
    assert code == 1
    assert "mixed.csv:3:申请号: invalid application number 201820123456.1: check digit should be 0, got 1" in out
    assert "mixed.csv: 3 rows, rejected 1 — dry run (nothing written)" in out
    assert "  patent: new 1, updated 1, unchanged 0" in out
    assert "  + patent 201620700007.9" in out and f"  ~ patent {P1} paid_through: 7 -> 8" in out
    assert err.startswith("Error: 1 error(s) in the file: an import would write nothing")
    code, out, _ = run("import", "patents", str(file), *AS_OF, "--dry-run", "--partial")
    assert code == 1 and "patent: new 1, updated 1, unchanged 0" in out
    assert not (tmp_path / "mixed.rejects.csv").exists() and "rejected rows written" not in out
    assert paid_through(engine, P1) == 7


def test_a_long_problem_list_is_sorted_and_written_out_in_full(run, tmp_path):
    rows = [[f"2017106018{n:02d}.0", "", "发明", "2017-02-30", "", "", "", "", MINJIANG] for n in range(150)]
    file = write_csv(tmp_path / "broken.csv", rows)
    code, out, _ = run("import", "patents", str(file), *AS_OF)
    lines = out.splitlines()
    every = (tmp_path / "broken.problems.txt").read_text(encoding="utf-8").splitlines()
    assert code == 1 and len(lines) == 201 and len(every) > 200 and every[:200] == lines[:200]
    where = tmp_path / "broken.problems.txt"
    assert lines[-1] == f"... and {len(every) - 200} more problems: all of them are in {where}"
    located = [(int(m.group(1)), m.group(2)) for m in (re.match(r"broken.csv:(\d+):(\S+?):", x) for x in every)]
    assert located == sorted(located, key=lambda x: (x[0], HEADER.index(x[1])))


def test_change_lines_speak_chinese_in_a_chinese_configuration(run, tmp_path):
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    code, out, _ = run("import", "patents", str(write_csv(tmp_path / "p.csv", [p1_row(8), [
        "201620700007.9", "新专利", "实用新型", "2016-08-18", "2017-04-05", 1, 8, "有效", MINJIANG]])), *AS_OF,
        "--dry-run", language="zh")
    assert code == 0
    assert "  + 专利 201620700007.9" in out and f"  ~ 专利 {P1} 已缴至年度: 7 -> 8" in out
    assert "  专利: 新增 1, 更新 1, 不变 0" in out


def test_a_number_without_its_check_character_is_accepted_with_a_warning_naming_it(run, tmp_path):
    file = write_csv(tmp_path / "bare.csv", [["201710601862", "一种智能装配机械臂", "发明", "2017-04-25", "", 3, 7,
                                              "有效", MINJIANG]])
    code, out, _ = run("import", "patents", str(file), *AS_OF)
    assert code == 0
    assert ("bare.csv:2:申请号: warning: application number 201710601862 has no check character: read as "
            "201710601862.3 (check character 3 computed); compare it with the certificate") in out


def test_an_excel_date_typed_as_a_number_imports(run, engine, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append([P1, "一种智能装配机械臂", "发明", 20170425, 20190802, 3, 7, "有效", MINJIANG])
    workbook.save(tmp_path / "numbers.xlsx")
    code, out, _ = run("import", "patents", str(tmp_path / "numbers.xlsx"), *AS_OF)
    assert code == 0, out
    with engine.connect() as conn:
        dates = conn.execute(sa.text("SELECT filing_date, granted_on FROM patent")).one()
    assert [str(d) for d in dates] == ["2017-04-25", "2019-08-02"]


def test_the_help_examples_name_files_that_exist():
    from typer.testing import CliRunner

    for kind in ("enterprises", "patents", "payments"):
        text = CliRunner().invoke(cli.app, ["import", kind, "--help"]).output
        named = re.findall(r"examples/\S+", text)
        assert named and all((EXAMPLES.parent / name).exists() for name in named), (kind, named)


# ---------------------------------------------------------------------------------------------- flags afterwards


def test_inferred_and_unknown_check_fees_show_in_patent_show_and_reports(run):
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    code, out, _ = run("patent", "show", P2, "--as-of", "2024-05-01", "--format", "json")
    view = json.loads(out)
    assert code == 0 and view["paid_through_inferred"] and view["fees_to_check"] == [7]
    assert [y["year"] for y in view["years"] if y["inferred"]] == [2, 3, 4, 5, 6]
    code, out, _ = run("patent", "show", P2, "--as-of", "2024-05-01")
    assert "│ 第2年  │" in out and "推定已缴" in out and "待核实" in out
    code, out, _ = run("report", "grace", "--as-of", "2024-05-01", "--format", "json")
    flags = {r["application_number"]: r["flag"] for r in json.loads(out)["rows"]}
    assert flags[P2] == "paid-through inferred; unknown — check" and flags["202110246810.5"] is None
    code, out, _ = run("report", "grace", "--as-of", "2024-05-01", "--format", "csv")
    assert out.splitlines()[0].endswith(",flag") or "Import flag" in out.splitlines()[0]


def test_a_payment_for_the_fee_to_check_clears_the_flag(run, engine, tmp_path):
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    payments = write_csv(tmp_path / "paid.csv", [[P2, "实用新型专利第7年年费", "240", "2024-05-01"]],
                         ["申请号", "费用名称", "金额", "缴费日期"])
    assert run("import", "payments", str(payments))[0] == 0
    view = json.loads(run("patent", "show", P2, "--as-of", "2024-05-01", "--format", "json")[1])
    assert view["fees_to_check"] == [] and view["paid_through"] == 7
    assert stored(engine, P2, "paid_through_inferred, unknown_through") == (False, None)


def test_a_later_inference_runs_on_over_the_years_with_payments_on_record(run, engine, tmp_path):
    # 2023-05-01: P2 paid through 5 (inferred), year 6 to check. Year 7 is paid, across the gap: no advance yet.
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), "--as-of", "2023-05-01")
    payments = write_csv(tmp_path / "paid.csv", [[P2, "实用新型专利第7年年费", "240", "2024-05-01"]],
                         ["申请号", "费用名称", "金额", "缴费日期"])
    assert "paid-through stays at 5" in run("import", "payments", str(payments))[1]
    # 2024-05-01 infers 6 with year 7 to check; year 7 has its payment, so paid-through is 7, known, nothing to
    # check (reminders read paid_through: they must not ask for year 7 again).
    code, out, _ = run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    assert code == 0 and f"patent {P2} paid_through: 5 -> 7" in out
    assert ("portfolio_gbk.csv:3:已缴至年度: note: paid-through year 6 is followed by year(s) 7 with payments on "
            "record: paid through 7, nothing to check there") in out
    summary = json.loads(run("import", "patents", str(DATA / "portfolio_gbk.csv"), "--as-of", "2024-05-02",
                             "--format", "json", "--dry-run")[1])
    assert summary["stats"]["fees_to_check"] == 0  # P2's year 7 was the only one, and it is paid
    assert {"row": 3, "column": "已缴至年度", "severity": "note",
            "message": "paid-through year 7 on record covers the fees to check after year 6: counted paid"} in [
        {k: p[k] for k in ("row", "column", "severity", "message")} for p in summary["problems"]]
    assert stored(engine, P2, "paid_through, paid_through_inferred, unknown_through") == (7, False, None)
    view = json.loads(run("patent", "show", P2, "--as-of", "2024-05-01", "--format", "json")[1])
    assert view["fees_to_check"] == [] and not any(y["inferred"] for y in view["years"] if y["year"] == 7)


def test_a_payment_short_of_its_late_fee_is_recorded_with_what_is_still_owed(run, engine, tmp_path):
    # 202110246810.5, year 6 due 2024-03-08 (reduced 360, full 1200): on 2024-05-20 the late fee is 10 % = 120.
    run("import", "patents", str(DATA / "portfolio_gbk.csv"), *AS_OF)
    number = "202110246810.5"
    short = write_csv(tmp_path / "short.csv", [[number, "发明专利第6年年费", "400", "2024-05-20"]],
                      ["申请号", "费用名称", "金额", "缴费日期"])
    code, out, _ = run("import", "payments", str(short))
    assert code == 0 and "80.00 short of the 480.00 (360.00 + 120.00)" in out
    assert f"paid short: patent {number} year 6 still owes 80.00 (late fee band of 2024-05-20" in out
    view = json.loads(run("patent", "show", number, "--as-of", "2024-06-01", "--format", "json")[1])
    assert view["amounts_owed"] == [{"year": 6, "paid": 400, "owed": 80, "as_of": "2024-05-20"}]
    assert [y["owed"] for y in view["years"] if y["year"] in (5, 6)] == [None, 80]
    out = run("patent", "show", number, "--as-of", "2024-06-01")[1]
    assert "第6年少缴：已缴 ¥400，按 2024-05-20 的滞纳金档次尚欠 ¥80" in out
    # The top-up settles it, and the summary says nothing more is owed.
    topup = write_csv(tmp_path / "topup.csv", [[number, "发明专利第6年年费滞纳金", "80", "2024-05-28"],
                                               [number, "发明专利第6年年费", "0", "2024-05-28"]],
                      ["申请号", "费用名称", "金额", "缴费日期"])
    summary = json.loads(run("import", "payments", str(topup), "--format", "json")[1])
    assert summary["stats"]["amounts_owed"] == []
    view = json.loads(run("patent", "show", number, "--as-of", "2024-06-01", "--format", "json")[1])
    assert view["amounts_owed"] == []


# ---------------------------------------------------------------------------------------------- streaming


def test_rows_stream_in_chunks_and_a_late_duplicate_rejects_a_row_already_written(run, engine, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(files, "CHUNK_ROWS", 2)
    other = [P2, "一种自动送料装置", "实用新型", "2018-03-12", "2018-11-20", 1, 6, "有效", MINJIANG]
    rows = [p1_row(7), other, ["201620700007.9", "新专利", "实用新型", "2016-08-18", "2017-04-05", 1, 8, "有效",
                               MINJIANG], p1_row(8)]  # row 5 disagrees with row 2, two chunks later
    file = write_csv(tmp_path / "far.csv", rows)
    code, out, _ = run("import", "patents", str(file), *AS_OF, "--partial", "--rejects-out",
                       str(tmp_path / "rejects.csv"))
    assert code == 1
    assert f"far.csv:2:申请号: {P1} is also on row 5, with different 已缴至年度" in out
    assert "patent: new 2, updated 0, unchanged 0" in out
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(sa.text("SELECT application_number FROM patent"))}
    assert stored == {P2, "201620700007.9"}


def test_the_reader_hands_each_chunk_over_before_reading_the_next(db_url, engine, monkeypatch):
    from custody.ruleset import default_rules
    from custody.store.imports import StoreLookup
    from custody.workdays import WorkCalendar
    from importers.context import Options

    monkeypatch.setattr(files, "CHUNK_ROWS", 3)
    options = Options(rules=default_rules(), calendar=WorkCalendar(), language="en")
    opened = files.open_import(DATA / "portfolio_gbk.csv", "patents", StoreLookup(engine), options)
    seen = [opened.rows_read for _ in opened.chunks()]
    assert seen == [3, 6, 9]


def test_the_progress_bar_has_a_total_on_a_terminal():
    import io

    from rich.console import Console

    screen = io.StringIO()
    with cli_import._import_progress(True, Console(file=screen, force_terminal=True, width=100)) as start:
        advance = start("importing", 1000)
        advance(400)
        advance(600)
    assert "1000/1000" in screen.getvalue() or "400/1000" in screen.getvalue()
    assert "importing" in screen.getvalue()
    quiet = io.StringIO()
    with cli_import._import_progress(True, Console(file=quiet, force_terminal=False)) as start:
        start("importing", 1000)(10)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(("label", "shown"), [("importing", "导入中"), ("checking", "检查中")])
def test_the_progress_bar_speaks_the_operators_language(label, shown):
    import io

    from rich.console import Console

    from custody.i18n import set_language

    set_language("zh")  # as the CLI does from [general] language; the autouse fixture sets English back
    screen = io.StringIO()
    with cli_import._import_progress(True, Console(file=screen, force_terminal=True, width=80)) as start:
        start(label, 10)(10)
    assert shown in screen.getvalue() and label not in screen.getvalue()
