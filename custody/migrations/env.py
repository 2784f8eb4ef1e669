"""Alembic environment: migrate the database named by the config's `sqlalchemy.url` to our models' metadata.

The config is built in code (custody.store.db.alembic_config), so no alembic.ini is needed. SQLite runs in batch
mode (it cannot ALTER most things in place) with foreign keys off while tables are copied; upgrade() checks them
afterwards.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import custody.models
from custody.store.db import engine_for

config = context.config
target_metadata = custody.models.SQLModel.metadata


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, **kwargs)


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade --sql`)."""
    url = config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, render_as_batch=url is not None and url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run_on(given)
        return
    engine = engine_for(config.get_main_option("sqlalchemy.url") or "", foreign_keys=False)
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
