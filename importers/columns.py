"""The columns each import kind understands, with the header spellings real exports use, as data.

CNIPA's fee and legal-status queries, search platforms, agencies' ledgers and hand-made sheets name the same
column many ways; each field lists its aliases (Chinese and English). An operator adds spellings for an unusual
export with a profile in config.toml ([import.profiles.NAME], selected with --profile NAME), where a header can
also map to "ignore": that column is left out (two columns that mean one field, say 申请号 and 专利号).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from custody.explained import Explained, tx, word


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    aliases: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.en})"


IGNORE = "ignore"  # a profile's mapping for a column to leave out


def _c(field: str, zh: str, en: str, aliases: str, required: bool = False) -> Column:
    return Column(field, zh, en, tuple(a.strip() for a in aliases.split("|")), required)


APPLICATION_NUMBER = _c(
    "application_number", "申请号", "application number",
    "申请号|专利号|申请号(专利号)|申请号/专利号|专利号/申请号|专利申请号|申请(专利)号|专利(申请)号|申请号码|"
    "application no.|application no|application number|app no.|patent no.|patent no|patent number", required=True)
ENTERPRISE_CODE = _c(
    "enterprise_code", "统一社会信用代码", "credit code",
    "统一社会信用代码|社会信用代码|信用代码|企业信用代码|企业代码|credit code|unified social credit code|uscc")
ENTERPRISE_NAME = _c(
    "enterprise_name", "企业名称", "enterprise",
    "企业名称|企业|公司名称|单位名称|客户名称|客户|enterprise|enterprise name|company|company name")

PATENT_COLUMNS = (
    APPLICATION_NUMBER,
    _c("title", "专利名称", "title", "专利名称|发明名称|发明创造名称|名称|title|patent title|invention title"),
    _c("type", "专利类型", "type", "专利类型|类型|申请类型|专利种类|type|patent type"),
    _c("filing_date", "申请日", "filing date", "申请日|申请日期|filing date|application date|filed", required=True),
    _c("granted_on", "授权公告日", "grant date",
       "授权公告日|授权日|授权日期|授权公告日期|grant date|granted|granted on|grant announcement date"),
    _c("grant_year", "授权年度", "grant year", "授权年度|首年度|授权当年年度|首缴年度|grant year|first year"),
    _c("paid_through", "已缴至年度", "paid through",
       "已缴至年度|年费缴至|年费已缴至|已缴年度|缴至年度|已缴费年度|paid through|paid-through|paid through year"),
    _c("reduction", "费减比例", "reduction", "费减比例|费减|费用减缴|减缴比例|费减情况|reduction|fee reduction"),
    _c("legal_status", "法律状态", "legal status",
       "法律状态|当前法律状态|案件状态|专利状态|legal status|status"),
    _c("legal_status_date", "法律状态日", "legal status date",
       "法律状态日|法律状态日期|状态日期|法律状态公告日|legal status date|status date"),
    _c("owners", "专利权人", "owners", "专利权人|权利人|申请(专利权)人|专利权人/申请人|owner|owners|patentee"),
    _c("term_extension_days", "期限补偿天数", "term extension days", "期限补偿天数|补偿天数|term extension days"),
    _c("mode", "托管方式", "mode", "托管方式|托管类型|管理方式|托管/监控|mode|custody mode"),
    ENTERPRISE_CODE,
    ENTERPRISE_NAME,
)

ENTERPRISE_COLUMNS = (
    _c("credit_code", "统一社会信用代码", "credit code", "|".join(ENTERPRISE_CODE.aliases), required=True),
    _c("name", "企业名称", "enterprise", "|".join(ENTERPRISE_NAME.aliases), required=True),
    _c("contact_name", "联系人", "contact", "联系人|联系人姓名|姓名|contact|contact name"),
    _c("role", "角色", "role", "角色|联系人角色|职务|岗位|role"),
    _c("mobile", "手机", "mobile", "手机|手机号|手机号码|移动电话|联系电话|mobile|mobile phone"),
    _c("email", "邮箱", "email", "邮箱|电子邮箱|邮件|电子邮件|email|e-mail|mail"),
    _c("consent_sms", "接收短信", "sms consent", "接收短信|短信提醒|短信|sms|sms consent"),
    _c("consent_email", "接收邮件", "email consent", "接收邮件|邮件提醒|email consent"),
)

PAYMENT_COLUMNS = (
    APPLICATION_NUMBER,
    _c("fee_name", "费用名称", "fee", "费用名称|费用种类|费用类型|缴费项目|费用|费用项目|fee|fee name|fee type"),
    _c("year", "年度", "year", "年度|缴费年度|年费年度|year|patent year"),
    _c("amount", "金额", "amount", "金额|缴费金额|缴纳金额|实缴金额|费用金额|amount|paid amount", required=True),
    _c("paid_on", "缴费日期", "paid on",
       "缴费日期|缴费日|缴费时间|缴纳日期|付款日期|paid on|payment date|paid date|date paid", required=True),
    _c("note", "备注", "note", "备注|票据号|收据号|note|remark|receipt"),
)

KINDS: dict[str, tuple[Column, ...]] = {
    "patents": PATENT_COLUMNS,
    "enterprises": ENTERPRISE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}

_NOISE = re.compile(r"[\s*＊:：_]|[(（]必填[)）]")


def header_key(text: object) -> str:
    """A header cell reduced for matching: full-width folded, spaces, '*' and '必填' marks dropped, lower case."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return _NOISE.sub("", folded).lower()


@dataclass(frozen=True)
class Profile:
    """An operator's mapping for an unusual export: extra header spellings, and where the table is."""

    name: str
    kind: str | None = None
    columns: Mapping[str, str] | None = None  # header text -> field
    sheet: str | None = None
    header_row: int | None = None


class ProfileError(Explained, ValueError):
    """An [import.profiles.NAME] table names an unknown kind or field; the message says which (in the operator's
    language when shown)."""


def profile_from_config(name: str, import_section: Mapping[str, Any], kind: str) -> Profile:
    profiles = import_section.get("profiles", {})
    if name not in profiles:
        raise ProfileError(tx("no import profile {name!r} in the configuration (profiles: {known})", name=name,
                              known=", ".join(sorted(profiles)) or tx("none")))
    raw = profiles[name]
    if raw.get("kind") not in (None, kind):
        raise ProfileError(tx("profile {name!r} is for {kind}, not {wanted}", name=name,
                              kind=word("import_kind", raw["kind"]), wanted=word("import_kind", kind)))
    fields = {c.field for c in KINDS[kind]}
    columns = dict(raw.get("columns", {}))
    unknown = sorted(set(columns.values()) - fields - {IGNORE})
    if unknown:
        raise ProfileError(tx("profile {name!r} maps to unknown field(s) {unknown}; fields of {kind}: {fields}, or "
                              "{ignore!r} to leave a column out", name=name, unknown=", ".join(unknown),
                              kind=word("import_kind", kind), fields=", ".join(sorted(fields)), ignore=IGNORE))
    return Profile(name, raw.get("kind"), columns, raw.get("sheet"), raw.get("header_row"))


def alias_table(kind: str, profile: Profile | None = None) -> dict[str, str]:
    """Normalised header text -> field for `kind`; a profile's own spellings take precedence."""
    table = {header_key(alias): column.field for column in KINDS[kind] for alias in column.aliases}
    if profile and profile.columns:
        table.update({header_key(header): field for header, field in profile.columns.items()})
    return table
