"""Inserting many rows at once, the same on SQLite and PostgreSQL: skip rows whose unique key exists
(`insert_ignore`), plain bulk inserts (`insert_all`), or tuples straight from an import (`insert_rows`). On
PostgreSQL large batches go through COPY: row by row, a day's plan for a million patents would spend seconds
in network round trips.
"""
from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

ROWS_PER_INSERT = 5000  # rows per SQLite INSERT statement (fewer when the columns' values would exceed its limit)
COPY_FROM = 500  # rows: from this many on, PostgreSQL inserts go through COPY


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignore(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                  conflict: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: a row whose unique key exists already is left as it is."""
    if not rows:
        return
    if _is_postgresql(session):
        if len(rows) >= COPY_FROM:
            _copy_ignore(session, table, rows, conflict)
            return
        session.execute(postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict)), list(rows))
        return
    if len(rows) >= COPY_FROM:
        _sqlite_many(session, table, rows, conflict)
        return
    session.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict)), list(rows))


def _sqlite_many(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                 conflict: Sequence[str]) -> None:
    """SQLite, many rows: one prepared INSERT run by the driver's executemany, each value converted by its
    column's own type (as SQLAlchemy would), without building SQLAlchemy parameters row by row. A column's values
    repeat a lot (one timestamp, a few dates and amounts), so each distinct value is converted once."""
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    keys = ", ".join(f'"{c}"' for c in conflict)
    marks = ", ".join("?" for _ in columns)
    # Column by column (a transpose is C-speed), converting only the columns whose type needs it.
    table_columns = list(zip(*map(itemgetter(*columns), rows), strict=True)) if len(columns) > 1 else [
        [row[columns[0]] for row in rows]]
    for index, processor in enumerate(processors):
        if processor is not None:
            table_columns[index] = list(map(_memoized(processor), table_columns[index]))
    values = list(zip(*table_columns, strict=True))
    session.connection().exec_driver_sql(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) ON CONFLICT ({keys}) DO NOTHING', values)


def _memoized(processor: Any) -> Any:
    """The bind processor, converting each distinct (hashable) value once."""
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        key = (value.__class__, value)  # 1 == 1.0 == True, Decimal("1") == Decimal("1.0"): keep them apart
        try:
            return cache[key]
        except KeyError:
            cache[key] = found = processor(value)
            return found
        except TypeError:  # not hashable
            return processor(value)
    return convert


def _copy_ignore(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                 conflict: Sequence[str] | None) -> None:
    """PostgreSQL, many rows: COPY them into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING. Row by row, a day's plan for a million patents would spend seconds in round trips."""
    names = ", ".join(f'"{c}"' for c in rows[0])
    keys = ", ".join(f'"{c}"' for c in conflict or ())
    ignore = f" ON CONFLICT ({keys}) DO NOTHING" if conflict else ""
    copy_then(session, table, rows, f"SELECT {names} FROM {{scratch}}{ignore}")


def insert_all(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain bulk INSERT (the caller knows no row exists yet)."""
    if not rows:
        return
    if _is_postgresql(session) and len(rows) >= COPY_FROM:
        _copy_ignore(session, table, rows, None)
    else:
        session.execute(sa.insert(table), list(rows))


def among(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """`column IN values`, as one array parameter on PostgreSQL (`= ANY(:values)`): a list of thousands of ids
    is then one value to send, not thousands of parameters to expand into the SQL text."""
    values = list(values)
    if _is_postgresql(session):
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    # One expanding parameter: the values are not each coerced into a SQL element (thousands per planning chunk).
    return column.in_(sa.bindparam(None, values, type_=column.type, expanding=True))


def update_column(session: Session, table: sa.Table, key: str, column: str, rows: Sequence[tuple[Any, Any]]) -> None:
    """Set `column` to each row's value where `key` equals its key: [(key, value), ...]."""
    if not rows:
        return
    if _is_postgresql(session) and len(rows) >= COPY_FROM:
        scratch = f"copy_{uuid.uuid4().hex[:12]}"
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(f'CREATE TEMPORARY TABLE {scratch} AS SELECT "{key}", "{column}" FROM "{table.name}" '
                           f"WITH NO DATA")
            with cursor.copy(f'COPY {scratch} ("{key}", "{column}") FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f'UPDATE "{table.name}" AS t SET "{column}" = s."{column}" FROM {scratch} AS s '
                           f'WHERE t."{key}" = s."{key}"')
            cursor.execute(f"DROP TABLE {scratch}")
        return
    session.execute(sa.update(table).where(table.c[key] == sa.bindparam("_key"))
                    .values({column: sa.bindparam("_value")}), [{"_key": k, "_value": v} for k, v in rows])


# ------------------------------------------------------------------------------ rows as tuples, on a Connection


def insert_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple], *,
                defaults: Mapping[str, Any] | None = None, constants: Mapping[str, Any] | None = None,
                null_if: Mapping[str, Any] | None = None, memo: dict[str, dict[Any, Any]] | None = None) -> None:
    """INSERT rows (tuples in `columns` order) as they come: COPY on PostgreSQL, multi-row INSERTs on SQLite.

    Built column by column, not row by row: `defaults` replace None in their column, `constants` are extra
    columns with one value for every row (an import's timestamp); a column's `null_if` value is stored as NULL.
    `memo` keeps each column's converted values from one call to the next (many chunks into one table)."""
    if not rows:
        return
    defaults, constants, null_if = defaults or {}, constants or {}, null_if or {}
    values = [_defaulted(column, defaults.get(name))
              for name, column in zip(columns, zip(*rows, strict=True), strict=True)]
    for name, empty in null_if.items():
        at = columns.index(name)
        values[at] = [None if v == empty else v for v in values[at]]
    converted = _converted_columns(conn, table, columns, values, constants, memo if memo is not None else {})
    if conn.dialect.name == "postgresql":
        _copy_columns(conn, table, [*columns, *constants], converted)
    else:
        fixed = {name: column[0] for name, column in zip(constants, converted[len(columns):], strict=True)}
        _insert_values(conn, table, columns, list(zip(*converted[:len(columns)], strict=True)), fixed)


def _insert_values(conn: sa.Connection, table: sa.Table, names: Sequence[str], rows: list[tuple],
                   fixed: Mapping[str, Any]) -> None:
    """SQLite: INSERT … VALUES with up to ROWS_PER_INSERT rows per statement. SQLite stores them without the
    interpreter lock (executemany takes it back for every row), so the import's reader (custody.read_ahead) reads
    the next chunk meanwhile; binding a statement's values at once also costs less than executemany's row by row.
    The `fixed` columns (one value for every row: the import's timestamps) are repeated in each row: numbered
    parameters (?1 in every row) would be cheaper to bind, but SQLite looks each one up in a list: at 10,000 rows
    a statement a million-row import's writer took 40 s of CPU with them, 9.4 s with plain ones."""
    driver = conn.connection.driver_connection
    width = len(fixed) + len(names)
    per = max(1, min(ROWS_PER_INSERT, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    head = tuple(fixed.values())
    columns = (*fixed, *names)
    for start in range(0, len(rows), per):
        part = rows[start:start + per]
        values = tuple(chain.from_iterable(head + row for row in part)) if head else tuple(chain.from_iterable(part))
        conn.exec_driver_sql(_values_statement(table.name, columns, len(part)), values)


@lru_cache(maxsize=32)
def _values_statement(table: str, columns: tuple[str, ...], rows: int) -> str:
    """INSERT INTO table (columns) VALUES (?, ?, …), (?, ?, …), …: `rows` rows."""
    row = "(" + ", ".join("?" * len(columns)) + ")"
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({quoted}) VALUES ' + ", ".join([row] * rows)


def _defaulted(column: tuple, default: Any) -> Sequence[Any]:
    return column if default is None else [default if v is None else v for v in column]


def _converted_columns(conn: sa.Connection, table: sa.Table, columns: Sequence[str], values: list[Sequence[Any]],
                       constants: Mapping[str, Any], memo: dict[str, dict[Any, Any]]) -> list[Sequence[Any]]:
    """Each value converted by its column type's own SQLAlchemy bind processor for this database (so dates,
    timestamps and enums are stored exactly as the ORM stores them), each distinct value once."""
    processors = {c: table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                  for c in (*columns, *constants)}
    converted = [_converted(processors[name], column, memo.setdefault(name, {None: None}))
                 for name, column in zip(columns, values, strict=True)]
    size = len(values[0])
    return converted + [[processors[name](value) if processors[name] else value] * size
                        for name, value in constants.items()]


def _converted(processor: Any, values: Sequence[Any], memo: dict[Any, Any]) -> Sequence[Any]:
    if processor is None:
        return values
    # Column values repeat (dates, enum members): convert each distinct value once.
    return [memo[v] if v in memo else memo.setdefault(v, processor(v)) for v in values]


def _copy_columns(conn: sa.Connection, table: sa.Table, names: Sequence[str], values: list[Sequence[Any]]) -> None:
    """COPY in PostgreSQL's binary format: psycopg writes each value by its column's type in C and the server
    parses no text (a million imported patents: 15 s instead of 18, and a fifth of the client's CPU)."""
    quoted = ", ".join(f'"{c}"' for c in names)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        types = _column_types(cursor, table.name)
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types([types[name] for name in names])
            for row in zip(*values, strict=True):
                copy.write_row(row)
    finally:
        cursor.close()


def _column_types(cursor: Any, table: str) -> dict[str, str]:
    """The table's columns and their PostgreSQL types, as the catalogue names them (character varying, date, …)."""
    query = ("SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
             "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped")
    return dict(cursor.execute(query, (f'"{table}"',)).fetchall())


def converted_rows(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[tuple]:
    """The rows as driver tuples (dicts' key order), each value converted by its column type once per distinct
    value, as `_sqlite_many` does: for a statement of our own run by the driver's executemany."""
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    values = list(zip(*map(itemgetter(*columns), rows), strict=True)) if len(columns) > 1 else [
        [row[columns[0]] for row in rows]]
    for index, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            values[index] = list(map(_memoized(processor), values[index]))
    return list(zip(*values, strict=True))


def copy_then(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]], select_tail: str) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then `INSERT INTO table (columns) <select_tail>`, where
    the tail reads `{scratch}` (e.g. an INSERT ... SELECT ... ON CONFLICT DO UPDATE)."""
    columns = list(rows[0])
    copy_tuples_then(session, table, columns, ([row[c] for c in columns] for row in rows), select_tail)


def copy_tuples_then(session: Session, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                     select_tail: str) -> None:
    """copy_then for rows already in `columns` order (tuples built from columns: no dict per row)."""
    names = ", ".join(f'"{c}"' for c in columns)
    scratch = f"copy_{uuid.uuid4().hex[:12]}"
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(f'CREATE TEMPORARY TABLE {scratch} AS SELECT {names} FROM "{table.name}" WITH NO DATA')
        with cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f'INSERT INTO "{table.name}" ({names}) ' + select_tail.format(scratch=scratch))
        cursor.execute(f"DROP TABLE {scratch}")


def analyze_if_grown(session: Session, table: sa.Table, rows: int) -> None:
    """PostgreSQL: ANALYZE `table` (in this transaction) when it now holds `rows` rows and its statistics were
    taken at a size off by more than a tenth (or never). Autovacuum would do it a minute or so after a bulk
    change; until then the planner takes a freshly imported million patents for an empty table, and every
    chunk of a full refresh read its id range by a sequential scan (2 s of the first plan at 1 M). ANALYZE samples
    a fixed number of rows (a few hundred ms) and counts this transaction's own new rows."""
    if not _is_postgresql(session):
        return
    known = session.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                            {"name": table.name}).scalar()
    if known is None or known < 0 or abs(rows - known) > 0.1 * rows + 50:
        session.execute(sa.text(f'ANALYZE "{table.name}"'))
