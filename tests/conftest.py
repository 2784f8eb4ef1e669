"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, an engine and a session on it.

A test asks for `db_url` (or `engine` / `session`) and runs twice, ids `sqlite` and `postgresql`. Tests that ask
for none of them never touch a database. PostgreSQL is the server at $CUSTODY_TEST_PG_URL (default below); each
test gets a fresh schema there, dropped afterwards. If the server is unreachable the PostgreSQL run is skipped,
except under CI (CI=true), where a missing PostgreSQL is a failure. `-m "not postgres"` leaves it out.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from custody.store.db import database_url, engine_for, upgrade

# The real local servers the channel tests talk to: an Aliyun-compatible SMS gateway and an SMTP server.
pytest_plugins = ["tests.support.fixtures"]

# Running the tests leaves nothing in the working tree: hypothesis keeps its example database outside it (read
# when hypothesis first stores something, after this), and commands log to a temporary file (`_log_in_tmp`).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(tempfile.gettempdir()) / f"patent-custody-hypothesis-{os.getuid()}"))


@pytest.fixture(autouse=True)
def _log_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's log file in a temporary folder, never ./custody.log: a configuration without [general] log_file
    (the built-in defaults, and ./config.toml, which leaves the key at its default) logs there. A test may still
    set its own."""
    monkeypatch.setattr("custody.config.DEFAULT_LOG_FILE", str(tmp_path_factory.getbasetemp() / "custody.log"))

@pytest.fixture(autouse=True)
def _english_core() -> Iterator[None]:
    """The core's own functions speak English in tests (their messages are the catalogue's msgids); a CLI command
    sets the language of its configuration ([general] language, "zh" by default), as in production."""
    from custody.i18n import set_language

    set_language("en")
    yield
    set_language("en")


PG_URL_ENV = "CUSTODY_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_CONNECT_TIMEOUT_S = 3


def _pg_server_url() -> str:
    return os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Engine]:
    """An autocommit engine on the test PostgreSQL server; skips (or fails under CI) when it is unreachable."""
    url = database_url(_pg_server_url())
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # any failure to connect means the same thing here
        engine.dispose()
        shown = url.render_as_string(hide_password=True)
        cause = getattr(exc, "orig", None) or exc  # the driver's own message, without SQLAlchemy's wrapping
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        reason = f"PostgreSQL at {shown} is unreachable: {first_line}"
        if _is_ci():
            pytest.fail(f"{reason}; under CI=true the PostgreSQL tests must run. Set {PG_URL_ENV}.", pytrace=False)
        pytest.skip(f"{reason}; set {PG_URL_ENV} to run the PostgreSQL variant")
    yield engine
    engine.dispose()


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'custody.sqlite3'}"


@pytest.fixture
def pg_schema_url(pg_server: Engine) -> Iterator[str]:
    """A URL on the test PostgreSQL server whose search_path is a fresh, empty schema (dropped afterwards).

    Connections made with it carry the schema name as application_name, so any a test leaves open can be ended
    before the drop instead of blocking it.
    """
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with pg_server.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    query = {"options": f"-csearch_path={schema}", "application_name": schema}
    url = database_url(make_url(_pg_server_url()).update_query_dict(query))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with pg_server.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": schema},
            )
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty, unmigrated database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A URL to a fresh database migrated to head, once on SQLite and once on PostgreSQL."""
    upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """engine_for(db_url); disposed after the test so the PostgreSQL schema can be dropped."""
    engine = engine_for(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; call commit() where a test needs it, the rest is rolled back.

    End its transaction (commit() or rollback()) before the code under test writes through a session of its own:
    on SQLite every transaction holds the write lock (BEGIN IMMEDIATE), so the other writer would wait 15 s and fail.
    """
    with Session(engine, expire_on_commit=False) as session:
        yield session
