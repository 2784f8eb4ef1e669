"""`next_due_frame` agrees with the scalar engine row by row, on hand-checked rows and on random portfolios."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custody.domain import DatePeriod, PatentFacts, PatentType, Reduction, yuan
from custody.fees import FeeInputError, fee_schedule, first_unpaid, next_due, patent_state
from custody.portfolio import OUTPUT_COLUMNS, next_due_frame, portfolio_problems
from custody.ruleset import DeadlineException, FeeRow, RuleError, RuleSettings, default_rules, load_rules
from custody.workdays import default_calendar

ROOT = Path(__file__).resolve().parent.parent
NA = None


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def row_of(result: pd.DataFrame, i: int = 0) -> dict:
    """One output row as plain Python: dates, Decimals, None for NA."""
    out = {}
    for name in OUTPUT_COLUMNS:
        value = result[name].iloc[i]
        if pd.isna(value):
            out[name] = None
        elif isinstance(value, pd.Timestamp):
            out[name] = value.date()
        elif name in ("full_fee", "fee", "late_fee", "total"):
            out[name] = yuan(float(value))
        elif name == "year":
            out[name] = int(value)
        elif name == "provisional":
            out[name] = bool(value)
        else:
            out[name] = str(value)
    return out


def patent(type_: str, filed: str, grant: int, paid: int | None, reduction: str = "none", **extra) -> dict:
    return {"type": type_, "filing_date": pd.Timestamp(filed), "grant_year": grant, "paid_through": paid,
            "reduction": reduction, **extra}


# Each row: the patent, the day, and what a person reading the rules gets. Amounts in yuan.
HAND_CHECKED = [
    pytest.param(patent("invention", "2017-04-25", 3, 8, "85"), "2025-01-10",
                 dict(state="in_force", year=9, anniversary="2025-04-25", due_date="2025-04-25", full_fee=2000,
                      fee=300, late_fee=0, total=300, grace_end="2025-10-27", provisional=False),
                 id="year-9-invention-85pc-pays-15pc-of-2000"),
    pytest.param(patent("invention", "2017-04-25", 3, 8, "85"), "2025-07-01",
                 dict(state="in_grace", year=9, anniversary="2025-04-25", due_date="2025-04-25", full_fee=2000,
                      fee=300, late_fee=200, total=500, grace_end="2025-10-27", provisional=False),
                 id="ten-percent-band-charges-on-the-full-fee"),
    pytest.param(patent("invention", "2017-04-25", 3, 8, "85"), "2025-10-28",
                 dict(state="lapsed", year=9, anniversary="2025-04-25", due_date="2025-04-25", full_fee=None,
                      fee=None, late_fee=None, total=None, grace_end="2025-10-27", provisional=False),
                 id="lapsed-the-day-after-grace-end-has-no-fee"),
    pytest.param(patent("utility_model", "2016-02-29", 1, 2), "2018-01-10",
                 dict(state="in_force", year=3, anniversary="2018-02-28", due_date="2018-02-28", full_fee=600,
                      fee=600, late_fee=0, total=600, grace_end="2018-08-28", provisional=False),
                 id="29-february-anniversary-is-28-february"),
    pytest.param(patent("design", "2021-02-12", 1, 3), "2024-01-15",
                 dict(state="in_force", year=4, anniversary="2024-02-12", due_date="2024-02-18", full_fee=900,
                      fee=900, late_fee=0, total=900, grace_end="2024-08-12", provisional=False),
                 id="spring-festival-moves-due-to-make-up-sunday"),
    pytest.param(patent("invention", "2015-09-01", 3, 7, "85"), "2023-03-01",
                 dict(state="in_force", year=8, anniversary="2022-09-01", due_date="2023-06-15", full_fee=2000,
                      fee=300, late_fee=0, total=300, grace_end="2023-12-15", provisional=False),
                 id="cnipa-486-moves-a-reduced-2022-due-date"),
    pytest.param(patent("invention", "2015-09-01", 3, 7), "2023-03-01",
                 dict(state="in_grace", year=8, anniversary="2022-09-01", due_date="2022-09-01", full_fee=2000,
                      fee=2000, late_fee=500, total=2500, grace_end="2023-03-01", provisional=False),
                 id="last-day-of-grace-costs-25pc-without-reduction"),
    pytest.param(patent("utility_model", "2010-03-01", 1, 10), "2020-03-01",
                 dict(state="expired", year=None, anniversary=None, due_date=None, full_fee=None, fee=None,
                      late_fee=None, total=None, grace_end=None, provisional=False),
                 id="expired-on-the-tenth-anniversary"),
    pytest.param(patent("utility_model", "2016-03-01", 1, 10), "2020-01-01",
                 dict(state="in_force", year=None, anniversary=None, due_date=None, full_fee=None, fee=None,
                      late_fee=None, total=None, grace_end=None, provisional=False),
                 id="paid-up-to-expiry-has-nothing-due"),
    pytest.param(patent("invention", "2022-05-10", 3, 2), "2025-01-01",
                 dict(state="in_force", year=3, anniversary="2024-05-10", due_date="2024-05-10", full_fee=900,
                      fee=900, late_fee=0, total=900, grace_end=None, provisional=False),
                 id="unpaid-grant-year-has-no-grace-or-late-fee"),
    pytest.param(patent("invention", "2015-05-20", 3, 10, open_licence_from=pd.Timestamp("2024-03-01")),
                 "2025-05-01",
                 dict(state="in_force", year=11, anniversary="2025-05-20", due_date="2025-05-20", full_fee=4000,
                      fee=3400, late_fee=0, total=3400, grace_end="2025-11-20", provisional=False),
                 id="open-licence-pays-85pc"),
    pytest.param(patent("invention", "2015-05-20", 3, 10, "85", open_licence_from=pd.Timestamp("2024-03-01")),
                 "2025-05-01",
                 dict(state="in_force", year=11, anniversary="2025-05-20", due_date="2025-05-20", full_fee=4000,
                      fee=600, late_fee=0, total=600, grace_end="2025-11-20", provisional=False),
                 id="reduction-and-open-licence-do-not-stack"),
    pytest.param(patent("utility_model", "2021-03-15", 1, 9), "2030-01-01",
                 dict(state="in_force", year=10, anniversary="2030-03-15", due_date="2030-03-15", full_fee=2000,
                      fee=2000, late_fee=0, total=2000, grace_end="2030-09-16", provisional=True),
                 id="due-in-an-unpublished-year-is-provisional"),
]


@pytest.mark.parametrize("facts, on, expected", HAND_CHECKED)
def test_hand_checked_rows(facts, on, expected):
    result = next_due_frame(frame(facts), date.fromisoformat(on), default_rules(), default_calendar())
    for name in ("anniversary", "due_date", "grace_end"):
        expected[name] = expected[name] and date.fromisoformat(expected[name])
    for name in ("full_fee", "fee", "late_fee", "total"):
        expected[name] = None if expected[name] is None else yuan(expected[name])
    assert row_of(result) == expected


# --- Random portfolios against the scalar engine ------------------------------------------------------------

ON_DATES = [date(2022, 9, 1), date(2023, 3, 1), date(2025, 6, 30), date(2026, 2, 28), date(2030, 5, 1),
            date(2031, 1, 10)]


def random_portfolio(seed: int, n: int) -> pd.DataFrame:
    """All types, filings 1995-2025 (some on 29 Feb or in the 2022 exception window), every paid-through shape."""
    rng = np.random.default_rng(seed)
    types = rng.choice([t.value for t in PatentType], n)
    filed = np.datetime64("1995-01-01") + rng.integers(0, 31 * 365, n).astype("timedelta64[D]")
    leap = rng.random(n) < 0.04
    filed[leap] = (np.datetime64("1996-02-29") + 1461 * rng.integers(0, 8, leap.sum()).astype("timedelta64[D]"))
    window = rng.random(n) < 0.15  # anniversaries in 2022-06-15..2022-12-31
    filed[window] = (np.datetime64("2012-06-10") + rng.integers(0, 205, window.sum()).astype("timedelta64[D]")
                     + 365 * rng.integers(0, 8, window.sum()).astype("timedelta64[D]"))
    term = np.where(types == "invention", 20, np.where((types == "design") & (filed >= np.datetime64("2021-06-01")),
                                                       15, 10))
    grant = np.minimum(rng.integers(1, 6, n), term)
    paid = grant - 1 + (rng.random(n) * (term - grant + 2)).astype(int)
    paid = np.where(rng.random(n) < 0.05, grant - 1, np.minimum(paid, term))
    # Most exception-window rows have their 2022 fee as the first unpaid one.
    year_before_2022 = 2022 - (filed.astype("datetime64[Y]").astype(int) + 1970)
    aimed = window & (rng.random(n) < 0.7)
    paid = np.where(aimed, year_before_2022, paid)
    grant = np.where(aimed, np.minimum(grant, year_before_2022), grant)
    frame_ = pd.DataFrame({
        "type": types, "filing_date": filed, "grant_year": grant,
        "paid_through": pd.array(np.where(rng.random(n) < 0.1, -1, paid), dtype="Int64"),
        "reduction": rng.choice(["none", "85", "70"], n, p=[0.4, 0.4, 0.2]),
    })
    frame_.loc[frame_["paid_through"] == -1, "paid_through"] = pd.NA
    licence = rng.random(n) < 0.2
    start = np.datetime64("2023-06-01") + rng.integers(0, 1000, n).astype("timedelta64[D]")
    end = start + rng.integers(0, 800, n).astype("timedelta64[D]")
    frame_["open_licence_from"] = np.where(licence, start, np.datetime64("NaT"))
    frame_["open_licence_to"] = np.where(licence & (rng.random(n) < 0.5), end, np.datetime64("NaT"))
    frame_["term_extension_days"] = np.where((types == "invention") & (rng.random(n) < 0.1),
                                             rng.integers(0, 900, n), 0)
    # Issue 10: a restoration (back fees due after it) and a transferred patent's reduction waiting to be re-filed.
    restored = np.datetime64("2019-01-01") + rng.integers(0, 3000, n).astype("timedelta64[D]")
    frame_["restored_on"] = np.where(rng.random(n) < 0.15, restored, np.datetime64("NaT"))
    frame_["reduction_refile_on"] = np.where(rng.random(n) < 0.1, restored, np.datetime64("NaT"))
    return frame_


def facts_of(row) -> PatentFacts:
    licences = ()
    if not pd.isna(row.open_licence_from):
        end = None if pd.isna(row.open_licence_to) else row.open_licence_to.date()
        licences = (DatePeriod(row.open_licence_from.date(), end),)
    paid = None if pd.isna(row.paid_through) else int(row.paid_through)
    def day(value):
        return None if pd.isna(value) else value.date()
    return PatentFacts(PatentType(row.type), row.filing_date.date(), grant_year=int(row.grant_year),
                       paid_through=paid, reduction=Reduction(row.reduction), open_licences=licences,
                       term_extension_days=int(row.term_extension_days),
                       restored_on=day(getattr(row, "restored_on", None)),
                       reduction_refile_on=day(getattr(row, "reduction_refile_on", None)))


def scalar_row(schedule, on: date) -> dict:
    unpaid, quote = first_unpaid(schedule), next_due(schedule, on)
    return {
        "state": patent_state(schedule, on).value,
        "year": unpaid and unpaid.year,
        "anniversary": unpaid and unpaid.anniversary,
        "due_date": unpaid and unpaid.due_date,
        "full_fee": quote and unpaid.full_fee,
        "fee": quote and quote.fee,
        "late_fee": quote and quote.late_fee,
        "total": quote and quote.total,
        "grace_end": unpaid and unpaid.grace_end,
        "provisional": bool(unpaid and unpaid.provisional),
    }


def changed_rules():
    """Rule rows the packaged tables don't have: a later fee with fen in it, an exception for every patent."""
    rules = load_rules(settings=RuleSettings())
    fee = FeeRow("fee.invention.2027", "test", date(2027, 1, 1), False, PatentType.INVENTION, 1, 20,
                 Decimal("1234.56"))
    moved = DeadlineException("exception.all.2030", "test", date(2029, 1, 1), False, date(2029, 1, 1),
                              date(2030, 12, 31), date(2031, 2, 28), "all")
    return replace(rules, fees=(*rules.fees, fee), exceptions=(*rules.exceptions, moved))


RULES = [
    pytest.param(lambda: load_rules(settings=RuleSettings()), 3000, id="default-readings"),
    pytest.param(lambda: load_rules(settings=RuleSettings(grace_base="due_date",
                                                          open_licence_mapping="anniversary_in_period")),
                 1000, id="grace-from-due-date-and-licence-by-anniversary"),
    pytest.param(changed_rules, 1000, id="amounts-and-exceptions-come-from-the-rule-rows"),
]


@pytest.mark.parametrize("make_rules, n", RULES)
def test_random_portfolio_agrees_with_the_scalar_engine_on_every_column(make_rules, n):
    rules, calendar = make_rules(), default_calendar()
    patents = random_portfolio(seed=20240120, n=n)
    schedules = [fee_schedule(facts_of(row), rules, calendar) for row in patents.itertuples()]
    seen_states = set()
    for on in ON_DATES:
        result = next_due_frame(patents, on, rules, calendar)
        assert list(result.columns) == list(OUTPUT_COLUMNS) and result.index.equals(patents.index)
        pairs = ((i, row_of(result, i), scalar_row(s, on)) for i, s in enumerate(schedules))
        mismatches = [pair for pair in pairs if pair[1] != pair[2]]
        assert mismatches[:3] == [], f"{len(mismatches)} rows differ on {on}"
        seen_states |= set(result["state"].astype(str))
    assert seen_states == {"in_force", "in_grace", "lapsed", "expired"}


def test_random_portfolio_covers_the_cases_worth_checking():
    patents = random_portfolio(seed=20240120, n=3000)
    result = next_due_frame(patents, date(2023, 3, 1), default_rules(), default_calendar())
    assert (result["due_date"] == pd.Timestamp("2023-06-15")).sum() > 50  # CNIPA No. 486 rows
    assert (result["anniversary"] != result["due_date"]).sum() > 100  # moved past rest days
    assert (patents["filing_date"].dt.strftime("%m-%d") == "02-29").sum() > 50
    assert (result["late_fee"] > 0).sum() > 50


# --- Input handling -------------------------------------------------------------------------------------------


def test_missing_paid_through_defaults_to_the_grant_year_and_optional_columns_may_be_absent():
    patents = pd.DataFrame({"type": ["invention"], "filing_date": [date(2017, 4, 25)], "grant_year": [3],
                            "paid_through": pd.array([pd.NA], dtype="Int64"), "reduction": [None]})
    result = next_due_frame(patents, date(2019, 1, 10), default_rules(), default_calendar())
    assert row_of(result)["year"] == 4 and row_of(result)["fee"] == Decimal("1200.00")


def test_an_empty_portfolio_gives_an_empty_frame():
    patents = random_portfolio(seed=1, n=5).iloc[:0]
    result = next_due_frame(patents, date(2025, 1, 1), default_rules(), default_calendar())
    assert list(result.columns) == list(OUTPUT_COLUMNS) and len(result) == 0


def test_impossible_rows_are_reported_by_index_label_like_the_scalar_engine():
    patents = pd.DataFrame({
        "type": ["invention", "gadget", "utility_model", "design"],
        "filing_date": pd.to_datetime(["2017-04-25", "2017-04-25", "2017-04-25", "1980-01-01"]),
        "grant_year": [21, 2, 2, 1], "paid_through": [3, 3, 11, 1], "reduction": ["none", "none", "90", "none"],
    }, index=["a", "b", "c", "d"])
    assert portfolio_problems(patents, default_rules()) == [
        "row a: grant year 21 is outside patent years 1-20",
        "row b: type 'gadget' is not one of invention, utility_model, design",
        "row c: paid-through year 11 is past expiry (the last patent year is 10)",
        "row c: reduction '90' is not one of none, 85, 70",
        "row d: no term of protection known for a design filed on 1980-01-01",
    ]
    with pytest.raises(FeeInputError, match="row a: grant year 21"):
        next_due_frame(patents, date(2025, 1, 1), default_rules(), default_calendar())


def test_date_objects_and_datetimes_give_the_same_answer():
    as_dates = pd.DataFrame({"type": ["design"], "filing_date": [date(2021, 2, 12)], "grant_year": [1],
                             "paid_through": [3], "reduction": ["70"]})
    as_datetimes = as_dates.assign(filing_date=pd.to_datetime(as_dates["filing_date"]).astype("datetime64[ns]"))
    on = date(2024, 2, 1)
    left = next_due_frame(as_dates, on, default_rules(), default_calendar())
    assert left.equals(next_due_frame(as_datetimes, on, default_rules(), default_calendar()))
    assert row_of(left)["fee"] == Decimal("270.00")


def test_the_bench_script_prints_one_json_report():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fees_bench.py"), "--patents", "2000"],
                          capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout)
    assert set(report) >= {"patents", "seconds", "patents_per_second", "peak_rss_mb", "target_seconds", "target_mb",
                           "ok"}
    assert report["patents"] == 2000 and isinstance(report["ok"], bool)


def test_band_edges_clamp_to_the_month_end_like_relativedelta():
    # Due 2023-01-31: the free month ends 2023-02-28 (Rule 5, no 31 Feb), so 1 March is in the 5 % band.
    facts = PatentFacts(PatentType.INVENTION, date(2014, 1, 31), grant_year=2, paid_through=9)
    on = date(2023, 3, 1)
    result = next_due_frame(frame(patent("invention", "2014-01-31", 2, 9)), on, default_rules(), default_calendar())
    expected = scalar_row(fee_schedule(facts, default_rules(), default_calendar()), on)
    assert row_of(result) == expected
    assert (expected["state"], expected["late_fee"]) == ("in_grace", Decimal("200.00"))


def test_a_year_without_a_fee_row_is_a_rule_error_naming_the_row():
    rules = default_rules()
    rules = replace(rules, fees=tuple(r for r in rules.fees if r.id != "fee.design.4-5"))
    patents = frame(patent("design", "2021-02-12", 1, 3)).set_axis(["ZL2021..."])
    with pytest.raises(RuleError, match=r"row ZL2021\.\.\.: no annual fee known for year 4 of a design"):
        next_due_frame(patents, date(2024, 1, 15), rules, default_calendar())
