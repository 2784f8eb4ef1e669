"""custody.store.bulk.insert_rows: an import's rows, in order, whatever their number and the database's limits."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from custody.models import Enterprise
from custody.store.bulk import insert_rows

ENTERPRISE = Enterprise.__table__
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _codes(count: int) -> list[tuple[str, str]]:
    return [(f"91350000MA{i:07d}X", f"企业{i}") for i in range(count)]


@pytest.mark.parametrize("count", [1, 499, 500, 2000, 4321, 5000, 5001, 12001])
def test_every_row_goes_in_once_in_order(engine, count):
    rows = _codes(count)
    with engine.begin() as conn:
        insert_rows(conn, ENTERPRISE, ("credit_code", "name"), rows, constants={"created_at": NOW, "updated_at": NOW})
    with engine.connect() as conn:
        stored = conn.execute(sa.select(ENTERPRISE.c.credit_code, ENTERPRISE.c.name).order_by(ENTERPRISE.c.id)).all()
        created = conn.execute(sa.select(sa.func.count()).where(ENTERPRISE.c.created_at == NOW)).scalar()
    assert [tuple(r) for r in stored] == rows
    assert created == count


def test_a_low_variable_limit_takes_fewer_rows_per_statement(tmp_path):
    from custody.store.db import engine_for, upgrade

    url = f"sqlite:///{tmp_path / 'limited.sqlite3'}"
    upgrade(url)
    engine = engine_for(url)
    rows = _codes(1001)
    with engine.begin() as conn:
        # 4 columns: 50 variables take 12 rows per statement (an old SQLite's default was 999).
        conn.connection.driver_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)
        insert_rows(conn, ENTERPRISE, ("credit_code", "name"), rows, constants={"created_at": NOW, "updated_at": NOW})
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ENTERPRISE)).scalar() == 1001
    engine.dispose()


def test_a_row_that_breaks_a_constraint_fails_the_whole_insert(engine):
    rows = [*_codes(3), _codes(1)[0]]
    with pytest.raises(Exception, match="(?i)unique"), engine.begin() as conn:
        insert_rows(conn, ENTERPRISE, ("credit_code", "name"), rows, constants={"created_at": NOW, "updated_at": NOW})
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ENTERPRISE)).scalar() == 0
