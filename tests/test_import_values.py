"""Cells as operators write them: each reader's worked examples, and what it refuses (no database)."""
from __future__ import annotations

import ast
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from custody.amounts import parse_amount
from custody.appno import parse_application_number
from custody.creditcode import parse_credit_code
from custody.dates import parse_date
from custody.domain import PatentType, Reduction
from custody.explained import Explained, in_every_language
from custody.i18n import catalogue
from custody.ruleset import default_rules
from custody.workdays import WorkCalendar
from importers import legal_status, values
from importers.columns import alias_table, header_key
from importers.header import find_header
from importers.inference import PaidThroughInference
from importers.messages import MESSAGES, render_message
from importers.problems import ProblemSink
from importers.readers import detect_encoding, open_source, rows

DATA = Path(__file__).parent / "data" / "import"
ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(("cell", "expected"), [
    pytest.param("201710601862.3", "201710601862.3", id="canonical"),
    pytest.param("ZL201710601862.3", "201710601862.3", id="patent-number-prefix"),
    pytest.param("CN2017106018623", "201710601862.3", id="cn-prefix-no-dot"),
    pytest.param("２０１７１０６０１８６２．３", "201710601862.3", id="full-width"),
    pytest.param("200710308494.X", "200710308494.X", id="check-x"),
    pytest.param("97101765.4", "97101765.4", id="old-8-digit-form"),
    pytest.param(201710601862.3, "201710601862.3", id="float-with-its-check-digit"),
])
def test_application_numbers_are_read_in_every_common_spelling(cell, expected):
    assert values.application_number(cell) == expected


@pytest.mark.parametrize(("cell", "code"), [
    pytest.param("201710601862.4", "appno_invalid", id="wrong-check-digit"),
    pytest.param(201710601862.0, "appno_number_cell", id="float-lost-its-check-character"),
    pytest.param(201710601862, "appno_number_cell", id="integer-cell"),
    pytest.param("2.01711E+11", "appno_scientific", id="scientific-notation"),
    pytest.param("CN108123456A", "appno_invalid", id="publication-number"),
])
def test_application_numbers_that_cannot_be_trusted_are_refused(cell, code):
    with pytest.raises(values.CellProblem) as caught:
        values.application_number(cell)
    assert caught.value.code == code


@pytest.mark.parametrize(("cell", "expected"), [
    pytest.param("2023-03-15", date(2023, 3, 15), id="iso"),
    pytest.param("2023/3/15", date(2023, 3, 15), id="slashes"),
    pytest.param("2023.03.15", date(2023, 3, 15), id="dots"),
    pytest.param("20230315", date(2023, 3, 15), id="compact"),
    pytest.param("2023年3月15日", date(2023, 3, 15), id="chinese"),
    pytest.param(45000.0, date(2023, 3, 15), id="excel-serial"),
    pytest.param(date(2023, 3, 15), date(2023, 3, 15), id="excel-date-cell"),
])
def test_dates_are_read_in_every_common_spelling(cell, expected):
    assert values.day(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    pytest.param("¥1,200.00", Decimal("1200.00"), id="yen-sign-and-separator"),
    pytest.param("1200元", Decimal("1200.00"), id="yuan-suffix"),
    pytest.param("人民币 1,200", Decimal("1200.00"), id="renminbi-prefix"),
    pytest.param(1200.5, Decimal("1200.50"), id="number-cell"),
    pytest.param("１２００", Decimal("1200.00"), id="full-width"),
    pytest.param("1200.000", Decimal("1200.00"), id="zeros-past-the-fen"),
    pytest.param(0.1 + 0.2, Decimal("0.30"), id="float-cell-noise"),
])
def test_amounts_drop_currency_signs_units_and_separators(cell, expected):
    assert values.amount(cell) == expected


@pytest.mark.parametrize("cell", ["abc", "-100", "12,00,0元x", "1e30", "1E3", "NaN", "inf", "12.345", 12.345,
                                  float("nan"), float("inf"), "99999999999", 1e30])
def test_amounts_that_are_not_money_are_refused(cell):
    with pytest.raises(values.CellProblem):
        values.amount(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    pytest.param("85%", Reduction.R85, id="percent"),
    pytest.param("0.85", Reduction.R85, id="fraction"),
    pytest.param("个人85%", Reduction.R85, id="individual-85"),
    pytest.param("费减85%", Reduction.R85, id="labelled"),
    pytest.param("70%", Reduction.R70, id="seventy"),
    pytest.param("0.7", Reduction.R70, id="seventy-fraction"),
    pytest.param("无", Reduction.NONE, id="none-chinese"),
    pytest.param("none", Reduction.NONE, id="none-english"),
    pytest.param("不减缴", Reduction.NONE, id="not-reduced"),
    pytest.param("未费减", Reduction.NONE, id="no-reduction-filed"),
    pytest.param("未减缴", Reduction.NONE, id="not-reduced-2"),
])
def test_fee_reductions_in_their_usual_spellings(cell, expected):
    assert values.reduction(cell) == expected


@pytest.mark.parametrize(("cell", "code"), [
    pytest.param("15%", "reduction_ambiguous", id="share-paid-not-waived"),
    pytest.param("50%", "reduction_invalid", id="no-such-reduction"),
])
def test_fee_reductions_that_cannot_be_read_are_refused(cell, code):
    with pytest.raises(values.CellProblem) as caught:
        values.reduction(cell)
    assert caught.value.code == code


@pytest.mark.parametrize(("cell", "expected"), [
    ("发明", PatentType.INVENTION), ("发明专利", PatentType.INVENTION), ("实用新型", PatentType.UTILITY_MODEL),
    ("外观设计", PatentType.DESIGN), ("utility model", PatentType.UTILITY_MODEL), ("Design", PatentType.DESIGN),
])
def test_patent_types_in_chinese_and_english(cell, expected):
    assert values.patent_type(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("13800138000", "13800138000"), ("+86 139 0591 2345", "13905912345"), ("186-0592-6789", "18605926789"),
])
def test_mobile_numbers_are_normalised_to_eleven_digits(cell, expected):
    assert values.mobile(cell) == expected


@pytest.mark.parametrize("cell", ["1380013800", "0591-87654321", "+1 415 555 2671"])
def test_landlines_foreign_and_short_numbers_are_not_mobiles(cell):
    with pytest.raises(values.CellProblem):
        values.mobile(cell)


def test_email_addresses_are_checked_for_syntax_only_and_kept_trimmed_in_lower_case():
    # Lower case is the form a contact is known by (custody.domain.email_key): one mailbox, one contact.
    assert values.email(" Lin@MinJiang.example.cn ") == "lin@minjiang.example.cn"
    with pytest.raises(values.CellProblem):
        values.email("zhao@@yuntu")


@pytest.mark.parametrize(("cell", "expected"), [
    (6, 6), (6.0, 6), ("6", 6), ("第6年", 6), ("6年", 6), ("第 12 年度", 12),
])
def test_patent_years_in_their_usual_spellings(cell, expected):
    assert values.patent_year(cell) == expected


@pytest.mark.parametrize(("status", "meaning"), [
    ("有效", legal_status.IN_FORCE), ("专利权维持", legal_status.IN_FORCE), ("in force", legal_status.IN_FORCE),
    ("未缴年费专利权终止", legal_status.ENDED), ("期满终止", legal_status.ENDED), ("invalid", legal_status.ENDED),
    ("实质审查", legal_status.PENDING), ("公开", legal_status.PENDING), ("看不懂", None),
])
def test_legal_status_wording_means_in_force_pending_or_ended(status, meaning):
    assert legal_status.meaning(status) == meaning


@pytest.mark.parametrize(("name", "encoding"), [
    ("portfolio_gbk.csv", "gb18030"), ("portfolio_bom.csv", "utf-8-sig"), ("enterprises.csv", "utf-8"),
])
def test_csv_encoding_is_detected_not_asked_for(name, encoding):
    assert detect_encoding(DATA / name) == encoding


def test_header_is_found_below_merged_title_rows_and_notes():
    sink = ProblemSink("portfolio_title.xlsx")
    header, data = find_header(rows(open_source(DATA / "portfolio_title.xlsx")), "patents", sink)
    assert header.row == 3
    assert header.labels["application_number"] == "专利号"
    assert header.file_date == date(2024, 5, 1)
    assert [number for number, _ in data] == [4, 5, 6, 7]


def test_header_aliases_ignore_spaces_stars_and_full_width_brackets():
    table = alias_table("patents")
    assert table[header_key(" 申请号（专利号）* ")] == "application_number"
    assert table[header_key("Application No.")] == "application_number"


def test_paid_through_inference_counts_fees_whose_grace_ended_and_flags_the_running_one():
    # Utility model filed 2018-03-12, granted in year 1: the year-7 fee fell due 2024-03-12 and its grace period
    # runs on 2024-05-01, so years 1-6 are paid and year 7 is "unknown - check".
    from custody.domain import PatentFacts

    infer = PaidThroughInference(default_rules(), WorkCalendar())
    facts = PatentFacts(PatentType.UTILITY_MODEL, date(2018, 3, 12), grant_year=1)
    inference = infer(facts, date(2024, 5, 1))
    assert inference.paid_through == 6
    assert [year for year, _, _ in inference.unknown] == [7]


def test_every_message_has_both_languages_and_the_same_placeholders():
    zh = catalogue("zh")
    for code, english in MESSAGES.items():
        assert english in zh, code
        assert set(re.findall(r"{(\w+)}", english)) == set(re.findall(r"{(\w+)}", zh[english])), code


def _explained(call, *args):
    """The error `call(*args)` raises, in every language (as an importer keeps a domain module's explanation)."""
    with pytest.raises(Explained) as caught:
        call(*args)
    return in_every_language(caught.value)


def _fact(**facts):
    from custody.domain import PatentFacts
    from custody.fees import fact_texts

    given = {"type": PatentType.INVENTION, "filing_date": date(2017, 4, 25), "grant_year": 3, **facts}
    return in_every_language(fact_texts(PatentFacts(**given), default_rules())[0])


# A domain module's explanation of a bad cell, in the words an operator reading Chinese sees (issue 11).
@pytest.mark.parametrize(("detail", "en", "zh"), [
    (lambda: _explained(parse_application_number, "201710601862.4"), "check digit should be 3, got 4",
     "校验位应为 3，实为 4"),
    (lambda: _explained(parse_credit_code, "91350100M000100Y40"), "check character should be",
     "校验位应为"),
    (lambda: _explained(parse_date, "2023-02-30"), "'2023-02-30' is not a real date",
     "'2023-02-30' 不是真实存在的日期"),
    (lambda: _explained(parse_amount, "1,20"), "a comma only separates thousands", "逗号只能用作千位分隔符"),
    (lambda: _fact(granted_on=date(2016, 1, 3), grant_year=None), "grant date 2016-01-03 is before the filing date",
     "授权公告日 2016-01-03 早于申请日 2017-04-25"),
    (lambda: _fact(paid_through=30), "paid-through year 30 is past expiry (the last patent year is 20)",
     "已缴至第 30 年超过保护期（最后一个专利年度是第 20 年）"),
    (lambda: _fact(grant_year=None), "the grant year is unknown", "授权年度未知：请给出授权年度或授权公告日"),
    (lambda: _fact(type=PatentType.DESIGN, term_extension_days=30), "not to a design",
     "期限补偿只适用于发明专利，不适用于外观设计专利"),
], ids=["check-digit", "credit-code", "no-such-day", "comma", "grant-before-filing", "paid-past-expiry",
        "no-grant-year", "compensation-of-a-design"])
def test_domain_explanations_are_in_the_problem_s_language(detail, en, zh):
    shown = detail()
    assert en in shown["en"] and zh in shown["zh"], shown
    assert render_message("bad_value", {"detail": shown}, "zh") == shown["zh"]


def test_importers_import_neither_the_cli_nor_the_scheduler_nor_the_notifiers():
    for path in (ROOT / "importers").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(n.split(".")[0] in ("cli", "scheduler", "notifiers") for n in names), path.name


# ---------------------------------------------------------------------------------------------- audit fixes


@pytest.mark.parametrize(("cell", "expected"), [
    pytest.param(20230315.0, date(2023, 3, 15), id="yyyymmdd-typed-as-a-number-float"),
    pytest.param(20230315, date(2023, 3, 15), id="yyyymmdd-typed-as-a-number-int"),
    pytest.param(19000101, date(1900, 1, 1), id="lowest-yyyymmdd"),
    pytest.param(45000, date(2023, 3, 15), id="a-serial-is-still-a-serial"),
])
def test_a_date_typed_into_a_number_cell_is_read_as_yyyymmdd(cell, expected):
    assert values.day(cell) == expected


@pytest.mark.parametrize(("cell", "message"), [
    pytest.param(20231315.0, "20231315 is not a real date (month must be in 1..12)", id="no-such-month"),
    pytest.param(123.0, "123 is not a plausible Excel date serial", id="quoted-as-written-not-1.23e+02"),
    pytest.param(30000101.0, "30000101 is not a plausible Excel date serial", id="past-the-yyyymmdd-range"),
])
def test_a_number_that_is_no_date_is_quoted_as_written(cell, message):
    with pytest.raises(values.CellProblem) as caught:
        values.day(cell)
    assert caught.value.params["detail"]["en"] == message


@pytest.mark.parametrize(("cell", "expected"), [
    pytest.param("1,200", Decimal("1200.00"), id="one-separator"),
    pytest.param("1,234,567.5", Decimal("1234567.50"), id="two-separators"),
    pytest.param("１，２００元", Decimal("1200.00"), id="full-width-comma"),
])
def test_commas_in_thousands_places_are_separators(cell, expected):
    assert values.amount(cell) == expected


@pytest.mark.parametrize("cell", [
    pytest.param("1.200,00", id="european-decimal-comma"),
    pytest.param("1,20", id="comma-as-decimal-point"),
    pytest.param("12,00", id="two-digit-group"),
    pytest.param(",100", id="leading-comma"),
])
def test_commas_anywhere_else_make_the_amount_unreadable(cell):
    with pytest.raises(values.CellProblem) as caught:
        values.amount(cell)
    assert caught.value.code == "amount_invalid"


def test_an_application_number_without_its_check_character_is_read_and_says_so():
    assert values.application_number_read("201710601862") == ("201710601862.3", False)
    assert values.application_number_read("201710601862.3") == ("201710601862.3", True)
    assert values.application_number_read("ZL201710601862.3") == ("201710601862.3", True)


@pytest.mark.parametrize(("cell", "expected"), [
    ("托管", "custody"), ("custody", "custody"), ("监控", "watch"), ("仅监控", "watch"), ("Watch", "watch"),
])
def test_the_mode_column_reads_custody_or_watch(cell, expected):
    assert values.mode(cell) == expected
    assert alias_table("patents")[header_key("托管方式")] == "mode"


def test_an_unknown_mode_is_refused():
    with pytest.raises(values.CellProblem) as caught:
        values.mode("代理")
    assert caught.value.code == "mode_invalid"


def _header_of(tmp_path: Path, lines: list[str], profile=None):
    path = tmp_path / "totals.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sink = ProblemSink(path.name)
    found = find_header(rows(open_source(path)), "patents", sink, profile)
    return sink, found


@pytest.mark.parametrize("total", ["合计 5 件", "总计", "小计：3", "Total", "TOTAL 12"])
def test_a_totals_row_in_the_key_column_is_skipped_with_a_note(tmp_path, total):
    sink, found = _header_of(tmp_path, ["申请号,申请日", "201710601862.3,2017-04-25", f"{total},",
                                        "201510308494.4,2015-10-30"])
    header, data = found
    assert [number for number, _ in data] == [2, 4]
    assert [(p.row, p.code, p.severity) for p in sink.problems] == [(3, "total_row_skipped", "note")]
    assert not sink.has_errors


def test_a_profile_can_leave_one_of_two_columns_that_mean_the_same_out(tmp_path):
    from importers.columns import profile_from_config

    # (申请号 beside 专利号 is read without a profile when they agree: tests/test_operator_commands.py.)
    lines = ["申请号,申请日,申请日期", "201710601862.3,2017-04-25,2017-04-25"]
    sink, found = _header_of(tmp_path, lines)
    assert found is None
    assert sink.problems[0].render("en").endswith(
        'all mean 申请日 (filing date): delete all but one, or leave the others out with an import profile '
        '(config.toml [import.profiles.NAME.columns] "申请日期" = "ignore", then --profile NAME)')
    profile = profile_from_config("ledger", {"profiles": {"ledger": {"columns": {"申请日期": "ignore"}}}}, "patents")
    sink, found = _header_of(tmp_path, lines, profile)
    header, data = found
    assert header.index == {"application_number": 0, "filing_date": 1} and header.ignored == []
    assert sink.problems == []
