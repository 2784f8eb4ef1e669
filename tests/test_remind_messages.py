"""What reminders say (Chinese SMS variables, email digests) and the gate that decides whether they may go out."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from custody.decisions import Decision
from custody.eligibility import Standing, reminder_block_reason
from custody.messages import (
    CUT_MARK,
    SMS_TEMPLATES,
    Addressee,
    Envelope,
    FeeLine,
    MixedMessageError,
    fitted,
    render_alert,
    render_fee_message,
)
from custody.status_effects import WatchState

D = Decimal
ON = date(2025, 6, 1)


def line(number: str = "201710601862.3", enterprise: int = 1, **changes) -> FeeLine:
    values = dict(enterprise_id=enterprise, application_number=number, title="一种测试装置",
                  patent_type="invention", year=9, due_date=date(2025, 4, 25), grace_end=date(2025, 10, 27),
                  fee=D("300"), full_fee=D("2000"), late_fee=D("100"), late_fee_rate=D("0.05"),
                  pay_by=date(2025, 6, 25), next_rate=D("0.10"))
    return FeeLine(**{**values, **changes})


TO = Addressee("福建测试科技有限公司", "张经理")


def test_sms_digest_gives_count_earliest_deadline_and_total() -> None:
    lines = [line(), line("202020123456.7", patent_type="utility_model", fee=D("600"), full_fee=D("600"),
                          late_fee=D("0"), late_fee_rate=D("0"), due_date=date(2025, 6, 10),
                          pay_by=date(2025, 6, 10), next_rate=None)]
    rendered = render_fee_message("sms", lines, TO, ON)
    # The template and the number named are those of the most urgent fee (the overdue one); the deadline is the
    # digest's earliest pay-by day (the other fee falls due on 10 June); the amount pays both today.
    assert rendered.template == "overdue"
    assert rendered.params == {"name": "福建测试科技有限公司", "number": "201710601862.3等2件",
                               "amount": "1,000.00", "deadline": "2025-06-10", "last_day": "2025-10-27"}
    assert all(isinstance(v, str) for v in rendered.params.values())  # Aliyun: every value a string
    assert "2件" in rendered.text and "1,000.00元" in rendered.text


@pytest.mark.parametrize(("kind", "on", "template"), [
    pytest.param("fee", date(2025, 3, 26), "due_soon", id="before-the-due-date"),
    pytest.param("fee", date(2025, 4, 26), "overdue", id="in-grace"),
    pytest.param("lapse", date(2025, 10, 28), "lapsed", id="after-the-grace-end"),
])
def test_sms_template_follows_the_fee_state(kind: str, on: date, template: str) -> None:
    rendered = render_fee_message("sms", [line(kind=kind)], TO, on)
    assert rendered.template == template
    assert set(rendered.params) == set(SMS_TEMPLATES[template])


UPCOMING = dict(late_fee=D("0"), late_fee_rate=D("0"), due_date=date(2025, 6, 20), pay_by=date(2025, 6, 20),
                next_rate=None)


def test_a_digest_counts_overdue_and_upcoming_fees_apart() -> None:
    lines = [line(), line("202020123456.7", title="外壳", **UPCOMING)]
    rendered = render_fee_message("email", lines, TO, ON)
    assert rendered.subject == ("【专利年费逾期】福建测试科技有限公司：1件专利年费已逾期，需连同滞纳金缴纳，"
                                "2025年6月26日起滞纳金上涨，最迟2025年10月27日（宽限期届满）；另有1件年费即将到期")
    overdue, upcoming = rendered.text.split("【已逾期】")[1].split("【即将到期】")
    assert "以下1件专利的年费已过应缴日期" in overdue and "201710601862.3" in overdue
    assert "202020123456.7" not in overdue
    assert "以下1件专利的年费即将到期" in upcoming and "202020123456.7" in upcoming and "六个月宽限期内" not in upcoming
    assert "已逾期（1件）" in rendered.html and "即将到期（1件）" in rendered.html


def test_a_digest_of_upcoming_fees_never_says_overdue() -> None:
    lines = [line(**UPCOMING), line("202020123456.7", **UPCOMING)]
    for channel in ("email", "sms"):
        rendered = render_fee_message(channel, lines, TO, ON)
        assert "逾期" not in rendered.text and "逾期" not in (rendered.subject or "")
    assert render_fee_message("email", lines, TO, ON).subject == (
        "【专利年费提醒】福建测试科技有限公司：2件专利年费待缴，最早2025年6月20日到期")


def test_a_digest_with_a_lapsed_fee_uses_the_lapsed_template_worded_for_the_whole_digest() -> None:
    lines = [line(**UPCOMING), line("202020123456.7", kind="restore", pay_by=date(2025, 7, 10)), line("201810000001.1")]
    sms = render_fee_message("sms", lines, TO, ON)
    assert sms.template == "lapsed_due" and sms.params["number"] == "202020123456.7等3件"
    assert "202020123456.7等3件中有年费未在宽限期内缴纳的" in sms.text
    email = render_fee_message("email", lines, TO, ON)
    assert email.subject == ("【专利失效通知】福建测试科技有限公司：1件专利未缴年费，宽限期已届满；另有1件年费已逾期；"
                             "另有1件年费即将到期")
    assert "请于2025年7月10日前请求恢复" in email.text and "恢复所需合计：1,800.00元" in email.text
    assert [part in email.text for part in ("【宽限期已届满】", "【已逾期】", "【即将到期】")] == [True, True, True]


def test_a_long_company_name_is_cut_for_the_sms_variable() -> None:
    rendered = render_fee_message("sms", [line()], Addressee("某" * 40, "张经理"), ON)
    assert len(rendered.params["name"]) == 20


def test_email_lists_every_patent_with_years_amounts_late_fees_and_deadlines() -> None:
    lines = [line(), line("202020123456.7", title="外壳", patent_type="utility_model", year=3)]
    rendered = render_fee_message("email", lines, TO, ON)
    assert rendered.subject.startswith("【专利年费逾期】福建测试科技有限公司：2件")
    for text in (rendered.text, rendered.html):
        for expected in ("201710601862.3", "202020123456.7", "一种测试装置", "外壳", "300.00", "100.00",
                         "2025年6月25日", "2025年10月27日"):
            assert expected in text
    assert "第9年度" in rendered.text and "全额年费的5%" in rendered.text and "升至10%" in rendered.text
    assert "合计（按今日缴纳）：800.00元" in rendered.text


def test_lapse_notice_quotes_restoration() -> None:
    rendered = render_fee_message("email", [line(kind="lapse")], TO, date(2025, 10, 28))
    # Rule 6 ¶2: fee 300 + 25 % of the full fee 2000 + 1000 restoration fee.
    assert "恢复所需合计：1,800.00元" in rendered.text
    assert "【专利失效通知】" in rendered.subject


SMS_PARAMS = {"name": "福建测试科技有限公司", "number": "201710601862.3等2件", "amount": "1,000.00"}


@pytest.mark.parametrize(("text", "params", "max_chars", "max_param", "expected", "problem"), [
    pytest.param("x" * 10, {}, 10, None, "x" * 10, None, id="text-at-the-limit-untouched"),
    pytest.param("告警" * 20, {}, 20, None, "告警" * 7 + CUT_MARK, None, id="long-alert-cut-and-marked"),
    pytest.param("短信", {**SMS_PARAMS, "number": "2017等2件"}, 500, 8, "短信", None, id="long-company-name-cut"),
    pytest.param("短信", SMS_PARAMS, 500, 5, "短信", "SMS variable number is 17 characters, over the channel's "
                 "limit of 5", id="long-number-refused-not-cut"),
    pytest.param("短" * 501, {"number": "1"}, 500, 35, "短" * 501, "SMS text is 501 characters, over the channel's "
                 "limit of 500", id="long-sms-text-refused"),
])
def test_texts_fit_the_channels_declared_limits(text, params, max_chars, max_param, expected, problem) -> None:
    fitted_text, fitted_params, why = fitted(text, params, max_chars, max_param)
    assert (fitted_text, why) == (expected, problem)
    assert len(fitted_text) <= max_chars or problem
    if params and not problem:
        assert fitted_params == {**params, "name": params["name"][:max_param]}


def test_html_escapes_what_it_is_given() -> None:
    rendered = render_fee_message("email", [line(title="<script>x</script>")], TO, ON)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


@pytest.mark.parametrize(("remind_only", "agency", "wording"), [
    pytest.param(True, False, "请贵司自行缴纳", id="remind-only"),
    pytest.param(False, True, "转交代理机构", id="through-an-agency"),
])
def test_standing_instructions_change_the_wording(remind_only: bool, agency: bool, wording: str) -> None:
    to = Addressee("福建测试科技有限公司", "张经理", remind_only=remind_only, via_agency=agency)
    assert wording in render_fee_message("email", [line()], to, ON).text


def test_a_message_never_mixes_enterprises() -> None:
    with pytest.raises(MixedMessageError):
        render_fee_message("email", [line(enterprise=1), line("202020123456.7", enterprise=2)], TO, ON)


def test_alerts_and_envelopes_mask_personal_data() -> None:
    alert = render_alert("发送失败 13812345678", ["zhang.san@example.com refused"])
    assert "13812345678" not in alert.text and "138****5678" in alert.text
    assert "zhang.san@" not in alert.text
    envelope = Envelope("custody-1", "sms", "13812345678", "text")
    assert "13812345678" not in repr(envelope)
    json.dumps(dict(render_fee_message("sms", [line()], TO, ON).params))  # plain strings only


ABANDON = Decision("abandon", 9, date(2025, 10, 28), "operator", datetime(2025, 5, 1))
ABANDON_NOW = Decision("abandon", 9, date(2025, 5, 1), "operator", datetime(2025, 5, 1))
RESTORABLE = WatchState(lapsed_on=date(2025, 5, 10), restore_by=date(2025, 7, 10), restoration_year=9)


@pytest.mark.parametrize(("standing", "kind", "blocked"), [
    pytest.param(Standing(), "fee", None, id="custody-patent-is-reminded"),
    pytest.param(Standing(mode="watch"), "fee", "watch-only", id="watch-only"),
    pytest.param(Standing(has_enterprise=False), "fee", "no enterprise", id="no-enterprise"),
    pytest.param(Standing(watch=RESTORABLE), "restore", None, id="restoration-reminder-after-the-notice"),
    pytest.param(Standing(), "restore", "no termination notice", id="no-restoration-reminder-without-a-notice"),
    pytest.param(Standing(watch=WatchState(lapsed_on=date(2025, 3, 20), restore_by=date(2025, 5, 20))), "restore",
                 "restoration window closed", id="no-restoration-reminder-after-the-deadline"),
    pytest.param(Standing(watch=RESTORABLE, decision=ABANDON_NOW), "restore", "abandoned",
                 id="no-restoration-reminder-once-abandoned"),
    pytest.param(Standing(watch=WatchState(ended="expired", ended_on=date(2025, 5, 20), lapsed_on=date(2025, 5, 1),
                                           restore_by=date(2025, 7, 1))), "restore", "ended",
                 id="no-restoration-reminder-once-ended"),
    pytest.param(Standing(watch=WatchState(ended="expired", ended_on=date(2025, 5, 1))), "fee", "ended",
                 id="ended-by-status"),
    pytest.param(Standing(watch=WatchState(lapsed_on=date(2025, 5, 1))), "fee", "terminated",
                 id="terminated-for-non-payment"),
    pytest.param(Standing(watch=WatchState(lapsed_on=date(2025, 5, 1))), "lapse", None,
                 id="terminated-still-gets-the-lapse-notice"),
    pytest.param(Standing(watch=WatchState(transfer_to="某公司", transfer_on=date(2025, 5, 1))), "fee", "held",
                 id="transfer-held"),
    pytest.param(Standing(decision=ABANDON), "fee", None, id="abandon-waits-for-the-grace-end"),
    pytest.param(Standing(decision=ABANDON_NOW), "fee", "abandoned", id="abandon-now"),
    pytest.param(Standing(decision=ABANDON, skip_abandoned=True), "fee", "no reminders on such",
                 id="instruction-skips-patents-marked-to-abandon"),
])
def test_reminder_block_reason(standing: Standing, kind: str, blocked: str | None) -> None:
    reason = reminder_block_reason(standing, kind, date(2025, 6, 1))
    assert (reason is None) if blocked is None else (blocked in reason)


# In the last late-fee band (25 %, Rule 115) the pay-by day is the grace end: nothing rises after it, the patent
# terminates.
LAST_BAND = dict(late_fee=D("500"), late_fee_rate=D("0.25"), pay_by=date(2025, 10, 27), next_rate=None)
OPERATOR = Addressee("福建测试科技有限公司", "值班运营", for_operator=True)


def _shown(channel: str, lines: list[FeeLine], to: Addressee, on: date) -> str:
    rendered = render_fee_message(channel, lines, to, on)
    return "\n".join(filter(None, (rendered.template, rendered.subject, rendered.text, rendered.html)))


@pytest.mark.parametrize(("channel", "lines", "to", "on", "said", "never"), [
    pytest.param("email", [line()], TO, ON,
                 ["需连同滞纳金缴纳，2025年6月26日起滞纳金上涨，最迟2025年10月27日（宽限期届满）",
                  "宽限期届满仍未缴纳的，专利权终止"],
                 ["最迟2025年6月25日"], id="email-overdue-rise-then-grace-end"),
    pytest.param("email", [line(**LAST_BAND)], TO, date(2025, 10, 1),
                 ["需连同滞纳金缴纳，最迟2025年10月27日（宽限期届满）"], ["起滞纳金上涨"],
                 id="email-overdue-last-band-no-rise"),
    pytest.param("sms", [line()], TO, ON,
                 ["现缴合计400.00元，请于2025-06-25前缴纳以免费用增加；最早的宽限期于2025-10-27届满，届满未缴的专利权终止"],
                 ["直至专利权终止"], id="sms-overdue-rise-then-grace-end"),
    pytest.param("sms", [line(**LAST_BAND)], TO, date(2025, 10, 1),
                 # The late fee rises no more: never "pay before the fee rises", only the grace end (issue 11).
                 ["overdue_final", "其中已过应缴日的滞纳金已达最高、不再增加，现缴合计",
                  "最早的宽限期于2025-10-27届满，届满未缴的专利权终止"],
                 ["滞纳金上涨", "以免费用增加"], id="sms-overdue-last-band"),
    pytest.param("sms", [line(kind="lapse"), line("202020123456.7", **UPCOMING)], TO, ON,
                 ["lapsed_due", "201710601862.3等2件中有年费未在宽限期内缴纳的，专利权终止",
                  "其余待缴年费现缴合计300.00元，请于2025-06-20前缴纳"], [], id="sms-lapse-with-payable-fees"),
    pytest.param("sms", [line(kind="lapse")], TO, date(2025, 10, 28),
                 ["lapsed", "201710601862.3中有年费未在宽限期内缴纳的"], ["合计", "lapsed_due"], id="sms-lapse-only"),
    pytest.param("email", [line()], OPERATOR, ON,
                 ["【运营副本】【专利年费逾期】福建测试科技有限公司", "值班运营，您好",
                  "以下是福建测试科技有限公司的专利年费提醒（运营副本）",
                  "福建测试科技有限公司以下1件专利的年费已过应缴日期", "仅包含福建测试科技有限公司名下的专利"],
                 ["贵司"], id="email-operator-copy-names-the-enterprise"),
    pytest.param("email", [line(kind="lapse")], Addressee("福建测试科技有限公司", "值班运营", via_agency=True,
                                                          for_operator=True), date(2025, 10, 28),
                 ["福建测试科技有限公司以下1件专利的年费在宽限期内未缴纳",
                  "福建测试科技有限公司通过专利代理机构缴费"],
                 ["贵司"], id="email-operator-copy-of-a-lapse-notice"),
    pytest.param("email", [line()], TO, ON,
                 ["张经理，您好", "贵司以下1件专利", "仅包含贵司（福建测试科技有限公司）名下"],
                 ["运营副本"], id="email-enterprise-copy"),
])
def test_what_each_message_says_is_true_for_its_reader(channel, lines, to, on, said, never) -> None:
    shown = _shown(channel, lines, to, on)
    assert [s for s in said if s not in shown] == []
    assert [n for n in never if n in shown] == []


def test_a_provisional_date_says_so_in_the_email():
    from custody.domain import marked

    provisional = line(due_date=marked(date(2027, 4, 26), True), grace_end=marked(date(2027, 10, 25), True),
                       pay_by=marked(date(2027, 4, 26), True), late_fee=D("0"), late_fee_rate=D("0"), next_rate=None)
    rendered = render_fee_message("email", [provisional, line("202020123456.7")], TO, date(2027, 3, 1))
    for text in (rendered.text, rendered.html):
        assert "2027年4月26日（暂定）" in text and "2025年4月25日（暂定）" not in text
    assert "（暂定）" in rendered.subject or "2027" not in rendered.subject
