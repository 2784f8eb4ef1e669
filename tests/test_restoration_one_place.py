"""Restoration (Rule 6 ¶2) is computed in one place, custody.fees.restoration_cost, from the rule row
custody/rules/cnipa.toml [restoration]: the fee calculator, the status effect, the reminder email and the lapsed
report state the same figures for one lapsed patent, and all follow a change of that row."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from custody.domain import PatentFacts, PatentType
from custody.fees import fee_schedule, restoration_quote
from custody.messages import Addressee, FeeLine, render_fee_message
from custody.reports import PortfolioPatent, evaluate, lapsed_report
from custody.ruleset import RuleSet, default_rules
from custody.status_effects import EventFacts, PatentContext, WatchState, apply_event
from custody.workdays import WorkCalendar

RULES, CALENDAR = default_rules(), WorkCalendar()
COMPANY, NUMBER = "福州甲科技有限公司", "201410012345.6"
# P3 of the known portfolio: invention filed 2014-02-20, grant year 4, paid through year 10: year 11 (due
# 2014-02-20 + 10 years, full fee 4000) lapsed; CNIPA's notice of 2025-05-06 gives until Mon 2025-07-07.
P3 = PatentFacts(PatentType.INVENTION, date(2014, 2, 20), grant_year=4, paid_through=10)
NOTICE, TODAY = date(2025, 5, 6), date(2025, 6, 16)
WATCH = WatchState(lapsed_on=NOTICE, restore_by=date(2025, 7, 7), restoration_year=11)
EFFECT = re.compile(r"fee (\S+) \+ late fee (\S+) \+ restoration fee (\S+) = (\S+) CNY")
EMAIL = re.compile(r"恢复所需合计：(\S+)元（年费(\S+)元 \+ 滞纳金(\S+)元 \+ 恢复费(\S+)元）")


def _amounts(*texts: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(t.replace(",", "")) for t in texts)


def _quoted(rules: RuleSet) -> tuple[Decimal, ...]:
    q = restoration_quote(fee_schedule(P3, rules, CALENDAR), notice_on=NOTICE, calendar=CALENDAR)
    return q.fee, q.late_fee, q.restoration_fee, q.total


def _effect(rules: RuleSet) -> tuple[Decimal, ...]:
    event = EventFacts("lapse_nonpayment", "lapse", "未缴年费专利权终止", NOTICE, "status.csv:2")
    patent = PatentContext("custody", COMPANY, COMPANY, fee_schedule(P3, rules, CALENDAR))
    outcome = apply_event(event, WatchState(), patent, rules, CALENDAR, TODAY)
    return _amounts(*EFFECT.search(outcome.effects[-1].message).groups())


def _email(rules: RuleSet) -> tuple[Decimal, ...]:
    year = fee_schedule(P3, rules, CALENDAR).year(11)
    # The lapsed block takes its late fee from the restoration rule, not from the line's own late fee.
    line = FeeLine(1, NUMBER, "一种测试装置", "invention", 11, year.due_date, year.grace_end, year.fee,
                   year.full_fee, Decimal(0), Decimal(0), WATCH.restore_by, kind="restore")
    text = render_fee_message("email", [line], Addressee(COMPANY, "张经理"), TODAY, rules.restoration).text
    total, fee, late, restoration = EMAIL.search(text).groups()
    return _amounts(fee, late, restoration, total)


def _report(rules: RuleSet) -> tuple[Decimal, ...]:
    patent = PortfolioPatent(1, "91350100MA00000000", COMPANY, NUMBER, "一种测试装置", "custody", P3, watch=WATCH)
    evaluated, _ = evaluate([patent], rules, CALENDAR, TODAY)
    (row,) = lapsed_report(evaluated, rules, CALENDAR, TODAY).rows
    return row["fee"], row["late_fee"], row["restoration_fee"], row["restoration_total"]


CONSUMERS = {"fee quote": _quoted, "status effect": _effect, "reminder email": _email, "lapsed report": _report}


def test_every_consumer_states_the_same_restoration_figures_for_one_lapsed_patent() -> None:
    # Rule 6 ¶2, ref §6: year 11 fee 4000 + 25 % of the full fee 4000 + restoration fee 1000 = 6000.
    found = {name: figures(RULES) for name, figures in CONSUMERS.items()}
    assert found == dict.fromkeys(CONSUMERS, _amounts("4000", "1000", "1000", "6000"))


@pytest.mark.parametrize(("row", "expected"), [
    pytest.param({"fee": Decimal("1200")}, ("4000", "1000", "1200", "6200"), id="restoration-fee-1200"),
    pytest.param({"late_fee_rate": Decimal("0.30")}, ("4000", "1200", "1000", "6200"), id="late-fee-rate-30"),
])
def test_a_change_of_the_restoration_rule_row_reaches_every_consumer(row: dict, expected: tuple[str, ...]) -> None:
    changed = replace(RULES, restoration=replace(RULES.restoration, **row))
    found = {name: figures(changed) for name, figures in CONSUMERS.items()}
    assert found == dict.fromkeys(CONSUMERS, _amounts(*expected))


def test_the_lapsed_report_notes_a_notice_for_an_unpaid_grant_year_fee() -> None:
    # Rule 114: the grant-year fee is paid with registration: there is no lapse of it to restore.
    facts = replace(P3, paid_through=3)
    patent = PortfolioPatent(1, "91350100MA00000000", COMPANY, NUMBER, "一种测试装置", "custody", facts,
                             watch=WatchState(lapsed_on=NOTICE))
    evaluated, _ = evaluate([patent], RULES, CALENDAR, TODAY)
    report = lapsed_report(evaluated, RULES, CALENDAR, TODAY)
    assert report.rows == ()
    assert report.notes == (f"{NUMBER}: left out, a termination notice is on record but the grant-year fee of "
                            f"year 4 is unpaid on our records: check the fee records",)
