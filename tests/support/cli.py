"""Handing a test database to the command line: what every CLI test's fixture does after building its data."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session


def hand_to_cli(session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Close the test's session (its data is committed), make `db_url` the CLI's database and run from an empty
    folder (no ./config.toml: built-in defaults); returns that folder."""
    session.close()
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path
