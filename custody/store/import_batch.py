"""What an import hands to the store and what the store hands back: rows in fixed field orders, and the Outcome.

Importers (importers/) turn a file into plain rows (tuples in the *_FIELDS orders below; None means "the file
does not say", never "clear it") and hand them over in Batches, one per chunk of the file; custody.store.imports
writes them all in one transaction and fills one Outcome: counts per table, the changes field by field, and
what it held back (a paid-through year it would not lower).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PATENT_FIELDS = (
    "application_number", "type", "title", "owners", "filing_date", "granted_on", "grant_year",
    "grant_year_inferred", "paid_through", "paid_through_inferred", "unknown_through", "reduction",
    "term_extension_days", "legal_status", "legal_status_date", "mode", "enterprise_id",
)
# unknown_through: with a paid-through year inferred from the legal status, the last year whose fee was in its
# grace period on the file's date ("unknown — check"); 0 says "none" (clears it), None says nothing.
ENTERPRISE_FIELDS = ("credit_code", "name")
CONTACT_FIELDS = ("credit_code", "name", "role", "mobile", "email", "consent_sms", "consent_email")
PAYMENT_FIELDS = ("application_number", "year", "amount", "paid_on", "note")
LIST_LIMIT = 1000  # keys and changes listed in an Outcome; the counts are always complete


@dataclass
class Batch:
    """Rows one file brings (or one chunk of it), checked, in the *_FIELDS orders.

    `patent_rows` holds, when the rows come from a patents file, each patent row's line in the file (so what
    the store holds back can be reported at file:row)."""

    kind: str
    file_name: str
    sha256: str
    rows_read: int = 0
    rows_rejected: int = 0
    partial: bool = False
    enterprises: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    patents: list[tuple] = field(default_factory=list)
    patent_rows: list[int] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.enterprises) + len(self.contacts) + len(self.patents) + len(self.payments)

    def extend(self, other: Batch) -> None:
        self.enterprises.extend(other.enterprises)
        self.contacts.extend(other.contacts)
        self.patents.extend(other.patents)
        self.patent_rows.extend(other.patent_rows)
        self.payments.extend(other.payments)


@dataclass(frozen=True)
class Change:
    table: str
    key: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HeldBack:
    """A paid-through year the file would have lowered, and the year kept (see custody.store.import_patents)."""

    row: int | None
    key: str
    given: int
    kept: int
    on_record: int
    paid_years: tuple[int, ...]  # years after `given` with payments on record, when they set `kept`
    # Not lowered but raised: `given` ran on over the years with payments on record right after it, clearing this
    # many fees the file had as "unknown — check" (custody.store.import_patents._over_payments).
    over_payments: bool = False
    checks_cleared: int = 0


@dataclass
class TableCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class Outcome:
    import_id: int | None
    dry_run: bool
    counts: dict[str, TableCounts] = field(default_factory=dict)
    new_keys: dict[str, list[str]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    changes_total: int = 0
    held_back: list[HeldBack] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return any(c.new or c.updated for c in self.counts.values())

    def table(self, name: str) -> TableCounts:
        return self.counts.setdefault(name, TableCounts())

    def note_new(self, table: str, key: str) -> None:
        self.table(table).new += 1
        keys = self.new_keys.setdefault(table, [])
        if len(keys) < LIST_LIMIT:
            keys.append(key)

    def note_new_many(self, table: str, keys: list[str]) -> None:
        self.table(table).new += len(keys)
        listed = self.new_keys.setdefault(table, [])
        listed.extend(keys[:max(0, LIST_LIMIT - len(listed))])

    def note_change(self, change: Change) -> None:
        self.changes_total += 1
        if len(self.changes) < LIST_LIMIT:
            self.changes.append(change)
