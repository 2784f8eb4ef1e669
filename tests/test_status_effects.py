"""What each legal-status change does to a patent's custody (pure): the effects, the new watch state, and whether
fee, restoration and pledgee reminders may go out afterwards. Restoration figures follow Rule 6 ¶2 as encoded in
custody/rules/cnipa.toml [restoration] (fee 1000, late fee 25 % of the full fee, 2 months from the notice)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from custody.decisions import Decision
from custody.domain import PatentFacts, PatentType, Reduction
from custody.fees import fee_schedule, restoration_quote
from custody.ruleset import default_rules
from custody.status_effects import (
    NOT_GIVEN,
    EventFacts,
    PatentContext,
    RestorationWindow,
    WatchState,
    apply_event,
    confirm_transfer,
    is_pledgee_contact,
    is_restorable,
    pledgee_alert_year,
    pledgee_core,
    pledgees_of,
    restorability,
    restoration_closed_reason,
    restoration_reminder_due,
    status_block_reason,
)
from custody.workdays import WorkCalendar

RULES, CALENDAR = default_rules(), WorkCalendar()
TODAY = date(2025, 6, 16)
# P3 of the known portfolio: invention filed 2014-02-20, grant year 4, paid through year 10, no reduction.
LAPSED = fee_schedule(PatentFacts(PatentType.INVENTION, date(2014, 2, 20), grant_year=4, paid_through=10), RULES,
                      CALENDAR)
# P2: utility model filed 2020-03-10, paid through year 5: year 6 due 2025-03-10, in its grace period on TODAY.
IN_GRACE = fee_schedule(PatentFacts(PatentType.UTILITY_MODEL, date(2020, 3, 10), grant_year=2, paid_through=5),
                        RULES, CALENDAR)
COMPANY = "福州甲科技有限公司"


def _event(effect: str, kind: str | None = None, on: date = date(2025, 5, 6), **fields: str) -> EventFacts:
    return EventFacts(kind or effect, effect, f"label of {kind or effect}", on, f"status.csv:{on.day}", fields)


def _patent(schedule=LAPSED, mode: str = "custody", owners: str = COMPANY, pledgee_contact: bool = True):
    return PatentContext(mode, owners, COMPANY, schedule, pledgee_contact)


def _codes(outcome) -> list[str]:
    return [e.code for e in outcome.effects]


# ---------------------------------------------------------------------------------------------- restoration quote


@pytest.mark.parametrize(("facts", "notice", "parts", "request_by"), [
    pytest.param(PatentFacts(PatentType.INVENTION, date(2014, 2, 20), grant_year=4, paid_through=10),
                 date(2025, 5, 6), (11, "4000", "1000", "1000", "6000"), date(2025, 7, 7),
                 id="p3-year-11-deadline-sunday-moves-to-monday"),
    pytest.param(PatentFacts(PatentType.INVENTION, date(2010, 3, 1), grant_year=3, paid_through=12),
                 date(2023, 11, 20), (13, "6000", "1500", "1000", "8500"), date(2024, 1, 22),
                 id="shared-rules-example-invention-year-13-8500"),
    pytest.param(PatentFacts(PatentType.INVENTION, date(2017, 8, 1), grant_year=3, paid_through=8,
                             reduction=Reduction.R85),
                 date(2025, 8, 1), (9, "300", "500", "1000", "1800"), date(2025, 10, 9),
                 id="reduced-fee-keeps-reduction-late-fee-on-full-fee-deadline-after-national-day"),
])
def test_restoration_costs_fee_plus_quarter_of_full_fee_plus_1000_within_two_months(
        facts: PatentFacts, notice: date, parts: tuple, request_by: date) -> None:
    q = restoration_quote(fee_schedule(facts, RULES, CALENDAR), None, notice_on=notice, calendar=CALENDAR)
    year, fee, late, restoration, total = parts
    assert (q.year, q.fee, q.late_fee, q.restoration_fee, q.total, q.request_by) == (
        year, Decimal(fee), Decimal(late), Decimal(restoration), Decimal(total), request_by)


def test_restoration_figures_come_from_the_rule_tables_not_literals() -> None:
    changed = replace(RULES, restoration=replace(RULES.restoration, fee=Decimal("1200"), request_months=3))
    q = restoration_quote(replace(LAPSED, rules=changed), None, notice_on=date(2025, 5, 6), calendar=CALENDAR)
    assert (q.restoration_fee, q.request_by) == (Decimal("1200.00"), date(2025, 8, 6))


# ---------------------------------------------------------------------------------------------- each effect


def test_termination_for_non_payment_stops_fee_reminders_and_starts_restoration_reminders() -> None:
    outcome = apply_event(_event("lapse", "lapse_nonpayment"), WatchState(), _patent(), RULES, CALENDAR, TODAY)
    assert _codes(outcome) == ["fee_reminders_stopped", "restoration_reminders_started"]
    assert (outcome.state.lapsed_on, outcome.state.restore_by, outcome.state.restoration_year) == (
        date(2025, 5, 6), date(2025, 7, 7), 11)
    assert "6000.00 CNY, request by 2025-07-07" in outcome.effects[1].message
    assert status_block_reason(outcome.state, None, "custody", TODAY).startswith("terminated for non-payment")
    assert restoration_reminder_due(outcome.state, None, "custody", TODAY)


def test_a_termination_learnt_after_the_restoration_window_starts_no_restoration_reminders() -> None:
    outcome = apply_event(_event("lapse", "lapse_nonpayment", on=date(2023, 10, 10)), WatchState(), _patent(),
                          RULES, CALENDAR, TODAY)
    assert _codes(outcome) == ["fee_reminders_stopped", "restoration_window_closed"]
    assert not restoration_reminder_due(outcome.state, None, "custody", TODAY)
    assert restoration_closed_reason(outcome.state, TODAY).startswith("the restoration window closed on 2023-12-11")


@pytest.mark.parametrize(("schedule", "why"), [
    pytest.param(None, "fee facts incomplete", id="no-schedule"),
    pytest.param(replace(LAPSED, years=tuple(replace(y, paid=True) for y in LAPSED.years)),
                 "our records show every fee paid", id="every-fee-paid"),
    # Rule 114: the grant-year fee is paid with registration, so it has no lapse for Rule 6 ¶2 to restore.
    pytest.param(fee_schedule(PatentFacts(PatentType.INVENTION, date(2014, 2, 20), grant_year=4, paid_through=3),
                              RULES, CALENDAR),
                 "our records show the grant-year fee of year 4 unpaid", id="grant-year-fee-unpaid"),
])
def test_a_termination_our_records_cannot_quote_goes_to_the_operator(schedule, why: str) -> None:
    outcome = apply_event(_event("lapse", "lapse_nonpayment"), WatchState(), _patent(schedule), RULES, CALENDAR,
                          TODAY)
    assert _codes(outcome) == ["fee_reminders_stopped", "operator_review"]
    assert outcome.effects[1].message == (f"cannot quote restoration ({why}): check the patent's fee records "
                                          f"(cause: status.csv:6)")
    assert (outcome.state.lapsed_on, outcome.state.restore_by) == (date(2025, 5, 6), None)


@pytest.mark.parametrize(("day", "restorable"), [
    pytest.param(date(2025, 7, 7), True, id="last-day-of-the-window"),
    pytest.param(date(2025, 7, 8), False, id="day-after-the-window"),
])
def test_restorable_up_to_and_including_the_request_deadline(day: date, restorable: bool) -> None:
    state = WatchState(lapsed_on=date(2025, 5, 6), restore_by=date(2025, 7, 7))
    assert is_restorable(state, day) is restorable
    assert (restoration_closed_reason(state, day) is None) is restorable


@pytest.mark.parametrize("state", [
    pytest.param(WatchState(lapsed_on=date(2025, 5, 6), restore_by=date(2025, 7, 7), restoration_year=11),
                 id="after-the-termination-notice"),
    # The restoration reported before the notice (or without one): our schedule has the patent lapsed.
    pytest.param(WatchState(), id="notice-not-on-record"),
])
def test_restoration_pays_the_lapsed_year_and_resumes_fee_reminders_from_the_next(state: WatchState) -> None:
    outcome = apply_event(_event("restore", "restoration", on=date(2025, 6, 20)), state, _patent(), RULES, CALENDAR,
                          TODAY)
    assert _codes(outcome) == ["fee_reminders_resumed", "fee_paid_by_restoration"]
    assert outcome.paid_through == 11 and outcome.state == WatchState(restored_on=date(2025, 6, 20))
    assert "paid through year 11; fee reminders go on from year 12" in outcome.effects[1].message
    assert status_block_reason(outcome.state, None, "custody", TODAY) is None


def test_restoration_of_a_year_already_on_record_as_paid_changes_no_payment() -> None:
    paid = replace(LAPSED, years=tuple(replace(y, paid=True) for y in LAPSED.years))
    lapsed = WatchState(lapsed_on=date(2025, 5, 6), restore_by=date(2025, 7, 7), restoration_year=11)
    outcome = apply_event(_event("restore", "restoration", on=date(2025, 6, 20)), lapsed, _patent(paid), RULES,
                          CALENDAR, TODAY)
    assert _codes(outcome) == ["fee_reminders_resumed"] and outcome.paid_through is None


def test_restoration_of_a_patent_that_ended_otherwise_keeps_reminders_stopped() -> None:
    ended = WatchState(ended="invalidated_full", ended_on=date(2025, 2, 2))
    outcome = apply_event(_event("restore", "restoration"), ended, _patent(), RULES, CALENDAR, TODAY)
    assert _codes(outcome) == ["history_only"] and outcome.state == ended


@pytest.mark.parametrize("kind", ["expired", "invalidated_full", "abandoned", "abandoned_double"])
def test_expiry_invalidation_in_full_and_abandonment_stop_reminders_and_keep_history(kind: str) -> None:
    outcome = apply_event(_event("end", kind), WatchState(pledgee="某银行"), _patent(), RULES, CALENDAR, TODAY)
    assert _codes(outcome) == ["fee_reminders_stopped"]
    assert (outcome.state.ended, outcome.state.ended_on, outcome.state.pledgee) == (kind, date(2025, 5, 6), "某银行")
    assert status_block_reason(outcome.state, None, "custody", TODAY).startswith(f"ended ({kind}")


@pytest.mark.parametrize(("schedule", "on", "codes", "ended"), [
    pytest.param(LAPSED, date(2025, 5, 6), ["fee_reminders_stopped", "restoration_reminders_started"], None,
                 id="grace-over-so-non-payment"),
    pytest.param(fee_schedule(PatentFacts(PatentType.UTILITY_MODEL, date(2015, 3, 1), grant_year=2,
                                          paid_through=10), RULES, CALENDAR),
                 date(2025, 3, 5), ["fee_reminders_stopped"], "expired", id="term-over-so-expiry"),
    pytest.param(IN_GRACE, date(2025, 6, 1), ["fee_reminders_stopped", "operator_review"], "termination",
                 id="fees-in-order-so-ask-the-operator"),
])
def test_a_termination_without_a_reason_is_read_from_the_fee_schedule(schedule, on, codes, ended) -> None:
    outcome = apply_event(_event("terminate", "termination", on=on), WatchState(), _patent(schedule), RULES,
                          CALENDAR, TODAY)
    assert _codes(outcome) == codes and outcome.state.ended == ended


def test_a_transfer_holds_reminders_until_the_operator_confirms() -> None:
    outcome = apply_event(_event("transfer", new_owner="上海丁有限公司"), WatchState(), _patent(), RULES, CALENDAR,
                          TODAY)
    assert _codes(outcome) == ["fee_reminders_held"] and outcome.state.transfer_to == "上海丁有限公司"
    assert status_block_reason(outcome.state, None, "custody", TODAY).startswith("held: transfer to 上海丁有限公司")
    holder = "上海丁有限公司 (code), contacts 王五 (ip_manager)"
    released = confirm_transfer(outcome.state, "上海丁有限公司", holder, "张三")
    assert _codes(released) == ["transfer_confirmed"] and released.owners == "上海丁有限公司"
    assert released.effects[0].message == (f"transfer to 上海丁有限公司 confirmed by 张三: owner 上海丁有限公司; "
                                           f"reminders released to {holder}")
    assert status_block_reason(released.state, None, "custody", TODAY) is None


def test_a_transfer_to_the_custody_enterprise_itself_holds_nothing() -> None:
    outcome = apply_event(_event("transfer", new_owner=COMPANY), WatchState(), _patent(), RULES, CALENDAR, TODAY)
    assert _codes(outcome) == ["history_only"] and outcome.state == WatchState()


@pytest.mark.parametrize(("owners", "fields", "new_owners", "codes"), [
    pytest.param(COMPANY, {"old_owner": COMPANY, "new_owner": "福州甲智能科技有限公司"}, "福州甲智能科技有限公司",
                 ["owner_updated", "operator_review"], id="sole-owner-renamed-and-enterprise-flagged"),
    pytest.param(f"{COMPANY};厦门乙大学", {"old_owner": "厦门乙大学", "new_owner": "厦门丙大学"},
                 f"{COMPANY};厦门丙大学", ["owner_updated"], id="one-of-two-co-owners-renamed"),
    pytest.param("别的公司", {"old_owner": "厦门乙大学", "new_owner": "厦门丙大学"}, None, ["operator_review"],
                 id="old-name-not-on-record-asks-the-operator"),
    pytest.param(COMPANY, {}, None, ["operator_review"], id="no-new-name-in-the-record"),
])
def test_a_name_change_updates_the_owner(owners: str, fields: dict, new_owners: str | None, codes: list) -> None:
    outcome = apply_event(_event("rename", "owner_change", **fields), WatchState(), _patent(owners=owners), RULES,
                          CALENDAR, TODAY)
    assert (outcome.owners, _codes(outcome)) == (new_owners, codes)


@pytest.mark.parametrize(("has_contact", "says"), [
    pytest.param(True, "the pledgee contact will be alerted", id="pledgee-contact-configured"),
    pytest.param(False, "no pledgee contact configured", id="no-pledgee-contact"),
])
def test_a_pledge_records_the_pledgee(has_contact: bool, says: str) -> None:
    outcome = apply_event(_event("pledge", "pledge_registered", pledgee="招商银行"), WatchState(),
                          _patent(pledgee_contact=has_contact), RULES, CALENDAR, TODAY)
    assert outcome.state.pledgee == "招商银行" and says in outcome.effects[0].message


def test_a_cancelled_pledge_stops_the_pledgee_alerts() -> None:
    pledged = WatchState(pledgee="招商银行", pledged_on=date(2024, 9, 1))
    assert pledgee_alert_year(pledged, IN_GRACE, "custody", TODAY) == 6
    outcome = apply_event(_event("pledge_cancel", "pledge_cancelled"), pledged, _patent(), RULES, CALENDAR, TODAY)
    assert _codes(outcome) == ["pledgee_cleared"]
    assert pledgee_alert_year(outcome.state, IN_GRACE, "custody", TODAY) is None


TWO_PLEDGES = WatchState(pledgee="招商银行股份有限公司福州分行\n中国银行股份有限公司", pledged_on=date(2024, 9, 1))


def test_a_second_pledge_is_kept_beside_the_first() -> None:
    once = apply_event(_event("pledge", "pledge_registered", pledgee="招商银行股份有限公司福州分行"), WatchState(),
                       _patent(), RULES, CALENDAR, TODAY)
    twice = apply_event(_event("pledge", "pledge_registered", pledgee="中国银行股份有限公司"), once.state, _patent(),
                        RULES, CALENDAR, TODAY)
    again = apply_event(_event("pledge", "pledge_registered", pledgee="招商银行股份有限公司"), twice.state, _patent(),
                        RULES, CALENDAR, TODAY)
    assert pledgees_of(again.state) == pledgees_of(TWO_PLEDGES) == ("招商银行股份有限公司福州分行",
                                                                    "中国银行股份有限公司")


@pytest.mark.parametrize(("named", "left"), [
    pytest.param("中国银行股份有限公司", ("招商银行股份有限公司福州分行",), id="the-second-by-name"),
    pytest.param("招商银行股份有限公司", ("中国银行股份有限公司",), id="the-first-by-its-bank"),
])
def test_a_cancellation_ends_only_the_pledge_it_names(named: str, left: tuple[str, ...]) -> None:
    outcome = apply_event(_event("pledge_cancel", "pledge_cancelled", pledgee=named), TWO_PLEDGES, _patent(), RULES,
                          CALENDAR, TODAY)
    assert _codes(outcome) == ["pledgee_cleared"] and pledgees_of(outcome.state) == left
    assert f"still pledged to {left[0]}" in outcome.effects[0].message
    assert pledgee_alert_year(outcome.state, IN_GRACE, "custody", TODAY) == 6


@pytest.mark.parametrize("fields", [
    pytest.param({}, id="unnamed-with-two-on-record"),
    pytest.param({"pledgee": "兴业银行股份有限公司"}, id="a-pledgee-not-on-record"),
])
def test_a_cancellation_that_matches_no_pledge_goes_to_the_operator(fields: dict) -> None:
    outcome = apply_event(_event("pledge_cancel", "pledge_cancelled", **fields), TWO_PLEDGES, _patent(), RULES,
                          CALENDAR, TODAY)
    assert _codes(outcome) == ["operator_review"] and outcome.state == TWO_PLEDGES


@pytest.mark.parametrize(("schedule", "day", "year"), [
    pytest.param(IN_GRACE, date(2025, 3, 10), None, id="on-the-due-date-not-yet"),
    pytest.param(IN_GRACE, date(2025, 3, 11), 6, id="first-day-of-grace"),
    pytest.param(IN_GRACE, date(2025, 9, 10), 6, id="last-day-of-grace"),
    pytest.param(IN_GRACE, date(2025, 9, 11), None, id="lapsed-too-late-for-the-bank"),
])
def test_the_pledgee_hears_while_the_fee_is_in_its_grace_period(schedule, day: date, year: int | None) -> None:
    assert pledgee_alert_year(WatchState(pledgee="招商银行"), schedule, "custody", day) == year


@pytest.mark.parametrize(("kind", "code"), [
    pytest.param("grant", "history_only", id="grant"),
    pytest.param("licence_recorded", "history_only", id="licence"),
    pytest.param("invalidated_partial", "history_only", id="partial-invalidation-keeps-reminders"),
    pytest.param("invalidation", "operator_review", id="invalidation-of-unstated-extent"),
    pytest.param("unknown", "operator_review", id="unknown-status"),
])
def test_notes_change_no_reminders(kind: str, code: str) -> None:
    outcome = apply_event(_event("note", kind), WatchState(), _patent(), RULES, CALENDAR, TODAY)
    assert _codes(outcome) == [code] and outcome.state == WatchState()


def test_a_watch_only_patent_gets_a_digest_entry_instead_of_reminder_effects() -> None:
    outcome = apply_event(_event("transfer", new_owner="另一竞争公司"), WatchState(), _patent(mode="watch"), RULES,
                          CALENDAR, TODAY)
    assert _codes(outcome) == ["watch_digest"] and COMPANY in outcome.effects[0].message
    assert status_block_reason(outcome.state, None, "watch", TODAY) == "watch-only patent: no fee reminders"


@pytest.mark.parametrize(("pledgee", "core"), [
    pytest.param("招商银行股份有限公司福州分行", "招商银行", id="bank-branch"),
    pytest.param("中国工商银行股份有限公司北京分行", "中国工商银行", id="bank-with-china-prefix"),
    pytest.param("平安银行深圳分行", "平安银行", id="branch-without-legal-form"),
    pytest.param("福建省融资担保有限责任公司", "福建省融资担保", id="guarantee-company"),
    pytest.param("ＸＹＺ 银行 股份有限公司", "XYZ银行", id="full-width-and-spaces"),
])
def test_the_pledgee_core_is_its_name_without_legal_form_or_branch(pledgee: str, core: str) -> None:
    assert pledgee_core(pledgee) == core


@pytest.mark.parametrize(("contact", "pledgee", "matches"), [
    pytest.param("招商银行 李经理", "招商银行股份有限公司福州分行", True, id="contact-named-after-the-bank"),
    pytest.param("李经理（招商银行股份有限公司福州分行）", "招商银行股份有限公司福州分行", True, id="full-name"),
    pytest.param("中国银行 王经理", "招商银行股份有限公司福州分行", False, id="another-bank"),
    pytest.param("招商银行 李经理", "中国银行股份有限公司", False, id="pledged-to-another-bank"),
    pytest.param("中国工商银行 赵", "中国银行股份有限公司", False, id="similar-names-differ"),
    pytest.param("李经理", "招商银行股份有限公司福州分行", False, id="contact-without-the-bank-name"),
    pytest.param("某银行 李", "银行", False, id="too-short-to-tell"),
    pytest.param("招商银行 李经理", NOT_GIVEN, False, id="pledgee-not-named-in-the-record"),
    pytest.param("招商银行 李经理", None, False, id="no-pledgee"),
])
def test_a_pledgee_contact_is_matched_by_the_pledgee_name(contact: str, pledgee: str | None, matches: bool) -> None:
    assert is_pledgee_contact(contact, pledgee) is matches


# ---------------------------------------------------------------------------------------------- restorability


WINDOW = RestorationWindow(request_months=2, notice_months=4)  # the defaults: Rule 6 ¶2 and config [status]
GRACE_END = date(2024, 8, 20)  # P3's year 11 fee: the assumed window runs to 2025-02-20


@pytest.mark.parametrize(("state", "day", "answer"), [
    pytest.param(WatchState(), date(2024, 8, 21), "unknown — check", id="no-notice-day-after-grace-end"),
    pytest.param(WatchState(), date(2025, 2, 20), "unknown — check", id="no-notice-last-day-of-assumed-window"),
    pytest.param(WatchState(), date(2025, 2, 21), "no", id="no-notice-after-the-assumed-window"),
    pytest.param(WatchState(), date(2031, 1, 1), "no", id="no-notice-years-later"),
    pytest.param(WatchState(lapsed_on=date(2025, 5, 6), restore_by=date(2025, 7, 7)), date(2025, 7, 7), "yes",
                 id="notice-recorded-within-two-months"),
    pytest.param(WatchState(lapsed_on=date(2025, 5, 6), restore_by=date(2025, 7, 7)), date(2025, 7, 8), "no",
                 id="notice-recorded-window-closed"),
    pytest.param(WatchState(ended="expired", ended_on=date(2024, 9, 1)), date(2024, 9, 2), "no",
                 id="ended-otherwise"),
])
def test_restorability_without_a_notice_is_unknown_within_the_assumed_window(state, day, answer) -> None:
    assert restorability(state, GRACE_END, day, WINDOW) == answer


def test_the_assumed_window_is_a_setting() -> None:
    assert restorability(WatchState(), GRACE_END, date(2025, 4, 1), WINDOW) == "no"
    assert restorability(WatchState(), GRACE_END, date(2025, 4, 1), RestorationWindow(2, 6)) == "unknown — check"


def test_every_effect_names_its_cause() -> None:
    outcome = apply_event(_event("lapse", "lapse_nonpayment"), WatchState(), _patent(), RULES, CALENDAR, TODAY)
    assert all("cause: status.csv:6" in e.message for e in outcome.effects)


# ---------------------------------------------------------------------------------------------- the gate


ABANDON = Decision("abandon", 8, date(2026, 3, 3), "张三", datetime(2025, 6, 10, 9), "停产")


@pytest.mark.parametrize(("state", "decision", "day", "blocked"), [
    pytest.param(WatchState(), None, TODAY, None, id="nothing-known"),
    pytest.param(WatchState(), ABANDON, date(2026, 3, 2), None, id="abandon-not-yet-in-effect"),
    pytest.param(WatchState(), ABANDON, date(2026, 3, 3), "abandoned by the enterprise", id="abandon-in-effect"),
    pytest.param(WatchState(), replace(ABANDON, choice="pay"), date(2026, 3, 3), None, id="pay-blocks-nothing"),
    pytest.param(WatchState(ended="expired", ended_on=TODAY), None, TODAY, "ended (expired", id="ended"),
    pytest.param(WatchState(transfer_to="丁"), None, TODAY, "held: transfer to 丁", id="held"),
])
def test_the_status_gate_says_why_reminders_must_not_go_out(state, decision, day, blocked) -> None:
    reason = status_block_reason(state, decision, "custody", day)
    assert (reason is None) if blocked is None else reason.startswith(blocked)
