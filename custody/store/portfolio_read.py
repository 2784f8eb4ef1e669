"""The portfolio read in chunks for the vectorised engine: each chunk a DataFrame of patents (with enterprise, watch
state and latest decision) and the few rows beside them (open licences, payments after a gap, and for the KPI the
year's payments and the status events), never the whole portfolio in memory and never an `IN (…)` list of ids.

Chunks are ranges of patent ids (keyset pagination on the primary key); every side query asks for the same id
range, so each is an index range scan. Dates come back as the driver gives them (ISO text on SQLite, dates on
PostgreSQL) and are converted a column at a time.

Speed is the reading: the statements are rendered once with their values inline and run on the driver's own
cursor (no SQLAlchemy row processing), dates come back as day numbers computed by the database, and the rows
become a 2-D object array in one call, a column of which is one slice.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlmodel import Session

from custody.models import Enterprise, OpenLicence, Patent, Payment
from custody.models.status import FeeDecision, PatentWatch, StatusEvent
from custody.report_engine import Chunk

CHUNK = 50_000
DATES = ("filing_date", "granted_on", "reduction_recorded_on", "legal_status_date", "ended_on", "lapsed_on",
         "restore_by", "pledged_on", "transfer_on", "d_effective_on", "restored_on", "reduction_refile_on")
INTEGERS = ("grant_year", "paid_through", "unknown_through", "restoration_year", "d_year", "term_extension_days")
KPI_EVENTS = ("lapse_nonpayment", "restoration")
# What the database returns for a NULL date or whole number in the chunk queries (COALESCE), so each such column
# comes back as plain ints and becomes an int64 array in one call; within PostgreSQL's bigint and far from any day
# number or year.
MISSING = -(2 ** 31)


@dataclass(frozen=True)
class Scope:
    """Which patents and side rows a report reads."""

    enterprise_id: int | None = None
    custody_only: bool = False
    payments_in: tuple[date, date] | None = None  # the KPI year's payments
    events: bool = False  # lapse notices and restorations (KPI)
    ids: tuple[int, ...] | None = None  # only these patents (a refresh of the changed ones)
    facts_only: bool = False  # the fee facts alone (the refresh): no titles, enterprise, watch or decision


class _Days(sa.sql.expression.FunctionElement):
    """A date column as its day number since 1970-01-01, computed by the database (an int, or NULL)."""

    type = sa.Integer()
    inherit_cache = True
    name = "day_number"


@compiles(_Days, "sqlite")
def _days_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(_Days, "postgresql")
def _days_postgresql(element, compiler, **kw):
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '1970-01-01')"


def _day(column) -> sa.ColumnElement:
    """Dates as day numbers; everything else as the driver returns it."""
    return _Days(column)


def _day_or_missing(column) -> sa.ColumnElement:
    return sa.func.coalesce(_Days(column), MISSING)


def _int_or_missing(column) -> sa.ColumnElement:
    return sa.func.coalesce(column, MISSING)


def _latest_decisions(low: int, high: int) -> sa.Subquery:
    d = FeeDecision.__table__.c
    ranked = (sa.select(d.patent_id, d.choice, d.year, _day(d.effective_on).label("effective_on"), d.decided_by,
                        d.decided_at, d.note,
                        # decisions.latest_decision: the most recently recorded; on a tie, the first recorded.
                        sa.func.row_number().over(partition_by=d.patent_id,
                                                  order_by=(d.decided_at.desc(), d.id)).label("rank"))
              .where(d.patent_id > low, d.patent_id <= high)).subquery()
    return sa.select(ranked).where(ranked.c.rank == 1).subquery()


def _patents_query(low: int, high: int) -> sa.Select:
    """The patents' own columns; enterprise, watch and latest decision are read beside them (_with_sides): joined
    here they doubled the reading, for columns most patents leave empty. Every cell costs a Python object, so no
    column is read twice (the enterprise's id only as `enterprise_key`, 0 without one)."""
    p = Patent.__table__.c
    return sa.select(
        p.id, sa.func.coalesce(p.enterprise_id, 0).label("enterprise_key"), p.application_number,
        p.title, p.type, _day_or_missing(p.filing_date).label("filing_date"),
        _int_or_missing(p.grant_year).label("grant_year"), _day_or_missing(p.granted_on).label("granted_on"),
        _int_or_missing(p.paid_through).label("paid_through"), p.reduction,
        _day_or_missing(p.reduction_recorded_on).label("reduction_recorded_on"),
        _int_or_missing(p.term_extension_days).label("term_extension_days"), p.mode, p.legal_status,
        _day_or_missing(p.legal_status_date).label("legal_status_date"), p.paid_through_inferred,
        _int_or_missing(p.unknown_through).label("unknown_through"),
        _day_or_missing(p.restored_on).label("restored_on"),
        _day_or_missing(p.reduction_refile_on).label("reduction_refile_on")).where(p.id > low, p.id <= high)


def _watch_query(low: int, high: int) -> sa.Select:
    w = PatentWatch.__table__.c
    return sa.select(
        w.patent_id.label("patent"), w.ended, _day_or_missing(w.ended_on).label("ended_on"),
        _day_or_missing(w.lapsed_on).label("lapsed_on"), _day_or_missing(w.restore_by).label("restore_by"),
        _int_or_missing(w.restoration_year).label("restoration_year"), w.pledgee,
        _day_or_missing(w.pledged_on).label("pledged_on"), w.transfer_to,
        _day_or_missing(w.transfer_on).label("transfer_on")).where(w.patent_id > low, w.patent_id <= high)


def _decisions_query(low: int, high: int) -> sa.Select:
    d = _latest_decisions(low, high).c
    return sa.select(d.patent_id.label("patent"), d.choice.label("d_choice"), _int_or_missing(d.year).label("d_year"),
                     _int_or_missing(d.effective_on).label("d_effective_on"), d.decided_by.label("d_decided_by"),
                     d.decided_at.label("d_decided_at"), d.note.label("d_note"))


def _enterprises_query(ids: list[int]) -> sa.Select:
    """The chunk's enterprises by their ids (a few hundred distinct ones for 50,000 patents): asking for those
    patents' enterprise ids again would read the whole id range a second time."""
    e = Enterprise.__table__.c
    return sa.select(e.id, e.credit_code, e.name).where(e.id.in_(ids))


def _with_sides(session: Session, patents: pd.DataFrame, low: int, high: int) -> pd.DataFrame:
    """The patents with their enterprise's code and name ("" without one), their watch state (has_watch False and
    the rest missing without a watch row) and their latest decision (missing without one)."""
    count = len(patents)
    keys = patents.pop("enterprise_key").to_numpy(object).astype(np.int64)
    wanted = np.unique(keys)
    companies = _side(session, _enterprises_query(wanted[wanted > 0].tolist()), ["enterprise", "code", "name"])
    known = companies["enterprise"].to_numpy(object).astype(np.int64)
    size = int(max(keys.max(initial=0), known.max(initial=0))) + 1
    codes, names = np.full(size, "", object), np.full(size, "", object)
    codes[known], names[known] = companies["code"].to_numpy(object), companies["name"].to_numpy(object)
    patents["enterprise_code"], patents["enterprise_name"] = codes[keys], names[keys]
    watch = _side(session, _watch_query(low, high), _names(_watch_query), DATES)
    at, found = _positions(patents, watch)
    has_watch = np.zeros(count, bool)
    has_watch[at] = True
    patents["has_watch"] = has_watch
    _place(patents, watch, at, found)
    decisions = _side(session, _decisions_query(low, high), _names(_decisions_query), DATES)
    _place(patents, decisions, *_positions(patents, decisions))
    return patents


def _names(query) -> list[str]:
    return [c.name for c in query(0, 0).selected_columns]


def _positions(patents: pd.DataFrame, side: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where each side row's patent is in `patents` (-1 outside the chunk's scope), as (positions, side rows)."""
    at = patents.index.get_indexer(side["patent"].to_numpy(object).astype(np.int64)) if len(side) else np.empty(0, int)
    found = np.flatnonzero(at >= 0)
    return at[found], found


def _place(patents: pd.DataFrame, side: pd.DataFrame, at: np.ndarray, found: np.ndarray) -> None:
    """Each column of `side` (but `patent`) as a column of `patents`: the side's values at `at`, missing elsewhere."""
    count = len(patents)
    for name in side.columns.drop("patent"):
        column = side[name]
        if name in DATES:
            full = np.full(count, np.iinfo(np.int64).min).view("datetime64[D]")
            full[at] = column.to_numpy()[found]
        elif name in INTEGERS:
            values, missing = np.zeros(count, np.int64), np.ones(count, bool)
            values[at] = column.to_numpy(np.int64, na_value=0)[found]
            missing[at] = column.isna().to_numpy()[found]
            full = pd.arrays.IntegerArray(values, missing)
        else:
            full = np.full(count, None, object)
            full[at] = column.to_numpy(object)[found]
        patents[name] = full


def _facts_query(low: int, high: int) -> sa.Select:
    p = Patent.__table__.c
    return sa.select(p.id, p.enterprise_id, p.application_number, p.type,
                     _day_or_missing(p.filing_date).label("filing_date"),
                     _int_or_missing(p.grant_year).label("grant_year"),
                     _day_or_missing(p.granted_on).label("granted_on"),
                     _int_or_missing(p.paid_through).label("paid_through"), p.reduction,
                     _day_or_missing(p.reduction_recorded_on).label("reduction_recorded_on"),
                     _int_or_missing(p.term_extension_days).label("term_extension_days"), p.mode,
                     _day_or_missing(p.restored_on).label("restored_on"),
                     _day_or_missing(p.reduction_refile_on).label("reduction_refile_on")).where(p.id > low,
                                                                                                p.id <= high)


def _scoped(query: sa.Select, scope: Scope, session: Session | None = None) -> sa.Select:
    p = Patent.__table__.c
    if scope.ids is not None:
        query = query.where(p.id.in_(scope.ids))
    if scope.enterprise_id is not None:
        query = query.where(p.enterprise_id == scope.enterprise_id)
    if scope.custody_only:
        query = query.where(p.mode == "custody")
    return query


def _fetch(session: Session, query: sa.Select) -> tuple[list[tuple], list[str]]:
    """The rows of `query` from the driver's own cursor, values rendered inline (integers and fixed words only)."""
    sql = str(query.compile(dialect=session.get_bind().dialect,
                            compile_kwargs={"literal_binds": True, "render_postcompile": True}))
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall(), [d[0] for d in cursor.description]
    finally:
        cursor.close()


def _frame(rows: list, names: list[str], dates: tuple[str, ...] = DATES) -> pd.DataFrame:
    """The rows as a frame, a column at a time straight from the row tuples (no 2-D object array): a date or whole
    number that came back as MISSING (the chunk queries) or None (the side queries) becomes NaT or <NA>."""
    count, data = len(rows), {}
    for i, name in enumerate(names):
        if name in dates:
            data[name] = _days_of(rows, i, count)
        elif name in INTEGERS:
            values, missing = _ints_of(rows, i, count)
            data[name] = pd.arrays.IntegerArray(np.where(missing, 0, values), missing)
        else:  # kept as objects: None stays None (pandas would read text columns as str with NaN)
            data[name] = pd.Series(np.fromiter(map(itemgetter(i), rows), dtype=object, count=count), dtype=object)
    frame = pd.DataFrame(data)
    return frame.set_index("id") if "id" in frame else frame


def _ints_of(rows: list, i: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Column i as int64 and where it is missing."""
    try:
        values = np.fromiter(map(itemgetter(i), rows), dtype=np.int64, count=count)
    except TypeError:  # a None (a side query, not coalesced): the slower way
        column = np.fromiter(map(itemgetter(i), rows), dtype=object, count=count)
        missing = np.equal(column, None)
        return np.where(missing, 0, column).astype(np.int64), missing
    return values, values == MISSING


def _days_of(rows: list, i: int, count: int) -> np.ndarray:
    values, missing = _ints_of(rows, i, count)
    return np.where(missing, np.iinfo(np.int64).min, values).view("datetime64[D]")


def _side(session: Session, query: sa.Select, names: list[str], dates: tuple[str, ...] = ()) -> pd.DataFrame:
    return _frame(_fetch(session, query)[0], names, dates)


def chunks(session: Session, scope: Scope = Scope(), size: int = CHUNK) -> Iterator[Chunk]:  # noqa: B008
    """The patents of `scope` in chunks of at most `size`, in id order, each with its side rows."""
    p = Patent.__table__.c
    after = 0
    while True:
        ids = _scoped(sa.select(p.id).where(p.id > after), scope, session).order_by(p.id).limit(size)
        high = session.execute(sa.select(sa.func.max(ids.subquery().c.id))).scalar()
        if high is None:
            return
        query = _facts_query(after, high) if scope.facts_only else _patents_query(after, high)
        patents = _frame(*_fetch(session, _scoped(query, scope, session)))
        if not scope.facts_only:
            patents = _with_sides(session, patents, after, high)
        yield Chunk(patents, _licences(session, after, high), _paid_years(session, after, high),
                    _payments(session, after, high, scope), _events(session, after, high, scope))
        after = high


def _licences(session: Session, low: int, high: int) -> pd.DataFrame:
    o = OpenLicence.__table__.c
    query = (sa.select(o.patent_id, _day(o.start), _day(o.end))
             .where(o.patent_id > low, o.patent_id <= high).order_by(o.patent_id, o.start))
    return _side(session, query, ["patent", "start", "end"], ("start", "end"))


def _paid_years(session: Session, low: int, high: int) -> pd.DataFrame:
    """Years with a payment after the paid-through year (paid after a gap): the rest are paid by paid-through."""
    pay, p = Payment.__table__.c, Patent.__table__.c
    query = (sa.select(pay.patent_id, pay.year).distinct()
             .join_from(Payment.__table__, Patent.__table__, p.id == pay.patent_id)
             .where(pay.patent_id > low, pay.patent_id <= high, pay.year > sa.func.coalesce(p.paid_through, 0)))
    return _side(session, query, ["patent", "year"])


def _payments(session: Session, low: int, high: int, scope: Scope) -> pd.DataFrame | None:
    if scope.payments_in is None:
        return None
    pay = Payment.__table__.c
    first, last = scope.payments_in
    query = sa.select(pay.patent_id, pay.year, _day(pay.paid_on)).where(
        pay.patent_id > low, pay.patent_id <= high, pay.paid_on >= first, pay.paid_on <= last)
    return _side(session, query, ["patent", "year", "paid_on"], ("paid_on",))


def _events(session: Session, low: int, high: int, scope: Scope) -> pd.DataFrame | None:
    if not scope.events:
        return None
    ev = StatusEvent.__table__.c
    query = sa.select(ev.patent_id, ev.kind, _day(ev.announced_on)).where(
        ev.patent_id > low, ev.patent_id <= high, ev.kind.in_(KPI_EVENTS))
    return _side(session, query, ["patent", "kind", "announced_on"], ("announced_on",))


def report_chunks(session: Session, enterprise_code: str | None = None, custody_only: bool = False,
                  kpi_year: int | None = None) -> Iterator[Chunk]:
    """The chunks a report reads: one enterprise's patents (UnknownEnterprise for a code nobody has) or all, with
    the KPI year's payments and status events when `kpi_year` is given."""
    from custody.store.reports import enterprise_by_code

    enterprise_id = enterprise_by_code(session, enterprise_code).id if enterprise_code is not None else None
    payments = (date(kpi_year, 1, 1), date(kpi_year, 12, 31)) if kpi_year is not None else None
    return chunks(session, Scope(enterprise_id, custody_only, payments, kpi_year is not None))


def chunks_of(session: Session, ids: list[int], scope: Scope = Scope(), size: int = 20_000) -> Iterator[Chunk]:  # noqa: B008
    """The chunks of these patents only (sorted ids, at most `size` a chunk: one bound array on PostgreSQL, fewer
    parameters than SQLite allows)."""
    from dataclasses import replace

    for start in range(0, len(ids), size):
        part = ids[start:start + size]
        yield from chunks(session, replace(scope, ids=tuple(part)), size=size)
