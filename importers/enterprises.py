"""The enterprises file: one row per contact (or per enterprise), the enterprise repeated on each of its rows.

Checked: the unified social credit code (GB 32100-2015 check character), the enterprise name agreeing across
rows, mobile numbers (phonenumbers, region CN, mobiles only: reminders go by SMS), email addresses
(email-validator, syntax only: no DNS look-up during an import), and that a contact can be reached at all.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from custody.contact_roles import read_role, role_table
from importers import values
from importers.header import Header
from importers.problems import ERROR, WARNING, ProblemSink
from importers.readers import Cell
from importers.rows import Dedup, RowCells, labels_for


class EnterpriseRows:
    def __init__(self, header: Header, sink: ProblemSink) -> None:
        self.header, self.sink = header, sink
        self.labels = labels_for("enterprises", header)
        self.enterprises = Dedup(sink, self.labels["name"], [self.labels["credit_code"], self.labels["name"]])
        contact_fields = ("credit_code", "contact_name", "role", "mobile", "email", "consent_sms", "consent_email")
        self.contacts = Dedup(sink, self.labels["contact_name"], [self.labels[f] for f in contact_fields])
        self.rows_of: dict[str, list[int]] = {}  # credit code -> the rows that name it

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
        self.rows_of.setdefault(code, []).append(r.number)
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
        reading = read_role(values.shown(cell))
        if reading.role is None:
            r.problem("role", "role_unknown", WARNING, value=values.shown(cell))
            return "other"
        if reading.unknown:  # 「法人/董秘」: the known part decides, the rest is named
            labels = role_table()
            r.problem("role", "role_partly_unknown", WARNING, value=values.shown(cell), unknown="、".join(
                reading.unknown), role={"en": labels.label(reading.role, "en"), "zh": labels.label(reading.role)})
        return reading.role


def note_unreached(sink: ProblemSink, header: Header, rows_of: Mapping[str, list[int]],
                   unreached: Mapping[str, Mapping[str, str]], strict: bool) -> None:
    """A warning per enterprise of the file left with nobody who receives before-due reminders ({credit code: the
    message's parameters}), at its first row; with --strict an error on each of its rows, so that --partial
    rejects the enterprise whole rather than import it half."""
    column = header.labels.get("role") or labels_for("enterprises", header)["contact_name"]
    for code, params in unreached.items():
        rows = rows_of.get(code) or [None]
        for row in rows if strict else rows[:1]:
            sink.add(row, column, "no_before_due_recipient", ERROR if strict else WARNING, **params)
    sink.sort(header.cells)
