"""Writing one checked import file: bulk upserts, the patent audit trail and the import log, in one transaction.

Importers (importers/) turn a file into plain rows (tuples in the *_FIELDS orders below; None means "the file
does not say", never "clear it") and hand them over in a Batch; this module is the only code that writes them.
Rows go in chunks with bulk statements (executemany on SQLite, COPY for new rows on PostgreSQL), never one ORM
object at a time: a million-row portfolio has to load in well under a minute.

Upsert keys: enterprises by credit code, contacts by (enterprise, mobile, else email), patents by application
number; a payment identical to one on record (patent, year, amount, date) is the same payment. Two rules keep a
weaker value from overwriting a stronger one: an inferred paid-through year only ever raises the stored year,
and an inferred grant year never replaces one that was given.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from custody.domain import DatePeriod, PatentFacts, PatentType, Reduction
from custody.models import Contact, Enterprise, OpenLicence, Patent, Payment, UtcDateTime
from custody.models.imports import CREATED, ImportRecord, PatentChange

PATENT_FIELDS = (
    "application_number", "type", "title", "owners", "filing_date", "granted_on", "grant_year",
    "grant_year_inferred", "paid_through", "paid_through_inferred", "reduction", "term_extension_days",
    "legal_status", "legal_status_date", "enterprise_id",
)
ENTERPRISE_FIELDS = ("credit_code", "name")
CONTACT_FIELDS = ("credit_code", "name", "role", "mobile", "email", "consent_sms", "consent_email")
PAYMENT_FIELDS = ("application_number", "year", "amount", "paid_on", "note")
# Defaults for a new patent's columns the file left empty.
PATENT_DEFAULTS = {"title": "", "owners": "", "grant_year_inferred": False, "paid_through_inferred": False,
                   "reduction": Reduction.NONE, "term_extension_days": 0}
NEW_PATENT_COLUMNS = (*PATENT_FIELDS, "mode", "created_at", "updated_at")
AUDIT_COLUMNS = ("patent_id", "field", "old_value", "new_value", "import_id", "source", "changed_at")
# A contact listed without a role is the enterprise's patent contact: the one reminders and digests go to.
DEFAULT_CONTACT_ROLE = "ip_manager"
CHUNK = 2000
LIST_LIMIT = 1000  # keys and changes listed in an Outcome; the counts are always complete

PATENT = Patent.__table__
ENTERPRISE = Enterprise.__table__
CONTACT = Contact.__table__
PAYMENT = Payment.__table__
AUDIT = PatentChange.__table__
IMPORT = ImportRecord.__table__
# Prepared once: an expanding IN takes a whole chunk of keys without building a clause per value.
EXISTING_PATENTS = sa.select(PATENT).where(PATENT.c.application_number.in_(sa.bindparam("numbers", expanding=True)))


# ------------------------------------------------------------------------------------------ reading (lookups)


@dataclass(frozen=True)
class StoredEnterprise:
    id: int
    credit_code: str
    name: str


@dataclass(frozen=True)
class StoredPatent:
    id: int
    facts: PatentFacts
    paid_through_inferred: bool
    payments: tuple[tuple[int, Decimal, date], ...] = ()  # (year, amount, paid_on)

    def paid_in(self, year: int) -> Decimal:
        return sum((amount for y, amount, _ in self.payments if y == year), Decimal("0"))


class StoreLookup:
    """Read-only answers for importers; enterprises are read once per file."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._enterprises: dict[str, StoredEnterprise] | None = None

    def enterprises(self) -> dict[str, StoredEnterprise]:
        if self._enterprises is None:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(ENTERPRISE.c.id, ENTERPRISE.c.credit_code, ENTERPRISE.c.name))
                self._enterprises = {r.credit_code: StoredEnterprise(r.id, r.credit_code, r.name) for r in rows}
        return self._enterprises

    def patents(self, numbers: Collection[str]) -> dict[str, StoredPatent]:
        found: dict[str, StoredPatent] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(numbers)), CHUNK):
                found.update(_stored_patents(conn, chunk))
        return found


def _stored_patents(conn: Connection, numbers: Sequence[str]) -> dict[str, StoredPatent]:
    rows = conn.execute(sa.select(PATENT).where(PATENT.c.application_number.in_(numbers))).all()
    ids = [r.id for r in rows]
    payments: dict[int, list[tuple[int, Decimal, date]]] = {}
    licences: dict[int, list[DatePeriod]] = {}
    if ids:
        query = sa.select(PAYMENT.c.patent_id, PAYMENT.c.year, PAYMENT.c.amount, PAYMENT.c.paid_on)
        for p in conn.execute(query.where(PAYMENT.c.patent_id.in_(ids)).order_by(PAYMENT.c.id)):
            payments.setdefault(p.patent_id, []).append((p.year, Decimal(p.amount), p.paid_on))
        query = sa.select(OpenLicence.__table__).where(OpenLicence.__table__.c.patent_id.in_(ids))
        for licence in conn.execute(query):
            licences.setdefault(licence.patent_id, []).append(DatePeriod(licence.start, licence.end))
    return {r.application_number: _stored_patent(r, payments.get(r.id, []), licences.get(r.id, [])) for r in rows}


def _stored_patent(row: Any, payments: list, licences: list) -> StoredPatent:
    facts = PatentFacts(
        type=PatentType(row.type), filing_date=row.filing_date, grant_year=row.grant_year, granted_on=row.granted_on,
        paid_through=row.paid_through, paid_years=frozenset(y for y, _, _ in payments),
        reduction=Reduction(row.reduction), open_licences=tuple(sorted(licences, key=lambda p: p.start)),
        term_extension_days=row.term_extension_days, application_number=row.application_number,
    )
    return StoredPatent(row.id, facts, bool(row.paid_through_inferred), tuple(payments))


@dataclass(frozen=True)
class PreviousImport:
    id: int
    file_name: str
    finished_at: datetime


def previous_import(engine: Engine, sha256: str, kind: str) -> PreviousImport | None:
    """The last real (not dry-run) import of a file with this content, if any."""
    query = (sa.select(IMPORT.c.id, IMPORT.c.file_name, IMPORT.c.finished_at)
             .where(IMPORT.c.sha256 == sha256, IMPORT.c.kind == kind, IMPORT.c.dry_run == sa.false())
             .order_by(IMPORT.c.id.desc()).limit(1))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return PreviousImport(row.id, row.file_name, row.finished_at) if row else None


# ------------------------------------------------------------------------------------------ writing


@dataclass
class Batch:
    """Everything one file brings, checked, as rows in the *_FIELDS orders."""

    kind: str
    file_name: str
    sha256: str
    rows_read: int = 0
    rows_rejected: int = 0
    partial: bool = False
    enterprises: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    patents: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.enterprises) + len(self.contacts) + len(self.patents) + len(self.payments)


@dataclass(frozen=True)
class Change:
    table: str
    key: str
    field: str
    old: Any
    new: Any


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

    def note_change(self, change: Change) -> None:
        self.changes_total += 1
        if len(self.changes) < LIST_LIMIT:
            self.changes.append(change)


MAIN_TABLE = {"enterprises": "enterprise", "patents": "patent", "payments": "payment"}
Progress = Callable[[int], None]


def apply_batch(engine: Engine, batch: Batch, *, dry_run: bool, started_at: datetime, now: datetime,
                progress: Progress | None = None) -> Outcome:
    """Write `batch` in one transaction (rolled back for a dry run) and record the import; the Outcome says
    what was (or would be) new, updated field by field, and unchanged."""
    outcome = Outcome(None, dry_run)
    with engine.connect() as conn:
        with conn.begin() as transaction:
            import_id = _insert_import(conn, batch, dry_run, started_at, now)
            _Writer(conn, batch, outcome, import_id, now, progress or (lambda n: None)).write()
            if dry_run:
                transaction.rollback()
            else:
                _finish_import(conn, import_id, outcome, batch, now)
                outcome.import_id = import_id
        if dry_run:
            with conn.begin():
                outcome.import_id = _insert_import(conn, batch, dry_run, started_at, now)
                _finish_import(conn, outcome.import_id, outcome, batch, now)
    return outcome


def _insert_import(conn: Connection, batch: Batch, dry_run: bool, started_at: datetime, now: datetime) -> int:
    values = {"file_name": batch.file_name, "sha256": batch.sha256, "kind": batch.kind, "dry_run": dry_run,
              "partial": batch.partial, "rows_read": batch.rows_read, "rows_rejected": batch.rows_rejected,
              "new": 0, "updated": 0, "unchanged": 0, "counts": {}, "started_at": started_at, "finished_at": now}
    return conn.execute(IMPORT.insert().values(**values)).inserted_primary_key[0]


def _finish_import(conn: Connection, import_id: int, outcome: Outcome, batch: Batch, now: datetime) -> None:
    main = outcome.table(MAIN_TABLE[batch.kind])
    conn.execute(IMPORT.update().where(IMPORT.c.id == import_id).values(
        new=main.new, updated=main.updated, unchanged=main.unchanged, finished_at=now,
        counts={name: counts.as_dict() for name, counts in outcome.counts.items()}))


class _Writer:
    def __init__(self, conn: Connection, batch: Batch, outcome: Outcome, import_id: int, now: datetime,
                 progress: Progress) -> None:
        self.conn, self.batch, self.outcome, self.now, self.progress = conn, batch, outcome, now, progress
        self.import_id = import_id
        self.source = f"import:{batch.file_name}"[:200]

    def write(self) -> None:
        if self.batch.enterprises or self.batch.contacts:
            codes = self._enterprises(self.batch.enterprises)
            self._contacts(self.batch.contacts, codes)
        for chunk in _chunks(self.batch.patents, CHUNK):
            self._patents(chunk)
            self.progress(len(chunk))
        if "patent" in self.outcome.counts and self.outcome.counts["patent"].new:
            self.created_patents_audit()
        for chunk in _chunks(self.batch.payments, CHUNK):
            self._payments(chunk)
            self.progress(len(chunk))

    # -- enterprises and contacts

    def _enterprises(self, rows: list[tuple]) -> dict[str, int]:
        existing = {r.credit_code: r for r in self.conn.execute(sa.select(ENTERPRISE))}
        new = []
        for code, name in rows:
            old = existing.get(code)
            if old is None:
                new.append({"credit_code": code, "name": name, "created_at": self.now, "updated_at": self.now})
                self.outcome.note_new("enterprise", code)
            elif name is not None and name != old.name:
                self.conn.execute(ENTERPRISE.update().where(ENTERPRISE.c.id == old.id).values(
                    name=name, updated_at=self.now))
                self.outcome.table("enterprise").updated += 1
                self.outcome.note_change(Change("enterprise", code, "name", old.name, name))
            else:
                self.outcome.table("enterprise").unchanged += 1
        _insert_dicts(self.conn, ENTERPRISE, new)
        self.progress(len(rows))
        query = sa.select(ENTERPRISE.c.credit_code, ENTERPRISE.c.id)
        return {r.credit_code: r.id for r in self.conn.execute(query)}

    def _contacts(self, rows: list[tuple], ids: dict[str, int]) -> None:
        existing: dict[int, list[Any]] = {}
        query = sa.select(CONTACT).where(CONTACT.c.enterprise_id.in_({ids[r[0]] for r in rows} or {-1}))
        for contact in self.conn.execute(query.order_by(CONTACT.c.id)):
            existing.setdefault(contact.enterprise_id, []).append(contact)
        new = []
        for row in rows:
            values = dict(zip(CONTACT_FIELDS, row, strict=True))
            enterprise_id = ids[values.pop("credit_code")]
            old = _matching_contact(existing.get(enterprise_id, []), values)
            key = f"{row[0]}:{values['mobile'] or values['email']}"
            if old is None:
                given = {k: v for k, v in values.items() if v is not None}
                new.append({"mobile": None, "email": None, "consent_sms": True, "consent_email": True, **given,
                            "name": values["name"] or "",
                            "role": values["role"] or DEFAULT_CONTACT_ROLE, "enterprise_id": enterprise_id,
                            "created_at": self.now, "updated_at": self.now})
                self.outcome.note_new("contact", key)
                continue
            changed = {k: v for k, v in values.items() if v is not None and v != getattr(old, k)}
            if changed:
                self.conn.execute(CONTACT.update().where(CONTACT.c.id == old.id).values(
                    **changed, updated_at=self.now))
                self.outcome.table("contact").updated += 1
                for name, value in changed.items():
                    self.outcome.note_change(Change("contact", key, name, getattr(old, name), value))
            else:
                self.outcome.table("contact").unchanged += 1
        _insert_dicts(self.conn, CONTACT, new)
        self.progress(len(rows))

    # -- patents

    def _patents(self, rows: list[tuple]) -> None:
        numbers = [r[0] for r in rows]
        existing = {r.application_number: r for r in self.conn.execute(EXISTING_PATENTS, {"numbers": numbers})}
        new, updates, audit = [], {}, []
        for row in rows:
            old = existing.get(row[0])
            if old is None:
                new.append(self._new_patent(row))
                self.outcome.note_new("patent", row[0])
                continue
            changed = _patent_changes(old, dict(zip(PATENT_FIELDS, row, strict=True)))
            if not changed:
                self.outcome.table("patent").unchanged += 1
                continue
            self.outcome.table("patent").updated += 1
            updates.setdefault(tuple(sorted(changed)), []).append({"b_id": old.id, **changed})
            for name, value in changed.items():
                self.outcome.note_change(Change("patent", row[0], name, getattr(old, name), value))
                audit.append(self._audit(old.id, name, getattr(old, name), value))
        for names, params in updates.items():
            statement = PATENT.update().where(PATENT.c.id == sa.bindparam("b_id")).values(
                {**{name: sa.bindparam(name) for name in names}, "updated_at": self.now})
            self.conn.execute(statement, params)
        _insert_many(self.conn, PATENT, NEW_PATENT_COLUMNS, new)
        _insert_many(self.conn, AUDIT, AUDIT_COLUMNS, audit)

    def created_patents_audit(self) -> None:
        """One "(created)" audit row per patent this import created, in one INSERT … SELECT at the end: the
        patents created now are exactly those whose created_at is this import's timestamp."""
        columns = [AUDIT.c.patent_id, AUDIT.c.field, AUDIT.c.import_id, AUDIT.c.source, AUDIT.c.changed_at]
        created = sa.select(PATENT.c.id, sa.literal(CREATED), sa.literal(self.import_id), sa.literal(self.source),
                            sa.literal(self.now, UtcDateTime())).where(PATENT.c.created_at == self.now)
        self.conn.execute(sa.insert(AUDIT).from_select(columns, created))

    def _new_patent(self, row: tuple) -> tuple:
        if row[1] is None or row[4] is None:  # type, filing_date
            raise ValueError(f"patent {row[0]} is not on record and the file does not give its type and filing date")
        # Every row carries every column, so one executemany (or COPY) takes the whole chunk.
        return (*(PATENT_DEFAULTS.get(name) if value is None else value for name, value in zip(PATENT_FIELDS, row,
                                                                                               strict=True)),
                "custody", self.now, self.now)

    def _audit(self, patent_id: int, name: str, old: Any, new: Any) -> tuple:
        return (patent_id, name, _text(old), _text(new), self.import_id, self.source, self.now)

    # -- payments

    def _payments(self, rows: list[tuple]) -> None:
        numbers = sorted({r[0] for r in rows})
        query = sa.select(PATENT.c.id, PATENT.c.application_number).where(PATENT.c.application_number.in_(numbers))
        ids = {r.application_number: r.id for r in self.conn.execute(query)}
        query = sa.select(PAYMENT.c.patent_id, PAYMENT.c.year, PAYMENT.c.amount, PAYMENT.c.paid_on)
        on_record = {(p.patent_id, p.year, Decimal(p.amount), p.paid_on)
                     for p in self.conn.execute(query.where(PAYMENT.c.patent_id.in_(ids.values() or [-1])))}
        new = []
        for number, year, amount, paid_on, note in rows:
            if number not in ids:
                raise ValueError(f"payment for patent {number}, which is not on record")
            key = (ids[number], year, Decimal(amount), paid_on)
            if key in on_record:
                self.outcome.table("payment").unchanged += 1
                continue
            on_record.add(key)
            new.append({"patent_id": ids[number], "year": year, "amount": amount, "paid_on": paid_on,
                        "source": self.source, "note": note, "recorded_at": self.now})
            self.outcome.note_new("payment", f"{number}:{year}:{amount}:{paid_on.isoformat()}")
        _insert_dicts(self.conn, PAYMENT, new)


def _matching_contact(contacts: list[Any], values: dict[str, Any]) -> Any | None:
    # Upsert key: (enterprise, mobile), else (enterprise, email) for a contact reached by email only.
    if values["mobile"]:
        return next((c for c in contacts if c.mobile == values["mobile"]), None)
    return next((c for c in contacts if values["email"] and c.email == values["email"]), None)


def _patent_changes(old: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The given fields whose value differs from the stored one, after the inferred-value rules."""
    given = {k: v for k, v in values.items() if v is not None and k != "application_number"}
    # An inference says "at least this much was paid": it never lowers the year on record.
    if given.get("paid_through_inferred") and old.paid_through is not None and \
            given.get("paid_through", 0) <= old.paid_through:
        given.pop("paid_through", None)
        given.pop("paid_through_inferred", None)
    # A grant year that was given beats one inferred from the announcement date.
    if given.get("grant_year_inferred") and old.grant_year is not None and not old.grant_year_inferred:
        given.pop("grant_year", None)
        given.pop("grant_year_inferred", None)
    return {k: v for k, v in given.items() if v != getattr(old, k)}


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


def _chunks(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _insert_dicts(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = tuple(rows[0])
        _insert_many(conn, table, columns, [tuple(row[c] for c in columns) for row in rows])


def _insert_many(conn: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert rows (tuples in `columns` order): COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, columns, rows)
    else:
        _executemany_rows(conn, table, columns, rows)


def _executemany_rows(conn: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """One DBAPI executemany, each value converted by the column type's own SQLAlchemy bind processor (so dates,
    timestamps and enums are stored exactly as the ORM stores them), without per-row statement work."""
    processors = [table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    converted = [_converted(processor, [row[i] for row in rows]) for i, processor in enumerate(processors)]
    conn.exec_driver_sql(statement, list(zip(*converted, strict=True)))


def _converted(processor: Callable[[Any], Any] | None, values: list[Any]) -> list[Any]:
    if processor is None:
        return values
    # Column values repeat (the import's timestamp, dates, enum members): convert each distinct value once.
    memo: dict[Any, Any] = {None: None}
    return [memo[v] if v in memo else memo.setdefault(v, processor(v)) for v in values]


def _copy_rows(conn: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_pg_value(v) for v in row])
    finally:
        cursor.close()


def _pg_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
