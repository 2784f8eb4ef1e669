"""The calculator's table: what an operator reads out to an enterprise on the phone, in Chinese.

Renders the dict from `custody.views.schedule_dict`, so the table and the JSON can never disagree. Plain text
and plain tables (TextTable) only: drawing them on a terminal is the command line's business (cli_rich), so the
core does not depend on a terminal library.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from custody.domain import PROVISIONAL_LEGEND_ZH, PROVISIONAL_MARK, date_text
from custody.i18n import label

# The words of enumerated values are the catalogue's (custody/locale/labels.toml): this table speaks Chinese.
TYPE_ZH = {v: label("type", v, "zh") for v in ("invention", "utility_model", "design")}
STATE_ZH = {v: label("state", v, "zh") for v in ("in_force", "in_grace", "lapsed", "expired")}
REDUCTION_ZH: dict[str | None, str] = {None: "", **{v: label("reduction", v, "zh")
                                                    for v in ("85", "70", "open_licence")}}
PROVISIONAL = PROVISIONAL_LEGEND_ZH
REDUCTION_TOO_LATE = label("reduction", "recorded too late: full fee", "zh")
REFILE_PREFIX = "to re-file since "  # custody.display.reduction_refile_text
RESTORATION_CHECK = ("恢复后补缴（待核实）：该年费在专利权终止期间到期，恢复时国知局一并要求缴纳；"
                     "规则未规定其期限与滞纳金，按恢复公告日后 rules.restoration_back_fee_months 个月计"
                     "（规则 restoration.back_fees），请以国知局通知为准")


def refile_zh(day: str) -> str:
    """A reduction waiting to be re-filed after a transfer (the previous owner's), in the operator's words."""
    return f"费减待新权利人重新备案（{day} 起），全额"
PAID_UP = "至期满的年费均已缴清"
IMPORT_FLAGS = "推定已缴：导入时按法律状态推定，无缴费记录；待核实：导入时在宽限期内、是否已缴未知，按未缴处理"


def yuan_text(amount: float | int) -> str:
    return f"¥{amount:,.2f}" if isinstance(amount, float) else f"¥{amount:,}"


def _date(day: str | None, provisional: bool = False) -> str:
    return date_text(day, provisional)


def header_lines(view: dict[str, Any]) -> list[str]:
    lines = [
        f"申请号：{view['application_number'] or '（未给出）'}    类型：{TYPE_ZH[view['type']]}",
        f"申请日：{view['filing_date']}    期满日：{view['expiry_date']}    授权年度：第{view['grant_year']}年"
        + ("（按授权公告日推定）" if view["grant_year_inferred"] else ""),
        f"截至 {view['as_of']}：{STATE_ZH[view['state']]}    尚需缴纳至期满合计：{yuan_text(view['remaining_total'])}",
    ]
    due = view["next_due"]
    if due is None and view["state"] == "in_force" and all(y["paid"] for y in view["years"]):
        lines.append(f"下一笔：无（{PAID_UP}）")
    if due:
        late = f"，滞纳金 {yuan_text(due['late_fee'])}" if due["late_fee"] else ""
        grace = _date(due["grace_end"], due["grace_end_provisional"]) if due["grace_end"] else "（授权当年，无宽限期）"
        lines.append(f"下一笔：第{due['year']}年年费 {yuan_text(due['fee'])}{late}，合计 {yuan_text(due['total'])}；"
                     f"缴费期限 {_date(due['due_date'], due['due_date_provisional'])}，宽限期至 {grace}")
    if view.get("term_compensation"):
        comp = view["term_compensation"]
        lines.append(f"期限补偿 {comp['days']} 天：补偿费 {yuan_text(comp['fee'])}，应于 {comp['due_before']} 前缴纳"
                     f"（请求费 {yuan_text(comp['request_fee'])} 已随补偿请求缴纳）")
    return lines


def patent_lines(patent: dict[str, Any]) -> list[str]:
    """What `custody patent show` says about the stored patent above its custody line (custody_line: mode,
    reduction…): what it is, whose it is, and its open-licence periods."""
    enterprise = patent.get("enterprise")
    licences = "；".join(f"{p['start']} 至 {p['end'] or '今'}" for p in patent.get("open_licences") or []) or "无"
    return [
        f"{patent['title']}    专利权人：{patent['owners'] or '—'}    法律状态：{patent['legal_status'] or '—'}",
        f"企业：{enterprise['name'] + '（' + enterprise['credit_code'] + '）' if enterprise else '—'}    "
        f"开放许可：{licences}",
    ]


def quote_line(quote: dict[str, Any]) -> str:
    if "restoration" in quote:
        r = quote["restoration"]
        return (f"若于 {quote['pay_on']} 缴纳：已超过宽限期，专利权自 {r['lapsed_on']} 起终止。恢复权利（细则第6条）："
                f"第{r['year']}年年费 {yuan_text(r['fee'])} + 滞纳金 {yuan_text(r['late_fee'])} + 恢复费 "
                f"{yuan_text(r['restoration_fee'])} = {yuan_text(r['total'])}，"
                f"须自收到终止通知之日起{r['request_within_months']}个月内请求")
    if quote.get("paid_up"):
        return f"若于 {quote['pay_on']} 缴纳：无需缴纳（{PAID_UP}）"
    if "error" in quote:
        return f"若于 {quote['pay_on']} 缴纳：无需缴纳（{quote['error']}）"
    mark = PROVISIONAL_MARK if quote.get("provisional") else ""
    return (f"若于 {quote['pay_on']} 缴纳第{quote['year']}年年费：年费 {yuan_text(quote['fee'])} + 滞纳金 "
            f"{yuan_text(quote['late_fee'])} = {yuan_text(quote['total'])}{mark}")


@dataclass(frozen=True)
class TextTable:
    """A table as text cells, row by row: what the command line draws (cli_rich.rich_table)."""

    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def schedule_table(view: dict[str, Any]) -> TextTable:
    rows = []
    for y in view["years"]:
        status = "已缴" if y["paid"] else ("授权当年（办登时缴）" if y["grant_year"] else "未缴")
        if y.get("inferred") or y.get("check"):  # an import's flags (custody.views.mark_import_flags)
            status = "推定已缴" if y.get("inferred") else "待核实"
        if y.get("owed"):  # paid short (custody.views.mark_amounts_owed)
            status = f"已缴，尚欠 {yuan_text(y['owed'])}"
        reduction = REDUCTION_TOO_LATE if y["reduction_too_late"] else REDUCTION_ZH.get(y["reduction"], y["reduction"])
        if y.get("reduction_refile_on"):
            reduction = refile_zh(y["reduction_refile_on"])
        if y.get("restoration_check") and not y["paid"]:
            status = "恢复后补缴（待核实）"
        rows.append((f"第{y['year']}年", _date(y["due_date"], y["due_date_provisional"]), yuan_text(y["full_fee"]),
                     yuan_text(y["fee"]), reduction or "", _date(y["grace_end"], y["grace_end_provisional"]), status))
    return TextTable("年费明细", ("年度", "缴费期限", "全额", "应缴", "费减", "宽限期至", "状态"), tuple(rows))


def schedule_lines_before(view: dict[str, Any]) -> list[str]:
    """The lines above the fee table: the patent's summary, and the quote for --pay-on."""
    return header_lines(view) + ([quote_line(view["quote"])] if "quote" in view else [])


def schedule_lines_after(view: dict[str, Any]) -> list[str]:
    """The legends below the fee table, each only when a row needs it."""
    lines = []
    if any(y["provisional"] for y in view["years"]):
        lines.append(f"{PROVISIONAL_MARK} {PROVISIONAL}")
    if any(y["reduction_too_late"] for y in view["years"]):
        lines.append(f"{REDUCTION_TOO_LATE}：费减备案日 {view['reduction_recorded_on']} 距缴费期限不足规定月数"
                     "（rules.reduction_lead_months，规则 reduction.lead_time）")
    if any(y.get("inferred") or y.get("check") for y in view["years"]):
        lines.append(IMPORT_FLAGS)
    if any(y.get("restoration_check") and not y["paid"] for y in view["years"]):
        lines.append(RESTORATION_CHECK)
    return lines


MODE_ZH = {v: label("mode", v, "zh") for v in ("custody", "watch")}


def custody_line(shown: dict[str, Any]) -> str:
    """The patent's displayed facts (`display_dict`, as in the reports): mode, state, what to pay, the reduction
    with its recording date, the decision, the pledge and why reminders are stopped."""
    parts = [f"托管方式：{MODE_ZH.get(shown['mode'], shown['mode'])}",
             f"状态：{label('state', shown['state'], 'zh')}"]
    if shown["total"] is not None:
        late = f" + 滞纳金 {yuan_text(shown['late_fee'])}" if shown["late_fee"] else ""
        parts.append(f"第{shown['year']}年应缴 {yuan_text(shown['fee'])}{late}，宽限期至 "
                     f"{date_text(shown['grace_end'], shown.get('grace_end_provisional')) or '—'}")
    if shown["reduction"] or shown["reduction_recorded_on"]:
        reduction = REDUCTION_TOO_LATE if shown["reduction_too_late"] else REDUCTION_ZH.get(shown["reduction"],
                                                                                          shown["reduction"])
        if (shown["reduction"] or "").startswith(REFILE_PREFIX):
            reduction = refile_zh(shown["reduction"][len(REFILE_PREFIX):len(REFILE_PREFIX) + 10])
        recorded = f"（备案日 {shown['reduction_recorded_on']}）" if shown["reduction_recorded_on"] else ""
        parts.append(f"{reduction or '无费减'}{recorded}")
    for key, heading in (("decision", "企业决定"), ("pledgee", "质权人"), ("note", "提醒暂停")):
        if shown[key]:
            parts.append(f"{heading}：{shown[key]}")
    return "    ".join(parts)


NO_PAYMENTS = "缴费记录：无"


def payments_table(payments: Sequence[dict[str, Any]]) -> TextTable:
    """The payments on record (`custody patent show`); with none, NO_PAYMENTS is said instead."""
    return TextTable("缴费记录", ("年度", "金额", "缴费日", "来源", "备注"),
                     tuple((f"第{p['year']}年", yuan_text(p["amount"]), p["paid_on"], p["source"], p.get("note") or "")
                           for p in payments))


def owed_lines(owed: Sequence[dict[str, Any]]) -> list[str]:
    """What years paid short still owe (custody.views.mark_amounts_owed)."""
    return [f"第{o['year']}年少缴：已缴 {yuan_text(o['paid'])}，按 {o['as_of']} 的滞纳金档次尚欠 "
            f"{yuan_text(o['owed'])}（补缴时按补缴当日的档次计算）" for o in owed]
