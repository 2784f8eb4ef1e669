"""The enterprises file: one row per contact (or per enterprise), the enterprise repeated on each of its rows.

Checked: the unified social credit code (GB 32100-2015 check character), the enterprise name agreeing across
rows, mobile numbers (phonenumbers, region CN, mobiles only: reminders go by SMS), email addresses
(email-validator, syntax only: no DNS look-up during an import), and that a contact can be reached at all.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from importers import values
from importers.header import Header
from importers.problems import WARNING, ProblemSink
from importers.readers import Cell
from importers.rows import Dedup, RowCells, labels_for

# Contact roles as operators write them -> custody.models CONTACT_ROLES.
ROLES = {
    "ip_manager": ("知识产权负责人", "知产负责人", "专利负责人", "专利管理员", "专利专员", "知识产权专员",
                   "ip", "ip manager", "ip_manager", "patent manager", "知识产权", "专利"),
    "legal_rep": ("法定代表人", "法人代表", "法人", "legal representative", "legal_rep", "legal rep"),
    "finance": ("财务", "财务负责人", "会计", "出纳", "finance", "accounting"),
    "operator": ("经办人", "联系人", "办理人", "operator", "agent"),
    "pledgee": ("质权人", "pledgee"),
    "other": ("其他", "other"),
}
_ROLE_BY_ALIAS = {alias: role for role, aliases in ROLES.items() for alias in aliases}


class UnknownRole(values.CellProblem):
    pass


def role(cell: Cell) -> str:
    key = unicodedata.normalize("NFKC", values.shown(cell)).strip().lower()
    found = _ROLE_BY_ALIAS.get(key)
    if found is None:
        raise UnknownRole("role_unknown", value=values.shown(cell))
    return found


class EnterpriseRows:
    def __init__(self, header: Header, sink: ProblemSink) -> None:
        self.header, self.sink = header, sink
        self.labels = labels_for("enterprises", header)
        self.enterprises = Dedup(sink, self.labels["name"], [self.labels["credit_code"], self.labels["name"]])
        contact_fields = ("credit_code", "contact_name", "role", "mobile", "email", "consent_sms", "consent_email")
        self.contacts = Dedup(sink, self.labels["contact_name"], [self.labels[f] for f in contact_fields])

    def read(self, rows: Iterator[tuple[int, list[Cell]]]) -> int:
        count = 0
        for number, cells in rows:
            count += 1
            self.record(RowCells(number, cells, self.header, self.sink, self.labels))
        return count

    def accepted(self) -> tuple[list[tuple], list[tuple]]:
        errors = self.sink.error_rows
        return self.enterprises.accepted(errors), self.contacts.accepted(errors)

    def record(self, r: RowCells) -> None:
        code = r.value("credit_code", values.credit_code, required=True)
        name = r.value("name", values.name, required=True)
        contact = self.contact(r, code)
        if r.has_error or code is None or name is None:
            return
        self.enterprises.offer(code, r.number, (code, name), code)
        if contact is not None:
            channel = contact[3] or contact[4]
            self.contacts.offer((code, channel), r.number, contact, f"{code} {channel}")

    def contact(self, r: RowCells, code: str | None) -> tuple | None:
        fields = ("contact_name", "role", "mobile", "email", "consent_sms", "consent_email")
        if all(r.cell(f) is None for f in fields):
            return None
        name = r.value("contact_name", values.name)
        contact_role = self.role(r)
        mobile = r.value("mobile", values.mobile)
        email = r.value("email", values.email)
        sms, mail = r.value("consent_sms", values.yes_no), r.value("consent_email", values.yes_no)
        if mobile is None and email is None and r.cell("mobile") is None and r.cell("email") is None:
            r.problem("contact_name", "contact_needs_channel", name=name or "")
        return (code, name, contact_role, mobile, email, sms, mail)

    def role(self, r: RowCells) -> str | None:
        cell = r.cell("role")
        if cell is None:
            return None
        try:
            return role(cell)
        except UnknownRole as problem:
            r.problem("role", problem.code, WARNING, **problem.params)
            return "other"
