"""The payments file: annual fees paid (rows such as 「发明专利第6年年费」, an amount and a date).

Each payment must match a fee of its patent year as custody.fees quotes it for the day it was paid: the fee
(reduced as on record, or the full fee when the reduction was not yet approved) plus the late fee of the band
that day falls in (Rule 115). Two readings, decided here and documented in the README:
- a first payment between the fee and that total (a late fee paid short) is accepted with a warning: CNIPA asks
  for the rest, and the shortfall is paid as a top-up (Guidelines V-9 §2.2.1.3, the 25-of-45 example); until
  then the summary lists what is still owed (custody.fees.amounts_owed, as `custody patent show` does);
- a top-up (a year that already has a payment, on record or earlier in the file) may be any amount that does
  not take the year's total past what was due on the top-up's date.
A separate late-fee row (「年费滞纳金」) joins the annual-fee row of the same patent and date, and is rejected with
it. Payments advance the paid-through year over every run of consecutive paid years, as
custody.store.patents.add_payment does, and clear the fees to check ("unknown — check") that the run covers.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from custody.appno import TYPE_BY_DIGIT
from custody.domain import PatentType
from custody.explained import in_every_language
from custody.fees import FeeInputError, LapsedError, Schedule, amounts_owed, fee_schedule, quote
from custody.store.imports import PATENT_FIELDS, StoredPatent
from custody.store.patents import paid_run_end
from importers import values
from importers.context import Lookup, Options
from importers.header import Header
from importers.problems import WARNING, ProblemSink
from importers.readers import Cell
from importers.rows import RowCells, application_number, labels_for

_YEAR_IN_NAME = re.compile(r"第\s*(\d{1,2})\s*年")
_TYPE_IN_NAME = (("实用新型", PatentType.UTILITY_MODEL), ("外观设计", PatentType.DESIGN),
                 ("发明", PatentType.INVENTION))
LATE_FEE = "滞纳金"
ANNUAL_FEE = "年费"


@dataclass
class PaymentLine:
    row: int
    number: str
    year: int | None
    amount: Decimal
    paid_on: date
    note: str | None
    is_late_fee_only: bool = False
    joined: list[PaymentLine] = field(default_factory=list)  # late-fee rows added to this one's amount


class PaymentRows:
    def __init__(self, header: Header, sink: ProblemSink, options: Options) -> None:
        self.header, self.sink, self.options = header, sink, options
        self.labels = labels_for("payments", header)
        self.lines: list[PaymentLine] = []
        self.skipped = 0
        self.topups = 0
        self.owed: list[dict[str, object]] = []  # years left paid short: {application_number, year, owed, as_of}
        self._seen: set[tuple] = set()

    def read(self, rows: Iterator[tuple[int, list[Cell]]]) -> int:
        count = 0
        for number, cells in rows:
            count += 1
            line = self.line(RowCells(number, cells, self.header, self.sink, self.labels))
            if line is not None and self._is_new(line):
                self.lines.append(line)
        return count

    def _is_new(self, line: PaymentLine) -> bool:
        # The same payment twice in one file is one payment (identical duplicates merge).
        key = (line.number, line.year, line.amount, line.paid_on, line.note, line.is_late_fee_only)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def line(self, r: RowCells) -> PaymentLine | None:
        number = application_number(r)
        name = r.value("fee_name", values.text)
        year = r.value("year", values.patent_year)
        amount = r.value("amount", values.amount, required=True)
        paid_on = r.value("paid_on", values.day, required=True)
        note = r.value("note", values.text)
        is_late = bool(name) and LATE_FEE in name
        if name and not is_late and ANNUAL_FEE not in name:
            r.problem("fee_name", "not_annual_fee", WARNING, value=name)
            self.skipped += 1
            return None
        year = self.year_from_name(r, name, year, number)
        if r.has_error or number is None or amount is None or paid_on is None:
            return None
        if year is None and not is_late:
            r.problem("year", "fee_year_missing")
            return None
        return PaymentLine(r.number, number, year, amount, paid_on, note, is_late and year is None)

    def year_from_name(self, r: RowCells, name: str | None, year: int | None, number: str | None) -> int | None:
        if not name:
            return year
        match = _YEAR_IN_NAME.search(name)
        named_type = next((t for word, t in _TYPE_IN_NAME if word in name), None)
        if number and named_type:
            digits = number.split(".")[0]
            number_type = TYPE_BY_DIGIT[digits[2] if len(digits) == 8 else digits[4]]
            if named_type != number_type:
                r.problem("fee_name", "fee_type_contradicts", value=name, fee_type=named_type.label_zh,
                          number=number, type=number_type.label_zh)
        if match and year is not None and int(match.group(1)) != year:
            r.problem("year", "year_invalid", value=f"{year} ≠ {name}")
        return year if year is not None else (int(match.group(1)) if match else None)

    # -- stage two: against the patents on record

    def checked(self, lookup: Lookup) -> tuple[list[tuple], list[tuple]]:
        """(payments, patent updates): the accepted payments, and the paid-through advances they make."""
        lines = self.joined_late_fees()
        stored = lookup.patents({line.number for line in lines})
        accepted: dict[str, list[PaymentLine]] = {}
        for line in sorted(lines, key=lambda x: (x.number, x.paid_on, x.row)):
            patent = stored.get(line.number)
            if patent is None:
                self.sink.add(line.row, self.labels["application_number"], "patent_unknown", value=line.number)
                continue
            previous = accepted.setdefault(line.number, [])
            if _is_on_record(line, patent) or self.amount_fits(line, patent, previous):
                previous.append(line)
        self.reject_joined(lines)
        payments, patents = [], []
        for number, taken in accepted.items():
            good = [line for line in taken if line.row not in self.sink.error_rows]
            payments.extend((x.number, x.year, x.amount, x.paid_on, x.note) for x in good)
            self.note_owed(stored[number], good)
            advance = self.advanced(stored[number], good)
            if advance is not None:
                patents.append(advance)
        return payments, patents

    def joined_late_fees(self) -> list[PaymentLine]:
        """Late-fee rows without a year, added to the annual fee paid for the same patent on the same day
        (the earliest year, when several were paid that day: a late fee is owed on an overdue year)."""
        annual = sorted((x for x in self.lines if not x.is_late_fee_only), key=lambda x: (x.year, x.row))
        partners: dict[tuple[str, date], PaymentLine] = {}
        for line in annual:
            partners.setdefault((line.number, line.paid_on), line)
        for line in (x for x in self.lines if x.is_late_fee_only):
            partner = partners.get((line.number, line.paid_on))
            if partner is None:
                self.sink.add(line.row, self.labels["fee_name"], "late_fee_unmatched")
            else:
                partner.amount += line.amount
                partner.joined.append(line)
        return annual

    def reject_joined(self, lines: list[PaymentLine]) -> None:
        """A late-fee row goes with the annual-fee row it was joined to: rejected with it (so --partial writes
        both to the rejects file, and neither is lost)."""
        for line in lines:
            if line.row in self.sink.error_rows:
                for late in line.joined:
                    self.sink.add(late.row, self.labels["fee_name"], "late_fee_partner_rejected", partner=line.row)

    def amount_fits(self, line: PaymentLine, patent: StoredPatent, previous: list[PaymentLine]) -> bool:
        column = self.labels["amount"]
        try:
            schedule = _schedule(patent, self.options)
            due = quote(schedule, line.paid_on, line.year)
        except (LapsedError, FeeInputError) as exc:
            code = "paid_after_grace" if isinstance(exc, LapsedError) else "year_outside"
            self.sink.add(line.row, self.labels["paid_on"] if code == "paid_after_grace" else self.labels["year"],
                          code, detail=in_every_language(exc))
            return False
        full_fee = schedule.year(line.year).full_fee
        full = full_fee + due.late_fee
        already = patent.paid_in(line.year) + sum(
            (x.amount for x in previous if x.year == line.year and not _is_on_record(x, patent)), Decimal(0))
        if already > 0:
            # The year's total may reach the full fee only if the full fee was paid (no reduction yet on record).
            cap = full if already >= full_fee else due.total
            if already + line.amount <= cap:
                self.topups += 1
                return True
            self.sink.add(line.row, column, "amount_over_topup", amount=_shown_amount(line), year=line.year,
                          total=already + line.amount, expected=cap, paid_on=line.paid_on)
            return False
        if line.amount in (due.total, full):
            return True
        expected = f"{due.total} ({due.fee} + {due.late_fee})" + (f" / {full}" if full != due.total else "")
        if due.late_fee and due.fee <= line.amount < due.total:
            self.sink.add(line.row, column, "late_fee_short", WARNING, amount=_shown_amount(line), year=line.year,
                          paid_on=line.paid_on, expected=expected, short=due.total - line.amount)
            return True
        self.sink.add(line.row, column, "amount_mismatch", amount=_shown_amount(line), year=line.year,
                      paid_on=line.paid_on, expected=expected)
        return False

    def note_owed(self, patent: StoredPatent, lines: list[PaymentLine]) -> None:
        """The years these payments leave paid short (a late fee not paid in full), after every payment on record
        and in the file: the import summary lists them, as `custody patent show` does."""
        paid = [*patent.payments, *((x.year, x.amount, x.paid_on) for x in lines if not _is_on_record(x, patent))]
        years = {x.year for x in lines}
        owed = amounts_owed(_schedule(patent, self.options), paid)
        self.owed.extend({"application_number": patent.facts.application_number, "year": year, "owed": str(rest),
                          "as_of": on.isoformat()} for year, (rest, on) in owed.items() if year in years)

    def advanced(self, patent: StoredPatent, lines: list[PaymentLine]) -> tuple | None:
        """The patent row that moves paid-through over the run of years now paid, or None."""
        facts = patent.facts
        years = facts.paid_years | {x.year for x in lines}
        if facts.paid_through is not None:
            start = facts.paid_through
        elif facts.grant_year is not None:
            start = facts.grant_year - 1  # the grant-year fee is the first annual fee (Rule 114)
        else:
            start = min(years) - 1
        end = paid_run_end(frozenset(years), start)
        for line in lines:
            if line.year > end:
                self.sink.add(line.row, self.labels["year"], "payment_gap", WARNING, year=line.year,
                              paid_through=end if end > 0 else "-")
        if end <= start:
            return None
        row = dict.fromkeys(PATENT_FIELDS)
        row.update(application_number=facts.application_number, paid_through=end, paid_through_inferred=False)
        if patent.unknown_through is not None and patent.unknown_through <= end:
            row["unknown_through"] = 0  # every fee that was "unknown — check" now has its payment: clear it
        return tuple(row[f] for f in PATENT_FIELDS)


def _is_on_record(line: PaymentLine, patent: StoredPatent) -> bool:
    """The same payment (year, amount, date) is already stored: a re-import, not a second payment."""
    return (line.year, line.amount, line.paid_on) in {(y, a, d) for y, a, d in patent.payments}


def _schedule(patent: StoredPatent, options: Options) -> Schedule:
    # Quotes do not depend on what is paid; the schedule is built from the facts on record.
    return fee_schedule(patent.facts, options.rules, options.calendar)


def _shown_amount(line: PaymentLine) -> str:
    """The amount a message quotes: with a joined late-fee row, the sum and its parts (the row alone says less)."""
    late = sum((x.amount for x in line.joined), Decimal(0))
    return f"{line.amount} ({line.amount - late} + {late})" if line.joined else str(line.amount)
