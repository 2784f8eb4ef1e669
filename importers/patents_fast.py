"""The common rows of a large portfolio, read fast; every other row is read by importers.patents.PatentRows.record.

A portfolio repeats itself: the same few spellings of types, reductions and statuses, a few thousand dates, a
few enterprises. This reader looks each distinct cell up once (a dict per column) and checks a row with plain
comparisons; a row it cannot vouch for (an unusual spelling, any cell that does not read, anything that would
give an error or a warning other than the "unknown — check" fees) goes to the reference reading, which says
what is wrong. So the records and the messages are the same as the reference's, which a test holds it to, and
the fee engine's checks (custody.fees.fact_problems) are mirrored here only as a screen: a row passes only
when none of them can apply.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from custody.appno import FIRST_NEW_FORM_YEAR, LAST_NEW_FORM_YEAR, TYPE_BY_DIGIT, WEIGHTS
from custody.domain import PatentFacts, PatentType, Reduction
from custody.fees import LAST_FILING_DATE, MAX_TERM_EXTENSION_DAYS, FeeInputError, anniversary, grant_year_of
from importers import legal_status, values
from importers.contradictions import contradictions
from importers.problems import WARNING
from importers.readers import Cell
from importers.rows import RowCells

if TYPE_CHECKING:
    from importers.patents import PatentRows

# The cells a portfolio repeats in a few combinations, looked up together (one dict look-up for seven cells), and
# the others, one by one.
COMBINED = ("type", "grant_year", "paid_through", "reduction", "legal_status", "term_extension_days", "mode")
SINGLE = ("application_number", "filing_date", "granted_on", "legal_status_date", "title", "owners",
          "enterprise_code", "enterprise_name")
MAX_COMBINATIONS = 100_000  # a file whose combinations keep changing row by row reads them column by column
_CHECK = "0123456789X"
# Weighted digit sums of 4-digit groups (ZC 0006-2003 weights 2..9,2..5), so a 12-digit check is three lookups.
_GROUP_A = [sum(int(d) * w for d, w in zip(f"{n:04d}", WEIGHTS[0:4], strict=True)) for n in range(10000)]
_GROUP_B = [sum(int(d) * w for d, w in zip(f"{n:04d}", WEIGHTS[4:8], strict=True)) for n in range(10000)]


def is_canonical_number(raw: object) -> bool:
    """201710601862.3 exactly, with a check character, type digit and year that custody.appno accepts."""
    if type(raw) is not str or len(raw) != 14 or raw[12] != "." or not raw[:12].isdigit() or not raw.isascii():
        return False
    if raw[4] not in TYPE_BY_DIGIT or not FIRST_NEW_FORM_YEAR <= int(raw[:4]) <= LAST_NEW_FORM_YEAR:
        return False
    total = _GROUP_A[int(raw[0:4])] + _GROUP_B[int(raw[4:8])] + _GROUP_A[int(raw[8:12])]
    return raw[13] == _CHECK[total % 11]


class _Slow(Exception):
    """This row goes to the reference reading."""


_SLOW = _Slow()
_MISS = object()


class _Column:
    """One column's cells read once each: `known` maps a cell read well to its value; `value` reads a cell not
    seen yet, and raises _Slow (then and every later time) for one the reference reading has to look at."""

    def __init__(self, reader: Callable[[Cell], Any]) -> None:
        self.reader, self.known, self.bad = reader, {None: None}, set()

    def value(self, cell: Cell) -> Any:
        if cell in self.bad:
            raise _SLOW
        try:
            found = self.reader(cell)
        except (values.CellProblem, TypeError):
            self.bad.add(cell)
            raise _SLOW from None
        self.known[cell] = found
        return found


def _plain_year(cell: Cell) -> int:
    """A paid-through year as a year only: 年费缴至 a date goes to the reference reading."""
    return values.patent_year(cell)


class FastPatents:
    """Reads chunks of rows for one PatentRows; see the module docstring."""

    def __init__(self, rows: PatentRows) -> None:
        self.rows = rows
        index, width = rows.header.index, len(rows.header.cells)
        # Rows come one cell longer than the header, None last (importers.header): a missing field reads that.
        self.cells_of = itemgetter(*(index.get(field, width) for field in SINGLE))
        self.combination_of = itemgetter(*(index.get(field, width) for field in COMBINED))
        self.days, self.codes, self.names = _Column(values.day), _Column(self._by_code), _Column(self._by_name)
        statuses = _Column(self._status)
        statuses.known[None] = (None, None)
        self.combined_columns = (_Column(values.patent_type), _Column(values.patent_year), _Column(_plain_year),
                                 _Column(values.reduction), statuses, _Column(values.whole_number),
                                 _Column(values.mode))
        self.combinations: dict[tuple[Cell, ...], tuple] = {}
        self.terms: dict[tuple[PatentType, date], tuple[int, date]] = {}
        rules = rows.options.rules
        self.earliest = {kind: rules.earliest_filing_date(kind) for kind in PatentType}
        self.grant_year_required = rules.settings.grant_year_inference == "require"
        self.paid_label = rows.labels["paid_through"]

    def read(self, chunk: list[tuple[int, list[Cell]]]) -> list[tuple[int, tuple | None]]:
        """(row, record or None) for every row of `chunk`, in order."""
        fast, slow = self.record, slow_reader(self.rows)
        found = []
        for number, cells in chunk:
            try:
                found.append((number, fast(number, cells)))
            except _Slow:
                found.append((number, slow(number, cells)))
        return found

    def record(self, number: int, cells: list[Cell]) -> tuple:
        """The row's record, or _Slow. Each cell is looked up in its column's dict, read once when new."""
        appno, filing_cell, granted_cell, status_date_cell, title, owners, code_cell, name_cell = self.cells_of(cells)
        if filing_cell is None or not is_canonical_number(appno):
            raise _SLOW
        combination = self.combination_of(cells)
        if (found := self.combinations.get(combination)) is None:
            found = self.combined(combination)
        patent_type, grant_year, paid, reduction, status_read, extension, mode = found
        days = self.days
        if (filing := days.known.get(filing_cell, _MISS)) is _MISS:
            filing = days.value(filing_cell)
        if (granted := days.known.get(granted_cell, _MISS)) is _MISS:
            granted = days.value(granted_cell)
        if (status_date := days.known.get(status_date_cell, _MISS)) is _MISS:
            status_date = days.value(status_date_cell)
        digit_type = TYPE_BY_DIGIT[appno[4]]
        if ((patent_type is not None and patent_type is not digit_type) or filing.year > int(appno[:4])
                or (title is not None and (title.__class__ is not str or not title.isprintable()))
                or (owners is not None and (owners.__class__ is not str or not owners.isprintable()))):
            raise _SLOW
        enterprise_id = self.enterprise(code_cell, name_cell, owners)
        self.check_facts(digit_type, filing, granted, grant_year, paid, extension)
        grant_inferred = grant_year is None
        if grant_inferred:
            try:
                grant_year, _ = grant_year_of(PatentFacts(digit_type, filing, None, granted), self.rows.options.rules)
            except FeeInputError:
                raise _SLOW from None
        self.check_paid_through(paid, grant_year)
        status, meaning = status_read
        if paid is not None and self.may_contradict(filing, grant_year, paid, status, meaning,
                                                    status_date or self.rows.as_of) \
                and contradictions(PatentFacts(digit_type, filing, grant_year, granted, paid,
                                               reduction=reduction or Reduction.NONE),
                                   grant_year, meaning, status, status_date or self.rows.as_of, self.rows.infer):
            raise _SLOW  # the reference warns about an impossible history
        unknown, paid_inferred = 0, False
        if paid is None:
            if meaning != legal_status.IN_FORCE:
                if status is None:
                    raise _SLOW  # the reference warns: nothing to infer from
                unknown, paid_inferred = None, None
            else:
                status_date = status_date or self.rows.as_of
                paid, unknown = self.inferred(number, digit_type, filing, grant_year, reduction, extension,
                                              status_date, status)
                paid_inferred = None if paid is None else True
        self.rows.stats.grant_year_inferred += grant_inferred
        return (appno, digit_type, title, owners, filing, granted, grant_year, grant_inferred, paid, paid_inferred,
                unknown, reduction, extension, status, status_date, mode, enterprise_id)

    def combined(self, cells: tuple[Cell, ...]) -> tuple:
        """The values of the COMBINED cells, each read by its column (_Slow for one that does not read); the
        combination is remembered while there are fewer than MAX_COMBINATIONS."""
        found = tuple(column.known[cell] if cell in column.known else column.value(cell)
                      for column, cell in zip(self.combined_columns, cells, strict=True))
        if len(self.combinations) < MAX_COMBINATIONS:
            self.combinations[cells] = found
        return found

    def check_facts(self, patent_type: PatentType, filing: date, granted: date | None, grant_year: int | None,
                    paid: int | None, extension: int | None) -> None:
        """_Slow unless none of custody.fees.fact_problems applies (nor is it a pending application); the check
        of paid-through against the grant year waits for the grant year (`check_paid_through`)."""
        earliest = self.earliest[patent_type]
        if earliest is None or not earliest <= filing <= LAST_FILING_DATE:
            raise _SLOW
        found = self.terms.get((patent_type, filing))
        last, expiry = found if found is not None else self.term(patent_type, filing)
        if ((granted is not None and granted < filing)
                or (grant_year is None and (granted is None or granted >= expiry or self.grant_year_required))
                or (grant_year is not None and not 1 <= grant_year <= last)
                or (paid is not None and not 0 <= paid <= last)
                or (extension and (not 0 < extension <= MAX_TERM_EXTENSION_DAYS
                                   or patent_type is not PatentType.INVENTION))):
            raise _SLOW

    @staticmethod
    def may_contradict(filing: date, grant_year: int, paid: int, status: str | None, meaning: str | None,
                       as_of: date) -> bool:
        """Whether importers.contradictions could find anything, as a screen: most rows then skip the facts and
        the deadline it works out. Each of its findings needs one of these: a grant year past the paid-through
        year, a termination, or an in-force patent whose next fee fell due before the file's date."""
        return grant_year > paid or (bool(status) and (
            meaning == legal_status.ENDED or (meaning == legal_status.IN_FORCE and anniversary(filing, paid) < as_of)))

    @staticmethod
    def check_paid_through(paid: int | None, grant_year: int) -> None:
        """_Slow when paid-through lies more than a year below the grant year (custody.fees, Rule 114)."""
        if paid is not None and paid < grant_year - 1:
            raise _SLOW

    def term(self, patent_type: PatentType, filing: date) -> tuple[int, date]:
        key = (patent_type, filing)
        found = self.terms.get(key)
        if found is None:
            last = self.rows.infer.term_years(patent_type, filing)
            found = self.terms[key] = (last, anniversary(filing, last))
        return found

    def inferred(self, number: int, patent_type: PatentType, filing: date, grant_year: int,
                 reduction: Reduction | None, extension: int | None, as_of: date,
                 status: str) -> tuple[int | None, int | None]:
        """(paid-through year, last fee year to check or 0), with the reference's warnings for those fees, or
        (None, None) with its warning for a patent said in force after its term ended."""
        facts = PatentFacts(patent_type, filing, grant_year, reduction=reduction or Reduction.NONE,
                            term_extension_days=extension or 0)
        inference = self.rows.infer(facts, as_of)
        if inference.paid_through is None:
            self.rows.sink.add(number, self.rows.labels["legal_status"], "in_force_past_expiry", WARNING,
                               status=status, as_of=as_of.isoformat(), expiry=inference.expiry.isoformat())
            return None, None
        stats = self.rows.stats
        for year, due, grace_end in inference.unknown:
            stats.check_fees += 1
            self.rows.sink.add(number, self.paid_label, "paid_through_check", WARNING, year=year, due=due.isoformat(),
                               grace_end=grace_end.isoformat(), as_of=as_of.isoformat())
        stats.paid_through_inferred += 1
        return inference.paid_through, inference.unknown[-1][0] if inference.unknown else 0

    def enterprise(self, code: Cell, name: Cell, owners: str | None) -> int | None:
        """As PatentRows.enterprise_of, for the cells that read without a problem; _Slow for the others."""
        if code is not None:
            found = self.codes.known.get(code, _MISS)
            return self.codes.value(code) if found is _MISS else found
        if name is not None:
            found = self.names.known.get(name, _MISS)
            return self.names.value(name) if found is _MISS else found
        option = self.rows.enterprises.option
        if option is not None:
            return option.id
        matches = self.rows.enterprises.by_name.get(owners or "", [])
        return matches[0].id if len(matches) == 1 else None

    def _by_code(self, cell: Cell) -> int:
        code = values.credit_code(cell)
        found, option = self.rows.enterprises.by_code.get(code), self.rows.enterprises.option
        if found is None or (option is not None and found.id != option.id):
            raise values.CellProblem("enterprise")
        return found.id

    def _by_name(self, cell: Cell) -> int:
        matches = self.rows.enterprises.by_name.get(values.name(cell) or "", [])
        option = self.rows.enterprises.option
        if len(matches) != 1 or (option is not None and matches[0].id != option.id):
            raise values.CellProblem("enterprise")
        return matches[0].id

    @staticmethod
    def _status(cell: Cell) -> tuple[str | None, str | None]:
        """(status as written, its meaning); a status we do not know goes to the reference (it warns)."""
        status = values.text(cell)
        meaning = legal_status.meaning(status) if status else None
        if status and meaning is None:
            raise values.CellProblem("legal_status")
        return status, meaning


def slow_reader(rows: PatentRows) -> Callable[[int, list[Cell]], tuple | None]:
    """The reference reading of one row (PatentRows.record), for the rows the fast reader passes on."""
    def read(number: int, cells: list[Cell]) -> tuple | None:
        return rows.record(RowCells(number, cells, rows.header, rows.sink, rows.labels))
    return read
