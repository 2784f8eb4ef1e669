"""Every existing command's output in Chinese, at 80 and 120 columns, on a known portfolio (issue 11).

With `[general] language = "zh"` (the default) nothing a person reads is a stored value (in_force, invention,
custody, planned…) or a Python literal (None, True, False); a table never cuts an amount or a date; and the
messages of issue 11 say what is wrong and what to do.

To hold a new command to the same: add its command line to COMMANDS (it runs on the portfolio of
tests/test_reports_portfolio.build_report_portfolio, as of 2025-06-16).
"""
from __future__ import annotations

import ast
import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session

import cli
from cli_render import Col, drop_order, fitted, terminal_width
from custody.export import display_width
from custody.i18n import cell_label, label, set_language, tr
from custody.store.db import engine_for, upgrade
from tests.support.cli import hand_to_cli
from tests.test_reports_portfolio import build_report_portfolio
from tests.test_status_portfolio import P1, P6, A

AS_OF = ["--as-of", "2025-06-16"]
# (command line, the JSON twin whose dates and amounts the table must show whole, or None)
COMMANDS: list[tuple[list[str], list[str] | None]] = [
    (["fees", "201710601862.3", "--filed", "2017-04-25", "--grant-year", "3", *AS_OF], None),
    (["patent", "show", P1, *AS_OF], None),
    (["patent", "history", P6], ["patent", "history", P6, "--format", "json"]),
    (["calendar", "list"], None),
    (["enterprise", "list"], None),
    (["remind", "list"], ["remind", "list", "--format", "json"]),
    (["report", "due", "--within", "400d", *AS_OF], ["report", "due", "--within", "400d", *AS_OF, "--format", "json"]),
    (["report", "grace", *AS_OF], ["report", "grace", *AS_OF, "--format", "json"]),
    (["report", "lapsed", *AS_OF], ["report", "lapsed", *AS_OF, "--format", "json"]),
    (["report", "forecast", *AS_OF], None),
    (["report", "enterprise", A, *AS_OF], ["report", "enterprise", A, *AS_OF, "--format", "json"]),
    (["report", "kpi", "--year", "2025", *AS_OF], None),
    (["report", "deliveries", "--from", "2025-01-01", "--to", "2025-12-31"], None),
    (["status", "review", "--since", "2020-01-01"], ["status", "review", "--since", "2020-01-01", "--format", "json"]),
    (["status", "ops-usage"], None),
    (["enterprise", "set", A], None),  # no flag: changes nothing, shows the standing instructions
    (["remind", "plan", "--dry-run"], None),
    (["health"], None),
    (["patent", "list", *AS_OF], ["patent", "list", *AS_OF, "--format", "json"]),
    (["patent", "list", "--type", "发明", "--due-within", "3个月", *AS_OF], None),
    (["enterprise", "show", A], None),
    (["contact", "list"], None),
    (["import", "log"], None),
    (["fees", P1, *AS_OF], None),  # the stored patent's facts
    (["remind", "preview", "--enterprise", A], None),
]

# Stored values that must never be shown as they are stored (a whole cell, or a word with an underscore).
RAW_VALUES = {"invention", "utility_model", "design", "custody", "watch", "in_force", "in_grace", "lapsed",
              "expired", "planned", "sending", "sent", "delivered", "failed", "cancelled", "ip_manager", "finance",
              "legal_rep", "pledgee", "open_licence", "yes", "no", "unknown — check", "paid-through inferred",
              "recorded too late: full fee", "fee", "alert", "sms", "email"}
RAW_ANYWHERE = re.compile(r"\b(in_force|in_grace|utility_model|open_licence|ip_manager|legal_rep|paid-through "
                          r"inferred|unknown — check)\b")
LITERALS = re.compile(r"\b(None|True|False)\b")
BOX = "┃│┏┡└┳╇┻━"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture(scope="module")
def portfolio_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The report portfolio on SQLite, built with the core speaking Chinese (as the daemon does in production)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('zh') / 'custody.sqlite3'}"
    upgrade(url)
    engine = engine_for(url)
    set_language("zh")
    try:
        with Session(engine) as session:
            build_report_portfolio(session)
    finally:
        set_language("en")
        engine.dispose()
    return url


@pytest.fixture
def zh_cli(portfolio_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with Session(engine_for(portfolio_url)) as session:
        hand_to_cli(session, portfolio_url, monkeypatch, tmp_path)

    def run(args: list[str], capsys: pytest.CaptureFixture, width: int = 120) -> tuple[int, str, str]:
        monkeypatch.setenv("COLUMNS", str(width))
        code = cli.run(args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def _cells(out: str) -> list[str]:
    """Every table cell and record value of `out` (a wrapped cell gives its pieces)."""
    cells = []
    for text in out.splitlines():
        if text[:1] in "┃│":
            cells += [c.strip() for c in re.split("[┃│]", text)[1:-1]]
        elif "  " in text and not text.startswith("──"):
            cells.append(text.split("  ")[-1].strip())
    return [c for c in cells if c]


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(("args", "twin"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_every_command_speaks_chinese_and_never_cuts_an_amount_or_a_date(zh_cli, capsys, args, twin, width):
    code, out, err = zh_cli(args, capsys, width)
    assert code in (0, 1), err
    assert not LITERALS.search(out + err), LITERALS.search(out + err)
    assert not RAW_ANYWHERE.search(out), RAW_ANYWHERE.search(out)
    raw = [c for c in _cells(out) if c in RAW_VALUES]
    assert not raw, raw
    tables = [t for t in out.splitlines() if t[:1] in BOX]
    assert all(display_width(t) <= width for t in tables), max(tables, key=display_width)
    if twin is None:
        return
    _, shown, _ = zh_cli(twin, capsys, width)
    data = json.loads(shown)
    rows = data["rows"] if isinstance(data, dict) else data
    whole = {str(v) for row in rows for v in row.values() if isinstance(v, str) and DATE.match(v)}
    whole |= {f"{Decimal(v):.2f}" for row in rows for k, v in row.items()
              if isinstance(v, (int, float)) and not isinstance(v, bool) and k in MONEY_KEYS}
    missing = {v for v in whole if v not in out}
    assert not missing, missing


MONEY_KEYS = {"fee", "late_fee", "total", "next_late_fee", "restoration_fee", "restoration_total"}


def test_the_statement_an_enterprise_receives_names_type_mode_and_state_in_chinese(zh_cli, capsys, tmp_path):
    code, out, _ = zh_cli(["report", "enterprise", A, *AS_OF, "--format", "csv"], capsys)
    assert code == 0
    header, *lines = csv.reader(io.StringIO(out))
    assert header[2:5] == ["类型", "托管方式", "状态"]
    assert {line[2] for line in lines} <= {"发明", "实用新型", "外观设计"}
    assert {line[3] for line in lines} <= {"托管", "仅监控"}
    assert not {line[4] for line in lines} & RAW_VALUES
    xlsx = tmp_path / "statement.xlsx"
    assert zh_cli(["report", "enterprise", A, *AS_OF, "--format", "xlsx", "--out", str(xlsx)], capsys)[0] == 0
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} <= {"发明", "实用新型", "外观设计"}


def test_the_catalogue_has_every_message_the_code_uses_in_chinese():
    from custody.i18n import catalogue

    root = Path(cli.__file__).parent
    used = set()
    for path in [*sorted(root.glob("cli*.py")),
                 *(p for folder in ("custody", "importers", "scheduler") for p in (root / folder).rglob("*.py"))]:
        for call in re.finditer(r"\btr\(((?:\s*\"[^\"]*\"\s*)+)[,)]", path.read_text(encoding="utf-8")):
            # literal_eval: a msgid written with escapes (\\n) is looked up as the string it denotes
            used.add("".join(ast.literal_eval(f'"{part}"') for part in re.findall(r"\"([^\"]*)\"", call.group(1))))
    missing = sorted(m for m in used if m not in catalogue("zh"))
    assert not missing, missing


@pytest.mark.parametrize(("domain", "value", "zh"), [
    ("type", "utility_model", "实用新型"), ("state", "in_grace", "滞纳期（宽限期）内"), ("mode", "watch", "仅监控"),
    ("reduction", "open_licence", "开放许可减15%"), ("restorable", "unknown — check", "未知，请核实"),
    ("role", "ip_manager", "专利联系人"), ("reminder_state", "delivered", "已送达"),  # roles: the role table's words
    ("state", "invalidated_full", "专利权全部无效"),  # a state ended by an event: the vocabulary's word
    ("flag", "paid-through inferred; unknown — check", "已缴年度为推定；是否已缴待核实"),
    ("history", "reminder: sent", "提醒：已发送"), ("history", "decision: abandon", "企业决定：放弃"),
])
def test_enumerated_values_have_their_words(domain, value, zh):
    assert cell_label(domain, value, "zh") == zh


@pytest.mark.parametrize(("value", "zh", "en"), [(None, "无", "none"), (True, "是", "yes"), (False, "否", "no")])
def test_python_literals_are_words(value, zh, en):
    assert (label("any", value, "zh"), label("any", value, "en")) == (zh, en)


def test_a_legal_status_without_a_date_never_says_none():
    from custody.store.status import _status_text

    set_language("zh")
    assert _status_text("有效", None) == "有效"
    assert _status_text("有效", date(2024, 5, 1)) == "有效（2024-05-01）"
    assert _status_text(None, None) == "（无）"


@pytest.mark.parametrize(("field", "old", "new", "shown"), [
    ("paid_through_inferred", True, False, "已缴年度为推定: 是 -> 否"),
    ("unknown_through", 6, None, "待核实至年度: 6 -> 无"),
    ("type", "design", "invention", "专利类型: 外观设计 -> 发明"),
])
def test_an_import_change_is_shown_in_words(field, old, new, shown):
    from importers.summary import _change_lines

    summary = {"new_keys": {}, "dry_run": False, "changes_total": 1,
               "changes": [{"table": "patent", "key": P1, "field": field, "old": old, "new": new}]}
    assert _change_lines(summary, {}, "zh") == [f"  ~ 专利 {P1} {shown}"]


# ---------------------------------------------------------------------------------------------- tables


def _cols(*specs):
    return [Col(*s) for s in specs]


def test_amounts_and_dates_keep_their_width_and_text_columns_leave_first():
    cols = _cols(("application_number", "申请号"), ("title", "专利名称"), ("fee", "年费(元)", "money"),
                 ("due", "缴费截止日", "date"), ("note", "备注"), ("empty", "质权人"))
    cells = {"application_number": ["201710601862.3"], "title": ["一种很长很长的专利名称" * 3], "fee": ["12345.00"],
             "due": ["2027-01-15*"], "note": ["企业决定放弃，提醒自 2027-01-15 起停止"], "empty": [""]}
    assert [c.key for c in drop_order(cols, cells)] == ["empty", "note", "title"]
    assert fitted(cols, cells, 80) == (cols, [])  # 74 characters: all of it
    shown, left_out = fitted(cols, cells, 60)
    assert [c.key for c in left_out] == ["empty", "note"] and "fee" in [c.key for c in shown]
    assert fitted(cols, cells, 40) is None  # the amounts and dates alone do not fit: records instead


def test_a_narrow_terminal_prints_records_with_every_value_whole(capsys, monkeypatch):
    from cli_render import print_table

    cols = _cols(("application_number", "申请号"), ("fee", "年费(元)", "money"), ("due", "缴费截止日", "date"),
                 ("grace", "滞纳期届满日", "date"), ("total", "合计(元)", "money"))
    row = {"application_number": "201710601862.3", "fee": "12345.00", "due": "2027-01-15*", "grace": "2027-07-15*",
           "total": "99999.00"}
    print_table(cols, [row], "标题", width=40)
    out = capsys.readouterr().out
    assert "── 1 ──" in out and all(v in out for v in row.values())


def test_a_table_with_no_rows_says_so_instead_of_printing_headings_alone(capsys):
    from cli_render import print_table

    cols = _cols(("id", "编号"), ("state", "状态"), ("patents", "专利"), ("recipient", "接收人"), ("last", "最近回执"))
    for language, none in (("zh", "（无）"), ("en", "(none)")):
        set_language(language)
        print_table(cols, [], "已取消的提醒", width=80)
        assert capsys.readouterr().out.splitlines() == ["已取消的提醒", none]


def test_the_width_is_columns_when_set(monkeypatch):
    monkeypatch.setenv("COLUMNS", "93")
    assert terminal_width() == 93


# ---------------------------------------------------------------------------------------------- messages


def test_a_paid_through_year_in_words_is_read_and_a_wrong_one_says_what_the_column_takes():
    from importers.messages import render_message
    from importers.patents import paid_through_cell
    from importers.values import CellProblem

    assert (paid_through_cell("第七年"), paid_through_cell("十二"), paid_through_cell("第二十年")) == (7, 12, 20)
    with pytest.raises(CellProblem) as caught:
        paid_through_cell("明年再说")
    assert caught.value.code == "paid_through_invalid"
    text = render_message(caught.value.code, caught.value.params, "zh")
    assert "既不是专利年度" in text and "第7年" in text and "2025-03-14" in text and "不是日期" not in text


def test_a_missing_file_does_not_suggest_partial(zh_cli, capsys, tmp_path):
    code, out, err = zh_cli(["import", "patents", str(tmp_path / "nowhere.csv")], capsys)
    assert code == 1 and "文件不存在：请检查文件名和所在文件夹" in out + err and "--partial" not in out + err


def test_a_file_named_xlsx_that_is_no_workbook_says_what_to_do(zh_cli, capsys, tmp_path):
    fake = tmp_path / "portfolio.xlsx"
    fake.write_text("申请号,专利名称\n201710601862.3,一种装置\n", encoding="utf-8")
    code, out, err = zh_cli(["import", "patents", str(fake)], capsys)
    assert code == 1 and "不是 Excel 工作簿" in out + err and "另存为 .xlsx" in out + err
    assert "Zip" not in out + err and "EOCD" not in out + err and "--partial" not in out + err


def test_a_wrong_check_digit_on_pay_names_the_application_number(zh_cli, capsys):
    code, _, err = zh_cli(["pay", "201710000001.3", "--year", "9"], capsys)
    assert code == 1 and err.startswith("错误：申请号 201710000001.3：校验位应为 X，实为 3") and "证书" in err


@pytest.mark.parametrize(("year", "said"), [("26", "请写完整的四位年份（是否指 2026？）"), ("1900", "1985 至 2199"),
                                            ("twenty", "不是年份")])
def test_a_kpi_year_not_written_in_full_is_refused(zh_cli, capsys, year, said):
    code, out, err = zh_cli(["report", "kpi", "--year", year], capsys)
    assert (code, out) == (2, "") and said in err


def test_calendar_list_names_the_provisional_years(zh_cli, capsys):
    code, out, _ = zh_cli(["calendar", "list"], capsys)
    assert code == 0 and "暂定年份" in out and "custody calendar load" in out


def test_an_email_with_a_provisional_date_says_why_once():
    from custody.domain import marked
    from custody.messages import render_fee_message
    from tests.test_remind_messages import TO, line

    provisional = line(due_date=marked(date(2027, 4, 26), True), grace_end=marked(date(2027, 10, 25), True),
                       pay_by=marked(date(2027, 4, 26), True), late_fee=Decimal(0), late_fee_rate=Decimal(0),
                       next_rate=None)
    rendered = render_fee_message("email", [provisional], TO, date(2027, 3, 1))
    assert "2027年4月26日（暂定）" in rendered.text
    assert rendered.text.count("2027年）的国务院节假日安排尚未公布") == 1 and "顺延" in rendered.text
    assert "国务院节假日安排尚未公布" in rendered.html


def test_tr_fills_the_chinese_text_and_falls_back_to_the_msgid():
    shown = tr("Fees in the grace period on {today}", "zh", today="2025-06-16")
    assert shown == "2025-06-16 处于滞纳期（宽限期）的年费"
    assert tr("no such message {x}", "zh", x=1) == "no such message 1"


def test_the_statement_command_and_patent_set_report_in_chinese(zh_cli, capsys, tmp_path):
    code, _, err = zh_cli(["statement", A, *AS_OF, "--out", str(tmp_path / "s.pdf")], capsys)
    assert code == 0 and err.startswith("对账单：") and "件专利" in err, err
    code, out, err = zh_cli(["patent", "set", P6, "--reduction", "70", "--recorded", "2025-01-02"], capsys)
    assert code == 0, err
    assert "费减比例" in out and "费减70%" in out and "费减备案日" in out, out
    assert not re.search(r"\b(reduction|recorded_on|None)\b", out), out
    code, out, _ = zh_cli(["patent", "set", P6, "--reduction", "70", "--recorded", "2025-01-02"], capsys)
    assert code == 0 and "未作更改" in out and "费减70%" in out, out


def test_run_once_reports_each_tick_in_words(zh_cli, capsys):
    code, out, err = zh_cli(["run-once"], capsys)
    assert code in (0, 1), err
    assert "任务" in out and "计划提醒" in out and "发送" in out, out
    assert not re.search(r"\b(plan|dispatch|receipts|patents_refreshed|held_or_cancelled|None|True|False)\b", out), out
    assert "{" not in out, out  # no raw JSON in the table (--format json keeps it, for scripts)


@pytest.mark.parametrize("width", [80, 120, 40])
def test_the_patent_list_fits_the_terminal_and_keeps_every_number_date_and_amount(zh_cli, capsys, width):
    code, out, _ = zh_cli(["patent", "list", *AS_OF], capsys, width)
    assert code == 0
    assert all(display_width(line) <= width for line in out.splitlines()), max(out.splitlines(), key=display_width)
    rows = json.loads(zh_cli(["patent", "list", *AS_OF, "--format", "json"], capsys, width)[1])
    for row in rows:
        for key in ("application_number", "due_date", "fee"):
            if row.get(key) is not None:
                value = f"{Decimal(row[key]):.2f}" if key == "fee" else str(row[key])
                assert value in out, (key, value)
