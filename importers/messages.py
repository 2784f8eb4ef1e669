"""The import messages in English and Chinese, and Chinese for the details the domain modules explain in English.

`custody.appno`, `custody.creditcode`, `custody.dates` and `custody.fees` say what is wrong in English (their
messages are part of their tested contract); for an operator who reads Chinese, `detail_zh` translates the ones
an import can meet. An unknown detail is shown as it is rather than dropped.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (English, Chinese)
    "file_missing": ("file not found: check its name and folder", "文件不存在：请检查文件名和所在文件夹"),
    "not_a_workbook": ("the file is named {suffix} but is not an Excel workbook (another kind of file renamed, or "
                       "damaged): open it in Excel or WPS and save it as .xlsx, or export it as CSV",
                       "文件扩展名为 {suffix}，但不是 Excel 工作簿（可能是其他文件改名而来，或已损坏）："
                       "请用 Excel 或 WPS 打开后另存为 .xlsx，或导出为 CSV"),
    "file_unreadable": ("cannot read the file: {detail}", "无法读取文件：{detail}"),
    "file_type": ("cannot read {suffix} files: use .xlsx, .xls or .csv",
                  "不支持 {suffix} 文件：请用 .xlsx、.xls 或 .csv"),
    "encoding": ("cannot tell the text encoding (tried UTF-8, UTF-8 with BOM, GBK/GB18030)",
                 "无法识别文件编码（已尝试 UTF-8、带 BOM 的 UTF-8、GBK/GB18030）"),
    "sheet_chosen": ("read sheet {sheet}: the first sheet has no header row",
                     "读取工作表 {sheet}：第一个工作表没有表头"),
    "sheet_missing": ("no sheet named {sheet}; the workbook has: {sheets}",
                      "工作簿中没有名为 {sheet} 的工作表；现有：{sheets}"),
    "empty_file": ("the file has no rows", "文件中没有数据行"),
    "workbook_too_big": ("the workbook inflates to {size}, more than max_unzipped_mb ({limit}, [import] in "
                         "config.toml): not read",
                         "工作簿解压后为 {size}，超过 max_unzipped_mb（{limit}，config.toml 的 [import]）：未读取"),
    "workbook_zip_ratio": ("{member} inflates {ratio} times (to {size}), more than max_zip_ratio = {limit} "
                           "([import] in config.toml): not read",
                           "{member} 解压后膨胀 {ratio} 倍（{size}），超过 max_zip_ratio = {limit}（config.toml 的 "
                           "[import]）：未读取"),
    "sheet_too_big_declared": ("sheet {sheet}: declared size {rows} rows x {columns} columns is over {limit} "
                               "([import] in config.toml): not read; delete stray cells far from the table (Ctrl+End "
                               "shows the last one) and save again",
                               "工作表 {sheet}：声明的大小 {rows} 行 × {columns} 列，超过 {limit}（config.toml 的 "
                               "[import]）：未读取；请删除表格以外的零散单元格（Ctrl+End 可定位最后一个）后重新保存"),
    "sheet_too_big_actual": ("sheet {sheet}: actual size {rows} rows x {columns} columns is over {limit} ([import] "
                             "in config.toml): not read; delete stray cells far from the table (Ctrl+End shows the "
                             "last one) and save again",
                             "工作表 {sheet}：实际大小 {rows} 行 × {columns} 列，超过 {limit}（config.toml 的 "
                             "[import]）：未读取；请删除表格以外的零散单元格（Ctrl+End 可定位最后一个）后重新保存"),
    "no_header": ("no header row in the first {scan} rows: expected columns such as {expected}",
                  "前 {scan} 行中找不到表头：应有 {expected} 等列"),
    "missing_columns": ("required column(s) {missing} not found in the header (row {header_row}: {found})",
                        "表头（第 {header_row} 行：{found}）中缺少必需的列：{missing}"),
    "ambiguous_columns": ("columns {columns} all mean {field}: delete all but one, or leave the others out with an "
                          "import profile (config.toml [import.profiles.NAME.columns] \"{example}\" = \"ignore\", "
                          "then --profile NAME)",
                          "列 {columns} 都表示{field}：请只保留一列，或用导入配置忽略其余列（config.toml 中 "
                          "[import.profiles.NAME.columns] \"{example}\" = \"ignore\"，再加 --profile NAME）"),
    "total_row_skipped": ("totals row skipped: {text}", "已跳过合计行：{text}"),
    "ignored_columns": ("columns not imported: {columns}", "以下列未导入：{columns}"),
    "no_rows": ("no data rows below the header", "表头下没有数据行"),
    "required": ("{field} is empty", "{field}为空"),
    "appno_invalid": ("invalid application number {value}: {detail}", "申请号 {value} 无效：{detail}"),
    "appno_number_cell": ("application number {value} is stored as a number, so its check character is lost "
                          "(a 0 or an X cannot survive): format the column as text and export again",
                          "申请号 {value} 以数字格式保存，校验位已丢失（0 或 X 无法保留）："
                          "请把该列设为文本格式后重新导出"),
    "appno_number_cell_read": ("application number stored as a number ({value}); read as {number}: "
                               "format the column as text to be sure",
                               "申请号以数字格式保存（{value}），按 {number} 读取：请把该列设为文本格式以免出错"),
    "appno_check_computed": ("application number {value} has no check character: read as {number} (check "
                             "character {check} computed); compare it with the certificate",
                             "申请号 {value} 没有校验位：按 {number} 读取（校验位 {check} 为计算所得），请与证书核对"),
    "appno_scientific": ("application number {value} is in scientific notation: Excel dropped digits; "
                         "format the column as text and export again",
                         "申请号 {value} 是科学计数法：Excel 已丢失数字；请把该列设为文本格式后重新导出"),
    "type_invalid": ("unknown patent type {value}: use 发明, 实用新型 or 外观设计 (invention, utility model, design)",
                     "未知的专利类型 {value}：应为 发明、实用新型 或 外观设计"),
    "type_contradicts": ("type {value} contradicts application number {number} (its type digit means {type})",
                         "专利类型 {value} 与申请号 {number} 不符（申请号的类型位表示{type}）"),
    "bad_value": ("{detail}", "{detail}"),
    "date_invalid": ("{detail}", "{detail}"),
    "year_invalid": ("{value} is not a patent year (write 6, 第6年 or 6年)",
                     "{value} 不是专利年度（请写作 6、第6年 或 6年）"),
    "int_invalid": ("{value} is not a whole number", "{value} 不是整数"),
    "paid_through_invalid": ("{value} is neither a patent year (write 7, 第7年 or 第七年) nor the date fees are paid "
                             "until (write 2025-03-14)",
                             "{value} 既不是专利年度（请写作 7、第7年 或 第七年），"
                             "也不是年费缴至日期（请写作 2025-03-14）"),
    "reduction_invalid": ("unknown fee reduction {value}: use 85%, 70% or 无 (none)",
                          "无法识别的费减比例 {value}：应为 85%、70% 或 无"),
    "reduction_ambiguous": ("fee reduction {value} is ambiguous: is it the share paid or the share waived? "
                            "write 85% or 70% (the reduction)",
                            "费减比例 {value} 有歧义：是缴纳比例还是减缴比例？请写减缴比例 85% 或 70%"),
    "amount_invalid": ("{value} is not an amount in yuan", "{value} 不是金额（元）"),
    "credit_code_invalid": ("invalid unified social credit code {value}: {detail}",
                            "统一社会信用代码 {value} 无效：{detail}"),
    "mobile_invalid": ("{value} is not a mainland China mobile number", "{value} 不是有效的中国大陆手机号"),
    "email_invalid": ("{value} is not a valid email address: {detail}", "{value} 不是有效的邮箱地址：{detail}"),
    "control_character": ("a control character ({char}) at position {position}: remove it and import again",
                          "第 {position} 个字符是控制字符（{char}）：请删除后重新导入"),
    "control_character_in_name": ("a name must be one line: {char} at position {position} (a line break in a name "
                                  "makes every email to it fail); remove it and import again",
                                  "名称必须为单行：第 {position} 个字符是 {char}（名称中的换行会使发往它的邮件全部"
                                  "失败）；请删除后重新导入"),
    "bool_invalid": ("{value} is not yes/no (write 是 or 否)", "{value} 不是“是/否”"),
    "mode_invalid": ("unknown mode {value}: use 托管 (custody) or 监控 (watch)",
                     "无法识别的托管方式 {value}：应为 托管 或 监控"),
    "enterprise_missing": ("no enterprise for this patent, so its reminders would go to nobody: give a "
                           "统一社会信用代码 or 企业名称 column, or --enterprise CODE "
                           "(a watch-only patent: 托管方式 监控)",
                           "该专利没有所属企业，提醒将无人接收：请提供“统一社会信用代码”或“企业名称”列，或用 "
                           "--enterprise 指定（仅监控的专利：托管方式填“监控”）"),
    "watch_without_enterprise": ("watch-only patent without a watching enterprise: its status changes go into "
                                 "nobody's digest",
                                 "仅监控的专利没有关注企业：其法律状态变化不会进入任何企业的摘要"),
    "paid_through_over_payments": ("paid-through year {given} is followed by year(s) {years} with payments on "
                                   "record: paid through {kept}, nothing to check there",
                                   "已缴至第 {given} 年之后的第 {years} 年已有缴费记录：已缴至第 {kept} 年，无需核实"),
    "paid_through_covers_checks": ("paid-through year {kept} on record covers the fees to check after year "
                                   "{given}: counted paid",
                                   "记录中已缴至第 {kept} 年，涵盖第 {given} 年之后待核实的年费：按已缴计"),
    "paid_through_kept": ("paid-through year {given} is below year {kept} on record: kept {kept} (an older file does "
                          "not undo newer facts; --allow-lower-paid-through lowers it)",
                          "已缴至第 {given} 年低于记录中的第 {kept} 年：保留第 {kept} 年（旧文件不能撤销较新的事实；"
                          "如需降低请加 --allow-lower-paid-through）"),
    "paid_through_kept_paid": ("paid-through year {given} is below year {kept} on record, and payments on record "
                               "cover year(s) {years}: kept {kept}",
                               "已缴至第 {given} 年低于记录中的第 {kept} 年，且第 {years} 年有缴费记录："
                               "保留第 {kept} 年"),
    "paid_through_floor": ("paid-through year {given} is below year(s) {years}, which have payments on record: set "
                           "to {kept}, not {given}",
                           "已缴至第 {given} 年低于有缴费记录的第 {years} 年：设为第 {kept} 年，而非第 {given} 年"),
    "paid_through_lowered": ("paid-through year lowered from {on_record} to {given} (--allow-lower-paid-through)",
                             "已缴年度由第 {on_record} 年降为第 {given} 年（--allow-lower-paid-through）"),
    "enterprise_unknown": ("unknown enterprise {value}: import it first (custody import enterprises FILE)",
                           "未知企业 {value}：请先导入企业（custody import enterprises 文件）"),
    "enterprise_name_ambiguous": ("enterprise name {value} matches {count} enterprises: give the credit code",
                                  "企业名称 {value} 对应 {count} 家企业：请给出统一社会信用代码"),
    "enterprise_contradicts_option": ("enterprise {value} contradicts --enterprise {option}",
                                      "企业 {value} 与 --enterprise {option} 不一致"),
    "duplicate_disagrees": ("{key} is also on row {other}, with different {fields}",
                            "{key} 在第 {other} 行也出现，但{fields}不同"),
    "contact_needs_channel": ("contact {name} has neither a mobile number nor an email",
                              "联系人 {name} 既没有手机号也没有邮箱"),
    "role_unknown": ("unknown contact role {value}: recorded as 'other' (grace-end and lapse notices only; write "
                     "e.g. 联系人 or 专利联系人 for the person who pays the fees)",
                     "无法识别的联系人角色 {value}：记为“其他”（只收到宽限期届满前和失效后的提醒；"
                     "负责缴费的人请写“联系人”或“专利联系人”等）"),
    "role_partly_unknown": ("contact role {value}: {unknown} not recognised, recorded as {role}",
                            "联系人角色 {value}：无法识别“{unknown}”，按“{role}”记录"),
    "no_before_due_recipient": ("enterprise {name} ({credit_code}) has nobody who receives before-due fee "
                                "reminders ({wanted}); its contacts: {contacts}. Correct a role (e.g. "
                                "联系人, 专利联系人, 财务) or add a mobile or an email",
                                "企业 {name}（{credit_code}）没有人会收到到期前的年费提醒（{wanted}）；"
                                "该企业的联系人：{contacts}。请更正角色（如“联系人”“专利联系人”“财务”）或补充手机、邮箱"),
    "legal_status_unknown": ("legal status {value} not recognised: kept as written, paid-through not inferred",
                             "无法识别的法律状态 {value}：原样保存，不推定已缴年度"),
    "grant_year_unknown_pending": ("no grant year: imported as an application still pending",
                                   "无授权年度：按尚未授权的申请导入"),
    "paid_through_inferred": ("paid-through year {year} inferred from legal status {status} on {as_of}",
                              "按 {as_of} 的法律状态“{status}”推定年费已缴至第 {year} 年"),
    "paid_through_check": ("year {year} fee (due {due}) is in its grace period until {grace_end} on {as_of}: "
                           "unknown — check; treated as unpaid",
                           "第 {year} 年年费（缴费期限 {due}）在 {as_of} 处于宽限期（至 {grace_end}）："
                           "是否已缴未知——请核实；按未缴处理"),
    "paid_through_unknown": ("no paid-through year and no legal status to infer it from: the grant-year fee is "
                             "taken as the last one paid",
                             "无已缴年度，也无法律状态可供推定：按仅缴纳授权当年年费处理"),
    "in_force_past_expiry": ("legal status {status} on {as_of}, but the term ended on {expiry}",
                             "{as_of} 的法律状态为“{status}”，但保护期已于 {expiry} 届满"),
    "patent_unknown": ("unknown patent {value}: import it first (custody import patents FILE)",
                       "未知专利 {value}：请先导入专利（custody import patents 文件）"),
    "not_annual_fee": ("{value} is not an annual fee: row skipped", "{value} 不是年费：跳过该行"),
    "fee_year_missing": ("no patent year: give a year column or a fee name such as 发明专利第6年年费",
                         "缺少年度：请给出年度列，或写明如“发明专利第6年年费”的费用名称"),
    "fee_type_contradicts": ("fee {value} is for a {fee_type}, but {number} is a {type}",
                             "费用 {value} 属于{fee_type}，但 {number} 是{type}"),
    "late_fee_unmatched": ("late fee with no annual fee for the same patent and date",
                           "滞纳金没有同一专利、同一日期的年费与之对应"),
    "late_fee_partner_rejected": ("late fee joined to the annual fee on row {partner}, which was rejected",
                                  "滞纳金与第 {partner} 行的年费合并，该行被拒绝"),
    "year_outside": ("{detail}", "{detail}"),
    "amount_mismatch": ("amount {amount} matches no fee for year {year} paid on {paid_on}: expected {expected}",
                        "金额 {amount} 与 {paid_on} 缴纳第 {year} 年年费的任何应缴金额都不符：应为 {expected}"),
    "late_fee_short": ("amount {amount} is {short} short of the {expected} due for year {year} on {paid_on}: "
                       "imported; the rest is owed as a top-up",
                       "金额 {amount} 比 {paid_on} 缴纳第 {year} 年年费应缴的 {expected} 少 {short}："
                       "已导入，差额需补缴"),
    "amount_over_topup": ("top-up of {amount} brings year {year} to {total}, more than the {expected} due on {paid_on}",
                          "补缴 {amount} 后第 {year} 年合计 {total}，超过 {paid_on} 应缴的 {expected}"),
    "paid_after_grace": ("{detail}", "{detail}"),
    "payment_gap": ("year {year} is paid but not every year before it: paid-through stays at {paid_through}",
                    "第 {year} 年已缴，但之前的年度未全部缴纳：已缴年度仍为第 {paid_through} 年"),
    "fact": ("{detail}", "{detail}"),
    # Impossible histories (issue 10 point 4): facts of one row that contradict each other on the file's date.
    "in_force_but_lapsed": ("legal status {status} on {as_of}, but paid through year {paid} only: the year {year} "
                            "fee's grace period ended on {grace_end}, so the patent would have terminated: check "
                            "the paid-through year or the legal status",
                            "{as_of} 的法律状态为“{status}”，但年费仅缴至第 {paid} 年：第 {year} 年年费的宽限期已于 "
                            "{grace_end} 届满，专利权应已终止——请核对已缴年度或法律状态"),
    "terminated_but_paid": ("legal status {status} on {as_of}, but paid through year {paid}, which covers the "
                            "patent year of that day (year {year}): no fee can have lapsed; check",
                            "{as_of} 的法律状态为“{status}”，但年费已缴至第 {paid} 年，已覆盖当日所在的第 {year} "
                            "年度：不可能因未缴年费终止——请核对"),
    "grant_after_paid_through": ("grant year {grant_year} is after the paid-through year {paid}: the grant-year fee "
                                 "is paid with registration (Rule 114); check",
                                 "授权年度第 {grant_year} 年晚于已缴年度第 {paid} 年：授权当年的年费随办理登记手续缴纳"
                                 "（细则第一百一十四条）——请核对"),
}

_DETAILS_ZH: tuple[tuple[str, str], ...] = (
    (r"empty application number", "申请号为空"),
    (r"'(.*)' ends with publication kind code (\w): .*",
     r"“\1”末尾是公布/公告号的类型代码 \2：这是公开号，不是申请号（例如 201710601862.3）"),
    (r"more than one dot in '(.*)'", r"“\1”中有多个小数点"),
    (r"missing check character after the dot in '(.*)'", r"“\1”的小数点后缺少校验位"),
    (r"expected one check character after the dot, got '(.*)'", r"小数点后应只有一位校验位，实为“\1”"),
    (r"character '(.)' at position (\d+) is not a digit", r"第 \2 位字符“\1”不是数字"),
    (r"expected 12 digits and a check character .*, got (\d+) digits.*",
     r"应为 12 位数字加校验位（例如 201710601862.3），实为 \1 位；2003-10-01 以前的申请号为 8 位（例如 97101765.4）"),
    (r"type digit (\d) is not a patent type.*", r"类型位 \1 不是专利类型（应为 1、2、3、8 或 9）"),
    (r"year (\d+) is impossible: .*", r"年份 \1 不可能：12 位申请号自 2003 年起使用"),
    (r"year digits (\d+) are impossible: .*", r"年份位 \1 不可能：8 位申请号使用于 1985 至 2003 年"),
    (r"check character must be a digit or X, got '(.*)'", r"校验位应为数字或 X，实为“\1”"),
    (r"check digit should be (\w), got (\w)", r"校验位应为 \1，实为 \2"),
    (r"filing date (\S+) is after the year of application number (\S+)", r"申请日 \1 晚于申请号 \2 所示的年份"),
    (r"empty credit code", "统一社会信用代码为空"),
    (r"must be 18 characters, got (\d+)", r"应为 18 位，实为 \1 位"),
    (r"character '(.)' at position (\d+) is not allowed.*",
     r"第 \2 位字符“\1”不允许（只用 0-9 和除 I、O、S、V、Z 以外的大写字母）"),
    (r"check character should be (\w), got (\w)", r"校验位应为 \1，实为 \2"),
    (r"empty date", "日期为空"),
    (r"(.*) is not a real date .*", r"\1 不是真实存在的日期"),
    (r"(.*) is not a date .*", r"\1 不是日期（请写作 2023-03-15、2023/3/15 或 2023年3月15日）"),
    (r"(.*) is not a plausible Excel date serial", r"\1 不是合理的 Excel 日期序号"),
    (r"grant date (\S+) is before the filing date (\S+)", r"授权公告日 \1 早于申请日 \2"),
    (r"grant year (\d+) is outside patent years 1-(\d+)", r"授权年度 \1 超出专利年度 1-\2"),
    (r"the grant year is unknown: .*", "授权年度未知：请给出授权年度或授权公告日"),
    (r"paid-through year (\d+) is past expiry \(the last patent year is (\d+)\)",
     r"已缴至第 \1 年超过保护期（最后一个专利年度是第 \2 年）"),
    (r"term extension days cannot be negative", "期限补偿天数不能为负"),
    (r"grant date (\S+) is on or after the expiry date (\S+)", r"授权公告日 \1 不早于保护期届满日 \2"),
    (r"term compensation applies to inventions only, not to a (\S+)", r"期限补偿只适用于发明专利，不适用于 \1"),
    (r"year (\d+) fee was due (\S+); the grace period ended (\S+), .*",
     r"第 \1 年年费应于 \2 缴纳，宽限期已于 \3 届满：专利权已终止（或可请求恢复）"),
    (r"year (\d+) is outside this patent's fee years (\d+)-(\d+)", r"第 \1 年不在该专利的年费年度 \2-\3 内"),
    (r"every annual fee up to expiry is already paid", "至期满的年费均已缴纳"),
)
_DETAIL_PATTERNS = tuple((re.compile(pattern), zh) for pattern, zh in _DETAILS_ZH)


def detail_zh(detail: str) -> str:
    """Chinese for a domain module's English explanation; the English itself when no translation is known."""
    for pattern, zh in _DETAIL_PATTERNS:
        match = pattern.fullmatch(detail)
        if match:
            return match.expand(zh)
    return detail


def _catalogued(msgid: str) -> tuple[str, str]:
    """A message of custody's catalogue (custody/locale), as this table holds them: (English, Chinese)."""
    from custody.i18n import tr

    return msgid, tr(msgid, language="zh")


MESSAGES["twin_columns_disagree"] = _catalogued(
    "{other_column} says {other} but {key_column} says {value}: the two columns must name the same patent (correct "
    "the row, or leave one column out with an import profile)")


def render_message(code: str, params: Mapping[str, Any], language: str) -> str:
    english, chinese = MESSAGES[code]
    # A parameter worded differently per language comes as {"en": ..., "zh": ...} (a role's name, a list of them).
    params = {k: v.get("zh" if language == "zh" else "en", "") if isinstance(v, Mapping) else v
              for k, v in params.items()}
    if language != "zh":
        return english.format(**params)
    shown = dict(params)
    if "detail" in shown:
        shown["detail"] = detail_zh(str(shown["detail"]))
    return chinese.format(**shown)
