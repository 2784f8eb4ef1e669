"""The storage layer on SQLite and PostgreSQL: migrations, constraints, payments, the facts the fee engine reads."""
from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from freezegun import freeze_time
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from custody.domain import DatePeriod, PatentType, Reduction
from custody.models import Contact, Enterprise, OpenLicence, Patent, Payment, SQLModel
from custody.store.db import current_revision, downgrade, engine_for, head_revision, session_for, upgrade
from custody.store.patents import add_payment, facts_of, patent_by_number

CORE_TABLES = {"enterprise", "contact", "patent", "open_licence", "payment"}
NUMBER = "201710601862.3"


def a_patent(**overrides: object) -> Patent:
    values: dict[str, object] = {
        "application_number": NUMBER,
        "type": PatentType.INVENTION,
        "title": "一种测试装置",
        "owners": "测试有限公司",
        "filing_date": date(2017, 7, 26),
    }
    return Patent(**(values | overrides))


def saved(session: Session, row: SQLModel) -> SQLModel:
    session.add(row)
    session.commit()
    return row


def fresh_read(engine: Engine, model: type[SQLModel], row_id: int) -> SQLModel:
    """The row as the database holds it, through a new session (nothing served from the identity map)."""
    with Session(engine) as other:
        return other.get(model, row_id)


# ------------------------------------------------------------------------------------------------ migrations


def test_upgrade_creates_every_table(engine: Engine, db_url: str) -> None:
    assert CORE_TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
    assert current_revision(db_url) == head_revision()


def test_upgrade_twice_is_a_no_op_that_keeps_the_data(engine: Engine, db_url: str, session: Session) -> None:
    saved(session, a_patent())
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    assert patent_by_number(session, NUMBER) is not None


def test_migrations_create_exactly_what_the_models_declare(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_downgrade_to_base_drops_every_table(db_url: str) -> None:
    downgrade(db_url, "base")
    engine = engine_for(db_url)
    try:
        assert set(inspect(engine).get_table_names()) & CORE_TABLES == set()
    finally:
        engine.dispose()
    assert current_revision(db_url) is None


def test_empty_database_has_no_revision(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None


# ------------------------------------------------------------------------------------------------ constraints


def test_application_number_is_unique(session: Session) -> None:
    saved(session, a_patent())
    session.add(a_patent(title="the same number again"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_payment_for_a_missing_patent_is_refused(session: Session) -> None:
    session.add(Payment(patent_id=999, year=1, amount=Decimal("1"), paid_on=date(2024, 1, 1), source="cli"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_contacts_go_with_their_enterprise(engine: Engine, session: Session) -> None:
    enterprise = saved(session, Enterprise(credit_code="91350100M000100Y43", name="测试有限公司"))
    contact = saved(session, Contact(enterprise_id=enterprise.id, name="张三", role="ip_manager", mobile="13800138000"))
    session.delete(enterprise)
    session.commit()
    assert fresh_read(engine, Contact, contact.id) is None


def test_unknown_mode_is_refused(session: Session) -> None:
    session.add(a_patent(mode="archive"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_naive_timestamp_is_refused(session: Session) -> None:
    session.add(Enterprise(credit_code="91350100M000100Y43", name="x", created_at=datetime(2024, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_timestamps_come_back_as_the_same_utc_instant(engine: Engine, session: Session) -> None:
    beijing = timezone(timedelta(hours=8))
    stamp = datetime(2024, 2, 29, 23, 30, 15, 123456, tzinfo=beijing)
    enterprise = saved(session, Enterprise(credit_code="91350100M000100Y43", name="x", created_at=stamp))
    read = fresh_read(engine, Enterprise, enterprise.id)
    assert read.created_at == stamp
    assert read.created_at.tzinfo == UTC
    assert read.updated_at.tzinfo == UTC


# ------------------------------------------------------------------------------------------------ payments


ADVANCES = [
    # (paid_through, grant_year, years paid in order, paid_through after each payment)
    pytest.param(3, 1, [4], [4], id="the-next-year-advances-it"),
    pytest.param(3, 1, [5, 4], [3, 5], id="a-gap-holds-it-until-filled"),
    pytest.param(3, 1, [5, 6, 4], [3, 3, 6], id="filling-a-gap-runs-through-later-years"),
    pytest.param(3, 1, [4, 4], [4, 4], id="a-top-up-does-not-skip-a-year"),
    pytest.param(5, 1, [2], [5], id="an-earlier-year-never-lowers-it"),
    pytest.param(None, 3, [3, 4], [3, 4], id="unknown-starts-at-the-grant-year"),
    pytest.param(None, 3, [5], [None], id="unknown-stays-unknown-across-a-gap"),
    pytest.param(None, None, [7, 8], [7, 8], id="unknown-without-grant-year-starts-at-the-first-payment"),
]


@pytest.mark.parametrize(("paid_through", "grant_year", "years", "expected"), ADVANCES)
def test_add_payment_advances_paid_through_only_over_a_complete_run(
    session: Session, paid_through: int | None, grant_year: int | None, years: list[int], expected: list[int | None]
) -> None:
    patent = saved(session, a_patent(paid_through=paid_through, grant_year=grant_year))
    after = []
    for year in years:
        add_payment(session, patent, year, Decimal("900"), date(2024, 7, 1), source="cli")
        after.append(patent.paid_through)
    assert after == expected


def test_add_payment_marks_an_advanced_paid_through_as_on_record(session: Session) -> None:
    patent = saved(session, a_patent(paid_through=3, paid_through_inferred=True))
    add_payment(session, patent, 4, "900", date(2024, 7, 1), source="import:payments.xlsx", note="银行回单")
    assert (patent.paid_through, patent.paid_through_inferred) == (4, False)


def test_add_payment_refuses_year_zero(session: Session) -> None:
    patent = saved(session, a_patent())
    with pytest.raises(ValueError, match="1 or more"):
        add_payment(session, patent, 0, "900", date(2024, 7, 1), source="cli")


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        pytest.param("0.01", Decimal("0.01"), id="one-fen"),
        pytest.param("0.10", Decimal("0.10"), id="ten-fen"),
        pytest.param("1234.5", Decimal("1234.50"), id="fen-padded"),
        pytest.param(900, Decimal("900.00"), id="whole-yuan-int"),
        pytest.param("9999999999.99", Decimal("9999999999.99"), id="largest-amount"),
        pytest.param("337.505", Decimal("337.51"), id="rounded-half-up-to-the-fen"),
    ],
)
def test_decimal_amounts_survive_exactly(engine: Engine, session: Session, amount: object, stored: Decimal) -> None:
    patent = saved(session, a_patent())
    payment = add_payment(session, patent, 4, amount, date(2024, 7, 1), source="cli")
    session.commit()
    read = fresh_read(engine, Payment, payment.id)
    assert isinstance(read.amount, Decimal)
    assert str(read.amount) == str(stored)


# ------------------------------------------------------------------------------------------------ reading


def test_facts_of_round_trips_open_licences_and_reduction(session: Session) -> None:
    patent = saved(session, a_patent(reduction=Reduction.R85, grant_year=3, paid_through=3, term_extension_days=42))
    session.add(OpenLicence(patent_id=patent.id, start=date(2024, 1, 1)))
    session.add(OpenLicence(patent_id=patent.id, start=date(2022, 3, 1), end=date(2022, 12, 31)))
    add_payment(session, patent, 4, "270", date(2020, 7, 1), source="cli")
    add_payment(session, patent, 4, "10", date(2020, 7, 2), source="cli", note="top-up")
    session.commit()
    facts = facts_of(session, patent)
    assert facts.reduction is Reduction.R85
    assert facts.type is PatentType.INVENTION
    assert facts.open_licences == (DatePeriod(date(2022, 3, 1), date(2022, 12, 31)), DatePeriod(date(2024, 1, 1)))
    assert (facts.paid_through, facts.paid_years, facts.grant_year) == (4, frozenset({4}), 3)
    assert (facts.term_extension_days, facts.application_number) == (42, NUMBER)


def test_enums_come_back_as_the_domain_strenums(engine: Engine, session: Session) -> None:
    patent = saved(session, a_patent(type=PatentType.DESIGN, reduction=Reduction.R70))
    read = fresh_read(engine, Patent, patent.id)
    assert (read.type, read.reduction) == (PatentType.DESIGN, Reduction.R70)
    assert isinstance(read.type, PatentType)


@pytest.mark.parametrize(
    "spelling",
    ["201710601862.3", "ZL201710601862.3", "CN2017106018623", " 201710601862.3 "],
    ids=["canonical", "zl-prefix", "cn-no-dot", "padded"],
)
def test_patent_by_number_finds_any_common_spelling(session: Session, spelling: str) -> None:
    saved(session, a_patent())
    found = patent_by_number(session, spelling)
    assert found is not None and found.application_number == NUMBER


def test_patent_by_number_is_none_when_absent(session: Session) -> None:
    assert patent_by_number(session, "201310699744.2") is None


# ------------------------------------------------------------------------------------------------ sessions


def test_session_for_commits_on_success_and_rolls_back_on_error(engine: Engine) -> None:
    with session_for(engine) as session:
        session.add(a_patent())
    with pytest.raises(RuntimeError), session_for(engine) as session:
        session.add(a_patent(application_number="201310699744.2"))
        session.flush()
        raise RuntimeError("boom")
    with Session(engine) as session:
        assert [p.application_number for p in session.exec(select(Patent)).all()] == [NUMBER]


def test_two_sqlite_writers_that_read_first_both_succeed_one_after_the_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'custody.sqlite3'}"
    upgrade(url)
    engine = engine_for(url)
    with session_for(engine) as session:
        session.add(a_patent(paid_through=3))
    first_has_read, errors = threading.Event(), []

    def bump(wait: bool) -> None:
        try:
            with session_for(engine) as session:
                patent = patent_by_number(session, NUMBER)
                if wait:
                    first_has_read.set()
                    time.sleep(0.3)  # the other writer tries to start meanwhile and must wait, not fail
                patent.paid_through += 1
        except Exception as exc:  # collected: an exception in a thread would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(True,)), threading.Thread(target=bump, args=(False,))]
    threads[0].start()
    first_has_read.wait(5)
    threads[1].start()
    for thread in threads:
        thread.join(10)
    with Session(engine) as session:
        assert (errors, patent_by_number(session, NUMBER).paid_through) == ([], 5)
    engine.dispose()


def test_updated_at_moves_on_update_and_created_at_stays(engine: Engine, session: Session) -> None:
    with freeze_time("2024-01-02 03:04:05"):
        patent = saved(session, a_patent())
    with freeze_time("2024-06-01 00:00:00"):
        patent.title = "renamed"
        saved(session, patent)
    read = fresh_read(engine, Patent, patent.id)
    assert read.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert read.updated_at == datetime(2024, 6, 1, tzinfo=UTC)


def test_sqlite_engine_makes_its_folder_and_turns_on_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'new' / 'dir' / 'custody.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
    finally:
        engine.dispose()
    assert (tmp_path / "new" / "dir").is_dir()


def test_bare_postgresql_urls_use_psycopg() -> None:
    engine = engine_for("postgresql://someone@localhost/none")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()
