"""Writing imported patents: upsert by application number, field by field, with the audit trail.

Three rules keep a weaker value from overwriting a stronger one:
- an inferred paid-through year only ever raises the stored year;
- a paid-through year given by the file never lowers the stored one either: an older export must not undo
  newer facts (a payment recorded since, a later file). The file's year is held back and reported, unless the
  operator asks for it (--allow-lower-paid-through); even then it never drops below the run of years that
  have payments on record;
- an inferred grant year never replaces one that was given.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from custody.domain import Reduction
from custody.models import Patent, Payment, UtcDateTime
from custody.models.imports import CREATED, PatentChange
from custody.store.bulk import insert_rows
from custody.store.import_batch import PATENT_FIELDS, Change, HeldBack, Outcome
from custody.store.patents import paid_run_end

PATENT = Patent.__table__
PAYMENT = Payment.__table__
AUDIT = PatentChange.__table__
# Defaults for a new patent's columns the file left empty.
PATENT_DEFAULTS = {"title": "", "owners": "", "grant_year_inferred": False, "paid_through_inferred": False,
                   "reduction": Reduction.NONE, "term_extension_days": 0, "mode": "custody"}
AUDIT_COLUMNS = ("patent_id", "field", "old_value", "new_value", "import_id", "source", "changed_at")
# Prepared once: an expanding IN takes a whole chunk of keys without building a clause per value.
EXISTING_PATENTS = sa.select(PATENT).where(PATENT.c.application_number.in_(sa.bindparam("numbers", expanding=True)))
PAID_YEARS = (sa.select(PAYMENT.c.patent_id, PAYMENT.c.year).distinct()
              .where(PAYMENT.c.patent_id.in_(sa.bindparam("ids", expanding=True))))
KEYS_PER_QUERY = 2000


class PatentWriter:
    """Writes chunks of patent rows for one import, with their audit rows; then `finish`."""

    def __init__(self, conn: Connection, outcome: Outcome, import_id: int, now: datetime, source: str,
                 allow_lower_paid_through: bool = False) -> None:
        self.conn, self.outcome, self.import_id, self.now, self.source = conn, outcome, import_id, now, source
        self.allow_lower = allow_lower_paid_through
        self.memo: dict[str, dict[Any, Any]] = {}  # converted values, kept across chunks (custody.store.bulk)
        # A first import into an empty table finds nothing on record: no lookups (a patent another session
        # inserted meanwhile would still fail on the unique key, never be overwritten).
        self.table_was_empty = conn.execute(sa.select(PATENT.c.id).limit(1)).first() is None
        self.audit_after: int | None = None  # PostgreSQL: the new patents' audit rows wait for `finish`

    def write(self, rows: Sequence[tuple], row_numbers: Sequence[int] = ()) -> None:
        """Upsert one chunk of rows (no key twice: importers merge duplicates)."""
        existing = self._existing([r[0] for r in rows])
        paid_years = self._paid_years(existing, rows) if existing else {}
        new, updates, audit = [], {}, []
        for i, row in enumerate(rows):
            old = existing.get(row[0]) if existing else None
            if old is None:
                new.append(row)
                continue
            line = row_numbers[i] if i < len(row_numbers) else None
            changed = self._changes(old, dict(zip(PATENT_FIELDS, row, strict=True)), paid_years, line)
            if not changed:
                self.outcome.table("patent").unchanged += 1
                continue
            self.outcome.table("patent").updated += 1
            updates.setdefault(tuple(sorted(changed)), []).append({"b_id": old.id, **changed})
            for name, value in changed.items():
                self.outcome.note_change(Change("patent", row[0], name, getattr(old, name), value))
                audit.append((old.id, name, _text(getattr(old, name)), _text(value), self.import_id, self.source,
                              self.now))
        for names, params in updates.items():
            statement = PATENT.update().where(PATENT.c.id == sa.bindparam("b_id")).values(
                {**{name: sa.bindparam(name) for name in names}, "updated_at": self.now})
            self.conn.execute(statement, params)
        self._insert_new(new)
        insert_rows(self.conn, AUDIT, AUDIT_COLUMNS, audit)

    def _existing(self, numbers: list[str]) -> dict[str, Any]:
        """The stored rows among `numbers`: first which exist, with one plain statement per 2000 keys (a new
        portfolio has none, and SQLAlchemy's expanding IN costs more than the query), then those rows, typed."""
        found: list[str] = []
        if self.table_was_empty:
            return {}
        if self.conn.dialect.name == "postgresql":
            query = "SELECT application_number FROM patent WHERE application_number = ANY(%s)"
            found = [r[0] for r in self.conn.exec_driver_sql(query, (numbers,))]
        else:
            for start in range(0, len(numbers), KEYS_PER_QUERY):
                part = numbers[start:start + KEYS_PER_QUERY]
                marks = ", ".join("?" * len(part))
                query = f"SELECT application_number FROM patent WHERE application_number IN ({marks})"
                found.extend(r[0] for r in self.conn.exec_driver_sql(query, tuple(part)))
        rows = {}
        for start in range(0, len(found), KEYS_PER_QUERY):
            part = found[start:start + KEYS_PER_QUERY]
            rows.update((r.application_number, r) for r in self.conn.execute(EXISTING_PATENTS, {"numbers": part}))
        return rows

    def _insert_new(self, rows: list[tuple]) -> None:
        for row in rows:
            if row[1] is None or row[4] is None:  # type, filing_date
                raise ValueError(f"patent {row[0]} is not on record and the file does not give its type and "
                                 "filing date")
        if not rows:
            return
        self.outcome.note_new_many("patent", [r[0] for r in rows])
        before = self.conn.execute(sa.select(sa.func.max(PATENT.c.id))).scalar() or 0
        # unknown_through 0 ("no fee to check") is stored as NULL.
        insert_rows(self.conn, PATENT, PATENT_FIELDS, rows, defaults=PATENT_DEFAULTS, null_if={"unknown_through": 0},
                    constants={"created_at": self.now, "updated_at": self.now}, memo=self.memo)
        if self.conn.dialect.name == "sqlite":
            self._audit_created(before)  # now, while the reader reads the next chunk: an id range of the table
        elif self.audit_after is None:
            self.audit_after = before

    def finish(self) -> None:
        """PostgreSQL: the "(created)" audit rows of the whole import, at the end, in one statement. Chunk by
        chunk, the planner (whose statistics still take the new table for empty) scanned the table each time:
        13.7 s at 1M."""
        if self.audit_after is not None:
            self._audit_created(self.audit_after)

    def _audit_created(self, after_id: int) -> None:
        """One "(created)" audit row per patent this import inserted past `after_id`, by one INSERT … SELECT: the
        patents created now are exactly those stamped with this import's time."""
        columns = [AUDIT.c.patent_id, AUDIT.c.field, AUDIT.c.import_id, AUDIT.c.source, AUDIT.c.changed_at]
        created = sa.select(PATENT.c.id, sa.literal(CREATED), sa.literal(self.import_id), sa.literal(self.source),
                            sa.literal(self.now, UtcDateTime())).where(PATENT.c.id > after_id,
                                                                      PATENT.c.created_at == self.now)
        self.conn.execute(sa.insert(AUDIT).from_select(columns, created))

    def _paid_years(self, existing: dict[str, Any], rows: Sequence[tuple]) -> dict[int, frozenset[int]]:
        """Years with payments on record, for the patents whose paid-through year the file would change (a
        re-import that gives the stored year asks nothing)."""
        paid = PATENT_FIELDS.index("paid_through")
        ids = [old.id for row in rows if (old := existing.get(row[0])) is not None
               and row[paid] is not None and row[paid] != old.paid_through]
        years: dict[int, set[int]] = {}
        for start in range(0, len(ids), KEYS_PER_QUERY):
            for patent_id, year in self.conn.execute(PAID_YEARS, {"ids": ids[start:start + KEYS_PER_QUERY]}):
                years.setdefault(patent_id, set()).add(year)
        return {patent_id: frozenset(found) for patent_id, found in years.items()}

    def _changes(self, old: Any, values: dict[str, Any], paid_years: dict[int, frozenset[int]],
                 line: int | None) -> dict[str, Any]:
        """The given fields whose value differs from the stored one, after the rules in the module docstring."""
        given = {k: v for k, v in values.items() if v is not None and k != "application_number"}
        if old.mode == "ended" and "mode" not in given:  # its custody had ended: importing it again takes it back
            given["mode"] = "custody"
        new_paid = given.get("paid_through")
        if new_paid is not None and old.paid_through is not None and new_paid <= old.paid_through:
            if given.get("paid_through_inferred") or new_paid == old.paid_through:
                # An inference says "at least this much was paid": it never lowers the year on record.
                if given.get("paid_through_inferred"):
                    self._covered(old, given, line)
                    _drop_paid_through(given)
            else:
                self._lowered(old, given, paid_years.get(old.id, frozenset()), line)
        if given.get("paid_through") is not None:
            self._over_payments(old, given, paid_years.get(old.id, frozenset()), line)
        # The fees to check go with the paid-through year they were inferred with; 0 clears them.
        if "unknown_through" in given:
            given["unknown_through"] = given["unknown_through"] or None
            if given["unknown_through"] == old.unknown_through:
                del given["unknown_through"]
        # A grant year that was given beats one inferred from the announcement date.
        if given.get("grant_year_inferred") and old.grant_year is not None and not old.grant_year_inferred:
            given.pop("grant_year", None)
            given.pop("grant_year_inferred", None)
        return {k: v for k, v in given.items() if k == "unknown_through" or v != getattr(old, k)}

    def _covered(self, old: Any, given: dict[str, Any], line: int | None) -> None:
        """The inferred year is below the one on record: the fees the file had as "unknown — check" up to that
        year are paid as far as the record knows; say so (a note), so they are not counted to check."""
        cleared = max(0, min(old.paid_through, given.get("unknown_through") or 0) - given["paid_through"])
        if cleared:
            self.outcome.held_back.append(HeldBack(line, old.application_number, given["paid_through"],
                                                   old.paid_through, old.paid_through, (), False, cleared))

    def _over_payments(self, old: Any, given: dict[str, Any], paid_years: frozenset[int], line: int | None) -> None:
        """Carry the file's paid-through year over the run of years with payments on record right after it: a
        year with a payment is known paid, never left to an inference or "unknown — check" (reminders read
        paid_through). A run ending in a payment is evidence, as custody.store.patents.add_payment has it."""
        start = given["paid_through"]
        end = paid_run_end(paid_years, start)
        if end <= start:
            return
        unknown = given.get("unknown_through") or 0
        cleared = max(0, min(end, unknown) - start)
        given.update(paid_through=end, paid_through_inferred=False)
        if unknown and unknown <= end:
            given["unknown_through"] = 0
        self.outcome.held_back.append(HeldBack(line, old.application_number, start, end, old.paid_through,
                                               tuple(range(start + 1, end + 1)), True, cleared))

    def _lowered(self, old: Any, given: dict[str, Any], paid_years: frozenset[int], line: int | None) -> None:
        """The file gives a lower paid-through year than the one on record: keep the higher one unless allowed,
        and never go below the run of years with payments on record."""
        new_paid = given["paid_through"]
        floor = paid_run_end(paid_years, new_paid)
        kept = max(floor, new_paid) if self.allow_lower else old.paid_through
        paid = tuple(sorted(y for y in paid_years if new_paid < y <= floor))
        self.outcome.held_back.append(HeldBack(line, old.application_number, new_paid, kept, old.paid_through,
                                               paid))
        if kept == old.paid_through:
            _drop_paid_through(given)
        else:
            given["paid_through"] = kept


def _drop_paid_through(given: dict[str, Any]) -> None:
    for name in ("paid_through", "paid_through_inferred", "unknown_through"):
        given.pop(name, None)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
