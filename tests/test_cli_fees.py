"""`custody fees`: the calculator's JSON contract, its table, and every bad input as one Error line."""
from __future__ import annotations

import json

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
    assert set(view["years"][1]["late_fee_bands"][0]) == {"rate", "from", "to", "late_fee"}


def test_type_comes_from_the_application_number(capsys):
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8")
    assert view["type"] == "invention"
    assert view["application_number"] == "201710601862.3"
    assert view["expiry_date"] == "2037-04-25"


def test_next_due_on_a_date_with_reduction(capsys):
    # Year 9 of an invention: full fee 2000, 85 % reduction -> 300; 2025-04-25 is a Friday (working day).
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8")
    assert view["state"] == "in_force"
    assert view["next_due"] == {"year": 9, "due_date": "2025-04-25", "fee": 300, "late_fee": 0, "total": 300,
                                "grace_end": "2025-10-27", "provisional": False}


def test_quote_in_the_ten_percent_band_charges_on_the_full_fee(capsys):
    # Paid 2025-07-01: more than two months after 2025-04-25 -> 10 % of the FULL fee 2000 = 200 (Rule 115).
    view = fees_json(capsys, "--as-of", "2025-07-01", "--paid-through", "8", "--pay-on", "2025-07-01")
    assert view["state"] == "in_grace"
    assert view["quote"] == {"pay_on": "2025-07-01", "year": 9, "fee": 300, "late_fee": 200, "late_fee_rate": 0.1,
                             "total": 500}


def test_quote_after_grace_end_is_an_error_value_and_exit_zero(capsys):
    view = fees_json(capsys, "--as-of", "2025-01-10", "--paid-through", "8", "--pay-on", "2025-11-01")
    assert "lapsed" in view["quote"]["error"]
    assert view["quote"]["pay_on"] == "2025-11-01"


def test_paid_through_defaults_to_the_grant_year(capsys):
    view = fees_json(capsys, "--as-of", "2019-01-10")
    assert view["next_due"]["year"] == 4


def test_table_is_in_chinese_and_marks_provisional_dates(capsys):
    assert run([*BASE, "--as-of", "2026-11-21", "--paid-through", "10"]) == 0
    out = capsys.readouterr().out
    assert "年费明细" in out and "申请日" in out and "费减85%" in out
    assert "暂定" in out  # years after 2026 have no published holiday schedule yet


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["fees", "201710601862.4", "--filed", "2017-04-25", "--grant-year", "3"], "check digit should be 3, got 4", 1),
        (["fees", "201710601862.3", "--type", "design", "--filed", "2017-04-25", "--grant-year", "3"],
         "contradicts application number", 1),
        (["fees", "--type", "invention", "--filed", "2017-04-25", "--granted", "2016-01-01"],
         "before the filing date", 1),
        (["fees", "--type", "utility_model", "--filed", "2017-04-25", "--grant-year", "2", "--paid-through", "11"],
         "past expiry", 1),
        (["fees", "--type", "invention", "--filed", "2017-04-31", "--grant-year", "2"], "not a real date", 1),
        (["fees", "--type", "invention", "--filed", "2017-04-25"], "grant year is unknown", 1),
        (["fees", "--filed", "2017-04-25", "--grant-year", "2"], "give an application number or --type", 1),
        (["fees", "--type", "gadget", "--filed", "2017-04-25"], "gadget", 2),
    ],
    ids=["wrong-check-digit", "type-contradicts-number", "grant-before-filing", "paid-through-past-expiry",
         "impossible-date", "no-grant-year", "no-type", "unknown-type-is-usage-error"],
)
def test_bad_input_is_one_error_line_never_a_traceback(capsys, args, message, code):
    assert run(args) == code
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_unknown_config_file_is_a_configuration_error(capsys, tmp_path):
    assert run(["--config", str(tmp_path / "missing.toml"), *BASE]) == 2
    assert "does not exist" in capsys.readouterr().err
