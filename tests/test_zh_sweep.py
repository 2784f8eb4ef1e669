"""What an operator's sweep of every command in Chinese found still in English or raw (issue 11), kept Chinese.

Set-up (init, db upgrade, calendar load), a status source not configured, a configuration file that is not
TOML, the patent history's fields, sources and effects, yes/no in CSV, the outbox's number column, the deliveries
period, the watch state in words and where a record came from.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

import cli
from custody.i18n import cell_label, label, set_language, source_label
from custody.status_effects import NOT_GIVEN, WatchState, watch_summary
from tests.test_status_portfolio import P6, A
from tests.test_zh_errors import english_words
from tests.test_zh_output import portfolio_url, zh_cli  # noqa: F401  (fixtures)

SAMPLE_SCHEDULE = Path(__file__).parent / "data" / "calendar-2027-sample.toml"
SET_UP_ENGLISH = re.compile(r"\b(configuration|database|created|initialised|unchanged|rest days|make-up|built-in)\b")


def test_setting_up_and_loading_a_holiday_schedule_say_what_happened_in_chinese(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no ./config.toml: the built-in defaults, Chinese
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.sqlite3'}")
    said = []
    for args in (["init"], ["init"], ["db", "upgrade"], ["calendar", "load", str(SAMPLE_SCHEDULE)]):
        assert cli.run(args) == 0
        said.append(capsys.readouterr().out)
    assert said[0].startswith("配置：内置默认配置\n数据库：sqlite:///") and said[0].endswith("（已新建）\n"), said[0]
    assert said[1].endswith("（此前已初始化）\n") and said[2].endswith("（未变）\n"), said
    assert said[3].startswith("2027 年：放假 10 天，调休上班 1 天，来源："), said[3]
    assert not [s for s in said if SET_UP_ENGLISH.search(s)], said


def test_a_status_feed_not_configured_is_said_in_chinese(zh_cli, capsys):  # noqa: F811
    code, _, err = zh_cli(["status", "sync", "http"], capsys)
    assert code == 2 and err.startswith("错误：内置默认配置：未设置 [status.http] url：请在该处填写数据源地址"), err


@pytest.mark.parametrize(("text", "says"), [
    ("[general\n", "第 1 行第 9 列：[表] 标题缺少结尾的 ]"),
    ('[general]\nlanguage = "zh\n', "第 2 行第 15 列：文本在本行内缺少结尾的引号"),
    ("[general]\nlanguage = zh\n", "第 2 行第 12 列：此值不是带引号的文本、数字、日期、true、false 或列表"),
], ids=["header-unclosed", "text-unclosed", "bare-word"])
def test_a_configuration_file_that_is_not_toml_says_where_in_chinese(tmp_path, monkeypatch, capsys, text, says):
    monkeypatch.chdir(tmp_path)
    set_language("zh")  # as a process starts: the configuration that would say otherwise cannot be read
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    assert cli.run(["report", "due"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：config.toml：TOML 格式有误：") and says in err, err
    assert not re.findall(r"[A-Za-z]{3,}", re.sub(r"TOML|config\.toml|true|false", "", err)), err


def test_yes_and_no_in_a_csv_are_words_never_python_s(zh_cli, capsys):  # noqa: F811
    code, out, _ = zh_cli(["enterprise", "set", A, "--format", "csv"], capsys)
    assert code == 0 and not re.search(r"\b(True|False)\b", out), out
    assert {"是", "否"} & set(out.splitlines()[1].split(",")), out


def test_the_outbox_and_the_deliveries_report_have_chinese_headings(zh_cli, capsys):  # noqa: F811
    code, out, _ = zh_cli(["remind", "list"], capsys)
    assert code == 0 and "编号" in out and not re.search(r"[┃│] id ", out), out
    code, out, _ = zh_cli(["report", "deliveries", "--from", "2025-01-01", "--to", "2025-12-31"], capsys)
    assert code == 0 and "2025-01-01 至 2025-12-31" in out and "Total" not in out and "合计" in out, out


def test_the_forecast_names_the_platform_total_in_chinese(zh_cli, capsys):  # noqa: F811
    code, out, _ = zh_cli(["report", "forecast", "--as-of", "2025-06-16", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines()[-1].startswith(",平台合计,") and "Platform" not in out, out


def test_the_patent_history_names_fields_sources_and_effects_in_chinese(zh_cli, capsys):  # noqa: F811
    assert zh_cli(["patent", "set", P6, "--reduction", "70", "--recorded", "2025-01-03"], capsys)[0] == 0
    assert zh_cli(["patent", "remove", P6, "--by", "张三"], capsys)[0] == 0
    code, out, _ = zh_cli(["patent", "history", P6], capsys, 160)
    assert code == 0
    assert "变更：费减比例" in out and "变更：托管方式" in out and "影响：托管终止" in out, out
    assert "影响：企业决定放弃" in out and "命令行 张三" in out, out
    assert not re.search(r"\b(cli|reduction|recorded_on|mode|custody_ended|decision_\w+)\b", out), out


@pytest.mark.parametrize(("stored", "zh"), [
    ("cli", "命令行"), ("cli:张三", "命令行 张三"), ("import:payments.csv", "导入 payments.csv"),
    ("file:status-2024.xlsx", "文件 status-2024.xlsx"), ("status:file:restore.csv", "法律状态 文件 restore.csv"),
    ("http:https://feed.example/status", "数据源 https://feed.example/status"),
    ("ops:CN201710601862", "OPS CN201710601862"),
    ("导入 again.csv（#1）", "导入 again.csv（#1）"), ("something:else", "something:else"),
])
def test_where_a_record_came_from_is_said_in_words(stored, zh):
    assert (source_label(stored, "zh"), source_label(stored, "en")) == (zh, stored)
    assert cell_label("source", stored, "zh") == zh


@pytest.mark.parametrize(("state", "zh"), [
    (WatchState(), "有效"),
    (WatchState(transfer_to=NOT_GIVEN, transfer_on=date(2026, 11, 10)), "转让给 （记录未写明），提醒暂停"),
    (WatchState(lapsed_on=date(2026, 11, 27), pledgee="兴业银行"),
     "未缴年费终止（通知日 2026-11-27）、已质押给 兴业银行"),
    (WatchState(ended="expired", ended_on=date(2027, 5, 20)), "已终止（期满终止，2027-05-20）"),
], ids=["in-force", "transfer-unnamed", "lapsed-and-pledged", "ended"])
def test_the_watch_state_of_a_replayed_announcement_is_said_in_words(state, zh):
    set_language("zh")
    shown = watch_summary(state)
    assert shown == zh and not english_words(shown), shown


def test_a_statement_send_counts_the_ones_already_planned_in_words():
    assert (label("tick_count", "already", "zh"), label("tick_count", "already", "en")) == ("此前已计划",
                                                                                          "already planned")


@pytest.mark.parametrize(("args", "raw"), [
    (["remind", "plan", "--dry-run", "--as-of", "2025-06-16", "--full", "--format", "csv"],
     r",(planned|already planned|skipped: [^,]*|email|sms|before_due\w*:\w+[+-]\d+)(,|$)"),
    (["remind", "list", "--format", "csv"], r",(planned|sent|delivered|fee|alert|statement|email|sms)(,|$)"),
    (["patent", "history", P6, "--format", "csv"], r"(effect|event|reminder|decision): \w+|,cli(:|,|$)"),
], ids=["remind-plan", "remind-list", "patent-history"])
def test_a_csv_for_a_spreadsheet_has_the_table_s_words_not_stored_values(zh_cli, capsys, args, raw):  # noqa: F811
    code, out, _ = zh_cli(args, capsys)
    assert code == 0 and len(out.splitlines()) > 1, out
    body = "\n".join(out.splitlines()[1:])  # the header keeps the keys scripts read
    assert not re.search(raw, body, re.M), re.search(raw, body, re.M)


def test_a_state_the_patent_list_does_not_know_is_said_in_chinese(zh_cli, capsys):  # noqa: F811
    code, _, err = zh_cli(["patent", "list", "--state", "nonsense"], capsys)
    assert code == 1 and err.startswith("错误：--state 'nonsense' 不是专利状态：请用 in_force/有效"), err


@pytest.mark.parametrize(("profiles", "says"), [
    ("", "错误：配置中没有导入模板 'agency'（已有模板：无）"),
    ('[import.profiles.agency]\nkind = "payments"\n', "错误：导入模板 'agency' 用于缴费，不能用于专利"),
    ('[import.profiles.agency]\ncolumns = { "案号" = "case_no" }\n',
     "错误：导入模板 'agency' 对应了未知字段 case_no；专利的字段为："),
], ids=["none", "other-kind", "unknown-field"])
def test_an_import_profile_the_configuration_does_not_define_is_said_in_chinese(zh_cli, capsys,  # noqa: F811
                                                                                 profiles, says):
    Path("config.toml").write_text(profiles, encoding="utf-8")
    Path("p.csv").write_text("申请号\n201710601862.3\n", encoding="utf-8")
    code, _, err = zh_cli(["import", "patents", "p.csv", "--profile", "agency"], capsys)
    assert code == 2 and err.startswith(says), err


def test_remind_send_counts_in_words(zh_cli, capsys):  # noqa: F811
    code, out, _ = zh_cli(["remind", "send"], capsys)
    assert code in (0, 1) and "核对" in out and not re.search(r"\b(reconciled|sent|failed|released)\b", out), out


def test_an_unexpected_failure_that_cannot_be_logged_says_why_in_chinese(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlog_file = "{tmp_path / "gone" / "custody.log"}"\n', encoding="utf-8")
    set_language("zh")
    shown = cli._log_unexpected(RuntimeError("boom"), str(config))
    log_file = tmp_path / "gone" / "custody.log"
    assert shown == f"无处可写：日志文件 {log_file} 无法写入（文件或其所在文件夹不存在）", shown


def test_a_reduction_waiting_to_be_re_filed_is_said_in_words():
    stored = "to re-file since 2026-12-07: full fee"  # custody.display.reduction_refile_text
    assert cell_label("reduction", stored, "zh") == "费减待新权利人重新备案（2026-12-07 起），全额"
    assert cell_label("reduction", stored, "en") == stored


def test_a_legal_status_of_a_patent_not_in_the_portfolio_is_reviewed_in_chinese(zh_cli, capsys):  # noqa: F811
    Path("other.csv").write_text("申请号,法律状态公告日,法律状态\n201910999999.8,2025-06-10,专利权的终止\n",
                                 encoding="utf-8")
    code, out, err = zh_cli(["status", "sync", "other.csv"], capsys)
    assert code == 0, (out, err)
    code, out, _ = zh_cli(["status", "review", "--since", "2020-01-01", "--format", "csv"], capsys)
    [line] = [line for line in out.splitlines() if "201910999999.8" in line]
    assert code == 0 and "（2025-06-10 公告，other.csv:2）：该专利不在组合中" in line, line
    assert not re.search(r"\b(announced|portfolio|import)\b", line), line


def test_a_legal_status_export_s_problems_name_the_file_s_own_columns_in_chinese(zh_cli, capsys):  # noqa: F811
    bad = Path(__file__).parent / "data" / "status" / "status-bad.csv"
    code, _, err = zh_cli(["status", "sync", str(bad)], capsys)
    assert code == 1 and err.splitlines() == [
        "status-bad.csv:3:公告日: '2025-13-45' 不是真实存在的日期", "status-bad.csv:4:申请号: 第 1 位字符“A”不是数字",
        "status-bad.csv:5:法律状态: 法律状态为空", "错误：文件 status-bad.csv：3 条记录无法读取：未应用任何记录"], err


@pytest.mark.parametrize(("name", "says"), [
    ("malformed.xml", "返回内容不是格式正确的 XML（第 "),
    ("no_family.xml", "返回内容中没有 ops:patent-family"),
    ("cn_pledges.xml", "返回内容中没有中国申请 201410000003.5 的同族成员"),
], ids=["cut-off", "no-patent-family", "answer-for-another-application"])
def test_an_ops_answer_that_cannot_be_read_is_said_in_chinese(name, says):
    from custody.appno import parse_application_number
    from custody.ops_legal import docdb_guess, legal_records

    set_language("zh")
    appno = parse_application_number("201410000003.5")
    with pytest.raises(Exception) as caught:  # noqa: B017 - OpsFormatError or OpsNoMember, as the case says
        legal_records((Path(__file__).parent / "data" / "ops" / name).read_bytes(), appno, docdb_guess(appno))
    assert str(caught.value).startswith("OPS 法律事件 CN.201410000003.A：") and says in str(caught.value), caught.value
