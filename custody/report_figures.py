"""Platform figures: the fee forecast per enterprise and year, deliveries by channel, and the yearly KPIs a
custody platform reports for its assessment. Pure: rows from evaluated portfolio data and plain counts.
The forecast and KPI counting here is the reference, patent by patent; `custody report` counts with the vectorised
twins in custody/report_totals.py (tests/test_report_engine.py compares them); `kpi_table` words both.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, cast

from custody.decisions import Decision, abandon_in_effect
from custody.display import abandon_text
from custody.domain import PatentState
from custody.fees import YearFee, first_unpaid, quote
from custody.forecast_periods import forecast_span, span_notes
from custody.i18n import tr
from custody.reports import BASE_COLUMNS, Chart, Column, Evaluated, Report, is_tracked
from custody.status_effects import RESTORABLE_UNKNOWN, RestorationWindow, is_restorable, restorability

ZERO = Decimal("0")
PLATFORM_TOTAL = ("", "平台合计 Platform total")
# The forecast's enterprise column: the platform's row says so in the reader's language (labels.toml [enterprise]);
# the enterprises' names are shown as they are.
FORECAST_ENTERPRISE = replace(BASE_COLUMNS[1], domain="enterprise")


# ---------------------------------------------------------------------------------------------- forecast


def _is_abandoned(decision: Decision | None, year: int) -> bool:
    # An abandon decision covers its fee year and every later one: the enterprise will not pay them.
    return decision is not None and decision.choice == "abandon" and year >= decision.year


def _forecast_amount(e: Evaluated, fee: YearFee, today: date) -> Decimal:
    """The fee as payable (with its reduction); a fee already in grace also carries today's late fee."""
    current = first_unpaid(e.schedule)
    if e.state == PatentState.IN_GRACE and current is not None and current.year == fee.year:
        return quote(e.schedule, today, fee.year).total
    return fee.fee


def forecast_report(evaluated: Sequence[Evaluated], today: date, years: int, notes: Sequence[str] = (),
                    calendar_years: bool = False) -> Report:
    """Annual fees to pay per enterprise per calendar year (of the due date), from this year on, and the platform
    total. Lapsed, ended, transferred-away or abandoned fees are left out; term compensation is not a yearly fee."""
    span = forecast_span(today, years, calendar_years)
    keys = span.keys
    totals: dict[tuple[str, str], dict[str, Decimal]] = {}
    abandoned: dict[int, Evaluated] = {}  # patent id -> the patent, once
    for e in evaluated:
        if not is_tracked(e, today) or e.state not in (PatentState.IN_FORCE, PatentState.IN_GRACE):
            continue
        row = totals.setdefault((e.patent.enterprise_code, e.patent.enterprise_name), dict.fromkeys(keys, ZERO))
        for fee in e.schedule.years:
            # A fee past due and unpaid is in its grace period (lapsed patents are left out above): it is paid
            # this year, whatever year it fell due in.
            when = span.index_of(max(fee.due_date, today))
            if fee.paid or not 0 <= when < years:
                continue
            if _is_abandoned(e.patent.decision, fee.year):
                abandoned[e.patent.patent_id] = e
                continue
            row[keys[when]] += _forecast_amount(e, fee, today)
    rows: list[dict[str, Any]] = [{"enterprise_code": code, "enterprise": name, **amounts,
                                   "total": sum(amounts.values(), ZERO)}
            for (code, name), amounts in sorted(totals.items())]
    platform = {k: sum((r[k] for r in rows), ZERO) for k in (*keys, "total")}
    rows.append({"enterprise_code": PLATFORM_TOTAL[0], "enterprise": PLATFORM_TOTAL[1], **platform})
    columns = (BASE_COLUMNS[0], FORECAST_ENTERPRISE,
               *(Column(k, span.heading(i), span.heading(i), "money") for i, k in enumerate(keys)),
               Column("total", "Total (CNY)", "合计(元)", "money"))
    chart = forecast_chart(keys, len(rows) - 1)
    # cast: _is_abandoned let only patents with an abandonment on record into `abandoned`.
    left_out = tuple(tr("{number} ({name}): fees left out, the enterprise abandons it: {decision}",
                        number=e.patent.application_number, name=e.patent.enterprise_name,
                        decision=abandon_text(cast(Decision, e.patent.decision))) for e in abandoned.values())
    return Report("forecast", tr("Annual fees forecast {span} (CNY, with reductions)", span=span.title_span),
                  columns, tuple(rows), (*span_notes(span), *notes, *left_out), chart)


# ---------------------------------------------------------------------------------------------- deliveries


DELIVERY_COLUMNS = (
    Column("channel", "Channel", "渠道", domain="channel"), Column("pending", "Pending", "待发送", "int"),
    Column("sent", "Sent", "已发送", "int"), Column("delivered", "Delivered", "已送达", "int"),
    Column("undelivered", "Sent, no receipt", "已发送未确认送达", "int"),
    Column("no_receipt", "of which no receipt in time", "其中超时无回执", "int"),
    Column("failed", "Failed", "失败", "int"),
    Column("cancelled", "Cancelled", "已取消", "int"), Column("total", "Total", "合计", "int"))
PENDING_STATES = ("planned", "sending", "unknown")


def deliveries_report(counts: Mapping[tuple[str, str], int], period: str, notes: Sequence[str] = ()) -> Report:
    """Messages by channel and outcome; `counts` maps (channel, reminder state) to a number of messages.

    "Sent" counts everything that went out (delivered or not); "sent, no receipt" is the part of it with no
    delivery receipt: the operator's list to check by hand; "of which no receipt in time" the SMS whose receipt
    never came within [reminders].receipts_hours (state "no_receipt" in `counts`): nobody asks for them any more.
    """
    channels = sorted({channel for channel, _ in counts})
    rows = [_delivery_row(channel, counts) for channel in channels]
    total = {"channel": "合计 Total", **{c.key: sum(r[c.key] for r in rows) for c in DELIVERY_COLUMNS[1:]}}
    return Report("deliveries", tr("Reminder deliveries by channel, {period}", period=period), DELIVERY_COLUMNS,
                  (*rows, total), tuple(notes))


def _delivery_row(channel: str, counts: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    def n(*states: str) -> int:
        return sum(counts.get((channel, s), 0) for s in states)

    return {"channel": channel, "pending": n(*PENDING_STATES), "sent": n("sent", "no_receipt", "delivered"),
            "delivered": n("delivered"), "undelivered": n("sent", "no_receipt"), "no_receipt": n("no_receipt"),
            "failed": n("failed"), "cancelled": n("cancelled"),
            "total": n(*PENDING_STATES, "sent", "no_receipt", "delivered", "failed", "cancelled")}


# ---------------------------------------------------------------------------------------------- KPI


KPI_COLUMNS = (Column("metric", "Metric", "指标", "key"), Column("label", "Description", "说明", domain="bilingual"),
               Column("value", "Value", "数值", "number"), Column("unit", "Unit", "单位"))


@dataclass(frozen=True)
class ReminderFigures:
    """Messages that went out in a year. Reminders are the fee and restoration reminders to enterprises; alerts
    (to the operator) and notices (pledgee alerts, watch digests) are counted apart, never as reminders."""

    sent: int
    delivered: int
    alerts_sent: int = 0
    notices_sent: int = 0


def _in_year(day: date | None, year: int) -> bool:
    return day is not None and day.year == year


def _is_under_custody(e: Evaluated, today: date) -> bool:
    """Kept alive by the platform today: a custody patent in force or in grace, or terminated by CNIPA's notice
    and still restorable. Lapsed by our schedule with no notice on record is not counted: whether it can still be
    restored is unknown (counted apart, `lapsed_restorability_unknown`)."""
    p = e.patent
    if p.mode != "custody" or p.watch.ended is not None or e.state == PatentState.EXPIRED \
            or abandon_in_effect(p.decision, today, p.watch.restored_on):
        return False
    if p.watch.lapsed_on is not None:
        return is_restorable(p.watch, today)
    return e.state != PatentState.LAPSED


def _restorability_unknown(e: Evaluated, today: date, window: RestorationWindow) -> bool:
    """Lapsed by our schedule, no notice on record, still inside the assumed restoration window: to check."""
    p, fee = e.patent, first_unpaid(e.schedule)
    if p.mode != "custody" or e.state != PatentState.LAPSED or fee is None:
        return False
    return restorability(p.watch, fee.grace_end, today, window) == RESTORABLE_UNKNOWN


def _paid_in_grace(e: Evaluated, year: int) -> int:
    """Fees of this patent paid during the year after their due date but within the grace period (a fee paid in
    two parts is one fee)."""
    paid = set()
    for fee_year, paid_on in e.patent.payments:
        fee = next((y for y in e.schedule.years if y.year == fee_year), None)
        if fee and fee.grace_end and _in_year(paid_on, year) and fee.due_date < paid_on <= fee.grace_end:
            paid.add(fee_year)
    return len(paid)


def _lapsed_in(e: Evaluated, year: int, today: date) -> bool:
    """Terminated for non-payment during the year. Each lapse counts once, on one date: CNIPA's announcement when
    it is on record, else the grace end it ran out on unpaid (a lapse whose grace ended in December and whose
    notice came in March is a lapse of March's year, not of both years)."""
    notices = [on for kind, on in e.patent.events if kind == "lapse_nonpayment"]
    if any(_in_year(on, year) for on in notices):
        return True
    fee = first_unpaid(e.schedule)
    if fee is None or fee.grace_end is None or fee.grace_end >= today:
        return False
    announced = any(on >= fee.grace_end for on in notices)
    return not announced and _in_year(fee.grace_end, year)


def _abandon_decided_in(decision: Decision | None, year: int) -> bool:
    # The enterprise's latest word counts: an abandonment later withdrawn (pay, undecided) is not one.
    return decision is not None and decision.choice == "abandon" and decision.decided_on.year == year


def _counts_as_due(e: Evaluated, fee: YearFee, year: int) -> bool:
    """A fee falling due in the year, unless the patent had lapsed or ended before it (nothing was owed then)."""
    if not _in_year(fee.due_date, year):
        return False
    if e.patent.watch.ended_on is not None and fee.due_date > e.patent.watch.ended_on:
        return False
    return fee.paid or e.state != PatentState.LAPSED


def _reminder_rows(year: int, reminders: ReminderFigures | None) -> list[tuple[str, str, Any, str]]:
    def value(name: str) -> int | None:
        return getattr(reminders, name) if reminders else None

    return [
        ("reminders_sent", f"{year}年发出提醒(致企业) Reminders sent to enterprises", value("sent"), "条"),
        ("reminders_delivered", f"{year}年送达提醒(致企业) Reminders to enterprises delivered", value("delivered"),
         "条"),
        ("notices_sent", f"{year}年发出质权人提醒及监控摘要 Pledgee alerts and watch digests sent",
         value("notices_sent"), "条"),
        ("operator_alerts_sent", f"{year}年发出运营告警 Operator alerts sent", value("alerts_sent"), "条"),
    ]


def kpi_report(evaluated: Sequence[Evaluated], year: int, today: date, reminders: ReminderFigures | None,
               window: RestorationWindow, notes: Sequence[str] = ()) -> Report:
    """The figures of the yearly assessment for `year` (stock figures as of `today`)."""
    custody = [e for e in evaluated if e.patent.mode == "custody"]
    alive = [e for e in custody if _is_under_custody(e, today)]
    due = [(e, f) for e in custody for f in e.schedule.years if _counts_as_due(e, f, year)]
    counts = {
        "enterprises_under_custody": len({e.patent.enterprise_code for e in alive}),
        "patents_under_custody": len(alive),
        "lapsed_restorability_unknown": sum(1 for e in custody if _restorability_unknown(e, today, window)),
        "watch_only_patents": sum(1 for e in evaluated if e.patent.mode == "watch"),
        "fees_due": len(due),
        "fees_due_amount": sum((f.fee for _, f in due), ZERO),
        "paid_in_grace": sum(1 for e in custody if _paid_in_grace(e, year)),
        "paid_in_grace_fees": sum(_paid_in_grace(e, year) for e in custody),
        "lapses": sum(1 for e in custody if _lapsed_in(e, year, today)),
        "abandon_decisions": sum(1 for e in custody if _abandon_decided_in(e.patent.decision, year)),
        "restorations": sum(1 for e in custody for kind, on in e.patent.events
                            if kind == "restoration" and _in_year(on, year)),
    }
    return kpi_table(counts, year, today, reminders, notes)


def kpi_table(counts: Mapping[str, Any], year: int, today: date, reminders: ReminderFigures | None,
              notes: Sequence[str] = ()) -> Report:
    """The KPI report from its counted figures (however they were counted: patent by patent, or by the vectorised
    engine in custody.report_totals)."""
    figures = [
        ("enterprises_under_custody", "企业数(托管中) Enterprises under custody", "家"),
        ("patents_under_custody", "托管专利数 Patents under custody", "件"),
        ("lapsed_restorability_unknown", "未缴年费失效、未收到终止通知、可能仍可恢复(待核) Lapsed by our schedule, "
         "no notice on record, perhaps still restorable: check", "件"),
        ("watch_only_patents", "监控专利数 Watch-only patents", "件"),
        ("fees_due", f"{year}年到期年费笔数 Fees falling due in {year}", "笔"),
        ("fees_due_amount", f"{year}年到期年费金额 Amount falling due in {year}", "元"),
    ]
    events = [
        ("paid_in_grace", f"{year}年进入滞纳期后缴纳的专利 Patents that entered grace, then paid", "件"),
        ("paid_in_grace_fees", f"{year}年滞纳期内缴纳的年费笔数 Fees paid in their grace period", "笔"),
        ("lapses", f"{year}年未缴年费终止 Lapses for non-payment", "件"),
        ("abandon_decisions", f"{year}年企业决定放弃 Patents the enterprise decided to abandon", "件"),
        ("restorations", f"{year}年恢复 Restorations", "件"),
    ]
    rows = [(key, label, counts[key], unit) for key, label, unit in figures]
    rows += _reminder_rows(year, reminders)
    rows += [(key, label, counts[key], unit) for key, label, unit in events]
    table = tuple({"metric": key, "label": label, "value": value, "unit": unit} for key, label, value, unit in rows)
    more = () if reminders else ("reminders: the reminders outbox is not available in this database",)
    return Report("kpi", tr("Custody KPIs {year} (stock figures as of {today})", year=year, today=today),
                  KPI_COLUMNS, table,
                  (*notes, *more))


def forecast_chart(keys: Sequence[str], series: int) -> Chart:
    """The forecast's bar chart (one series per enterprise over the period columns), titled in the reader's
    language."""
    return Chart(tr("Annual fees forecast (yuan)"), "enterprise", tuple(keys), series)
