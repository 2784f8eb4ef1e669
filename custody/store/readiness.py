"""Whether the configured database can be used by a command: it opens, it is initialised, and it is at this
version's revision (else the command to run is named), or why a SQLite file could never be created where the
URL says. Also the migration run by `custody init` and `custody db upgrade`.

A database that cannot be opened, or was migrated by a newer version, is a configuration error (ConfigError, exit
2); one not initialised or not up to date is DatabaseNotReady (exit 1, naming the command to run).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from custody.config_error import ConfigError
from custody.explained import tx


class DatabaseNotReady(Exception):
    """The database is not initialised or not at this version's revision: the message names the command to run."""


def first_line(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's multi-line background notes."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def url_problem(exc: BaseException) -> ConfigError:
    """A database URL SQLAlchemy refuses (malformed, or its driver not installed): a configuration error."""
    return ConfigError(tx("database URL: {problem}", problem=first_line(exc)))


def require_current_database(url: str) -> None:
    """Refuse a database that cannot be opened or was migrated by a newer version (configuration, exit 2), or one
    not initialised or not up to date (exit 1, naming the command to run)."""
    from custody.store.db import current_revision, head_revision

    if _is_missing_sqlite_file(url):
        # Opening it would create an empty file that later looks like a database.
        folder_problem = _sqlite_folder_problem(url)
        if folder_problem:
            raise ConfigError(folder_problem)
        raise DatabaseNotReady(tx("the database is not initialised: run `custody init`"))
    revision = revision_or_none(url, current_revision)
    if revision is None:
        raise DatabaseNotReady(tx("the database is not initialised: run `custody init`"))
    if revision != head_revision():
        raise DatabaseNotReady(tx("the database is at revision {revision}, not {head_revision}: run `custody db "
                                  "upgrade`", revision=revision, head_revision=head_revision()))


def _is_missing_sqlite_file(url: str) -> bool:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by _revision_or_none as configuration
        return False
    database = parsed.database or ""
    return (parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            and not database.startswith("file:") and not Path(database).expanduser().is_file())


def _sqlite_folder_problem(url: str) -> str | None:
    """Why the SQLite file of `url` could never be created there (its nearest existing folder is a file, or
    cannot be written), or None."""
    from sqlalchemy.engine import make_url

    folder = Path(make_url(url).database or "").expanduser().absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return tx("cannot create the SQLite database in {folder}: it is a file, not a folder (check [database] url)",
                  folder=folder)
    if not os.access(folder, os.W_OK):
        return tx("cannot create the SQLite database in {folder}: the folder is not writable (check [database] "
                  "url)", folder=folder)
    return None


def revision_or_none(url: str, current_revision: Callable[[str], str | None]) -> str | None:
    """The database's revision; a database that cannot be opened (or created: a SQLite file's folder that cannot
    be made), or one migrated by a newer version of custody, is a configuration error (exit 2)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from custody.store.db import head_revision, is_known_revision

    try:
        revision = current_revision(url)
    except OperationalError as exc:
        raise ConfigError(tx("cannot open the database: {problem}", problem=first_line(exc.orig or exc))) from None
    except (ArgumentError, NoSuchModuleError) as exc:
        raise url_problem(exc) from None
    except OSError as exc:  # the SQLite file's folder cannot be made
        raise ConfigError(_sqlite_folder_problem(url)
                          or tx("cannot create the database's folder {folder}: {reason}", folder=exc.filename,
                                reason=exc.strerror)) from None
    if revision is not None and not is_known_revision(revision):
        raise ConfigError(tx("the database is at revision {revision}, newer than this version of custody knows (its "
                             "newest is {head_revision}): run the newer version, or check [database] url",
                             revision=revision, head_revision=head_revision()))
    return revision


def upgraded(url: str) -> str | None:
    """Migrate to head and return the new revision; a database that cannot be written is a configuration error."""
    from sqlalchemy.exc import OperationalError

    from custody.store.db import current_revision, upgrade

    try:
        upgrade(url)
    except OperationalError as exc:
        raise ConfigError(tx("cannot write the database: {reason}", reason=first_line(exc.orig or exc))) from None
    return current_revision(url)
