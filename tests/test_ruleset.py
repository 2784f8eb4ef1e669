"""The CNIPA rule tables (custody/rules/cnipa.toml) and their look-ups, checked against the rules reference.

These tests are about the tables and settings alone, independent of any working-day calendar.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from custody.domain import PatentType
from custody.ruleset import RuleError, RuleSettings, default_rules, load_rules

INVENTION, UTILITY, DESIGN = PatentType.INVENTION, PatentType.UTILITY_MODEL, PatentType.DESIGN
LATE = date(2030, 1, 1)  # a due date on which every fee row is in force


@pytest.fixture(scope="module")
def rules():
    return default_rules()


# Rules reference §1: full fee per patent year.
@pytest.mark.parametrize(
    "patent_type, year, fee",
    [
        pytest.param(INVENTION, 1, 900, id="invention-year-1"),
        pytest.param(INVENTION, 3, 900, id="invention-year-3-last-of-band"),
        pytest.param(INVENTION, 4, 1200, id="invention-year-4"),
        pytest.param(INVENTION, 7, 2000, id="invention-year-7"),
        pytest.param(INVENTION, 10, 4000, id="invention-year-10"),
        pytest.param(INVENTION, 13, 6000, id="invention-year-13"),
        pytest.param(INVENTION, 16, 8000, id="invention-year-16"),
        pytest.param(INVENTION, 20, 8000, id="invention-year-20"),
        pytest.param(UTILITY, 1, 600, id="utility-year-1"),
        pytest.param(UTILITY, 4, 900, id="utility-year-4"),
        pytest.param(UTILITY, 6, 1200, id="utility-year-6"),
        pytest.param(UTILITY, 9, 2000, id="utility-year-9"),
        pytest.param(UTILITY, 10, 2000, id="utility-year-10"),
        pytest.param(DESIGN, 3, 600, id="design-year-3"),
        pytest.param(DESIGN, 5, 900, id="design-year-5"),
        pytest.param(DESIGN, 8, 1200, id="design-year-8"),
        pytest.param(DESIGN, 10, 2000, id="design-year-10"),
        pytest.param(DESIGN, 11, 3000, id="design-year-11-发改价格2022-465"),
        pytest.param(DESIGN, 15, 3000, id="design-year-15"),
    ],
)
def test_full_fee_for_each_year_matches_the_fee_table(rules, patent_type, year, fee):
    assert rules.annual_fee(patent_type, year, LATE).fee == fee


# Rules reference §1, "sums of full fees, as a check".
@pytest.mark.parametrize(
    "patent_type, last_year, total",
    [
        pytest.param(INVENTION, 20, 82_300, id="invention-1-20"),
        pytest.param(UTILITY, 10, 11_200, id="utility-1-10"),
        pytest.param(DESIGN, 15, 26_200, id="design-1-15"),
    ],
)
def test_full_fees_over_the_whole_term_sum_to_the_reference_check(rules, patent_type, last_year, total):
    assert sum(rules.annual_fee(patent_type, n, LATE).fee for n in range(1, last_year + 1)) == total


@pytest.mark.parametrize(
    "patent_type, year",
    [
        pytest.param(INVENTION, 21, id="invention-year-21"),
        pytest.param(UTILITY, 11, id="utility-year-11"),
        pytest.param(DESIGN, 16, id="design-year-16"),
        pytest.param(INVENTION, 0, id="year-0"),
    ],
)
def test_a_year_outside_the_fee_table_is_a_rule_error(rules, patent_type, year):
    with pytest.raises(RuleError, match=f"year {year}"):
        rules.annual_fee(patent_type, year, LATE)


def test_design_years_11_to_15_have_no_fee_before_the_15_year_term_began(rules):
    # Rules reference §1: years 11-15 exist only for designs filed on or after 2021-06-01.
    with pytest.raises(RuleError):
        rules.annual_fee(DESIGN, 11, date(2021, 5, 31))
    assert rules.annual_fee(DESIGN, 11, date(2021, 6, 1)).id == "fee.design.11-15"


def test_every_type_has_exactly_one_fee_row_per_year_of_its_longest_term(rules):
    for patent_type, last in ((INVENTION, 20), (UTILITY, 10), (DESIGN, 15)):
        for year in range(1, last + 1):
            rows = [r for r in rules.fees if r.type == patent_type and r.first_year <= year <= r.last_year]
            assert len(rows) == 1, (patent_type, year)


# Rules reference §3 (PL Art. 42): term in years by filing date.
@pytest.mark.parametrize(
    "patent_type, filed, years",
    [
        pytest.param(INVENTION, date(2020, 1, 1), 20, id="invention-20"),
        pytest.param(UTILITY, date(1999, 9, 6), 10, id="utility-10"),
        pytest.param(DESIGN, date(2021, 5, 31), 10, id="design-filed-2021-05-31-10"),
        pytest.param(DESIGN, date(2021, 6, 1), 15, id="design-filed-2021-06-01-15"),
    ],
)
def test_term_of_protection_depends_on_type_and_filing_date(rules, patent_type, filed, years):
    assert rules.term(patent_type, filed).years == years


def test_a_filing_before_the_patent_law_has_no_term(rules):
    with pytest.raises(RuleError, match="no term"):
        rules.term(INVENTION, date(1985, 3, 31))


# Rules reference §7: one owner pays 15 %, several qualifying co-owners pay 30 %.
@pytest.mark.parametrize(
    "key, share",
    [pytest.param("85", Decimal("0.15"), id="85-pays-15"), pytest.param("70", Decimal("0.30"), id="70-pays-30")],
)
def test_reduction_share_is_what_is_still_payable(rules, key, share):
    assert rules.reduction_share(key, LATE).payable_share == share


# Rules reference §7: 6 years from the grant year until 2018-07-31, 10 years from 2018-08-01 (财税〔2018〕37号).
@pytest.mark.parametrize(
    "due, years",
    [
        pytest.param(date(2017, 1, 1), 6, id="2017-six-years"),
        pytest.param(date(2018, 7, 31), 6, id="2018-07-31-last-day-of-six"),
        pytest.param(date(2018, 8, 1), 10, id="2018-08-01-first-day-of-ten"),
        pytest.param(date(2025, 1, 1), 10, id="2025-ten-years"),
    ],
)
def test_reduction_window_is_chosen_by_due_date(rules, due, years):
    assert rules.reduction_window(due).years_from_grant == years


# Rules reference §8: open licence pays 85 %, from 财税〔2024〕23号.
@pytest.mark.parametrize(
    "due, share",
    [
        # 财税〔2024〕23号 is in force from 2024-07-15 (ref §8), not from the 2023 regulations' 2024-01-20.
        pytest.param(date(2024, 1, 20), None, id="2024-01-20-none"),
        pytest.param(date(2024, 7, 14), None, id="before-2024-07-15-none"),
        pytest.param(date(2024, 7, 15), Decimal("0.85"), id="from-2024-07-15"),
    ],
)
def test_open_licence_share_applies_from_its_effective_date(rules, due, share):
    row = rules.open_licence_share(due)
    assert (row.payable_share if row else None) == share


# Rules reference §4 and §6: late fee and restoration figures.
def test_late_fee_rule_is_five_percent_a_month_after_a_free_month_up_to_25_percent_in_six_months(rules):
    late = rules.late_fee
    assert (late.free_months, late.grace_months, late.step_rate, late.max_rate) == (
        1, 6, Decimal("0.05"), Decimal("0.25"))
    assert late.step_rate * (late.grace_months - late.free_months) == late.max_rate


def test_restoration_is_1000_plus_a_25_percent_late_fee(rules):
    assert (rules.restoration.fee, rules.restoration.late_fee_rate) == (1000, Decimal("0.25"))


def test_term_compensation_costs_8000_a_whole_year_and_a_200_request_fee(rules):
    # Rules reference §3: CNIPA announcement No. 594.
    assert (rules.term_compensation.fee_per_year, rules.term_compensation.request_fee) == (8000, 200)


# Rules reference §9: CNIPA announcement No. 486 moved reduced fees due 2022-06-15..2022-12-31 to 2023-06-15.
@pytest.mark.parametrize(
    "due, reduced, moved_to",
    [
        pytest.param(date(2022, 6, 14), True, None, id="day-before-window"),
        pytest.param(date(2022, 6, 15), True, date(2023, 6, 15), id="first-day"),
        pytest.param(date(2022, 12, 31), True, date(2023, 6, 15), id="last-day"),
        pytest.param(date(2023, 1, 1), True, None, id="day-after-window"),
        pytest.param(date(2022, 9, 1), False, None, id="not-for-a-non-reduced-fee"),
    ],
)
def test_announcement_486_moves_only_reduced_fees_due_in_its_window(rules, due, reduced, moved_to):
    exception = rules.exception_for(due, reduced)
    assert (exception.new_due_date if exception else None) == moved_to


def test_every_row_names_its_source(rules):
    rows = [*rules.fees, *rules.terms, *rules.reduction_rates, *rules.reduction_windows, *rules.open_licence,
            rules.late_fee, rules.restoration, rules.term_compensation, *rules.exceptions, *rules.references]
    assert all(row.source.strip() for row in rows)
    assert len({row.id for row in rows}) == len(rows)


# Rules reference: each UNCONFIRMED reading is marked, so every figure built on it says so.
@pytest.mark.parametrize(
    "rule_id",
    ["reduction.window.6y", "term_compensation.594", "exception.cnipa486", "grant_year.inferred",
     "reduction.lead_time"],
)
def test_unconfirmed_readings_are_marked_unconfirmed(rules, rule_id):
    rows = [*rules.reduction_windows, rules.term_compensation, *rules.exceptions, *rules.references]
    assert next(r for r in rows if r.id == rule_id).confirmed is False


def test_cite_names_a_reference_row_and_refuses_an_unknown_one(rules):
    assert rules.cite("deadline.rest_day").rule_id == "deadline.rest_day"
    with pytest.raises(RuleError, match="no rule 'nope'"):
        rules.cite("nope")


def test_default_settings_are_the_readings_the_reference_takes():
    settings = RuleSettings()
    assert (settings.grace_base, settings.grant_year_inference, settings.open_licence_mapping) == (
        "anniversary", "announcement_patent_year", "due_date_in_period")


@pytest.mark.parametrize(
    "setting",
    [
        pytest.param({"grace_base": "raw"}, id="grace_base"),
        pytest.param({"grant_year_inference": "guess"}, id="grant_year_inference"),
        pytest.param({"open_licence_mapping": "always"}, id="open_licence_mapping"),
    ],
)
def test_an_unknown_setting_value_is_a_rule_error_naming_the_setting(setting):
    (name,) = setting
    with pytest.raises(RuleError, match=f"rules.{name} must be one of"):
        RuleSettings(**setting)


@pytest.mark.parametrize(
    "value",
    [pytest.param("3", id="a-string"), pytest.param(2.5, id="a-fraction"), pytest.param(True, id="a-boolean"),
     pytest.param(-1, id="negative"), pytest.param(13, id="more-than-a-year")],
)
def test_a_bad_reduction_lead_time_is_a_rule_error(value):
    with pytest.raises(RuleError, match="rules.reduction_lead_months must be a whole number of months from 0 to 12"):
        RuleSettings(reduction_lead_months=value)


@pytest.mark.parametrize("value", [0, 2, 3, 12])
def test_a_whole_number_of_months_is_a_valid_reduction_lead_time(value):
    assert RuleSettings(reduction_lead_months=value).reduction_lead_months == value


def test_a_bad_reduction_lead_time_in_config_is_a_configuration_error(tmp_path):
    from custody.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text('[rules]\nreduction_lead_months = "3"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="reduction_lead_months"):
        load_config(path)


def test_every_row_in_the_packaged_tables_states_source_effective_from_and_confirmed():
    import tomllib

    from custody.ruleset import DEFAULT_RULES

    data = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    rows = [row for value in data.values() for row in (value if isinstance(value, list) else [value])]
    for row in rows:
        assert {"id", "source", "effective_from", "confirmed"} <= set(row), row.get("id")


def test_a_row_without_effective_from_or_confirmed_is_refused():
    import tomllib

    from custody.ruleset import DEFAULT_RULES, rules_from_mapping

    data = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    del data["reference"][0]["confirmed"]
    with pytest.raises(RuleError, match="rule row 'due.anniversary' lacks confirmed"):
        rules_from_mapping(data)


def test_earliest_filing_date_is_where_the_term_rows_begin(rules):
    assert rules.earliest_filing_date(DESIGN) == date(1985, 4, 1)


def test_load_rules_with_settings_reads_the_packaged_tables_with_those_settings():
    loaded = load_rules(settings=RuleSettings(grace_base="due_date"))
    assert loaded.settings.grace_base == "due_date"
    assert loaded.fees == default_rules().fees
    assert load_rules() is default_rules()
