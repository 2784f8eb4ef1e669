"""Plain dict views of engine results: the stable JSON contract of `custody fees` and `custody patent show`.

Dates are ISO strings, amounts are numbers in yuan; nothing here formats for a terminal.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from custody.domain import Citation, is_provisional_date
from custody.fees import (
    FeeInputError,
    LapsedError,
    RestorationQuote,
    Schedule,
    YearFee,
    amounts_owed,
    first_unpaid,
    next_due,
    patent_state,
    quote,
    remaining_total,
    restoration_quote,
)

if TYPE_CHECKING:  # `custody fees` prints a schedule: it need not load the report's display (issue 9)
    from custody.display import PatentDisplay


def number(amount: Decimal) -> int | float:
    """An amount as a JSON number: whole yuan as an int, else a float with fen."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def citation_dict(citation: Citation) -> dict[str, Any]:
    return {"rule": citation.rule_id, "source": citation.source, "confirmed": citation.confirmed}


def rules_dict(citations: dict[str, Citation]) -> dict[str, Any]:
    return {figure: citation_dict(c) for figure, c in citations.items()}


def year_dict(fee: YearFee) -> dict[str, Any]:
    return {
        "year": fee.year,
        "anniversary": _iso(fee.anniversary),
        "due_date": _iso(fee.due_date),
        "full_fee": number(fee.full_fee),
        "fee": number(fee.fee),
        "reduction": fee.reduction,
        "grant_year": fee.is_grant_year,
        "grace_end": _iso(fee.grace_end),
        "paid": fee.paid,
        "provisional": fee.provisional,
        "due_date_provisional": fee.due_date_provisional,
        "grace_end_provisional": fee.grace_end_provisional,
        "reduction_too_late": fee.reduction_too_late,
        # The reduction on record is the previous owner's (a confirmed transfer) since this day: full fee.
        "reduction_refile_on": _iso(fee.reduction_refile_on),
        # Why the figures need checking by hand: a fee that fell due while the patent was terminated.
        "restoration_check": fee.check,
        "late_fee_bands": [
            {"rate": float(b.rate), "from": _iso(b.start), "to": _iso(b.end), "late_fee": number(b.late_fee),
             "provisional": b.provisional}
            for b in fee.bands
        ],
        "rules": rules_dict(fee.citations),
    }


def next_due_dict(schedule: Schedule, on: date) -> dict[str, Any] | None:
    due = next_due(schedule, on)
    if due is None:
        return None
    year = schedule.year(due.year)
    return {
        "year": due.year,
        "due_date": _iso(year.due_date),
        "fee": number(due.fee),
        "late_fee": number(due.late_fee),
        "total": number(due.total),
        "grace_end": _iso(year.grace_end),
        "provisional": year.provisional,
        "due_date_provisional": year.due_date_provisional,
        "grace_end_provisional": year.grace_end_provisional,
        "rules": rules_dict(year.citations),
    }


def restoration_dict(restoration: RestorationQuote) -> dict[str, Any]:
    return {"year": restoration.year, "lapsed_on": _iso(restoration.lapsed_on), "fee": number(restoration.fee),
            "late_fee": number(restoration.late_fee), "late_fee_rate": float(restoration.late_fee_rate),
            "restoration_fee": number(restoration.restoration_fee), "total": number(restoration.total),
            "request_within_months": restoration.request_months, "request_by": _iso(restoration.request_by),
            "rule": citation_dict(restoration.citation)}


def quote_dict(schedule: Schedule, pay_on: date, year: int | None = None) -> dict[str, Any]:
    """The quote for paying on `pay_on`; past the grace end an `error` naming the lapse plus what restoring
    costs (Rule 6 ¶2); with everything paid an `error` saying so. Errors are values here, never exits."""
    try:
        q = quote(schedule, pay_on, year)
    except LapsedError as exc:
        lapsed = restoration_quote(schedule, year)
        return {"pay_on": _iso(pay_on), "error": str(exc), "restoration": restoration_dict(lapsed)}
    except FeeInputError as exc:  # every fee up to expiry is paid: `paid_up` lets a view say so in its language
        return {"pay_on": _iso(pay_on), "error": str(exc), "paid_up": first_unpaid(schedule) is None}
    target = schedule.year(q.year)
    return {"pay_on": _iso(pay_on), "year": q.year, "fee": number(q.fee), "late_fee": number(q.late_fee),
            "late_fee_rate": float(q.late_fee_rate), "total": number(q.total),
            # The band a date falls in depends on the band ends, which a provisional year may still move.
            "provisional": target.provisional, "rules": rules_dict(target.citations)}


def remaining_total_rules(schedule: Schedule, on: date) -> list[dict[str, Any]]:
    """The rule rows behind `remaining_total`: each unpaid year's fee rows, the late fee, term compensation."""
    if remaining_total(schedule, on) == 0:
        return []
    citations: dict[str, Citation] = {}
    for year in schedule.years:
        if not year.paid:
            for figure in ("full_fee", "fee", "exception", "reduction_too_late"):
                if figure in year.citations:
                    citations.setdefault(year.citations[figure].rule_id, year.citations[figure])
    current = next_due(schedule, on)
    if current is not None and current.late_fee:
        citations.setdefault(schedule.rules.late_fee.id, schedule.rules.late_fee.citation)
    if schedule.compensation is not None and on < schedule.normal_expiry:
        citations.setdefault(schedule.compensation.citation.rule_id, schedule.compensation.citation)
    return [citation_dict(c) for c in citations.values()]


def schedule_dict(schedule: Schedule, as_of: date, pay_on: date | None = None) -> dict[str, Any]:
    facts = schedule.facts
    result: dict[str, Any] = {
        "application_number": facts.application_number,
        "type": facts.type.value,
        "filing_date": _iso(facts.filing_date),
        "expiry_date": _iso(schedule.expiry_date),
        "grant_year": schedule.grant_year,
        "grant_year_inferred": schedule.grant_year_inferred,
        "paid_through": facts.paid_through,
        "reduction": facts.reduction.value,
        "reduction_recorded_on": _iso(facts.reduction_recorded_on),
        "as_of": _iso(as_of),
        "state": patent_state(schedule, as_of).value,
        "years": [year_dict(y) for y in schedule.years],
        "next_due": next_due_dict(schedule, as_of),
        "remaining_total": number(remaining_total(schedule, as_of)),
        "remaining_total_rules": remaining_total_rules(schedule, as_of),
        "term_compensation": None,
        "rules": rules_dict(schedule.citations),
    }
    if schedule.compensation is not None:
        comp = schedule.compensation
        result["term_compensation"] = {"days": comp.days, "whole_years": comp.whole_years, "fee": number(comp.fee),
                                       "annual_fee": number(comp.annual_fee), "request_fee": number(comp.request_fee),
                                       # Paid with the request (announcement No. 594): not part of `fee`.
                                       "request_fee_paid": True,
                                       "due_before": _iso(comp.due_before), "rule": citation_dict(comp.citation)}
    if pay_on is not None:
        result["quote"] = quote_dict(schedule, pay_on)
    return result


MARKED_DATES = ("due_date", "grace_end", "next_rise_on")  # the PatentDisplay dates the working-day calendar moves


def display_dict(shown: PatentDisplay) -> dict[str, Any]:
    """A patent's displayed facts (custody.display, the same the reports show) for JSON: dates ISO, amounts
    numbers, rates fractions."""
    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        return number(value) if isinstance(value, Decimal) else value

    shown_dict = {f.name: plain(getattr(shown, f.name)) for f in fields(shown)}
    # ISO text drops the ProvisionalDate mark: a date in a year whose schedule is unpublished says so beside it.
    shown_dict |= {f"{name}_provisional": is_provisional_date(getattr(shown, name)) for name in MARKED_DATES}
    return shown_dict


def mark_import_flags(view: dict[str, Any], paid_through_inferred: bool, unknown_through: int | None,
                      paid_years: set[int]) -> dict[str, Any]:
    """`view` (schedule_dict) with what an import could not know (issue 3), on each year: "inferred" for a year
    counted paid only because paid-through was inferred from the legal status (no payment on record), "check" for
    a fee that was in its grace period then, paid or not unknown (still counted unpaid)."""
    paid_through = view["paid_through"]
    for year in view["years"]:
        n = year["year"]
        year["inferred"] = bool(paid_through_inferred and year["paid"] and not year["grant_year"]
                                and n not in paid_years and paid_through is not None and n <= paid_through)
        year["check"] = bool(unknown_through is not None and not year["paid"] and n <= unknown_through)
    view["paid_through_inferred"] = paid_through_inferred
    view["fees_to_check"] = [y["year"] for y in view["years"] if y["check"]]
    return view


def mark_amounts_owed(view: dict[str, Any], schedule: Schedule,
                      payments: list[tuple[int, Decimal, date]]) -> dict[str, Any]:
    """`view` with what is still owed on years paid short (custody.fees.amounts_owed), as `amounts_owed`
    ({year, paid, owed, as_of}) and `owed` on each year (null when nothing is owed)."""
    owed = amounts_owed(schedule, payments)
    paid = {year: sum((a for y, a, _ in payments if y == year), Decimal(0)) for year in owed}
    view["amounts_owed"] = [{"year": year, "paid": number(paid[year]), "owed": number(rest), "as_of": _iso(on)}
                            for year, (rest, on) in owed.items()]
    for year in view["years"]:
        year["owed"] = number(owed[year["year"]][0]) if year["year"] in owed else None
    return view
