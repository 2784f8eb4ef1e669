"""The calculator's table: what an operator reads out to an enterprise on the phone, in Chinese.

Renders the dict from `custody.views.schedule_dict`, so the table and the JSON can never disagree.
"""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

TYPE_ZH = {"invention": "发明", "utility_model": "实用新型", "design": "外观设计"}
STATE_ZH = {"in_force": "有效", "in_grace": "滞纳期（宽限期）内", "lapsed": "未缴年费终止", "expired": "期满终止"}
REDUCTION_ZH = {None: "", "85": "费减85%", "70": "费减70%", "open_licence": "开放许可减15%"}
PROVISIONAL = "（暂定：该年放假安排未公布）"
IMPORT_FLAGS = "推定已缴：导入时按法律状态推定，无缴费记录；待核实：导入时在宽限期内、是否已缴未知，按未缴处理"


def yuan_text(amount: float | int) -> str:
    return f"¥{amount:,.2f}" if isinstance(amount, float) else f"¥{amount:,}"


def _date(day: str | None, provisional: bool = False) -> str:
    return "" if day is None else day + ("*" if provisional else "")


def header_lines(view: dict[str, Any]) -> list[str]:
    lines = [
        f"申请号：{view['application_number'] or '（未给出）'}    类型：{TYPE_ZH[view['type']]}",
        f"申请日：{view['filing_date']}    期满日：{view['expiry_date']}    授权年度：第{view['grant_year']}年"
        + ("（按授权公告日推定）" if view["grant_year_inferred"] else ""),
        f"截至 {view['as_of']}：{STATE_ZH[view['state']]}    尚需缴纳至期满合计：{yuan_text(view['remaining_total'])}",
    ]
    due = view["next_due"]
    if due:
        late = f"，滞纳金 {yuan_text(due['late_fee'])}" if due["late_fee"] else ""
        lines.append(f"下一笔：第{due['year']}年年费 {yuan_text(due['fee'])}{late}，合计 {yuan_text(due['total'])}；"
                     f"缴费期限 {_date(due['due_date'], due['provisional'])}，宽限期至 {due['grace_end']}")
    if view.get("term_compensation"):
        comp = view["term_compensation"]
        lines.append(f"期限补偿 {comp['days']} 天：补偿费 {yuan_text(comp['fee'])}，应于 {comp['due_before']} 前缴纳")
    return lines


def quote_line(quote: dict[str, Any]) -> str:
    if "error" in quote:
        return f"若于 {quote['pay_on']} 缴纳：已超过宽限期，专利权终止（{quote['error']}）"
    return (f"若于 {quote['pay_on']} 缴纳第{quote['year']}年年费：年费 {yuan_text(quote['fee'])} + 滞纳金 "
            f"{yuan_text(quote['late_fee'])} = {yuan_text(quote['total'])}")


def schedule_table(view: dict[str, Any]) -> Table:
    table = Table(title="年费明细")
    for heading in ("年度", "缴费期限", "全额", "应缴", "费减", "宽限期至", "状态"):
        table.add_column(heading)
    for y in view["years"]:
        status = "已缴" if y["paid"] else ("授权当年（办登时缴）" if y["grant_year"] else "未缴")
        if y.get("inferred") or y.get("check"):  # an import's flags (custody.views.mark_import_flags)
            status = "推定已缴" if y.get("inferred") else "待核实"
        table.add_row(f"第{y['year']}年", _date(y["due_date"], y["provisional"]), yuan_text(y["full_fee"]),
                      yuan_text(y["fee"]), REDUCTION_ZH.get(y["reduction"], y["reduction"] or ""),
                      _date(y["grace_end"], y["provisional"]), status)
    return table


def print_schedule(console: Console, view: dict[str, Any]) -> None:
    for line in header_lines(view):
        console.print(line)
    if "quote" in view:
        console.print(quote_line(view["quote"]))
    console.print(schedule_table(view))
    if any(y["provisional"] for y in view["years"]):
        console.print(f"* {PROVISIONAL}")
    if any(y.get("inferred") or y.get("check") for y in view["years"]):
        console.print(IMPORT_FLAGS)
