"""The one place (with custody.models) that talks to the database: connections, migrations and queries.

Import the submodules you need (`custody.store.db`, `custody.store.patents`, …); the most used names are
re-exported here.
"""
# Loaded on first use (PEP 562): `import custody.store.calendar` must not pay for alembic and the models.
_EXPORTS = {"current_revision": "db", "downgrade": "db", "engine_for": "db", "head_revision": "db",
            "session_for": "db", "upgrade": "db", "add_payment": "patents", "facts_of": "patents",
            "patent_by_number": "patents"}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)
