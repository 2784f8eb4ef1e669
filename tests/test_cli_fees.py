"""`custody fees`: the calculator's JSON contract, its table, and every bad input as one Error line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import run

BASE = ["fees", "201710601862.3", "--filed", "2017-04-25", "--grant-year", "3", "--reduction", "85"]


def fees_json(capsys, *extra: str) -> dict:
    assert run([*BASE, "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_contract_has_every_documented_key(capsys):
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8", "--pay-on", "2025-04-25")
    for key in ("application_number", "type", "filing_date", "expiry_date", "grant_year", "as_of", "state",
                "years", "next_due", "quote"):
        assert key in view
    assert set(view["years"][0]) >= {"year", "anniversary", "due_date", "full_fee", "fee", "grace_end", "paid",
                                     "late_fee_bands"}
    assert set(view["next_due"]) >= {"year", "due_date", "fee", "late_fee", "total", "grace_end"}
    assert set(view["quote"]) >= {"pay_on", "year", "fee", "late_fee", "total"}
    assert set(view["years"][1]["late_fee_bands"][0]) == {"rate", "from", "to", "late_fee", "provisional"}


def test_type_comes_from_the_application_number(capsys):
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8")
    assert view["type"] == "invention"
    assert view["application_number"] == "201710601862.3"
    assert view["expiry_date"] == "2037-04-25"


def test_next_due_on_a_date_with_reduction(capsys):
    # Year 9 of an invention: full fee 2000, 85 % reduction -> 300; 2025-04-25 is a Friday (working day).
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8")
    assert view["state"] == "in_force"
    due = view["next_due"]
    rules = due.pop("rules")
    assert due == {"year": 9, "due_date": "2025-04-25", "fee": 300, "late_fee": 0, "total": 300,
                   "grace_end": "2025-10-27", "provisional": False, "due_date_provisional": False,
                   "grace_end_provisional": False}
    # Like each year, next_due names the rule rows behind its figures.
    assert (rules["full_fee"]["rule"], rules["fee"]["rule"], rules["late_fee"]["rule"]) == (
        "fee.invention.7-9", "reduction.85", "late_fee.rule115")


def test_quote_in_the_ten_percent_band_charges_on_the_full_fee(capsys):
    # Paid 2025-07-01: more than two months after 2025-04-25 -> 10 % of the FULL fee 2000 = 200 (Rule 115).
    view = fees_json(capsys, "--as-of", "2025-07-01", "--paid-through", "8", "--pay-on", "2025-07-01")
    assert view["state"] == "in_grace"
    quote = view["quote"]
    rules = quote.pop("rules")
    assert quote == {"pay_on": "2025-07-01", "year": 9, "fee": 300, "late_fee": 200, "late_fee_rate": 0.1,
                     "total": 500, "provisional": False}
    assert rules["late_fee"]["rule"] == "late_fee.rule115"
    assert {r["rule"] for r in view["remaining_total_rules"]} >= {"fee.invention.7-9", "reduction.85",
                                                                  "late_fee.rule115"}


def test_quote_after_grace_end_is_an_error_value_with_the_restoration_figure_and_exit_zero(capsys):
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8", "--pay-on", "2025-11-01")
    assert "专利权已终止" in view["quote"]["error"]  # the CLI speaks its configuration's language (zh)
    assert view["quote"]["pay_on"] == "2025-11-01"
    # Rule 6 ¶2: the year-9 fee (300 after the 85 % reduction) + 25 % of the full 2000 + 1000.
    restoring = view["quote"]["restoration"]
    assert {k: restoring[k] for k in ("year", "lapsed_on", "fee", "late_fee", "restoration_fee", "total",
                                      "request_within_months")} == {
        "year": 9, "lapsed_on": "2025-04-25", "fee": 300, "late_fee": 500, "restoration_fee": 1000, "total": 1800,
        "request_within_months": 2}
    assert restoring["rule"]["rule"] == "restoration.rule6"


def test_the_table_shows_what_restoring_a_lapsed_patent_costs(capsys):
    assert run([*BASE, "--as-of", "2025-01-10", "--paid-through", "8", "--pay-on", "2025-11-01"]) == 0
    out = capsys.readouterr().out
    assert "恢复权利" in out and "¥300 + 滞纳金 ¥500 + 恢复费 ¥1,000 = ¥1,800" in out


def test_quote_when_everything_is_paid_is_an_error_value_and_exit_zero(capsys):
    view = fees_json(capsys, "--as-of", "2030-01-10", "--paid-through", "20", "--pay-on", "2030-02-01")
    assert view["quote"] == {"pay_on": "2030-02-01", "error": "至期满的年费均已缴纳",
                             "paid_up": True}


AUDIT_EXAMPLE = ["fees", "--type", "invention", "--filed", "2015-03-01", "--grant-year", "4", "--paid-through", "12",
                 "--reduction", "85", "--term-extension-days", "800", "--as-of", "2026-12-01"]


def test_term_compensation_shows_the_200_request_fee_as_paid(capsys):
    # Announcement No. 594: 800 days = 2 whole years -> 16,000; the 200 request fee went with the request.
    assert run([*AUDIT_EXAMPLE, "--format", "json"]) == 0
    view = json.loads(capsys.readouterr().out)
    comp = view["term_compensation"]
    assert (comp["annual_fee"], comp["request_fee"], comp["fee"]) == (16_000, 200, 16_000)
    assert comp["request_fee_paid"] is True
    assert view["remaining_total"] == 68_900
    assert run(AUDIT_EXAMPLE) == 0
    out = capsys.readouterr().out
    assert "补偿费 ¥16,000，应于" in out and "（请求费 ¥200 已随补偿请求缴纳）" in out and "¥68,900" in out


def test_a_reduction_recorded_too_late_is_charged_in_full_with_its_rule(capsys):
    # Year 9 due 2025-04-25; recorded 2025-03-01, less than 3 months before -> full 2000; year 10 reduced again.
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8", "--reduction-recorded", "2025-03-01")
    year9, year10 = view["years"][6], view["years"][7]
    assert (year9["year"], year9["fee"], year9["reduction_too_late"]) == (9, 2000, True)
    assert year9["rules"]["reduction_too_late"]["rule"] == "reduction.lead_time"
    assert (year10["fee"], year10["reduction"]) == (600, "85")
    assert view["reduction_recorded_on"] == "2025-03-01"
    assert run([*BASE, "--as-of", "2025-01-10", "--paid-through", "8", "--reduction-recorded", "2025-03-01"]) == 0
    assert "费减备案过晚，全额" in capsys.readouterr().out


def test_the_lead_time_comes_from_the_configuration(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlog_file = "{tmp_path / "log"}"\n[rules]\nreduction_lead_months = 1\n',
                      encoding="utf-8")
    assert run(["--config", str(config), *BASE, "--format", "json", "--as-of", "2025-01-10", "--paid-through", "8",
                "--reduction-recorded", "2025-03-01"]) == 0
    assert json.loads(capsys.readouterr().out)["years"][6]["fee"] == 300


@pytest.mark.parametrize("value", ['"3"', "2.5", "true"])
def test_a_bad_lead_time_setting_is_a_configuration_error(capsys, tmp_path, value):
    config = tmp_path / "config.toml"
    config.write_text(f"[rules]\nreduction_lead_months = {value}\n", encoding="utf-8")
    assert run(["--config", str(config), *BASE]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("Error: ") == 1 and "reduction_lead_months" in captured.err


def test_paid_through_defaults_to_the_grant_year(capsys):
    view = fees_json(capsys, "--as-of", "2019-01-10")
    assert view["next_due"]["year"] == 4


def test_table_is_in_chinese_and_marks_provisional_dates(capsys):
    assert run([*BASE, "--as-of", "2026-11-21", "--paid-through", "10"]) == 0
    out = capsys.readouterr().out
    assert "年费明细" in out and "申请日" in out and "费减85%" in out
    assert "暂定" in out  # years after 2026 have no published holiday schedule yet
    # Year 11: due 2027-04-26 and grace end 2027-10-25, both in 2027: both starred on the "next" line.
    assert "缴费期限 2027-04-26*，宽限期至 2027-10-25*" in out


def test_only_the_provisional_date_of_the_next_fee_is_starred(capsys):
    # Utility filed 2020-08-31: year 7 due Mon 2026-08-31 (2026 is published), grace end 2027-03-01 (2027 is
    # not): only the grace end is starred.
    assert run(["fees", "--type", "utility_model", "--filed", "2020-08-31", "--grant-year", "1", "--paid-through",
                "6", "--as-of", "2026-06-01"]) == 0
    assert "缴费期限 2026-08-31，宽限期至 2027-03-01*" in capsys.readouterr().out


def test_the_quote_says_when_it_rests_on_a_provisional_date(capsys):
    view = fees_json(capsys, "--as-of", "2026-11-21", "--paid-through", "10", "--pay-on", "2027-06-01")
    assert view["quote"]["provisional"] is True
    assert view["next_due"]["due_date_provisional"] is True


def test_the_packaged_holiday_schedules_reach_the_calculator(capsys, tmp_path, monkeypatch):
    import custody.workdays

    sample = Path(__file__).parent / "data" / "calendar-2027-sample.toml"
    (tmp_path / "2027.toml").write_text(sample.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(custody.workdays, "CALENDAR_DIR", tmp_path)
    view = fees_json(capsys, "--as-of", "2026-11-21", "--paid-through", "10")
    assert view["next_due"]["due_date_provisional"] is False


FEES = ["fees", "--type", "invention", "--filed", "2017-04-25"]


@pytest.mark.parametrize(
    "args, message",
    [
        # The application number's own check digit, said so (issue 11), in the configured language (zh).
        (["fees", "201710601862.4", "--filed", "2017-04-25", "--grant-year", "3"],
         "申请号 201710601862.4：校验位应为 3"),
        (["fees", "201710601862.3", "--type", "design", "--filed", "2017-04-25", "--grant-year", "3"],
         "与申请号 201710601862.3 不符（申请号的类型位表示 发明）"),
        ([*FEES, "--granted", "2016-01-01"], "早于申请日"),
        (["fees", "--type", "utility_model", "--filed", "2017-04-25", "--grant-year", "2", "--paid-through", "11"],
         "超过保护期"),
        (["fees", "--type", "invention", "--filed", "2017-04-31", "--grant-year", "2"], "不是真实存在的日期"),
        (FEES, "授权年度未知"),
        (["fees", "--filed", "2017-04-25", "--grant-year", "2"], "请给出申请号或 --type"),
        (["fees", "--type", "gadget", "--filed", "2017-04-25"], "--type 'gadget' 不是专利类型"),
        (["fees", "--type", "foo", "--filed", "2017-04-25", "--grant-year", "3"], "--type 'foo' 不是专利类型"),
        ([*FEES, "--grant-year", "3", "--reduction", "50"], "--reduction '50' 不是有效的费减比例"),
        ([*FEES, "--grant-year", "abc"], "--grant-year 'abc' 不是整数"),
        ([*FEES, "--grant-year", "3", "--paid-through", "x"], "--paid-through 'x' 不是整数"),
        ([*FEES, "--grant-year", "3", "--term-extension-days", "lots"], "--term-extension-days 'lots' 不是整数"),
        (["fees", "--type", "invention", "--filed", "1970-04-25", "--grant-year", "3"],
         "申请日 1970-04-25 早于 1985-04-01"),
        (["fees", "--type", "invention", "--filed", "9999-01-01", "--grant-year", "3"],
         "申请日 9999-01-01 晚于 2100-12-31"),
        ([*FEES, "--grant-year", "3", "--term-extension-days", "99999999"], "期限补偿 99999999 天"),
        ([*FEES, "--grant-year", "3", "--term-extension-days", "-5"], "期限补偿天数不能为负"),
        ([*FEES, "--grant-year", "5", "--paid-through", "3"], "已缴至第 3 年早于授权年度第 5 年"),
        ([*FEES, "--grant-year", "3", "--paid-through", "-1"], "已缴年度 -1 不能为负"),
        (["fees", "201710601862.3", "--filed", "2019-04-25", "--grant-year", "3"],
         "申请日 2019-04-25 晚于申请号 201710601862.3 所示的年份"),
        ([*FEES, "--grant-year", "3", "--granted", "2019-06-01"], "--grant-year 与 --granted 只能给一个"),
        ([*FEES, "--grant-year", "3", "--reduction-recorded", "someday"], "--reduction-recorded"),
    ],
    ids=["wrong-check-digit", "type-contradicts-number", "grant-before-filing", "paid-through-past-expiry",
         "impossible-date", "no-grant-year", "no-type", "unknown-type-gadget", "unknown-type-foo",
         "reduction-50", "grant-year-abc", "paid-through-not-a-number", "extension-not-a-number",
         "filed-before-any-rule", "filed-in-9999", "absurd-extension", "negative-extension",
         "paid-through-below-grant-year", "negative-paid-through", "filed-after-the-numbers-year",
         "grant-year-and-granted", "reduction-recorded-not-a-date"],
)
def test_bad_input_is_exactly_one_error_line_exit_1(capsys, args, message):
    assert run(args) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [captured.err.strip()] and captured.err.startswith("错误：")
    assert message in captured.err
    assert "unexpected failure" not in captured.err and "意外故障" not in captured.err and "╭" not in captured.err


def test_a_divisional_filed_before_the_numbers_year_is_accepted(capsys):
    # ref §10: a divisional (Rule 49) or PCT entry (Rule 119) keeps an earlier filing date.
    assert run(["fees", "201710601862.3", "--filed", "2015-04-25", "--grant-year", "3", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["filing_date"] == "2015-04-25"


def test_grant_year_required_setting_names_itself_when_only_the_grant_date_is_given(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[rules]\ngrant_year_inference = "require"\n', encoding="utf-8")
    assert run(["--config", str(config), *FEES, "--granted", "2019-06-01"]) == 1
    assert '必须给出授权年度（rules.grant_year_inference = "require"）' in capsys.readouterr().err


def test_csv_is_a_usage_error_for_the_calculator(capsys):
    assert run([*BASE, "--format", "csv"]) == 2
    assert "csv" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["bogus://nowhere", "not a url", "postgresql+psycopg2://c@127.0.0.1/c",
                                 "mysql://c@127.0.0.1/c"],
                         ids=["unknown-dialect", "unparsable", "psycopg2-not-installed", "mysql-not-installed"])
def test_a_malformed_database_url_is_one_configuration_error_line(capsys, monkeypatch, url):
    monkeypatch.setenv("CUSTODY_DATABASE_URL", url)
    assert run(BASE) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith(("错误：数据库地址：", "错误：数据库地址 "))


def test_an_unreachable_database_only_costs_the_calculator_its_loaded_schedules(capsys, monkeypatch):
    monkeypatch.setenv("CUSTODY_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:9/none")
    assert run([*BASE, "--format", "json", "--as-of", "2025-01-10"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["grant_year"] == 3
    assert "loaded holiday schedules not read" in captured.err


def test_unknown_config_file_is_a_configuration_error(capsys, tmp_path):
    assert run(["--config", str(tmp_path / "missing.toml"), *BASE]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("command", [("fees",), ("pay",), ("patent", "show")])
def test_the_docs_document_every_option_of_the_fee_commands(command):
    # sqlite-utils' habit: the reference (docs/fees.md, docs/patents.md) and --help kept in step by a test.
    import typer.main

    from cli import app

    click_command = typer.main.get_command(app)
    for name in command:
        click_command = click_command.commands[name]
    docs = Path(__file__).parent.parent / "docs"
    reference = "".join((docs / name).read_text(encoding="utf-8") for name in ("fees.md", "patents.md"))
    for option in (o for p in click_command.params for o in p.opts if o.startswith("--")):
        assert option in reference, f"{' '.join(command)} {option}"


@pytest.mark.parametrize("log_file, language, said", [
    ("{tmp}/no-such-folder/custody.log", "zh",
     "错误：{config}：[general] log_file {path}：无法写入（文件或其所在文件夹不存在）"),
    ("{tmp}", "zh", "错误：{config}：[general] log_file {path}：无法写入（这是一个文件夹，不是文件）"),
    ("{tmp}/a-file/custody.log", "zh",
     "错误：{config}：[general] log_file {path}：无法写入（路径中有一段是文件，不是文件夹）"),
    ("{tmp}/a-file/custody.log", "en",
     "Error: {config}: [general] log_file {path}: cannot write to it (a part of the path is a file, not a folder)"),
], ids=["missing-folder", "a-folder", "under-a-file", "english"])
def test_a_log_file_that_cannot_be_written_is_a_configuration_error(capsys, tmp_path, log_file, language, said):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    path = log_file.format(tmp=tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlanguage = "{language}"\nlog_file = "{path}"\n', encoding="utf-8")
    assert run(["--config", str(config), *BASE]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == said.format(config=config, path=path)


@pytest.mark.parametrize(("value", "expected"), [("5", "expected a text in quotes, got 5"),
                                               ('""', 'expected a non-empty text, got ""'),
                                               ("[]", "expected a text in quotes, got []")])
def test_a_log_file_that_is_not_a_path_is_a_configuration_error(capsys, tmp_path, value, expected):
    config = tmp_path / "config.toml"
    config.write_text(f"[general]\nlog_file = {value}\n", encoding="utf-8")
    assert run(["--config", str(config), *BASE]) == 2
    assert capsys.readouterr().err.strip() == f"Error: {config}: [general] log_file: {expected}"


def test_commands_under_test_log_outside_the_working_tree():
    # tests/conftest.py: ./config.toml leaves log_file at its default, which the tests point at a temporary folder.
    from custody.config import load_config

    repo = Path(__file__).resolve().parent.parent
    assert repo not in load_config(repo / "config.toml").log_file.parents
    assert repo not in load_config().log_file.parents


def test_a_paid_up_patent_is_said_in_chinese_in_the_table(capsys):
    assert run([*BASE, "--paid-through", "20", "--as-of", "2025-01-01", "--pay-on", "2025-02-01"]) == 0
    out = capsys.readouterr().out
    assert "下一笔：无（至期满的年费均已缴清）" in out
    assert "若于 2025-02-01 缴纳：无需缴纳（至期满的年费均已缴清）" in out and "already paid" not in out
    view = fees_json(capsys, "--paid-through", "20", "--as-of", "2025-01-01", "--pay-on", "2025-02-01")
    assert view["quote"] == {"pay_on": "2025-02-01", "error": "至期满的年费均已缴纳",
                             "paid_up": True}
