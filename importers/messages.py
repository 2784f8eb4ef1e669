"""The import problems' messages: each code's English msgid, looked up in custody's catalogue (custody/locale/zh/
import.toml) for the language of the output.

A detail explained by a domain module (custody.appno, custody.creditcode, custody.dates, custody.fees) comes as the
error's words in every language (custody.explained.in_every_language), so it is shown in the problem's language.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custody.i18n import tr

MESSAGES: dict[str, str] = {
    # code: English msgid (Chinese in custody/locale/zh/import.toml)
    "file_missing": "file not found: check its name and folder",
    "not_a_workbook": "the file is named {suffix} but is not an Excel workbook (another kind of file "
                      "renamed, or damaged): open it in Excel or WPS and save it as .xlsx, or export "
                      "it as CSV",
    "file_unreadable": "cannot read the file: {detail}",
    "file_type": "cannot read {suffix} files: use .xlsx, .xls or .csv",
    "encoding": "cannot tell the text encoding (tried UTF-8, UTF-8 with BOM, GBK/GB18030)",
    "sheet_chosen": "read sheet {sheet}: the first sheet has no header row",
    "sheet_missing": "no sheet named {sheet}; the workbook has: {sheets}",
    "empty_file": "the file has no rows",
    "workbook_too_big": "the workbook inflates to {size}, more than max_unzipped_mb ({limit}, "
                        "[import] in config.toml): not read",
    "workbook_zip_ratio": "{member} inflates {ratio} times (to {size}), more than max_zip_ratio = "
                          "{limit} ([import] in config.toml): not read",
    "sheet_too_big_declared": "sheet {sheet}: declared size {rows} rows x {columns} columns is over "
                              "{limit} ([import] in config.toml): not read; delete stray cells far "
                              "from the table (Ctrl+End shows the last one) and save again",
    "sheet_too_big_actual": "sheet {sheet}: actual size {rows} rows x {columns} columns is over "
                            "{limit} ([import] in config.toml): not read; delete stray cells far "
                            "from the table (Ctrl+End shows the last one) and save again",
    "no_header": "no header row in the first {scan} rows: expected columns such as {expected}",
    "missing_columns": "required column(s) {missing} not found in the header (row {header_row}: "
                       "{found})",
    "ambiguous_columns": "columns {columns} all mean {field}: delete all but one, or leave the "
                         "others out with an import profile (config.toml "
                         "[import.profiles.NAME.columns] \"{example}\" = \"ignore\", then --profile NAME)",
    "total_row_skipped": "totals row skipped: {text}",
    "ignored_columns": "columns not imported: {columns}",
    "no_rows": "no data rows below the header",
    "required": "{field} is empty",
    "appno_invalid": "invalid application number {value}: {detail}",
    "appno_number_cell": "application number {value} is stored as a number, so its check character "
                         "is lost (a 0 or an X cannot survive): format the column as text and export "
                         "again",
    "appno_number_cell_read": "application number stored as a number ({value}); read as {number}: "
                              "format the column as text to be sure",
    "appno_check_computed": "application number {value} has no check character: read as {number} "
                            "(check character {check} computed); compare it with the certificate",
    "appno_scientific": "application number {value} is in scientific notation: Excel dropped digits; "
                        "format the column as text and export again",
    "type_invalid": "unknown patent type {value}: use 发明, 实用新型 or 外观设计 (invention, utility model, "
                    "design)",
    "type_contradicts": "type {value} contradicts application number {number} (its type digit means "
                        "{type})",
    "bad_value": "{detail}",
    "date_invalid": "{detail}",
    "year_invalid": "{value} is not a patent year (write 6, 第6年 or 6年)",
    "int_invalid": "{value} is not a whole number",
    "paid_through_invalid": "{value} is neither a patent year (write 7, 第7年 or 第七年) nor the date "
                            "fees are paid until (write 2025-03-14)",
    "reduction_invalid": "unknown fee reduction {value}: use 85%, 70% or 无 (none)",
    "reduction_ambiguous": "fee reduction {value} is ambiguous: is it the share paid or the share "
                           "waived? write 85% or 70% (the reduction)",
    "amount_invalid": "{value} is not an amount in yuan",
    "credit_code_invalid": "invalid unified social credit code {value}: {detail}",
    "mobile_invalid": "{value} is not a mainland China mobile number",
    "email_invalid": "{value} is not a valid email address: {detail}",
    "control_character": "a control character ({char}) at position {position}: remove it and import "
                         "again",
    "control_character_in_name": "a name must be one line: {char} at position {position} (a line "
                                 "break in a name makes every email to it fail); remove it and "
                                 "import again",
    "bool_invalid": "{value} is not yes/no (write 是 or 否)",
    "mode_invalid": "unknown mode {value}: use 托管 (custody) or 监控 (watch)",
    "enterprise_missing": "no enterprise for this patent, so its reminders would go to nobody: give "
                          "a 统一社会信用代码 or 企业名称 column, or --enterprise CODE (a watch-only patent: "
                          "托管方式 监控)",
    "watch_without_enterprise": "watch-only patent without a watching enterprise: its status changes "
                                "go into nobody's digest",
    "paid_through_over_payments": "paid-through year {given} is followed by year(s) {years} with "
                                  "payments on record: paid through {kept}, nothing to check there",
    "paid_through_covers_checks": "paid-through year {kept} on record covers the fees to check after "
                                  "year {given}: counted paid",
    "paid_through_kept": "paid-through year {given} is below year {kept} on record: kept {kept} (an "
                         "older file does not undo newer facts; --allow-lower-paid-through lowers it)",
    "paid_through_kept_paid": "paid-through year {given} is below year {kept} on record, and "
                              "payments on record cover year(s) {years}: kept {kept}",
    "paid_through_floor": "paid-through year {given} is below year(s) {years}, which have payments "
                          "on record: set to {kept}, not {given}",
    "paid_through_lowered": "paid-through year lowered from {on_record} to {given} "
                            "(--allow-lower-paid-through)",
    "enterprise_unknown": "unknown enterprise {value}: import it first (custody import enterprises "
                          "FILE)",
    "enterprise_name_ambiguous": "enterprise name {value} matches {count} enterprises: give the "
                                 "credit code",
    "enterprise_contradicts_option": "enterprise {value} contradicts --enterprise {option}",
    "duplicate_disagrees": "{key} is also on row {other}, with different {fields}",
    "contact_needs_channel": "contact {name} has neither a mobile number nor an email",
    "role_unknown": "unknown contact role {value}: recorded as 'other' (grace-end and lapse notices "
                    "only; write e.g. 联系人 or 专利联系人 for the person who pays the fees)",
    "role_partly_unknown": "contact role {value}: {unknown} not recognised, recorded as {role}",
    "no_before_due_recipient": "enterprise {name} ({credit_code}) has nobody who receives before-due "
                               "fee reminders ({wanted}); its contacts: {contacts}. Correct a role "
                               "(e.g. 联系人, 专利联系人, 财务) or add a mobile or an email",
    "legal_status_unknown": "legal status {value} not recognised: kept as written, paid-through not "
                            "inferred",
    "grant_year_unknown_pending": "no grant year: imported as an application still pending",
    "paid_through_inferred": "paid-through year {year} inferred from legal status {status} on {as_of}",
    "paid_through_check": "year {year} fee (due {due}) is in its grace period until {grace_end} on "
                          "{as_of}: unknown — check; treated as unpaid",
    "paid_through_unknown": "no paid-through year and no legal status to infer it from: the "
                            "grant-year fee is taken as the last one paid",
    "in_force_past_expiry": "legal status {status} on {as_of}, but the term ended on {expiry}",
    "patent_unknown": "unknown patent {value}: import it first (custody import patents FILE)",
    "not_annual_fee": "{value} is not an annual fee: row skipped",
    "fee_year_missing": "no patent year: give a year column or a fee name such as 发明专利第6年年费",
    "fee_type_contradicts": "fee {value} is for a {fee_type}, but {number} is a {type}",
    "late_fee_unmatched": "late fee with no annual fee for the same patent and date",
    "late_fee_partner_rejected": "late fee joined to the annual fee on row {partner}, which was "
                                 "rejected",
    "year_outside": "{detail}",
    "amount_mismatch": "amount {amount} matches no fee for year {year} paid on {paid_on}: expected "
                       "{expected}",
    "late_fee_short": "amount {amount} is {short} short of the {expected} due for year {year} on "
                      "{paid_on}: imported; the rest is owed as a top-up",
    "amount_over_topup": "top-up of {amount} brings year {year} to {total}, more than the {expected} "
                         "due on {paid_on}",
    "paid_after_grace": "{detail}",
    "payment_gap": "year {year} is paid but not every year before it: paid-through stays at "
                   "{paid_through}",
    "fact": "{detail}",
    "in_force_but_lapsed": "legal status {status} on {as_of}, but paid through year {paid} only: the "
                           "year {year} fee's grace period ended on {grace_end}, so the patent would "
                           "have terminated: check the paid-through year or the legal status",
    "terminated_but_paid": "legal status {status} on {as_of}, but paid through year {paid}, which "
                           "covers the patent year of that day (year {year}): no fee can have "
                           "lapsed; check",
    "grant_after_paid_through": "grant year {grant_year} is after the paid-through year {paid}: the "
                                "grant-year fee is paid with registration (Rule 114); check",
    "twin_columns_disagree": "{other_column} says {other} but {key_column} says {value}: the two columns must name "
                             "the same patent (correct the row, or leave one column out with an import profile)",
}

def detail_zh(detail: str) -> str:
    """A domain module's explanation as an operator reading Chinese sees it: it is already in the process language
    (custody.explained renders an error when it is shown), so nothing is left to translate here."""
    return detail


def render_message(code: str, params: Mapping[str, Any], language: str) -> str:
    # A parameter worded differently per language comes as {"en": ..., "zh": ...} (a role's name, a list of them,
    # a domain module's explanation).
    params = {k: v.get("zh" if language == "zh" else "en", "") if isinstance(v, Mapping) else v
              for k, v in params.items()}
    return tr(MESSAGES[code], language, **params)
