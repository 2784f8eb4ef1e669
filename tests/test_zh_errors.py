"""The `Error:` line in Chinese (issue 11): the core's errors, click's usage errors and the words of an import.

With `[general] language = "zh"` (the default) a refused command says what is wrong in Chinese; the only Latin
letters left are what the operator typed (option names, values) and the command to read the usage of.
"""
from __future__ import annotations

import ast
import json
import re
from datetime import date
from pathlib import Path

import pytest

import cli
from cli_messages import CLICK_MESSAGES, click_message
from custody.appno import InvalidApplicationNumber, parse_application_number
from custody.explained import in_every_language, tx
from custody.fees import FeeInputError
from custody.i18n import catalogue, set_language
from tests.test_zh_output import portfolio_url, zh_cli  # noqa: F401, F811  (fixtures)

ROOT = Path(cli.__file__).parent
FEES = ["fees", "--type", "invention", "--filed", "2017-04-25"]

# What the operator typed, or a name: option names, quoted values, paths, the command in backquotes, numbers.
_TYPED = re.compile(r"--[\w-]+|'[^']*'|“[^”]*”|`[^`]*`|[\w./-]*\d[\w./-]*|[\w-]*[./][\w./-]+")


def english_words(line: str) -> list[str]:
    """The Latin words of an error line that are not what the operator typed."""
    return re.findall(r"[A-Za-z]{2,}", _TYPED.sub(" ", line.removeprefix("错误：")))


@pytest.mark.parametrize(("args", "says"), [
    (["fees", "201710601862.4", "--filed", "2017-04-25", "--grant-year", "3"], "校验位应为 3，实为 4"),
    (["fees", "2017106018", "--filed", "2017-04-25", "--grant-year", "3"], "应为 12 位数字加校验位"),
    ([*FEES[:4], "2017-04-31", "--grant-year", "2"], "不是真实存在的日期"),
    ([*FEES[:4], "soon", "--grant-year", "2"], "不是日期"),
    ([*FEES, "--grant-year", "3", "--paid-through", "30"], "已缴至第 30 年超过保护期"),
    ([*FEES, "--granted", "2016-01-01"], "授权公告日 2016-01-01 早于申请日 2017-04-25"),
    (["report", "due", "--within", "soon"], "不是期间"),
    (["report", "due", "--within", "99999d"], "超过 3660 天（十年）"),
    (["report", "due", "--bogus"], "没有选项 --bogus"),
    (["report", "due", "--within"], "选项 '--within' 后面需要一个值"),
    (["patent", "show"], "缺少参数"),
    (["fees", "201710601862.3", "extra1", "extra2"], "多余的参数（extra1 extra2）"),
    (["reprot"], "没有命令 'reprot'。是否指 'report'？"),
    (["report", "due", "--format", "xml"], "的值无效：'xml' 不是"),
    (["remind", "list", "--limit", "x"], "'--limit' 的值无效：应为整数"),
    (["report", "forecast", "--years", "0"], "'--years' 的值无效：应不小于 1"),
    (["--config", "nowhere.toml", "report", "due"], "配置文件 nowhere.toml 不存在"),
], ids=["check-digit", "short-number", "no-such-day", "not-a-date", "paid-past-expiry", "grant-before-filing",
        "bad-within", "within-too-long", "unknown-option", "option-without-value", "missing-argument",
        "extra-arguments", "unknown-command", "bad-format-choice", "limit-not-a-number", "years-out-of-range",
        "config-missing"])
def test_a_refused_command_says_why_in_chinese(args, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no ./config.toml: the built-in language, Chinese
    set_language("zh")  # as a process starts (tests/conftest.py starts the core in English): an error before the
    code = cli.run(args)  # configuration is read (an unknown command, a missing file) is Chinese too
    err = capsys.readouterr().err
    assert code in (1, 2) and len(err.splitlines()) == 1, err
    assert err.startswith("错误：") and says in err, err
    assert not english_words(err), (english_words(err), err)


def test_an_english_configuration_keeps_english_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[general]\nlanguage = "en"\n', encoding="utf-8")
    assert cli.run(["report", "due", "--bogus"]) == 2
    assert "No such option: --bogus (Possible options: --out) (see `custody report due --help`)" in \
        capsys.readouterr().err
    assert cli.run(["fees", "201710601862.4", "--filed", "2017-04-25", "--grant-year", "3"]) == 1
    assert "check digit should be 3, got 4" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- the mechanism


def test_an_error_is_worded_when_it_is_shown_not_when_it_is_raised():
    with pytest.raises(InvalidApplicationNumber) as caught:
        parse_application_number("201710601862.4")  # raised while the core speaks English (tests/conftest.py)
    assert str(caught.value) == "check digit should be 3, got 4"
    set_language("zh")
    assert str(caught.value) == "校验位应为 3，实为 4"
    assert in_every_language(caught.value) == {"zh": "校验位应为 3，实为 4", "en": "check digit should be 3, got 4"}


def test_a_message_inside_a_message_is_worded_in_the_same_language():
    error = FeeInputError(tx("row {row}: {problem}", row="ZL1", problem=tx("the filing date is missing")))
    assert (error.render("en"), error.render("zh")) == ("row ZL1: the filing date is missing", "行 ZL1：缺少申请日")


@pytest.mark.parametrize(("english", "chinese"), [
    ("No such option: --x", "没有选项 --x"),
    ("No such option: --x (Possible options: --within, --as-of)", "没有选项 --x（可用的选项：--within, --as-of）"),
    ("Missing argument 'appno'.", "缺少参数 'appno'"),
    ("Option '--within' requires an argument.", "选项 '--within' 后面需要一个值"),
    ("Option '--pair' requires 2 arguments.", "选项 '--pair' 后面需要 2 个值"),
    ("Got unexpected extra argument(s) (a b)", "多余的参数（a b）"),
    ("No such command 'lst'. Did you mean 'list'?", "没有命令 'lst'。是否指 'list'？"),
    ("Invalid value for '--format': Value error, 'xml' is not one of 'table', 'csv'.",
     "'--format' 的值无效：'xml' 不是 'table', 'csv' 之一"),
    ("Invalid value for '--limit': Input should be less than or equal to 100000",
     "'--limit' 的值无效：应不大于 100000"),
    ("Invalid value for '--as-of': --as-of: 0001-01-01 is outside the years 1985-2199",
     "'--as-of' 的值无效：--as-of: 0001-01-01 is outside the years 1985-2199"),  # our own reason: as it is
    ("Something click never said", "Something click never said"),
])
def test_click_s_messages_in_chinese(english, chinese):
    assert click_message(english, "zh") == chinese
    assert click_message(english, "en") == english


# ---------------------------------------------------------------------------------------------- the catalogue


def _literal_msgids(pattern: str, paths) -> set[str]:
    found = set()
    for path in paths:
        for call in re.finditer(pattern, path.read_text(encoding="utf-8")):
            found.add("".join(ast.literal_eval(f'"{part}"') for part in re.findall(r"\"([^\"]*)\"", call.group(1))))
    return found


def test_every_error_message_and_click_template_has_its_chinese():
    paths = [p for folder in ("custody", "importers", "scheduler", "notifiers") for p in (ROOT / folder).rglob("*.py")]
    used = _literal_msgids(r"\btx\(((?:\s*\"[^\"]*\"\s*)+)[,)]", paths) | set(CLICK_MESSAGES)
    from custody.fees import REQUIRED_GRANT_YEAR_MSGID, UNKNOWN_GRANT_YEAR

    used |= {REQUIRED_GRANT_YEAR_MSGID, UNKNOWN_GRANT_YEAR}
    zh = catalogue("zh")
    missing = sorted(m for m in used if m not in zh)
    assert not missing, missing
    fields = re.compile(r"{(\w+)")
    assert all(set(fields.findall(zh[m])) <= set(fields.findall(m)) for m in used)


def test_the_dates_of_a_chinese_error_are_the_operators():
    set_language("zh")
    with pytest.raises(FeeInputError) as caught:
        from custody.decisions import decision_year
        from custody.domain import PatentFacts, PatentType
        from custody.fees import fee_schedule
        from custody.ruleset import default_rules
        from custody.workdays import default_calendar

        facts = PatentFacts(PatentType.INVENTION, date(2017, 4, 25), grant_year=3, paid_through=8)
        decision_year(fee_schedule(facts, default_rules(), default_calendar()), 7)
    assert str(caught.value) == "第 7 年年费已缴纳"


# ---------------------------------------------------------------------------------------------- reminder tiers


@pytest.mark.parametrize(("stored", "zh", "en"), [
    ("before_due:due-60", "到期前60天", "60 days before the due date"),
    ("before_due_sms:due+0", "到期日当天", "on the due date"),
    ("late_fee_rise:rise10-3", "宽限期第2个月前3天（滞纳金10%）", "3 days before grace month 2 (late fee 10%)"),
    ("late_fee_rise:rise5+0", "宽限期第1个月首日（滞纳金5%）", "grace month 1 begins (late fee 5%)"),
    ("grace_end:grace_end-15", "宽限期届满前15天", "15 days before the grace period ends"),
    ("lapsed:grace_end+1", "宽限期届满后1天", "1 days after the grace period ended"),
    ("restoration_notice:notice+0", "终止通知当天", "the day of the termination notice"),
    ("restoration:restore_by-10", "恢复期限前10天", "10 days before the restoration deadline"),
    ("grace_end:grace_end-15>fallback", "宽限期届满前15天（备用渠道）",
     "15 days before the grace period ends (fallback channel)"),
    ("not a tier", "not a tier", "not a tier"),
])
def test_a_reminder_tier_is_shown_as_when_it_fires(stored, zh, en):
    from custody.i18n import cell_label, label
    from custody.tier_words import _WORDS

    assert (label("tier", stored, "zh"), label("tier", stored, "en")) == (zh, en)
    assert cell_label("tier", stored, "zh") == zh  # a table column of the domain "tier"
    assert all(msgid in catalogue("zh") for words in _WORDS.values() for msgid in words)


def test_patent_history_names_the_tier_in_words(session):
    from custody.store.reminder_history import reminder_rows
    from tests.test_operator_commands import _planned_item
    from tests.test_status_portfolio import P1, build_portfolio

    build_portfolio(session)
    item = _planned_item(session, P1, 9, date(2025, 8, 1))  # stored tier "before_due:due-60"
    set_language("zh")
    [row] = reminder_rows(session, item.patent_id)
    assert "（到期前60天）" in row["detail"] and "before_due" not in row["detail"], row


# ---------------------------------------------------------------------------------------------- long tables


@pytest.mark.parametrize(("width", "lines"), [
    (80, ["Small", "名称      金额     日期         比例", "--------  -------  -----------  ------",
          "=1+1      -5.00    2027-03-01*  15.00%", "一种方法  1234.56  2025-06-16   0%", ""]),
    (30, ["Small", "（为适应终端宽度未显示：名称；--format csv 可导出全部列）", "金额     日期         比例",
          "-------  -----------  ------", "-5.00    2027-03-01*  15.00%", "1234.56  2025-06-16   0%", ""]),
    (10, ["Small", "（为适应终端宽度未显示：名称；--format csv 可导出全部列）", "金额     日期         比例",
          "-------  -----------  ------", "-5.00    2027-03-01*  15.00%", "1234.56  2025-06-16   0%", ""]),
], ids=["fits", "text-column-left-out", "amounts-and-dates-whole-even-when-wider"])
def test_a_long_plain_table_fits_the_terminal_without_cutting_an_amount_or_a_date(width, lines, monkeypatch):
    import io

    from custody import report_totals as totals
    from custody.report_output import write_plain_table
    from tests.test_report_engine import _small_report

    out = io.StringIO()
    write_plain_table(totals.as_table_report(_small_report()), out, "zh", width)
    assert out.getvalue().splitlines() == lines
    monkeypatch.setenv("COLUMNS", str(width))  # the terminal's width when none is given, as cli_render reads it
    again = io.StringIO()
    write_plain_table(totals.as_table_report(_small_report()), again, "zh")
    assert again.getvalue() == out.getvalue()


def test_a_dry_run_names_each_tier_in_words(zh_cli, capsys):  # noqa: F811
    code, out, err = zh_cli(["remind", "plan", "--dry-run", "--as-of", "2025-06-16", "--full"], capsys, 160)
    assert code == 0, err
    assert "到期前" in out and not re.search(r"\w+:(due|rise\d+|grace_end|notice|restore_by)[+-]\d+", out), out
    code, out, _ = zh_cli(["remind", "plan", "--dry-run", "--as-of", "2025-06-16", "--full", "--format", "json"],
                          capsys)
    assert any(re.fullmatch(r"\w+:due-\d+", row["tier"]) for row in json.loads(out))  # scripts: as stored
