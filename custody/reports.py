"""The operator's reports as typed rows computed from plain portfolio data: due, grace, lapsed, and the statement
an enterprise receives. (Forecast, deliveries and KPI figures are in custody/report_figures.py.)

Pure: the store gathers `PortfolioPatent`s (custody/store/reports.py), these functions compute rows with dates as
dates and amounts as Decimals, and custody/export.py renders them. `today` is always passed in. These are the
reference, patent by patent; `custody report` runs their vectorised twins (custody/report_engine.py), which
tests/test_report_engine.py holds to the same rows, field by field. The column definitions here serve both.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from custody.display import (  # re-exported: the reports' callers take the portfolio types from here
    BACK_FEE_CHECK,
    Evaluated,
    PortfolioPatent,
    decision_text,
    evaluate,
    is_tracked,
    patent_display,
    reduction_recorded_on,
    reduction_text,
)
from custody.domain import PROVISIONAL_LEGEND_EN, PatentState, is_provisional_date, marked
from custody.fees import Calendar, YearFee, first_unpaid, restoration_quote
from custody.i18n import label, tr
from custody.ruleset import RuleSet
from custody.status_effects import (
    ASSUMED_NOTICE_MONTHS,
    RESTORABLE_UNKNOWN,
    RestorationWindow,
    restorability,
)

__all__ = ["Evaluated", "PortfolioPatent", "evaluate", "is_tracked"]

# "key": a stable identifier for scripts (a KPI's metric name): in CSV, JSON and XLSX, left out of the terminal
# table, where the column beside it says the same in words.
KINDS = ("text", "date", "money", "int", "rate", "number", "key")


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str
    kind: str = "text"  # one of KINDS: how exports type the cell
    domain: str | None = None  # an enumerated value: shown as custody.i18n.cell_label(domain, value), never raw

    def heading(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class Chart:
    """A bar chart of `series` rows (one bar series per row, titled by `title_key`) over the `value_keys` columns."""

    title: str
    title_key: str
    value_keys: tuple[str, ...]
    series_rows: int  # the first N rows are series (a total row below them is left out)


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    notes: tuple[str, ...] = ()
    chart: Chart | None = None


def _base(e: Evaluated) -> dict[str, Any]:
    p = e.patent
    return {"enterprise_code": p.enterprise_code, "enterprise": p.enterprise_name,
            "application_number": p.application_number, "title": p.title}


def with_provisional_legend(notes: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """`notes`, plus the legend of the provisional mark when a row shows a provisional date."""
    shown = any(is_provisional_date(v) for row in rows for v in row.values())
    return (*notes, tr(PROVISIONAL_LEGEND_EN)) if shown else tuple(notes)


BASE_COLUMNS = (
    Column("enterprise_code", "Enterprise code", "统一社会信用代码"),
    Column("enterprise", "Enterprise", "企业"),
    Column("application_number", "Application number", "申请号"),
    Column("title", "Title", "专利名称"),
)


# Issue 3: what an import could not know. Rows carry "flag" only when one applies (exports show every column).
FLAG_COLUMN = Column("flag", "Import flag", "导入标记", domain="flag")
PAID_THROUGH_INFERRED, UNKNOWN_CHECK = "paid-through inferred", "unknown — check"


def _import_flag(p: PortfolioPatent, fee: YearFee) -> dict[str, str]:
    """{"flag": …} for a fee whose standing an import inferred: the years before it were paid by inference, or
    the fee itself was in its grace period, paid or not unknown (treated as unpaid)."""
    flags = [PAID_THROUGH_INFERRED] if p.paid_through_inferred else []
    if p.unknown_through is not None and fee.year <= p.unknown_through:
        flags.append(UNKNOWN_CHECK)
    if fee.check is not None:
        flags.append(BACK_FEE_CHECK)
    return {"flag": "; ".join(flags)} if flags else {}


# ---------------------------------------------------------------------------------------------- due


REDUCTION_COLUMNS = (Column("reduction", "Reduction", "费减", domain="reduction"),
                     Column("reduction_recorded_on", "Reduction recorded on", "费减备案日", "date"))
DUE_COLUMNS = (*BASE_COLUMNS,
               Column("year", "Patent year", "年度", "int"), Column("due_date", "Due date", "缴费截止日", "date"),
               Column("days_left", "Days left", "剩余天数", "int"), Column("fee", "Fee (CNY)", "年费(元)", "money"),
               *REDUCTION_COLUMNS, Column("grace_end", "Grace end", "滞纳期届满日", "date"),
               Column("decision", "Decision", "企业决定"), Column("note", "Note", "备注"), FLAG_COLUMN)


def _shown(e: Evaluated, today: date, columns: Sequence[Column]) -> dict[str, Any]:
    """The row's cells that are a patent's displayed facts (custody.display), for the columns that show them."""
    shown = patent_display(e, today)
    return {c.key: getattr(shown, c.key) for c in columns if hasattr(shown, c.key)}


def due_report(evaluated: Sequence[Evaluated], today: date, within_days: int, notes: Sequence[str] = ()) -> Report:
    """Unpaid fees falling due from today to `within_days` ahead, soonest first."""
    rows = []
    for e in evaluated:
        fee = first_unpaid(e.schedule)
        if not is_tracked(e, today) or fee is None or not 0 <= (fee.due_date - today).days <= within_days:
            continue
        rows.append({**_base(e), **_shown(e, today, DUE_COLUMNS), "days_left": (fee.due_date - today).days,
                     **_import_flag(e.patent, fee)})
    rows.sort(key=lambda r: (r["due_date"], r["application_number"]))
    return Report("due", tr("Fees due within {days} days of {today}", days=within_days, today=today),
                  DUE_COLUMNS, tuple(rows),
                  with_provisional_legend(notes, rows))


# ---------------------------------------------------------------------------------------------- grace


GRACE_COLUMNS = (*BASE_COLUMNS,
                 Column("year", "Patent year", "年度", "int"), Column("due_date", "Due date", "缴费截止日", "date"),
                 Column("grace_end", "Grace end", "滞纳期届满日", "date"),
                 Column("days_left", "Days to grace end", "距届满天数", "int"),
                 Column("fee", "Fee (CNY)", "年费(元)", "money"), *REDUCTION_COLUMNS,
                 Column("late_fee_rate", "Late fee rate", "滞纳金比例", "rate"),
                 Column("late_fee", "Late fee today (CNY)", "当前滞纳金(元)", "money"),
                 Column("total", "Total today (CNY)", "当前应缴合计(元)", "money"),
                 Column("next_rise_on", "Next rise on", "下次上涨日", "date"),
                 Column("next_late_fee_rate", "Next rate", "上涨后比例", "rate"),
                 Column("next_late_fee", "Late fee after the rise (CNY)", "上涨后滞纳金(元)", "money"),
                 Column("decision", "Decision", "企业决定"), Column("pledgee", "Pledgee", "质权人"), FLAG_COLUMN)


def grace_report(evaluated: Sequence[Evaluated], today: date, notes: Sequence[str] = ()) -> Report:
    """Fees past due and still payable with a late fee (Rule 115): what paying today costs and when it rises."""
    rows = []
    for e in evaluated:
        if not is_tracked(e, today) or e.state != PatentState.IN_GRACE:
            continue
        fee = first_unpaid(e.schedule)
        assert fee is not None and fee.grace_end is not None  # in grace: a fee is unpaid, not the grant year's
        rows.append({**_base(e), **_shown(e, today, GRACE_COLUMNS), "days_left": (fee.grace_end - today).days,
                     **_import_flag(e.patent, fee)})
    rows.sort(key=lambda r: (r["grace_end"], r["application_number"]))
    return Report("grace", tr("Fees in the grace period on {today}", today=today), GRACE_COLUMNS, tuple(rows),
                  with_provisional_legend(notes, rows))


# ---------------------------------------------------------------------------------------------- lapsed


LAPSED_COLUMNS = (*BASE_COLUMNS,
                  Column("year", "Unpaid year", "未缴年度", "int"),
                  Column("due_date", "Due date", "缴费截止日", "date"),
                  Column("grace_end", "Grace end", "滞纳期届满日", "date"),
                  Column("notice_on", "Termination notice", "终止通知日", "date"),
                  Column("restore_by", "Restore by", "恢复请求期限", "date"),
                  Column("restorable", "Restorable", "可否恢复", domain="restorable"),
                  Column("fee", "Fee (CNY)", "年费(元)", "money"), *REDUCTION_COLUMNS,
                  Column("late_fee", "Late fee 25% (CNY)", "滞纳金25%(元)", "money"),
                  Column("restoration_fee", "Restoration fee (CNY)", "恢复费(元)", "money"),
                  Column("restoration_total", "To restore (CNY)", "恢复合计(元)", "money"),
                  Column("decision", "Decision", "企业决定"))


def restoration_window(rules: RuleSet, status_section: Mapping[str, Any]) -> RestorationWindow:
    """Rule 6 ¶2's months from the rule tables and the assumed notice delay from config [status]; ValueError
    names a bad setting."""
    months = status_section.get("assumed_notice_months", ASSUMED_NOTICE_MONTHS)
    if not isinstance(months, int) or isinstance(months, bool) or not 0 <= months <= 24:
        raise ValueError(f"[status] assumed_notice_months must be a whole number of months from 0 to 24, "
                         f"not {months!r}")
    return RestorationWindow(rules.restoration.request_months, months)


def lapsed_report(evaluated: Sequence[Evaluated], rules: RuleSet, calendar: Calendar, today: date,
                  notes: Sequence[str] = (), window: RestorationWindow | None = None) -> Report:
    """Custody patents terminated for non-payment (by our schedule or by CNIPA's announcement), and what
    restoring each would cost and by when (Rule 6 ¶2). Without CNIPA's notice on record the deadline is unknown:
    "unknown — check" while the notice may still come (the `window`), "no" after it."""
    window = window or RestorationWindow(rules.restoration.request_months)
    rows, review = [], []
    for e in evaluated:
        watch = e.patent.watch
        if e.patent.mode != "custody" or watch.ended is not None:
            continue
        if e.state != PatentState.LAPSED and watch.lapsed_on is None:
            continue
        fee = e.schedule.year(watch.restoration_year) if watch.restoration_year else first_unpaid(e.schedule)
        if fee is None:
            continue
        if fee.is_grant_year:  # Rule 114: paid with registration, so no lapse to restore; the records are off
            review.append(f"{e.patent.application_number}: left out, a termination notice is on record but the "
                          f"grant-year fee of year {fee.year} is unpaid on our records: check the fee records")
            continue
        # Without a recorded notice the amounts are known but the deadline is not (it runs from the notice).
        q = restoration_quote(e.schedule, fee.year, notice_on=watch.lapsed_on, calendar=calendar)
        restore_by = marked(q.request_by, q.request_by is not None and calendar.is_provisional(q.request_by))
        rows.append({**_base(e), "year": fee.year, "due_date": marked(fee.due_date, fee.due_date_provisional),
                     "grace_end": marked(fee.grace_end, fee.grace_end_provisional),
                     "notice_on": watch.lapsed_on, "restore_by": restore_by,
                     "restorable": restorability(watch, fee.grace_end, today, window), "fee": q.fee,
                     "reduction": reduction_text(fee), "reduction_recorded_on": reduction_recorded_on(e.patent.facts),
                     "late_fee": q.late_fee, "restoration_fee": q.restoration_fee, "restoration_total": q.total,
                     "decision": decision_text(e.patent.decision, fee.year)})
    rows.sort(key=lambda r: (r["restore_by"] or date.max, r["application_number"]))
    unknown = () if all(r["restorable"] != RESTORABLE_UNKNOWN for r in rows) else (
        tr("restorable '{word}': CNIPA's termination notice is not on record; restoration stays possible until "
           "{request} months after it, and the notice is assumed to come within {notice} months of the grace end "
           "([status] assumed_notice_months): record the notice (custody status sync) or check with CNIPA",
           word=label("restorable", RESTORABLE_UNKNOWN), request=window.request_months, notice=window.notice_months),)
    return Report("lapsed", tr("Patents terminated for non-payment, as of {today}", today=today),
                  LAPSED_COLUMNS, tuple(rows),
                  with_provisional_legend((*notes, *review, *unknown), rows))


# ---------------------------------------------------------------------------------------------- enterprise


STATEMENT_COLUMNS = (
    Column("application_number", "Application number", "申请号"), Column("title", "Title", "专利名称"),
    Column("type", "Type", "类型", domain="type"), Column("mode", "Mode", "托管方式", domain="mode"),
    Column("state", "State", "状态", domain="state"),
    Column("legal_status", "Legal status", "法律状态"),
    Column("legal_status_date", "Status date", "法律状态日", "date"),
    Column("year", "Next fee year", "待缴年度", "int"), Column("due_date", "Due date", "缴费截止日", "date"),
    Column("fee", "Fee (CNY)", "年费(元)", "money"), *REDUCTION_COLUMNS,
    Column("late_fee", "Late fee today (CNY)", "当前滞纳金(元)", "money"),
    Column("total", "Total today (CNY)", "当前应缴合计(元)", "money"),
    Column("grace_end", "Grace end", "滞纳期届满日", "date"), Column("decision", "Decision", "企业决定"),
    Column("pledgee", "Pledgee", "质权人"), Column("note", "Note", "备注"))


def _statement_row(e: Evaluated, today: date) -> dict[str, Any]:
    p = e.patent
    return {"application_number": p.application_number, "title": p.title, "type": p.facts.type.value,
            "legal_status": p.legal_status, "legal_status_date": p.legal_status_date,
            **_shown(e, today, STATEMENT_COLUMNS)}


def enterprise_statement(evaluated: Sequence[Evaluated], code: str, name: str, today: date,
                         notes: Sequence[str] = ()) -> Report:
    """The statement an enterprise receives: its own patents only (custody and watched), as of `today`."""
    mine = [e for e in evaluated if e.patent.enterprise_code == code]
    rows = sorted((_statement_row(e, today) for e in mine), key=lambda r: (r["mode"], r["application_number"]))
    return Report("enterprise", tr("{name} ({code}): patent statement as of {today}", name=name, code=code,
                                   today=today),
                  STATEMENT_COLUMNS, tuple(rows),
                  with_provisional_legend(notes, rows))
