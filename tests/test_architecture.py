"""The shape of the code base, kept by tests: dependencies point inward, documented defaults match the code."""
from __future__ import annotations

import ast
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from custody.ruleset import RuleSettings

ROOT = Path(__file__).resolve().parent.parent
OUTER = ("cli", "cli_render", "scheduler", "notifiers", "importers")
# Only these custody modules may touch the database layer; the rest of the core is pure.
DB_MODULES = ("custody/models", "custody/store", "custody/migrations")


def imported_top_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


# `python -m custody` runs the command line: an entry point that only hands over to cli.py, not core code.
ENTRY_POINTS = {"custody/__main__.py"}


def test_the_core_imports_no_outer_package():
    offenders = {f"{p.relative_to(ROOT)}: {name}" for p in python_files("custody")
                 if str(p.relative_to(ROOT)) not in ENTRY_POINTS
                 for name in imported_top_names(p) if name.split(".")[0] in OUTER}
    assert not offenders


@pytest.mark.parametrize("folder", ["scheduler", "notifiers", "importers"])
def test_outer_packages_do_not_import_each_other(folder):
    others = set(OUTER) - {folder}
    offenders = {f"{p.relative_to(ROOT)}: {name}" for p in python_files(folder)
                 for name in imported_top_names(p) if name.split(".")[0] in others}
    assert not offenders


def test_only_models_and_store_touch_the_database_layer():
    pure = [p for p in python_files("custody") if not str(p.relative_to(ROOT)).startswith(DB_MODULES)]
    offenders = {f"{p.relative_to(ROOT)}: {name}" for p in pure for name in imported_top_names(p)
                 if name.split(".")[0] in ("sqlmodel", "sqlalchemy", "alembic")}
    assert not offenders


def test_config_toml_documents_the_rule_settings_defaults():
    documented = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["rules"]
    assert documented == {f.name: f.default for f in fields(RuleSettings)}


def test_readme_names_every_unconfirmed_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for f in fields(RuleSettings):
        assert f"`{f.name} = " in readme, f.name
