"""The one place (with custody.models) that talks to the database: connections, migrations and queries.

Import the submodules you need (`custody.store.db`, `custody.store.patents`, …); the most used names are
re-exported here.
"""
from custody.store.db import (
    current_revision,
    downgrade,
    engine_for,
    head_revision,
    session_for,
    upgrade,
)
from custody.store.patents import add_payment, facts_of, patent_by_number

__all__ = [
    "add_payment",
    "current_revision",
    "downgrade",
    "engine_for",
    "facts_of",
    "head_revision",
    "patent_by_number",
    "session_for",
    "upgrade",
]
