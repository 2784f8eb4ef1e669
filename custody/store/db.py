"""Connecting to the database (SQLite or PostgreSQL), migrating it with Alembic, and scoping sessions.

The same code runs on both databases. SQLite gets the settings that make it safe for a daemon and a cron job
sharing one file: foreign keys on, WAL, a busy timeout, and BEGIN IMMEDIATE so every transaction takes the
write lock up front and waits for it instead of failing half-way with "database is locked".
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from custody.config import ConfigError
from custody.explained import tx

if TYPE_CHECKING:  # alembic and sqlmodel load when a migration or a session is asked for, not with every command
    from alembic.config import Config
    from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# Page cache per connection (KiB, negative per SQLite's convention; the 2 MB default): a million-patent
# portfolio's indexes (reminder keys, items, patent_due) outgrow the default, and a daily plan would re-read pages.
SQLITE_CACHE_KIB = -65536
# Bare PostgreSQL URLs would pick psycopg2, which we do not install; psycopg (3) is the driver we ship.
POSTGRES_DRIVER = "postgresql+psycopg"


class MigrationError(RuntimeError):
    """The database could not be brought to the expected revision; the message says why."""


def database_url(url: str | URL) -> URL:
    """`url` parsed, with PostgreSQL URLs pointed at the psycopg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return database_url(url).get_backend_name() == "sqlite"


def engine_for(url: str | URL, *, foreign_keys: bool = True, reads_only: bool = False) -> Engine:
    """An engine for `url`. `foreign_keys=False` is for migrations only (SQLite batch mode copies tables).
    `reads_only`: for a process that only reads while another connection holds a write transaction (an
    import's reader): on SQLite its queries begin no IMMEDIATE transaction, which would wait for that lock; a
    WAL reader sees the last commit and never waits."""
    parsed = database_url(url)
    _require_driver(parsed)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, foreign_keys, reads_only)
    return create_engine(parsed, pool_pre_ping=True)


def _require_driver(url: URL) -> None:
    """A URL naming a driver that is not installed (postgresql+psycopg2://, mysql://) is a configuration error,
    said before SQLAlchemy fails on the import deep inside create_engine."""
    try:
        url.get_dialect().import_dbapi()
    except ImportError as exc:
        shown = url.render_as_string(hide_password=True)
        raise ConfigError(tx("database URL: {url}: its driver ({driver}) is not installed; custody works with SQLite "
                             "(sqlite:///FILE) and PostgreSQL through psycopg ({postgres}://USER@HOST:5432/DB)",
                             url=shown, driver=exc.name or url.drivername, postgres=POSTGRES_DRIVER)) from None


def _sqlite_engine(url: URL, foreign_keys: bool, reads_only: bool = False) -> Engine:
    _create_parent_dir(url)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so our BEGIN below is the only one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
        cursor.close()

    if reads_only:
        return engine

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes cannot wait for the lock in WAL mode (SQLITE_BUSY
        # at once); IMMEDIATE waits up to the busy timeout, so a claim like UPDATE … WHERE state='planned' is safe.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_parent_dir(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def session_for(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises.

    Objects stay readable after the block (no expiry on commit), so callers can render what they saved.
    """
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration built in code: our migrations folder and `url`; no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = database_url(url).render_as_string(hide_password=False)
    # ConfigParser interpolation: a literal % (as in ?options=-csearch_path%3D…) must be doubled.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`; running it again is a no-op."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    if is_sqlite(url):
        _check_sqlite_foreign_keys(url)


def downgrade(url: str | URL, revision: str = "base") -> None:
    """Migrate the database at `url` down to `revision` ("base" drops every table)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def _check_sqlite_foreign_keys(url: str | URL) -> None:
    # Migrations run with foreign keys off on SQLite (batch mode recreates tables), so check afterwards.
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    finally:
        engine.dispose()
    if broken:
        raise MigrationError(f"foreign keys broken after migration: {[tuple(row) for row in broken[:5]]}")


def current_revision(url: str | URL) -> str | None:
    """The revision the database at `url` is at, or None for an empty (unmigrated) database."""
    from alembic.runtime.migration import MigrationContext

    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_known_revision(revision: str) -> bool:
    """Whether `revision` is one of this version's migrations; an unknown one was written by a newer version."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision) is not None
    except CommandError:
        return False


def head_revision() -> str | None:
    """The newest revision shipped with this version of the engine."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
