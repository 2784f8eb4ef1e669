"""The operator's reports on the known portfolio (tests/test_status_portfolio.py) as of Monday 2025-06-16, checked
cell by cell, on SQLite and PostgreSQL; and `--enterprise` isolation: one enterprise's report holds nothing of
another. Amounts follow custody/rules/cnipa.toml; the dates are worked out in the comments."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from custody.decisions import Decision
from custody.models import Patent, Payment
from custody.models.reminders import Reminder
from custody.report_figures import deliveries_report, forecast_report, kpi_report
from custody.reports import (
    due_report,
    enterprise_statement,
    evaluate,
    grace_report,
    lapsed_report,
    restoration_window,
)
from custody.ruleset import default_rules
from custody.status_vocab import StatusBatch, StatusRecord
from custody.store.calendar import calendar_from
from custody.store.reports import delivery_counts, portfolio, reminder_figures
from custody.store.status import decide, ingest
from tests.test_status_portfolio import (
    ENTERPRISES,
    NOW,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    P7,
    TODAY,
    A,
    B,
    C,
    build_portfolio,
)

RULES = default_rules()
WINDOW = restoration_window(RULES, {})  # config defaults: 2 months from the notice, notice within 4 months
BANK = "招商银行股份有限公司福州分行"
ABANDON = ("abandon year 8 (decided 2025-06-16 by 张三: 产品线停产); year 8 and later, reminders stop from "
           "2026-03-03")
STATUS = StatusBatch("file:report-status.csv", (
    StatusRecord(P3, date(2025, 5, 6), "未缴年费专利权终止", "", "report-status.csv:2"),
    StatusRecord(P4, date(2023, 10, 10), "未缴年费专利权终止", "", "report-status.csv:3"),
    StatusRecord(P2, date(2024, 9, 1), "专利权质押合同登记的生效", f"质权人：{BANK}", "report-status.csv:4"),
    StatusRecord(P5, date(2025, 6, 12), "专利申请权、专利权的转移", "变更后权利人：另一竞争公司",
                 "report-status.csv:5"),
))
# (channel, state, day, sent_at, enterprise): what the reminders outbox holds.
OUTBOX = [
    ("email", "delivered", date(2025, 3, 1), datetime(2025, 3, 1, 1, tzinfo=UTC), A),
    ("sms", "sent", date(2025, 3, 2), datetime(2025, 3, 2, 1, tzinfo=UTC), A),
    ("sms", "delivered", date(2025, 4, 1), datetime(2025, 4, 1, 1, tzinfo=UTC), B),
    ("sms", "failed", date(2025, 4, 2), None, B),
    ("email", "planned", date(2025, 6, 16), None, A),
    # 00:30 on 1 January 2025 in Shanghai: a 2025 message although 2024 in UTC.
    ("sms", "delivered", date(2025, 1, 1), datetime(2024, 12, 31, 16, 30, tzinfo=UTC), B),
    # 23:30 on 31 December 2024 in Shanghai: not 2025.
    ("sms", "delivered", date(2024, 12, 31), datetime(2024, 12, 31, 15, 30, tzinfo=UTC), B),
    ("webhook", "cancelled", date(2025, 5, 5), None, None),
]


def build_report_portfolio(session: Session) -> None:
    """The known portfolio with its status events, A's decision to abandon P6, and an outbox."""
    patents = build_portfolio(session)
    ingest(session, STATUS, RULES, calendar_from(session), NOW)
    decide(session, patents[P6], "abandon", None, "张三", NOW, TODAY, RULES, calendar_from(session),
           note="产品线停产")
    ids = {code: patents[number].enterprise_id for code, number in ((A, P1), (B, P3), (C, P5))}
    for i, (channel, state, day, sent_at, code) in enumerate(OUTBOX):
        session.add(Reminder(key=f"test:{i}", kind="alert" if channel == "webhook" else "fee", channel=channel,
                             recipient="x", enterprise_id=ids.get(code), day=day, state=state,
                             not_before=NOW, sent_at=sent_at))
    session.commit()


@pytest.fixture
def reports(session: Session):
    build_report_portfolio(session)
    return session


def _evaluated(session: Session, enterprise: str | None = None):
    return evaluate(portfolio(session, enterprise), RULES, calendar_from(session), TODAY)


def _rows(report) -> list[dict]:
    return [dict(row) for row in report.rows]


def test_due_lists_fees_due_within_90_days_with_reduction_and_decision(reports: Session) -> None:
    evaluated, notes = _evaluated(reports)
    assert notes == []
    # P1 year 9 due 2025-08-01, grace end 2026-02-02 (1 Feb 2026 is a Sunday); P6 year 8 due 2025-09-01, grace end
    # 2026-03-02; P7 (due 2025-11-20) is 157 days away; P2 is past due (grace report).
    assert _rows(due_report(evaluated, TODAY, 90)) == [
        {"enterprise_code": A, "enterprise": ENTERPRISES[A], "application_number": P1, "title": "一种电池管理方法",
         "year": 9, "due_date": date(2025, 8, 1), "days_left": 46, "fee": Decimal("300.00"), "reduction": "85",
         "reduction_recorded_on": None, "grace_end": date(2026, 2, 2), "decision": None, "note": None},
        {"enterprise_code": A, "enterprise": ENTERPRISES[A], "application_number": P6, "title": "一种散热结构",
         "year": 8, "due_date": date(2025, 9, 1), "days_left": 77, "fee": Decimal("300.00"), "reduction": "85",
         "reduction_recorded_on": None, "grace_end": date(2026, 3, 2), "decision": ABANDON, "note": None},
    ]


@pytest.mark.parametrize(("days", "numbers"), [
    pytest.param(45, [], id="day-before-p1"),
    pytest.param(46, [P1], id="p1-on-its-last-day"),
    pytest.param(157, [P1, P6, P7], id="p7-on-its-last-day"),
])
def test_due_within_counts_the_last_day(reports: Session, days: int, numbers: list) -> None:
    assert [r["application_number"] for r in due_report(_evaluated(reports)[0], TODAY, days).rows] == numbers


def test_grace_shows_todays_late_fee_and_the_next_rise(reports: Session) -> None:
    # P2: anniversary 2025-03-10; band ends 04-10, 05-12 (10 May is a Saturday), 06-10, 07-10, 08-11, 09-10.
    # On 06-16 it is in the 15 % band (180 of the full 1200); 20 % (240) from 07-11.
    assert _rows(grace_report(_evaluated(reports)[0], TODAY)) == [
        {"enterprise_code": A, "enterprise": ENTERPRISES[A], "application_number": P2,
         "title": '=HYPERLINK("http://evil.example","点击")电池外壳', "year": 6, "due_date": date(2025, 3, 10),
         "grace_end": date(2025, 9, 10), "days_left": 86, "fee": Decimal("1200.00"), "reduction": None,
         "reduction_recorded_on": None, "late_fee_rate": Decimal("0.15"), "late_fee": Decimal("180.00"),
         "total": Decimal("1380.00"),
         "next_rise_on": date(2025, 7, 11), "next_late_fee_rate": Decimal("0.20"),
         "next_late_fee": Decimal("240.00"), "decision": None, "pledgee": BANK},
    ]


def test_a_patent_pledged_to_two_banks_names_both_pledgees(reports: Session) -> None:
    second = StatusBatch("file:second-pledge.csv", (
        StatusRecord(P2, date(2024, 11, 1), "专利权质押合同登记的生效", "质权人：兴业银行", "second-pledge.csv:2"),))
    ingest(reports, second, RULES, calendar_from(reports), NOW)
    (row,) = _rows(grace_report(_evaluated(reports)[0], TODAY))
    assert row["pledgee"] == f"{BANK}, 兴业银行"


def test_lapsed_shows_which_can_still_be_restored_by_when_and_for_how_much(reports: Session) -> None:
    evaluated, _ = _evaluated(reports)
    base = {"enterprise_code": B, "enterprise": ENTERPRISES[B], "restoration_fee": Decimal("1000.00"),
            "decision": None, "reduction": None, "reduction_recorded_on": None}
    assert _rows(lapsed_report(evaluated, RULES, calendar_from(reports), TODAY)) == [
        # P4, design year 8: due 2023-01-16 (15 Jan a Sunday), grace end 2023-07-17; notice 2023-10-10, so the
        # two months ended 2023-12-11 (10 Dec a Sunday).
        {**base, "application_number": P4, "title": "-包装盒", "year": 8, "due_date": date(2023, 1, 16),
         "grace_end": date(2023, 7, 17), "notice_on": date(2023, 10, 10), "restore_by": date(2023, 12, 11),
         "restorable": "no", "fee": Decimal("1200.00"), "late_fee": Decimal("300.00"),
         "restoration_total": Decimal("2500.00")},
        # P3, invention year 11: 4000 + 25 % of 4000 + 1000, by 2025-07-07 (6 July a Sunday).
        {**base, "application_number": P3, "title": "+一种基站天线", "year": 11, "due_date": date(2024, 2, 20),
         "grace_end": date(2024, 8, 20), "notice_on": date(2025, 5, 6), "restore_by": date(2025, 7, 7),
         "restorable": "yes", "fee": Decimal("4000.00"), "late_fee": Decimal("1000.00"),
         "restoration_total": Decimal("6000.00")},
    ]


def test_forecast_per_enterprise_per_year_with_reductions_and_platform_total(reports: Session) -> None:
    report = forecast_report(_evaluated(reports)[0], TODAY, 5)
    years = ("y2025", "y2026", "y2027", "y2028", "y2029", "total")

    def amounts(*values: str) -> dict:
        return dict(zip(years, (Decimal(v) for v in values), strict=True))

    # A: P1 (85 % to year 12: 300, 600, 600, 600, then 6000) + P2 (1200 + today's 180 late fee, 1200, 1200,
    # 2000, 2000); P6 is abandoned. B: P7 (2000, 2000, 2000, 4000, 4000); P3 and P4 have lapsed. C watches only.
    assert _rows(report) == [
        {"enterprise_code": A, "enterprise": ENTERPRISES[A], **amounts("1680", "1800", "1800", "2600", "8000",
                                                                       "15880")},
        {"enterprise_code": B, "enterprise": ENTERPRISES[B], **amounts("2000", "2000", "2000", "4000", "4000",
                                                                       "14000")},
        {"enterprise_code": "", "enterprise": "平台合计 Platform total", **amounts("3680", "3800", "3800", "6600",
                                                                                 "12000", "29880")},
    ]
    assert report.chart.series_rows == 2 and report.chart.value_keys == years[:-1]


def test_the_enterprise_statement_holds_its_own_patents_only(reports: Session) -> None:
    report = enterprise_statement(_evaluated(reports, A)[0], A, ENTERPRISES[A], TODAY)
    assert [(r["application_number"], r["state"], r["year"], r["due_date"], r["fee"], r["late_fee"], r["total"],
             r["decision"], r["pledgee"]) for r in report.rows] == [
        (P1, "in_force", 9, date(2025, 8, 1), Decimal("300.00"), Decimal("0"), Decimal("300.00"), None, None),
        (P6, "in_force", 8, date(2025, 9, 1), Decimal("300.00"), Decimal("0"), Decimal("300.00"), ABANDON, None),
        (P2, "in_grace", 6, date(2025, 3, 10), Decimal("1200.00"), Decimal("180.00"), Decimal("1380.00"), None,
         BANK),
    ]
    assert report.rows[2]["legal_status"] == "专利权质押合同登记的生效"


def test_a_lapsed_patent_on_a_statement_shows_no_fee_to_pay(reports: Session) -> None:
    report = enterprise_statement(_evaluated(reports, B)[0], B, ENTERPRISES[B], TODAY)
    p3 = next(r for r in report.rows if r["application_number"] == P3)
    assert (p3["fee"], p3["total"], p3["note"]) == (None, None, "terminated for non-payment (notice 2025-05-06): "
                                                                "restoration reminders instead")


def test_deliveries_by_channel_and_outcome(reports: Session) -> None:
    counts = delivery_counts(reports, date(2025, 1, 1), TODAY)
    rows = _rows(deliveries_report(counts, "2025"))
    assert rows == [
        {"channel": "email", "pending": 1, "sent": 1, "delivered": 1, "undelivered": 0, "no_receipt": 0,
         "failed": 0, "cancelled": 0, "total": 2},
        {"channel": "sms", "pending": 0, "sent": 3, "delivered": 2, "undelivered": 1, "no_receipt": 0, "failed": 1,
         "cancelled": 0, "total": 4},
        {"channel": "webhook", "pending": 0, "sent": 0, "delivered": 0, "undelivered": 0, "no_receipt": 0,
         "failed": 0, "cancelled": 1, "total": 1},
        {"channel": "合计 Total", "pending": 1, "sent": 4, "delivered": 3, "undelivered": 1, "no_receipt": 0,
         "failed": 1, "cancelled": 1, "total": 7},
    ]


def test_kpi_figures_for_the_yearly_assessment(reports: Session) -> None:
    evaluated, _ = _evaluated(reports)
    report = kpi_report(evaluated, 2025, TODAY, reminder_figures(reports, 2025), WINDOW)
    assert {r["metric"]: r["value"] for r in report.rows} == {
        "enterprises_under_custody": 2,  # A; B (P3 still restorable, P7)
        "patents_under_custody": 5,  # P1, P2, P6 (abandon not yet in effect), P3, P7; not P4 (window closed)
        "lapsed_restorability_unknown": 0,  # P3 and P4 have their notices on record
        "watch_only_patents": 1,  # P5
        "fees_due": 4,  # P1 y9, P2 y6, P6 y8, P7 y7; not P3 y12 (lapsed before it)
        "fees_due_amount": Decimal("3800.00"),
        "reminders_sent": 4,  # by sent_at in Shanghai time
        "reminders_delivered": 3,
        "notices_sent": 0,
        "operator_alerts_sent": 0,
        "paid_in_grace": 1,  # P7, whose y6 fell due 2024-11-20 and was paid 2025-01-10
        "paid_in_grace_fees": 1,
        "lapses": 1,  # P3, announced 2025-05-06
        "abandon_decisions": 1,  # P6, decided 2025-06-16
        "restorations": 0,
    }


def _texts(report) -> str:
    return repr(report)


@pytest.mark.parametrize("name", ["due", "grace", "lapsed", "forecast", "enterprise", "deliveries", "kpi"])
def test_a_report_for_one_enterprise_holds_nothing_of_another(reports: Session, name: str) -> None:
    evaluated, _ = _evaluated(reports, A)
    report = {
        "due": lambda: due_report(evaluated, TODAY, 400),
        "grace": lambda: grace_report(evaluated, TODAY),
        "lapsed": lambda: lapsed_report(evaluated, RULES, calendar_from(reports), TODAY),
        "forecast": lambda: forecast_report(evaluated, TODAY, 5),
        "enterprise": lambda: enterprise_statement(evaluated, A, ENTERPRISES[A], TODAY),
        "deliveries": lambda: deliveries_report(delivery_counts(reports, date(2025, 1, 1), TODAY, A), "2025"),
        "kpi": lambda: kpi_report(evaluated, 2025, TODAY, reminder_figures(reports, 2025, A), WINDOW),
    }[name]()
    text = _texts(report)
    for other in (B, C, ENTERPRISES[B], ENTERPRISES[C], P3, P4, P5, P7, "webhook"):
        assert other not in text
    assert {e.patent.enterprise_code for e in evaluated} == {A}


def test_kpi_for_one_enterprise_counts_only_its_own(reports: Session) -> None:
    evaluated, _ = _evaluated(reports, A)
    figures = {r["metric"]: r["value"] for r in kpi_report(evaluated, 2025, TODAY,
                                                           reminder_figures(reports, 2025, A), WINDOW).rows}
    assert (figures["enterprises_under_custody"], figures["patents_under_custody"], figures["fees_due"],
            figures["fees_due_amount"], figures["reminders_sent"], figures["reminders_delivered"]) == (
        1, 3, 3, Decimal("1800.00"), 2, 1)


# ---------------------------------------------------------------------------------------------- lapsed, no notice


def _lapsed(session: Session, day: date) -> dict[str, str]:
    evaluated, _ = evaluate(portfolio(session), RULES, calendar_from(session), day)
    report = lapsed_report(evaluated, RULES, calendar_from(session), day, window=WINDOW)
    return {r["application_number"]: r["restorable"] for r in report.rows}


@pytest.mark.parametrize(("day", "p3", "p4"), [
    # No CNIPA notice on record. P3's grace period ended 2024-08-20: the notice assumed within 4 months, then 2
    # months to restore, so unknown to 2025-02-20. P4's ended 2023-07-17: unknown to 2024-01-17.
    pytest.param(date(2024, 1, 17), None, "unknown — check", id="p4-last-day-of-its-assumed-window"),
    pytest.param(date(2024, 10, 1), "unknown — check", "no", id="p3-inside-p4-after"),
    pytest.param(date(2025, 2, 21), "no", "no", id="p3-day-after-its-assumed-window"),
    pytest.param(date(2031, 1, 1), "no", "no", id="years-later-the-audit-case"),
])
def test_a_lapse_without_a_notice_is_unknown_within_the_assumed_window_then_no(session: Session, day: date, p3,
                                                                              p4) -> None:
    build_portfolio(session)
    found = _lapsed(session, day)
    assert (found.get(P3), found.get(P4)) == (p3, p4)


def test_the_lapsed_report_explains_unknown_restorability(session: Session) -> None:
    build_portfolio(session)
    day = date(2024, 10, 1)
    evaluated, _ = evaluate(portfolio(session), RULES, calendar_from(session), day)
    notes = lapsed_report(evaluated, RULES, calendar_from(session), day, window=WINDOW).notes
    assert len(notes) == 1 and "assumed to come within 4 months of the grace end" in notes[0]


@pytest.mark.parametrize(("day", "under_custody", "unknown"), [
    # P1, P2, P6, P7 in force; P3 lapsed 2024 with its restorability unknown: to check, not under custody.
    pytest.param(date(2024, 10, 1), 4, 1, id="inside-the-assumed-window"),
    pytest.param(date(2025, 2, 21), 4, 0, id="after-it"),
])
def test_a_lapse_without_a_notice_never_counts_as_under_custody(session: Session, day: date, under_custody: int,
                                                                unknown: int) -> None:
    build_portfolio(session)
    evaluated, _ = evaluate(portfolio(session), RULES, calendar_from(session), day)
    figures = {r["metric"]: r["value"] for r in kpi_report(evaluated, day.year, day, None, WINDOW).rows}
    assert (figures["patents_under_custody"], figures["lapsed_restorability_unknown"]) == (under_custody, unknown)


def test_a_bad_assumed_notice_setting_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"\[status\] assumed_notice_months must be a whole number"):
        restoration_window(RULES, {"assumed_notice_months": "four"})
    assert restoration_window(RULES, {"assumed_notice_months": 6}).notice_months == 6


# ---------------------------------------------------------------------------------------------- KPI counting


def test_kpi_counts_patents_that_paid_in_grace_and_their_fees_apart(reports: Session) -> None:
    p7 = portfolio(reports, B)[-1].patent_id
    # P7 pays year 7 (due 2025-11-20) in its grace period too, and tops up year 6: two fees, one patent.
    reports.add_all([Payment(patent_id=p7, year=7, amount=Decimal("2100.00"), paid_on=date(2025, 12, 1),
                             source="test"),
                     Payment(patent_id=p7, year=6, amount=Decimal("10.00"), paid_on=date(2025, 1, 20),
                             source="test")])
    reports.commit()
    day = date(2025, 12, 31)
    evaluated, _ = evaluate(portfolio(reports), RULES, calendar_from(reports), day)
    figures = {r["metric"]: r["value"] for r in kpi_report(evaluated, 2025, day, None, WINDOW).rows}
    assert (figures["paid_in_grace"], figures["paid_in_grace_fees"]) == (1, 2)


def test_kpi_counts_reminders_to_enterprises_and_alerts_apart(reports: Session) -> None:
    a = portfolio(reports, A)[0]
    enterprise_id = next(r.enterprise_id for r in reports.exec(select(Reminder)) if r.key == "test:0")
    sent = datetime(2025, 5, 1, 2, tzinfo=UTC)
    for key, state, enterprise in (("alert:status-unknown:file:x.csv", "sent", None),
                                   (f"pledgee:{a.patent_id}:6:2:email", "delivered", enterprise_id),
                                   (f"digest:{enterprise_id}:2025-05-01:9:1:email", "sent", enterprise_id)):
        reports.add(Reminder(key=key, kind="alert", channel="email", recipient="x", enterprise_id=enterprise,
                             day=sent.date(), state=state, not_before=NOW, sent_at=sent))
    reports.commit()
    figures = reminder_figures(reports, 2025)
    assert (figures.sent, figures.delivered, figures.alerts_sent, figures.notices_sent) == (4, 3, 1, 2)
    mine = reminder_figures(reports, 2025, A)
    assert (mine.sent, mine.delivered, mine.alerts_sent, mine.notices_sent) == (2, 1, 0, 2)


# ---------------------------------------------------------------------------------------------- decisions shown


def test_every_decision_shows_what_who_and_when_beside_its_fee(reports: Session) -> None:
    patents = {p.application_number: p for p in portfolio(reports)}
    p2 = reports.get(Patent, patents[P2].patent_id)
    decide(reports, p2, "pay", None, "李四", NOW, TODAY, RULES, calendar_from(reports), note="下周缴")
    p1 = reports.get(Patent, patents[P1].patent_id)
    decide(reports, p1, "undecided", None, "王五", NOW + timedelta(minutes=1), TODAY, RULES, calendar_from(reports))
    reports.commit()
    evaluated, _ = _evaluated(reports)
    grace = grace_report(evaluated, TODAY).rows[0]
    due = {r["application_number"]: r["decision"] for r in due_report(evaluated, TODAY, 90).rows}
    statement = {r["application_number"]: r["decision"]
                 for r in enterprise_statement(_evaluated(reports, A)[0], A, ENTERPRISES[A], TODAY).rows}
    assert grace["decision"] == "pay year 6 (decided 2025-06-16 by 李四: 下周缴)"
    assert due == {P1: "undecided year 9 (decided 2025-06-16 by 王五)", P6: ABANDON}
    assert statement == {P1: due[P1], P2: grace["decision"], P6: ABANDON}


@pytest.mark.parametrize(("choice", "year", "shown"), [
    pytest.param("pay", 8, True, id="pay-for-this-fee"),
    pytest.param("pay", 7, False, id="pay-for-an-earlier-fee-is-not-this-one"),
    pytest.param("abandon", 7, True, id="abandon-covers-later-fees"),
    pytest.param("abandon", 9, False, id="abandon-of-a-later-fee-is-not-this-one"),
    pytest.param("undecided", 8, True, id="undecided-shown-too"),
])
def test_a_decision_is_shown_beside_the_fees_it_covers(reports: Session, choice: str, year: int,
                                                       shown: bool) -> None:
    # An abandonment takes effect after the grace end (2026-03-03): until then the fee is still listed.
    decision = Decision(choice, year, date(2026, 3, 3), "张三", datetime(2025, 6, 16, 1, tzinfo=UTC))
    evaluated = [replace(e, patent=replace(e.patent, decision=decision)) for e in _evaluated(reports)[0]
                 if e.patent.application_number == P6]
    row = due_report(evaluated, TODAY, 90).rows[0]  # P6's year 8 fee
    expected = decision.text + ("; year 7 and later, reminders stop from 2026-03-03" if choice == "abandon" else "")
    assert row["decision"] == (expected if shown else None)


def test_the_lapsed_report_shows_the_reduction_and_the_day_it_was_recorded(reports: Session) -> None:
    patent = reports.exec(select(Patent).where(Patent.application_number == P3)).one()
    patent.reduction, patent.reduction_recorded_on = "85", date(2016, 3, 1)
    reports.add(patent)
    reports.commit()
    row = next(r for r in lapsed_report(_evaluated(reports)[0], RULES, calendar_from(reports), TODAY).rows
               if r["application_number"] == P3)
    assert (row["fee"], row["reduction"], row["reduction_recorded_on"]) == (Decimal("600.00"), "85",
                                                                            date(2016, 3, 1))


@pytest.mark.parametrize(("year", "expected"), [
    # P4: grace end 2023-07-17, CNIPA's notice 2023-10-10: a 2023 lapse. No fee fell due in 2023 on a live patent
    # apart from P1 y7, P2 y4, P6 y6, P7 y5 (P3 and P4 had lapsed before theirs).
    pytest.param(2023, {"lapses": 1, "paid_in_grace": 0, "paid_in_grace_fees": 0, "restorations": 0}, id="2023"),
    # P3: grace end 2024-08-20 but CNIPA's notice came 2025-05-06: a lapse of 2025, not of 2024 too. P7's year-6
    # fee fell into grace in 2024 but was paid on 2025-01-10: a 2025 figure.
    pytest.param(2024, {"lapses": 0, "paid_in_grace": 0, "paid_in_grace_fees": 0, "restorations": 0}, id="2024"),
    pytest.param(2025, {"lapses": 1, "paid_in_grace": 1, "paid_in_grace_fees": 1, "restorations": 0}, id="2025"),
])
def test_kpi_event_figures_count_only_the_year_asked(reports: Session, year: int, expected: dict) -> None:
    evaluated, _ = _evaluated(reports)
    figures = {r["metric"]: r["value"] for r in kpi_report(evaluated, year, TODAY, reminder_figures(reports, year),
                                                           WINDOW).rows}
    assert {k: figures[k] for k in expected} == expected


def test_a_lapse_with_no_notice_on_record_counts_in_the_year_its_grace_ended(session: Session) -> None:
    build_portfolio(session)  # no status events: P3's lapse is known only from our schedule (grace end 2024-08-20)
    evaluated, _ = _evaluated(session)
    lapses = {year: next(r["value"] for r in kpi_report(evaluated, year, TODAY, None, WINDOW).rows
                         if r["metric"] == "lapses") for year in (2023, 2024, 2025)}
    assert lapses == {2023: 1, 2024: 1, 2025: 0}  # P4 (grace end 2023-07-17), P3


def test_a_fee_due_last_year_and_still_in_grace_is_forecast_for_this_year(reports: Session) -> None:
    day = date(2026, 1, 15)
    evaluated, _ = evaluate(portfolio(reports, A), RULES, calendar_from(reports), day)
    # P1 year 9 fell due 2025-08-01 and is unpaid on 2026-01-15, in the 25 % band to its grace end 2026-02-02:
    # 300 + 25 % of the full 2000 = 800, payable this year; year 10 (600) falls due 2026-08-01. P2 lapsed in
    # September 2025; P6 is abandoned.
    row = forecast_report(evaluated, day, 2).rows[0]
    assert (row["enterprise_code"], row["y2026"], row["y2027"]) == (A, Decimal("1400.00"), Decimal("600.00"))


def test_an_abandonment_shows_who_when_from_which_year_in_the_statement_and_the_forecast(reports: Session) -> None:
    evaluated, _ = _evaluated(reports, A)
    statement = {r["application_number"]: r for r in enterprise_statement(evaluated, A, ENTERPRISES[A], TODAY).rows}
    assert statement[P6]["decision"] == ("abandon year 8 (decided 2025-06-16 by 张三: 产品线停产); year 8 and later, "
                                         "reminders stop from 2026-03-03")
    forecast = forecast_report(evaluated, TODAY, 5)
    assert forecast.notes == (f"{P6} ({ENTERPRISES[A]}): fees left out, the enterprise abandons it: "
                              f"{statement[P6]['decision']}",)


def test_an_abandonment_at_once_leaves_due_and_stays_on_the_statement(reports: Session) -> None:
    p6 = reports.exec(select(Patent).where(Patent.application_number == P6)).one()
    decide(reports, p6, "abandon", None, "张三", NOW + timedelta(minutes=5), TODAY, RULES, calendar_from(reports),
           note="转让失败", immediately=True)
    reports.commit()
    evaluated, _ = _evaluated(reports, A)
    assert P6 not in {r["application_number"] for r in due_report(evaluated, TODAY, 90).rows}
    row = next(r for r in enterprise_statement(evaluated, A, ENTERPRISES[A], TODAY).rows
               if r["application_number"] == P6)
    assert row["decision"] == ("abandon year 8 (decided 2025-06-16 by 张三: 转让失败); year 8 and later, reminders "
                               "stop from 2025-06-16")
    assert row["note"].startswith("abandoned by the enterprise: abandon year 8")
    kpi = {r["metric"]: r["value"] for r in kpi_report(evaluated, 2025, TODAY, None, WINDOW).rows}
    assert (kpi["abandon_decisions"], kpi["patents_under_custody"]) == (1, 2)  # P1, P2; not P6


def test_the_docs_explain_every_kpi_figure(reports: Session) -> None:
    from pathlib import Path

    reports_doc = (Path(__file__).parent.parent / "docs" / "reports.md").read_text(encoding="utf-8")
    table = reports_doc[reports_doc.index("`report kpi --year Y`"):reports_doc.index("## The enterprise statement")]
    evaluated, _ = _evaluated(reports)
    for row in kpi_report(evaluated, 2025, TODAY, None, WINDOW).rows:
        assert f"`{row['metric']}`" in table
