"""Reports written out: formula neutralisation in CSV and XLSX, XLSX files read back with openpyxl (frozen header,
widths, dates as dates, amounts as numbers, the forecast's chart), the JSON contract, and the `custody report` and
`custody status` commands end to end, including --enterprise isolation in every format."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlmodel import Session

import cli
from custody.export import display_width, neutralised
from custody.report_files import report_csv, write_csv, write_xlsx
from custody.reports import Column, Report
from tests.support.cli import hand_to_cli
from tests.test_reports_portfolio import build_report_portfolio
from tests.test_status_portfolio import ENTERPRISES, P1, P2, P3, P4, P5, P7, A, B, C, build_portfolio

DATA = Path(__file__).parent / "data" / "status"
EVIL = '=HYPERLINK("http://evil.example","点击")电池外壳'


@pytest.mark.parametrize(("text", "safe"), [
    pytest.param("=1+2", "'=1+2", id="equals"),
    pytest.param("+86 138", "'+86 138", id="plus"),
    pytest.param("-包装盒", "'-包装盒", id="minus"),
    pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
    pytest.param("\t=1", "'\t=1", id="tab"),
    pytest.param("\r=1", "'\r=1", id="carriage-return"),
    pytest.param(" =1+2", "' =1+2", id="space-then-equals"),
    pytest.param("  @SUM(A1)", "'  @SUM(A1)", id="spaces-then-at"),
    pytest.param("\u3000+86", "'\u3000+86", id="full-width-space-then-plus"),
    pytest.param("\n-1", "'\n-1", id="newline-then-minus"),
    pytest.param(" \t=1", "' \t=1", id="space-tab-equals"),
    pytest.param("\tplain", "'\tplain", id="tab-start"),
    pytest.param(" 一种方法", " 一种方法", id="space-then-plain"),
    pytest.param("a=b", "a=b", id="equals-inside"),
    pytest.param("一种方法", "一种方法", id="plain"),
])
def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised(text: str, safe: str) -> None:
    assert neutralised(text) == safe


SMALL = Report("small", "Small", (Column("title", "Title", "名称"), Column("amount", "Amount", "金额", "money"),
                                  Column("day", "Day", "日期", "date")),
               ({"title": EVIL, "amount": Decimal("-5"), "day": date(2025, 6, 16)},
                {"title": "@cmd", "amount": None, "day": None},
                {"title": " =1+1", "amount": None, "day": None}))


def test_csv_neutralises_text_but_leaves_numbers_alone() -> None:
    assert report_csv(SMALL, "zh").splitlines() == [
        "名称,金额,日期", "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点击\"\")电池外壳\",-5.00,2025-06-16",
        "'@cmd,,", "' =1+1,,"]


def test_a_csv_file_starts_with_a_bom_for_excel_and_wps(tmp_path: Path) -> None:
    write_csv(SMALL, tmp_path / "small.csv", "en")
    data = (tmp_path / "small.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfTitle,Amount,Day\r\n")


def test_xlsx_stores_formula_like_text_as_quoted_text_never_a_formula(tmp_path: Path) -> None:
    write_xlsx(SMALL, tmp_path / "small.xlsx", "en")
    sheet = load_workbook(tmp_path / "small.xlsx").active
    assert (sheet["A2"].value, sheet["A2"].data_type, sheet["A2"].quotePrefix) == (EVIL, "s", True)
    assert (sheet["A3"].value, sheet["A3"].data_type, sheet["A3"].quotePrefix) == ("@cmd", "s", True)
    assert (sheet["A4"].value, sheet["A4"].data_type, sheet["A4"].quotePrefix) == (" =1+1", "s", True)
    assert (sheet["B2"].value, sheet["B2"].data_type) == (-5, "n")
    with zipfile.ZipFile(tmp_path / "small.xlsx") as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_display_width_counts_chinese_characters_double() -> None:
    assert (display_width("abc"), display_width("专利abc")) == (3, 7)


# ---------------------------------------------------------------------------------------------- the commands


@pytest.fixture
def cli_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    build_report_portfolio(session)
    return hand_to_cli(session, db_url, monkeypatch, tmp_path)


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = cli.run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_grace_report_as_xlsx_reads_back_cell_by_cell(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    out = cli_db / "grace.xlsx"
    code, _, err = _run(capsys, "report", "grace", "--as-of", "2025-06-16", "--format", "xlsx", "--out", str(out))
    assert code == 0 and f"2025-06-16 处于滞纳期（宽限期）的年费：1 行已写入 {out}" in err  # the title, not the key
    book = load_workbook(out)
    sheet = book["grace"]
    assert book.sheetnames == ["grace", "说明"] and sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == [
        "统一社会信用代码", "企业", "申请号", "专利名称", "年度", "缴费截止日", "滞纳期届满日", "距届满天数",
        "年费(元)", "费减", "费减备案日",
        "滞纳金比例", "当前滞纳金(元)", "当前应缴合计(元)", "下次上涨日", "上涨后比例", "上涨后滞纳金(元)",
        "企业决定", "质权人", "导入标记"]
    assert [c.value for c in sheet[2]] == [
        A, ENTERPRISES[A], P2, EVIL, 6, datetime(2025, 3, 10), datetime(2025, 9, 10), 86, 1200, None, None, 0.15, 180,
        1380, datetime(2025, 7, 11), 0.2, 240, None, "招商银行股份有限公司福州分行", None]
    assert (sheet["D2"].data_type, sheet["D2"].quotePrefix) == ("s", True)
    assert [sheet.cell(2, col).number_format for col in (6, 9, 12, 13)] == ["yyyy-mm-dd", "#,##0.00", "0%",
                                                                             "#,##0.00"]
    assert sheet.column_dimensions["D"].width == display_width(EVIL) + 2
    assert sheet.column_dimensions["B"].width == display_width(ENTERPRISES[A]) + 2
    assert book["说明"]["A1"].value == "2025-06-16 处于滞纳期（宽限期）的年费"


def test_the_forecast_xlsx_has_a_bar_chart_per_enterprise_over_the_years(cli_db: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    out = cli_db / "forecast.xlsx"
    assert _run(capsys, "report", "forecast", "--as-of", "2025-06-16", "--format", "xlsx", "--out", str(out))[0] == 0
    sheet = load_workbook(out)["forecast"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=4)] == [
        ["统一社会信用代码", "企业", "2025", "2026", "2027", "2028", "2029", "合计(元)"],
        [A, ENTERPRISES[A], 1680, 1800, 1800, 2600, 8000, 15880],
        [B, ENTERPRISES[B], 2000, 2000, 2000, 4000, 4000, 14000],
        [None, "平台合计", 3680, 3800, 3800, 6600, 12000, 29880]]  # stored "平台合计 Platform total": its Chinese
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H4"
    amounts = [sheet.cell(r, c) for r in (2, 3, 4) for c in range(3, 9)]
    assert {(c.data_type, c.number_format) for c in amounts} == {("n", "#,##0.00")}
    assert (sheet["A2"].data_type, sheet["B2"].data_type) == ("s", "s")  # the credit code stays text
    assert sheet.column_dimensions["A"].width == len(A) + 2  # 18 characters of credit code
    assert sheet.column_dimensions["B"].width == max(display_width(ENTERPRISES[A]), display_width(ENTERPRISES[B])) + 2
    assert sheet.column_dimensions["H"].width == display_width("29880.00") + 2
    chart = sheet._charts[0]
    assert (type(chart).__name__, len(chart.series)) == ("BarChart", 2)
    assert chart.series[0].val.numRef.f == "'forecast'!$C$2:$G$2"
    assert chart.series[0].tx.strRef.f == "'forecast'!B2"  # the series is named after the enterprise
    categories = chart.series[0].cat.numRef or chart.series[0].cat.strRef
    assert categories.f == "'forecast'!$C$1:$G$1"  # the years
    words = [run.t for title in (chart.title, chart.y_axis.title) for p in title.tx.rich.p for run in p.r]
    assert words == ["年费预测（元）", "元"]  # in the operator's language only


def test_a_narrow_terminal_squeezes_other_columns_never_the_application_number(
        cli_db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # eighteen columns in eighty characters
    code, out, _ = _run(capsys, "report", "grace", "--as-of", "2025-06-16")
    assert code == 0 and P2 in out


def test_csv_to_the_terminal_and_json_with_numbers(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "report", "lapsed", "--as-of", "2025-06-16", "--format", "csv")
    assert code == 0
    assert out.splitlines()[2] == (f"{B},{ENTERPRISES[B]},{P3},'+一种基站天线,11,2024-02-20,2024-08-20,2025-05-06,"
                                   "2025-07-07,可恢复,4000.00,,,1000.00,1000.00,6000.00,")
    code, out, _ = _run(capsys, "report", "due", "--as-of", "2025-06-16", "--within", "90d", "--format", "json")
    first = json.loads(out)["rows"][0]
    assert (first["application_number"], first["due_date"], first["fee"], first["days_left"]) == (
        P1, "2025-08-01", 300, 46)


@pytest.mark.parametrize(("args", "code", "message"), [
    # Usage (exit 2): the command was called the wrong way, whatever the data.
    pytest.param(["report", "due", "--format", "xlsx"], 2, "--format xlsx 需要 --out 文件", id="xlsx-needs-a-file"),
    pytest.param(["report", "due", "--out", "x.txt"], 2, "--out 需要 --format csv、json 或 xlsx",
                 id="table-to-file"),
    pytest.param(["report", "due", "--within", "soon"], 2, "--within：'soon' 不是期间", id="bad-period"),
    pytest.param(["report", "due", "--within", "90x"], 2, "--within：'90x' 不是期间", id="bad-unit"),
    pytest.param(["report", "due", "--within", "-5d"], 2, "--within：'-5d' 不是期间", id="negative-period"),
    pytest.param(["report", "grace", "--format", "pdf"], 2, "'--format' 的值无效：'pdf' 不是 ", id="unknown-format"),
    pytest.param(["report", "forecast", "--years", "abc"], 2, "'--years' 的值无效：应为整数", id="years-not-a-number"),
    pytest.param(["report", "kpi", "--bogus"], 2, "没有选项 --bogus", id="unknown-option"),
    pytest.param(["report", "lapsed", "--as-of", "2025-13-01"], 2, "--as-of：'2025-13-01' 不是真实存在的日期",
                 id="bad-as-of"),
    pytest.param(["report", "deliveries", "--from", "soon"], 2, "--from：'soon' 不是日期", id="bad-from"),
    pytest.param(["report", "grace", "--format", "csv", "--out", "no-such-folder/g.csv"], 2,
                 "--out：文件夹 no-such-folder 不存在", id="missing-folder"),
    # Bad input (exit 1): well formed, but nothing in the data answers it.
    pytest.param(["report", "due", "--enterprise", "91350100M000100Y43X"], 1, "没有统一社会信用代码为",
                 id="unknown-enterprise"),
    pytest.param(["report", "enterprise", "914403001922038217"], 1, "没有统一社会信用代码为", id="unknown-code"),
])
def test_report_mistakes_are_one_error_line(cli_db: Path, capsys: pytest.CaptureFixture, args: list, code: int,
                                            message: str) -> None:
    got, out, err = _run(capsys, *args)
    assert (got, out, len(err.splitlines())) == (code, "", 1) and err.startswith(f"错误：{message}")


REPORTS = [["due", "--within", "400d"], ["grace"], ["lapsed"], ["forecast"], ["deliveries", "--from", "2024-01-01"],
           ["kpi", "--year", "2025"]]


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "xlsx"])
@pytest.mark.parametrize("report", REPORTS, ids=[r[0] for r in REPORTS])
def test_with_enterprise_nothing_of_another_enterprise_appears(cli_db: Path, capsys: pytest.CaptureFixture,
                                                              report: list, fmt: str) -> None:
    as_of = [] if report[0] == "deliveries" else ["--as-of", "2025-06-16"]
    out_file = cli_db / f"{report[0]}.{fmt}"
    extra = ["--out", str(out_file)] if fmt == "xlsx" else []
    code, out, err = _run(capsys, "report", *report, *as_of, "--enterprise", A, "--format", fmt, *extra)
    assert code == 0, err
    text = out + err
    if fmt == "xlsx":
        book = load_workbook(out_file)
        text += " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    for other in (B, C, ENTERPRISES[B], ENTERPRISES[C], P3, P4, P5, P7):
        assert other not in text


def test_the_enterprise_statement_command_shows_its_own_patents(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "report", "enterprise", A, "--as-of", "2025-06-16", "--format", "json")
    rows = json.loads(out)["rows"]
    assert code == 0 and [r["application_number"] for r in rows] == [P1, "201810000006.7", P2]


def test_kpi_and_deliveries_commands(cli_db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "report", "kpi", "--year", "2025", "--as-of", "2025-06-16", "--format", "json")
    figures = {r["metric"]: r["value"] for r in json.loads(out)["rows"]}
    assert code == 0 and (figures["patents_under_custody"], figures["reminders_sent"]) == (5, 4)
    code, out, _ = _run(capsys, "report", "deliveries", "--from", "2025-01-01", "--to", "2025-06-16", "--format",
                        "csv")
    assert out.splitlines()[-1] == "合计,1,4,3,1,0,1,1,7"  # stored "合计 Total": the reader's half


# ---------------------------------------------------------------------------------------------- status commands


@pytest.fixture
def status_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    build_portfolio(session, spares=True)
    return hand_to_cli(session, db_url, monkeypatch, tmp_path)


@freeze_time("2025-06-16 01:30:00")
def test_status_sync_applies_a_file_and_history_explains(status_db: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, "status", "sync", str(DATA / "status-all.csv"), "--format", "json")
    result = json.loads(out)
    assert code == 0 and (len(result["new_events"]), result["duplicates"]) == (19, 2)
    assert "待核实：未识别的法律状态已保留：201710000001.X 2025-06-02 专利权人请求更正" in err
    code, out, _ = _run(capsys, "patent", "history", P3, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["what"] for r in rows] == [
        "event: lapse_nonpayment", "effect: status_changed", "effect: fee_reminders_stopped",
        "effect: restoration_reminders_started"]
    assert rows[3]["detail"].startswith("向企业和运营发送恢复提醒：第11年年费 4000.00 + 滞纳金 1000.00 + "
                                        "恢复费 1000.00 = 6000.00 元")


@freeze_time("2025-06-16 01:30:00")
def test_status_sync_of_a_bad_file_lists_every_problem_and_applies_nothing(status_db: Path,
                                                                           capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "status", "sync", str(DATA / "status-bad.csv"))
    assert code == 1
    assert err.splitlines() == [
        "status-bad.csv:3:公告日: '2025-13-45' 不是真实存在的日期",
        "status-bad.csv:4:申请号: 第 1 位字符“A”不是数字",
        "status-bad.csv:5:法律状态: 法律状态为空",
        "错误：文件 status-bad.csv：3 条记录无法读取：未应用任何记录"]
    code, out, _ = _run(capsys, "patent", "history", P1, "--format", "json")
    assert json.loads(out) == []


@freeze_time("2025-06-16 01:30:00")
def test_status_sync_dry_run_changes_nothing(status_db: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "status", "sync", str(DATA / "status-gbk.csv"), "--dry-run")
    assert code == 0 and "试运行：未作任何更改" in err
    # Only the payment on record (build_portfolio's): no event, effect or reminder.
    assert [r["what"] for r in json.loads(_run(capsys, "patent", "history", P7, "--format", "json")[1])] == ["缴费"]


@freeze_time("2025-06-16 01:30:00")
def test_status_sync_of_a_folder_files_each_file(status_db: Path, capsys: pytest.CaptureFixture) -> None:
    inbox = status_db / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_bytes((DATA / "status-gbk.csv").read_bytes())
    code, out, _ = _run(capsys, "status", "sync", str(inbox))
    assert code == 0 and "a.csv: 文件 a.csv：2 条记录，新事件 2 个" in out
    assert [p.name for p in (inbox / "done").iterdir()] == ["20250616-093000-a.csv"]


@freeze_time("2025-06-16 01:30:00")
def test_status_confirm_releases_a_held_transfer(status_db: Path, capsys: pytest.CaptureFixture) -> None:
    _run(capsys, "status", "sync", str(DATA / "status-all.csv"))
    code, out, _ = _run(capsys, "status", "confirm", "202010000017.2", "--enterprise", B, "--by", "张三")
    assert code == 0 and out.splitlines() == [
        f"已转至 {ENTERPRISES[B]}（{B}）（张三 操作）",
        f"权利人：{ENTERPRISES[A]} → 上海丁有限公司（张三 确认）",
        f"转让给 上海丁有限公司 已由 张三 确认：权利人 上海丁有限公司；提醒恢复，发给 {ENTERPRISES[B]}（{B}），"
        "联系人 王五（专利联系人）"]
    code, out, _ = _run(capsys, "status", "review", "--since", "2025-01-01", "--format", "json")
    # status-all.csv also names patents this portfolio lacks: kept and listed for the operator.
    assert {r["what"] for r in json.loads(out)} == {"operator_review", "fee_reminders_held", "not_in_portfolio"}


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_writing_into_a_missing_folder_is_a_usage_error_before_any_work(cli_db: Path, capsys: pytest.CaptureFixture,
                                                                        fmt: str) -> None:
    out = cli_db / "no-such-folder" / f"due.{fmt}"
    code, _, err = _run(capsys, "report", "due", "--as-of", "2025-06-16", "--format", fmt, "--out", str(out))
    assert (code, err.strip()) == (2, f"错误：--out：文件夹 {out.parent} 不存在")


@pytest.mark.parametrize(("as_of", "p3", "says"), [
    pytest.param("2024-10-01", "unknown — check", True, id="notice-may-still-come"),
    pytest.param("2031-01-01", "no", False, id="years-after-the-grace-end"),
])
def test_lapsed_without_a_notice_from_the_command_line(status_db: Path, capsys: pytest.CaptureFixture, as_of: str,
                                                       p3: str, says: bool) -> None:
    code, out, err = _run(capsys, "report", "lapsed", "--as-of", as_of, "--format", "json")
    rows = {r["application_number"]: r["restorable"] for r in json.loads(out)["rows"]}
    assert code == 0 and (rows[P3], rows[P4]) == (p3, "no")
    assert ("assumed_notice_months" in err) is says


def test_a_bad_assumed_notice_setting_is_a_configuration_error(status_db: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    (status_db / "config.toml").write_text("[status]\nassumed_notice_months = -1\n", encoding="utf-8")
    code, _, err = _run(capsys, "report", "kpi", "--as-of", "2025-06-16")
    assert code == 2 and "[status] assumed_notice_months: expected a value at least 0, got -1" in err


# ---------------------------------------------------------------------------------------------- one display


def _cli_on(session: Session, changed: object, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Save `changed` and hand the database to the CLI, run from an empty folder."""
    session.add(changed)
    session.commit()
    return hand_to_cli(session, db_url, monkeypatch, tmp_path)


@pytest.fixture
def late_reduction_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The known portfolio with P1's 85 % reduction recorded on 2025-06-01: less than the 3 months
    (rules.reduction_lead_months) before its year-9 fee falls due on 2025-08-01, so that fee is the full 2000."""
    from custody.models import Patent
    from custody.store.patents import patent_by_number

    build_report_portfolio(session)
    patent: Patent = patent_by_number(session, P1)
    patent.reduction_recorded_on = date(2025, 6, 1)
    return _cli_on(session, patent, db_url, monkeypatch, tmp_path)


def test_patent_show_and_every_report_show_the_same_facts(late_reduction_db: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, "patent", "show", P1, "--as-of", "2025-06-16", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)["custody"]
    assert shown == {
        "mode": "custody", "state": "in_force", "year": 9, "due_date": "2025-08-01", "grace_end": "2026-02-02",
        "fee": 2000, "late_fee_rate": 0.0, "late_fee": 0, "total": 2000, "next_rise_on": None,
        "next_late_fee_rate": None, "next_late_fee": None, "reduction": "recorded too late: full fee",
        "reduction_recorded_on": "2025-06-01", "reduction_too_late": True, "decision": None, "pledgee": None,
        "note": None, "due_date_provisional": False, "grace_end_provisional": False,
        "next_rise_on_provisional": False}
    _, out, _ = _run(capsys, "report", "due", "--as-of", "2025-06-16", "--format", "json")
    due = next(r for r in json.loads(out)["rows"] if r["application_number"] == P1)
    _, out, _ = _run(capsys, "report", "enterprise", A, "--as-of", "2025-06-16", "--format", "json")
    statement = next(r for r in json.loads(out)["rows"] if r["application_number"] == P1)
    for row in (due, statement):
        assert {k: v for k, v in row.items() if k in shown} == {k: shown[k] for k in row if k in shown}
    assert (due["fee"], due["reduction"], due["reduction_recorded_on"]) == (
        2000, "recorded too late: full fee", "2025-06-01")
    code, out, _ = _run(capsys, "patent", "show", P1, "--as-of", "2025-06-16")
    assert code == 0 and "费减备案过晚，全额（备案日 2025-06-01）" in out


def test_reports_show_a_reduction_with_the_day_it_was_recorded(late_reduction_db: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    _, out, _ = _run(capsys, "report", "due", "--as-of", "2025-06-16", "--format", "csv")
    lines = out.splitlines()
    assert "费减,费减备案日" in lines[0]
    assert [line for line in lines if P1 in line][0].split(",")[7:11] == [
        "2000.00", "费减备案过晚，全额", "2025-06-01", "2026-02-02"]  # the CSV for people: the catalogue's words


@pytest.fixture
def formula_name_db(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The known portfolio with enterprise A renamed to text a spreadsheet would run, behind a leading space."""
    from sqlmodel import select

    from custody.models import Enterprise

    build_report_portfolio(session)
    enterprise = session.exec(select(Enterprise).where(Enterprise.credit_code == A)).one()
    enterprise.name = " =cmd|' /C calc'!A0"
    return _cli_on(session, enterprise, db_url, monkeypatch, tmp_path)


@pytest.mark.parametrize("report", [["due", "--within", "400d"], ["grace"], ["forecast"]], ids=lambda r: r[0])
def test_an_enterprise_name_behind_a_blank_is_neutralised_in_csv_and_xlsx(formula_name_db: Path,
                                                                         capsys: pytest.CaptureFixture,
                                                                         report: list) -> None:
    name = " =cmd|' /C calc'!A0"
    _, out, _ = _run(capsys, "report", *report, "--as-of", "2025-06-16", "--format", "csv")
    cells = [row[1] for row in csv.reader(io.StringIO(out)) if row and row[0] == A]
    assert cells and set(cells) == {"'" + name}
    path = formula_name_db / "r.xlsx"
    assert _run(capsys, "report", *report, "--as-of", "2025-06-16", "--format", "xlsx", "--out", str(path))[0] == 0
    sheet = load_workbook(path).worksheets[0]
    names = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == A]
    assert names and {(c.value, c.data_type, c.quotePrefix) for c in names} == {(name, "s", True)}


@pytest.mark.parametrize("report", [*REPORTS, ["enterprise"]], ids=lambda r: r[0])
def test_an_unknown_enterprise_code_is_one_error_line_in_every_report(cli_db: Path, capsys: pytest.CaptureFixture,
                                                                      report: list) -> None:
    unknown = "914403001922038217"
    args = [*report, unknown] if report == ["enterprise"] else [*report, "--enterprise", unknown]
    code, out, err = _run(capsys, "report", *args, "--format", "csv")
    assert (code, out, err) == (1, "", f"错误：没有统一社会信用代码为 {unknown} 的企业\n")
