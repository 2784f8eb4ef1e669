"""The portfolio file: one patent per row, checked against the numbering standard and the fee rules.

What is checked per row: the application number and its check character (a number written without one is read
with the computed character, and a warning names it); the type column against the number's type digit; dates
that parse and agree (grant not before filing; a filing date in a later year than the number's is impossible, an
earlier one is normal for divisional and PCT national-phase applications); the fee engine's own fact checks
(custody.fees.fact_problems: grant year range, paid-through past expiry, ...); the enterprise, which a patent in
custody must have (its reminders go to that enterprise's contacts) unless one is on record already; a watch-only
patent (托管方式 监控) may do without. When the paid-through year is missing it is inferred from the legal
status (importers.inference).

`PatentRows.record` is the reference reading of a row; importers.patents_fast reads the common, clean rows of a
large file column by column and hands every other row to it, so both give the same records and messages.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from custody.appno import TYPE_BY_DIGIT, filing_date_problem, parse_application_number
from custody.domain import PatentFacts, PatentType, Reduction
from custody.explained import in_every_language
from custody.fees import fact_texts, grant_year_of, patent_year_on
from custody.store.import_batch import PATENT_FIELDS
from custody.store.imports import StoredEnterprise
from importers import legal_status, values
from importers.context import Lookup, Options
from importers.contradictions import contradictions
from importers.header import Header
from importers.inference import PaidThroughInference
from importers.patents_fast import FastPatents
from importers.problems import ERROR, WARNING, ProblemSink
from importers.readers import Cell
from importers.rows import Dedup, RowCells, application_number, labels_for

_MODE, _ENTERPRISE = PATENT_FIELDS.index("mode"), PATENT_FIELDS.index("enterprise_id")

# fact_problems speaks of these fields; the message's start says which column to point at.
FACT_FIELDS = (("grant date", "granted_on"), ("grant year", "grant_year"), ("the grant year", "grant_year"),
               ("paid-through", "paid_through"), ("term extension", "term_extension_days"),
               ("term compensation", "term_extension_days"))


@dataclass
class PatentStats:
    paid_through_inferred: int = 0
    grant_year_inferred: int = 0
    check_fees: int = 0  # fees in their grace period on the file's date: "unknown — check"


@dataclass
class Enterprises:
    """The enterprises a patent row can name: by credit code, by exact name, or the --enterprise option."""

    by_code: dict[str, StoredEnterprise]
    option: StoredEnterprise | None = None
    by_name: dict[str, list[StoredEnterprise]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for enterprise in self.by_code.values():
            self.by_name.setdefault(enterprise.name, []).append(enterprise)


def paid_through_cell(cell: Cell) -> int | date:
    """A year (5, 第5年) or the date the fees are paid until (年费缴至 2025-03-14)."""
    try:
        return values.patent_year(cell)
    except values.CellProblem:
        pass
    try:
        return values.day(cell)
    except values.CellProblem:  # neither: say what the column takes, not only "not a date"
        raise values.CellProblem("paid_through_invalid", value=values.shown(cell)) from None


class PatentRows:
    def __init__(self, header: Header, sink: ProblemSink, options: Options, enterprises: Enterprises,
                 as_of: date, lookup: Lookup | None = None, fast: bool = True) -> None:
        self.header, self.sink, self.options, self.enterprises, self.as_of = header, sink, options, enterprises, as_of
        self.lookup = lookup
        self.labels = labels_for("patents", header)
        self.infer = PaidThroughInference(options.rules, options.calendar)
        self.stats = PatentStats()
        self.dedup = Dedup(sink, self.labels["application_number"], [self.labels.get(f, f) for f in PATENT_FIELDS],
                           keep_records=False)
        self.late_rejections = False
        self.known_errors: set[int] = set()  # rows rejected before the current chunk
        self.fast = FastPatents(self) if fast else None

    def read_chunk(self, chunk: list[tuple[int, list[Cell]]]) -> tuple[list[tuple], list[int]]:
        """The accepted records of `chunk` and their rows; problems go to the sink. A row of an earlier chunk that
        a disagreeing duplicate here rejects sets `late_rejections` (it was handed out already)."""
        self.dedup.next_chunk()
        if self.fast is not None:
            read = self.fast.read(chunk)
        else:
            read = [(number, self.record(RowCells(number, cells, self.header, self.sink, self.labels)))
                    for number, cells in chunk]
        return self.accepted_of(read, chunk[0][0] if chunk else 0)

    def accepted_of(self, read: list[tuple[int, tuple | None]], first_row: int) -> tuple[list[tuple], list[int]]:
        """The records of one chunk that pass the chunk-wide checks (enterprise on record) and the duplicate
        check, in row order."""
        errors = self.sink.error_rows
        self.check_enterprises([(n, r) for n, r in read if r is not None and r[_ENTERPRISE] is None
                                and n not in errors])
        kept_rows, records = [], []
        for number, record in read:
            if record is not None and number not in errors and self.dedup.offer(record[0], number, record,
                                                                               record[0]):
                kept_rows.append(number)
                records.append(record)
        errors = self.sink.error_rows
        if any(row < first_row for row in errors - self.known_errors):
            self.late_rejections = True
        self.known_errors = set(errors)
        keep = [i for i, number in enumerate(kept_rows) if number not in errors]
        return [records[i] for i in keep], [kept_rows[i] for i in keep]

    def complete_duplicates(self, rows_again: Iterator[tuple[int, list[Cell]]]) -> None:
        """Say which fields differ for disagreeing duplicates far apart (only a hash of the earlier row was kept):
        the earlier rows are read again, into a scratch sink."""
        unresolved = {earlier.row: (later, earlier, record) for later, earlier, record in self.dedup.unresolved}
        if not unresolved:
            return
        scratch = PatentRows(self.header, ProblemSink(self.sink.file), self.options, self.enterprises, self.as_of)
        for number, cells in rows_again:
            if number in unresolved and number > self.header.row:
                later, earlier, record = unresolved.pop(number)
                cells = cells + [None] * (len(self.header.cells) - len(cells))
                prior = scratch.record(RowCells(number, cells, self.header, scratch.sink, self.labels))
                fields = self.dedup.differing(prior, record) if prior is not None else "…"
                for problem in (later, earlier):
                    self.sink.replace(problem, replace(problem, params={**problem.params, "fields": fields}))
            if not unresolved:
                break
        self.dedup.unresolved.clear()

    def check_enterprises(self, missing: list[tuple[int, tuple]]) -> None:
        """A patent in custody needs its enterprise: from the file, --enterprise, or on record already."""
        if not missing:
            return
        # A number an earlier row of this file passed with is a duplicate, judged by the duplicate check (the same
        # row again merges, another one is refused). The store is not asked: the import may have written that
        # row already, and the answer would depend on where the chunks break and on who reads (importers.forked).
        missing = [(number, record) for number, record in missing if record[0] not in self.dedup.seen]
        asked = [r[0] for _, r in missing]
        on_record = self.lookup.patent_enterprises(asked) if self.lookup and asked else {}
        for number, record in missing:
            if on_record.get(record[0]) is not None:
                continue
            if record[_MODE] == "watch":
                self.sink.add(number, None, "watch_without_enterprise", WARNING)
            else:
                self.sink.add(number, None, "enterprise_missing", ERROR)

    def record(self, r: RowCells) -> tuple | None:
        number = application_number(r)
        given_type = r.value("type", values.patent_type)
        filing = r.value("filing_date", values.day, required=True)
        granted = r.value("granted_on", values.day)
        grant_year = r.value("grant_year", values.patent_year)
        paid = r.value("paid_through", paid_through_cell)
        reduction = r.value("reduction", values.reduction)
        status = r.value("legal_status", values.text)
        status_date = r.value("legal_status_date", values.day)
        extension = r.value("term_extension_days", values.whole_number)
        mode = r.value("mode", values.mode)
        title, owners = r.value("title", values.text), r.value("owners", values.text)
        enterprise_id = self.enterprise_of(r, owners)
        if number is None or filing is None:
            return None
        patent_type = self.checked_type(r, number, given_type, filing)
        if isinstance(paid, date):
            paid = patent_year_on(filing, paid)
        meaning = legal_status.meaning(status) if status else None
        if status and meaning is None:
            r.problem("legal_status", "legal_status_unknown", WARNING, value=status)
        facts = PatentFacts(patent_type, filing, grant_year, granted, paid, reduction=reduction or Reduction.NONE,
                            term_extension_days=extension or 0)
        pending = grant_year is None and granted is None and meaning == legal_status.PENDING
        self.check_facts(r, facts, pending)
        if r.has_error:
            return None
        grant_year, grant_inferred = self.grant_year(facts, pending)
        paid, paid_inferred, unknown, status_date = self.paid_through(r, facts, pending, meaning, status,
                                                                      status_date)
        for column, code, params in contradictions(facts, grant_year, meaning, status, status_date or self.as_of,
                                                   self.infer):
            r.problem(column, code, WARNING, **params)
        return (number, patent_type, title, owners, filing, granted, grant_year, grant_inferred, paid,
                paid_inferred, unknown, reduction, extension, status, status_date, mode, enterprise_id)

    def checked_type(self, r: RowCells, number: str, given: PatentType | None, filing: date) -> PatentType:
        digits = number.split(".")[0]
        number_type = TYPE_BY_DIGIT[digits[2] if len(digits) == 8 else digits[4]]
        if given is not None and given != number_type:
            r.problem("type", "type_contradicts", value=values.shown(r.cell("type")), number=number,
                      type=number_type.label_zh if self.options.language == "zh" else number_type.value)
        # The cheap test first: only a filing year later than the number's first two or four digits can fail.
        if filing.year > (int(digits[:4]) if len(digits) == 12 else 1900 + int(digits[:2])):
            problem = filing_date_problem(parse_application_number(number), filing)
            if problem:
                r.problem("filing_date", "fact", detail=in_every_language(problem))
        return number_type

    def check_facts(self, r: RowCells, facts: PatentFacts, pending: bool) -> None:
        for text in fact_texts(facts, self.options.rules):
            if pending and text.msgid.startswith("the grant year is unknown"):
                continue
            field_name = next((f for prefix, f in FACT_FIELDS if text.msgid.startswith(prefix)), None)
            if field_name == "grant_year" and "grant_year" not in self.header.index:
                field_name = "granted_on" if "granted_on" in self.header.index else "grant_year"
            r.problem(field_name, "fact", detail=in_every_language(text))
        if pending:
            r.problem(None, "grant_year_unknown_pending", WARNING)

    def grant_year(self, facts: PatentFacts, pending: bool) -> tuple[int | None, bool | None]:
        if facts.grant_year is not None:
            return facts.grant_year, False
        if pending:
            return None, None
        year, inferred = grant_year_of(facts, self.options.rules)
        self.stats.grant_year_inferred += inferred
        return year, inferred

    def paid_through(self, r: RowCells, facts: PatentFacts, pending: bool, meaning: str | None, status: str | None,
                     status_date: date | None) -> tuple[int | None, bool | None, int | None, date | None]:
        """(paid-through year, inferred?, last fee year to check or 0, legal status date)."""
        if facts.paid_through is not None:
            return facts.paid_through, False, 0, status_date
        if pending or meaning != legal_status.IN_FORCE:
            if status is None and not pending:
                r.problem("paid_through", "paid_through_unknown", WARNING)
            return None, None, None, status_date
        as_of = status_date or self.as_of
        inference = self.infer(facts, as_of)
        if inference.paid_through is None:
            r.problem("legal_status", "in_force_past_expiry", WARNING, status=status, as_of=as_of.isoformat(),
                      expiry=inference.expiry.isoformat())
            return None, None, None, as_of
        for year, due, grace_end in inference.unknown:
            self.stats.check_fees += 1
            r.problem("paid_through", "paid_through_check", WARNING, year=year, due=due.isoformat(),
                      grace_end=grace_end.isoformat(), as_of=as_of.isoformat())
        self.stats.paid_through_inferred += 1
        unknown = inference.unknown[-1][0] if inference.unknown else 0
        return inference.paid_through, True, unknown, as_of

    def enterprise_of(self, r: RowCells, owners: str | None) -> int | None:
        option = self.enterprises.option
        if r.cell("enterprise_code") is not None:
            code = r.value("enterprise_code", values.credit_code)
            found = self.enterprises.by_code.get(code) if code else None
            if code and found is None:
                r.problem("enterprise_code", "enterprise_unknown", value=code)
            if found and option and found.id != option.id:
                r.problem("enterprise_code", "enterprise_contradicts_option", value=code, option=option.credit_code)
            return found.id if found else None
        if r.cell("enterprise_name") is not None:
            name = r.value("enterprise_name", values.name)
            return self.enterprise_by_name(r, name, option) if name else None
        if option is not None:
            return option.id
        # A sole owner whose name is exactly a known enterprise's is that enterprise.
        matches = self.enterprises.by_name.get(owners or "", [])
        return matches[0].id if len(matches) == 1 else None

    def enterprise_by_name(self, r: RowCells, name: str, option: StoredEnterprise | None) -> int | None:
        matches = self.enterprises.by_name.get(name, [])
        if not matches:
            r.problem("enterprise_name", "enterprise_unknown", value=name)
            return None
        if len(matches) > 1:
            r.problem("enterprise_name", "enterprise_name_ambiguous", value=name, count=len(matches))
            return None
        if option and matches[0].id != option.id:
            r.problem("enterprise_name", "enterprise_contradicts_option", value=name, option=option.credit_code)
        return matches[0].id

