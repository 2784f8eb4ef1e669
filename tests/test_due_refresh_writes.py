"""A full refresh of patent_due writes only the rows whose values changed, and still drops the rows of patents that
no longer have a fee to remind of (issue 9: a full refresh of a million patents rewrote every row)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import Engine

from custody.models import Enterprise, Patent
from custody.models.reminders import PatentDue
from custody.store.bulk import analyze_if_grown
from custody.store.db import engine_for, session_for, upgrade
from scheduler.ticks import plan_now
from tests.test_remind_world import add_enterprise, add_patent, ticks_for, world


def _plan(engine: Engine, moment: str, **kw):
    with freeze_time(moment):
        return plan_now(ticks_for(engine, {}), **kw)


def _stamps(engine: Engine) -> dict[int, object]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(PatentDue.patent_id, PatentDue.refreshed_at)).all())


def test_a_full_refresh_rewrites_only_the_rows_that_changed_and_drops_those_left_without_a_fee(engine: Engine) -> None:
    patents = world(engine, lambda s: [add_patent(s, add_enterprise(s, f"公司{n}", mobile=f"1380000000{n}"))
                                       for n in range(3)])
    _plan(engine, "2025-03-26 10:00:00+08:00", full_refresh=True)
    before = _stamps(engine)
    assert set(before) == {p.id for p in patents}
    with freeze_time("2025-03-26 10:30:00+08:00"), session_for(engine) as session:
        session.get(Patent, patents[1].id).paid_through = 9  # its next fee is another year's
        session.get(Patent, patents[2].id).mode = "watch"  # watch only: no fee row any more
    again = _plan(engine, "2025-03-26 11:00:00+08:00", full_refresh=True)
    after = _stamps(engine)
    assert (again.refresh.full, again.refresh.rows) == (True, 2)
    assert set(after) == {patents[0].id, patents[1].id}
    assert after[patents[0].id] == before[patents[0].id]  # same values: not rewritten
    assert after[patents[1].id] != before[patents[1].id]
    with engine.connect() as connection:
        assert connection.execute(sa.select(PatentDue.fee_year).where(
            PatentDue.patent_id == patents[1].id)).scalar() == 10


@pytest.fixture
def pg_engine(pg_schema_url: str) -> Iterator[Engine]:
    """An engine on a fresh, migrated PostgreSQL schema: planner statistics are PostgreSQL's alone (no SQLite
    variant to skip)."""
    upgrade(pg_schema_url)
    engine = engine_for(pg_schema_url)
    yield engine
    engine.dispose()


def _reltuples(session, table: str) -> float:
    return session.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}).scalar()


@pytest.mark.parametrize(("first", "more", "statistics_of"), [
    pytest.param(100, 5, 100, id="grown-by-5-kept"),
    pytest.param(100, 60, 100, id="grown-within-a-tenth-and-50-kept"),
    pytest.param(100, 100, 200, id="doubled-analysed-again"),
])
@pytest.mark.postgres
def test_postgresql_statistics_are_taken_again_when_a_table_outgrew_them(pg_engine: Engine, first: int, more: int,
                                                                          statistics_of: int) -> None:
    """Autovacuum analyses a table a minute or so after a bulk change; the first full refresh after an import of a
    million patents must not be planned on statistics of an empty table (sequential scans per chunk). A table
    never analysed is analysed at once; one analysed at a size off by more than a tenth (and 50 rows) again."""
    table, now = Enterprise.__table__, datetime.now(UTC)
    rows = [dict(credit_code=f"S{n:017d}", name=f"公司{n}", created_at=now, updated_at=now)
            for n in range(first + more)]
    with session_for(pg_engine) as session:
        session.execute(sa.insert(table), rows[:first])
        analyze_if_grown(session, table, first)
        assert _reltuples(session, "enterprise") == first  # never analysed before
        session.execute(sa.insert(table), rows[first:])
        analyze_if_grown(session, table, first + more)
        assert _reltuples(session, "enterprise") == statistics_of


@pytest.mark.postgres
def test_a_full_refresh_leaves_postgresql_statistics_of_the_patents_and_their_fee_rows(pg_engine: Engine) -> None:
    engine = pg_engine
    world(engine, lambda s: [add_patent(s, add_enterprise(s, f"公司{n}", mobile=f"1380000000{n}")) for n in range(3)])
    _plan(engine, "2025-03-26 10:00:00+08:00", full_refresh=True)
    with session_for(engine) as session:
        assert (_reltuples(session, "patent"), _reltuples(session, "patent_due")) == (3, 3)
