"""Writing one checked import file in one transaction (bulk upserts, the patent audit trail, the import log), and
the read-only lookups importers ask while they check a file.

Importers (importers/) turn a file into plain rows (custody.store.import_batch: tuples in the *_FIELDS orders;
None means "the file does not say", never "clear it") and hand them over chunk by chunk; `apply_chunks` writes
each chunk as it comes, so memory stays bounded however long the file, and still commits once, at the end, or
not at all. Rows go in with bulk statements (multi-row INSERTs on SQLite, COPY for new rows on PostgreSQL), never one
ORM object at a time: a million-row portfolio has to load in well under a minute.

Upsert keys and the rules that keep a weaker value from overwriting a stronger one are in the writers:
custody/store/import_parties.py (enterprises, contacts), import_patents.py (patents, audit trail) and
import_payments.py.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from custody.domain import DatePeriod, PatentFacts, PatentType, Reduction
from custody.models import Enterprise, OpenLicence, Patent, Payment
from custody.models.imports import ImportRecord
from custody.read_ahead import read_ahead
from custody.store.db import engine_for
from custody.store.import_batch import (  # noqa: F401 - the import API, re-exported for importers and the CLI
    CONTACT_FIELDS,
    ENTERPRISE_FIELDS,
    LIST_LIMIT,
    PATENT_FIELDS,
    PAYMENT_FIELDS,
    Batch,
    Change,
    HeldBack,
    Outcome,
    TableCounts,
)
from custody.store.import_parties import write_contacts, write_enterprises
from custody.store.import_patents import PatentWriter
from custody.store.import_payments import write_payments

CHUNK = 2000  # keys per lookup query
WRITE_CHUNK = 20000  # patent rows per bulk statement (an importer's chunk, or a slice of a whole batch)
PATENT = Patent.__table__
ENTERPRISE = Enterprise.__table__
PAYMENT = Payment.__table__
IMPORT = ImportRecord.__table__
MAIN_TABLE = {"enterprises": "enterprise", "patents": "patent", "payments": "payment"}
# SQLite page cache for the import's connection (KiB, negative per SQLite's convention): a million-row portfolio's
# unique index on application_number no longer fits the 2 MB default, and every insert would then read pages.
SQLITE_IMPORT_CACHE_KIB = -262144


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
    unknown_through: int | None = None  # fees up to this year were "unknown — check" when inferred

    def paid_in(self, year: int) -> Decimal:
        return sum((amount for y, amount, _ in self.payments if y == year), Decimal("0"))


class StoreLookup:
    """Read-only answers for importers; enterprises are read once per file.

    While an import streams, its questions go through the import's own connection (`apply_chunks(lookup=…)`):
    on SQLite another connection would wait for the write lock the import holds (every transaction begins
    IMMEDIATE), and the import's connection also sees the rows written so far."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None
        # The reader asks from its own thread (custody.read_ahead) while the import writes on the same connection:
        # one at a time.
        self.conn_lock = threading.Lock()
        self._enterprises: dict[str, StoredEnterprise] | None = None

    def in_forked_child(self) -> StoreLookup:
        """This lookup for a forked process (importers.forked): connections of its own, since none may cross a
        fork, that only read, so they never wait for the lock the import holds. What was read already (the
        enterprises) comes along."""
        self.engine.dispose(close=False)  # the parent's pooled connections are the parent's
        child = StoreLookup(engine_for(self.engine.url, reads_only=True))
        child._enterprises = self._enterprises
        return child

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if self.conn is not None:
            with self.conn_lock:
                yield self.conn
            return
        with self.engine.connect() as conn:
            yield conn

    def enterprises(self) -> dict[str, StoredEnterprise]:
        if self._enterprises is None:
            with self._connection() as conn:
                rows = conn.execute(sa.select(ENTERPRISE.c.id, ENTERPRISE.c.credit_code, ENTERPRISE.c.name))
                self._enterprises = {r.credit_code: StoredEnterprise(r.id, r.credit_code, r.name) for r in rows}
        return self._enterprises

    def patents(self, numbers: Collection[str]) -> dict[str, StoredPatent]:
        found: dict[str, StoredPatent] = {}
        with self._connection() as conn:
            for chunk in _chunks(sorted(set(numbers)), CHUNK):
                found.update(_stored_patents(conn, chunk))
        return found

    def patent_enterprises(self, numbers: Collection[str]) -> dict[str, int | None]:
        found: dict[str, int | None] = {}
        query = sa.select(PATENT.c.application_number, PATENT.c.enterprise_id)
        with self._connection() as conn:
            for chunk in _chunks(sorted(set(numbers)), CHUNK):
                found.update(conn.execute(query.where(PATENT.c.application_number.in_(chunk))).all())
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
    return StoredPatent(row.id, facts, bool(row.paid_through_inferred), tuple(payments), row.unknown_through)


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


def apply_chunks(engine: Engine, record: Batch, chunks: Iterable[Batch], *, dry_run: bool, started_at: datetime,
                 now: datetime, keep: Callable[[], bool] = lambda: True, allow_lower_paid_through: bool = False,
                 lookup: StoreLookup | None = None,
                 inspect: Callable[[Connection], None] | None = None) -> Outcome | None:
    """Write every chunk as it comes, in one transaction, and record the import; the Outcome says what was (or
    would be) new, updated field by field, and unchanged.

    `record` carries the file's name, hash and counts (final once the chunks are consumed). After the last chunk
    `keep()` decides: False rolls everything back and returns None (the file turned out to have errors). A dry run
    that is kept is rolled back all the same and then recorded on its own, with what it would have done. `lookup`
    answers through this transaction while the chunks come (see StoreLookup). `inspect(conn)` runs after the last
    chunk, before `keep()`: it sees the database as the file leaves it (e.g. enterprises left with nobody to remind)
    and may add problems that make `keep()` say no."""
    outcome = Outcome(None, dry_run)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":  # on the driver's connection: a PRAGMA needs no transaction
            conn.connection.driver_connection.execute(f"PRAGMA cache_size = {SQLITE_IMPORT_CACHE_KIB}")
        with conn.begin() as transaction:
            import_id = _insert_import(conn, record, dry_run, started_at, now)
            with _answering(lookup, conn):
                _write(conn, chunks, outcome, import_id, now, f"import:{record.file_name}"[:200],
                       allow_lower_paid_through, lookup.conn_lock if lookup is not None else threading.Lock())
            if inspect is not None:
                inspect(conn)
            kept = keep()
            if dry_run or not kept:
                transaction.rollback()
            else:
                _finish_import(conn, import_id, outcome, record, now)
                outcome.import_id = import_id
        if dry_run and kept:
            with conn.begin():
                outcome.import_id = _insert_import(conn, record, dry_run, started_at, now)
                _finish_import(conn, outcome.import_id, outcome, record, now)
    return outcome if kept else None


@contextmanager
def _answering(lookup: StoreLookup | None, conn: Connection) -> Iterator[None]:
    if lookup is not None:
        lookup.conn = conn
    try:
        yield
    finally:
        if lookup is not None:
            lookup.conn = None


def _write(conn: Connection, chunks: Iterable[Batch], outcome: Outcome, import_id: int, now: datetime, source: str,
           allow_lower_paid_through: bool, conn_lock: threading.Lock) -> None:
    """Each chunk written as the reader, a chunk or two ahead in its own thread, reads the next ones."""
    patents = PatentWriter(conn, outcome, import_id, now, source, allow_lower_paid_through)
    for chunk in read_ahead(chunks):
        with conn_lock:
            _write_chunk(conn, chunk, outcome, source, now, import_id, patents)
    patents.finish()


def _write_chunk(conn: Connection, chunk: Batch, outcome: Outcome, source: str, now: datetime, import_id: int,
                 patents: PatentWriter) -> None:
    if chunk.enterprises or chunk.contacts:
        ids = write_enterprises(conn, outcome, now, chunk.enterprises)
        if chunk.contacts:
            write_contacts(conn, outcome, now, chunk.contacts, ids)
    for start in range(0, len(chunk.patents), WRITE_CHUNK):
        patents.write(chunk.patents[start:start + WRITE_CHUNK], chunk.patent_rows[start:start + WRITE_CHUNK])
    for start in range(0, len(chunk.payments), CHUNK):
        write_payments(conn, outcome, source, now, chunk.payments[start:start + CHUNK], import_id)


def _insert_import(conn: Connection, batch: Batch, dry_run: bool, started_at: datetime, now: datetime) -> int:
    values = {"file_name": batch.file_name, "sha256": batch.sha256, "kind": batch.kind, "dry_run": dry_run,
              "partial": batch.partial, "rows_read": batch.rows_read, "rows_rejected": batch.rows_rejected,
              "new": 0, "updated": 0, "unchanged": 0, "counts": {}, "started_at": started_at, "finished_at": now}
    return conn.execute(IMPORT.insert().values(**values)).inserted_primary_key[0]


def _finish_import(conn: Connection, import_id: int, outcome: Outcome, batch: Batch, now: datetime) -> None:
    main = outcome.table(MAIN_TABLE[batch.kind])
    conn.execute(IMPORT.update().where(IMPORT.c.id == import_id).values(
        new=main.new, updated=main.updated, unchanged=main.unchanged, finished_at=now,
        rows_read=batch.rows_read, rows_rejected=batch.rows_rejected,
        counts={name: counts.as_dict() for name, counts in outcome.counts.items()}))


def _chunks(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
