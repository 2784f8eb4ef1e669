"""The shape of the code base, kept by tests: dependencies point inward, documented defaults match the code."""
from __future__ import annotations

import ast
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from custody.ruleset import RuleSettings

ROOT = Path(__file__).resolve().parent.parent
# The command line (cli.py and its cli_<subject> modules at the top) and the three outer packages.
CLI_MODULES = tuple(sorted(p.stem for p in ROOT.glob("cli*.py")))
OUTER = (*CLI_MODULES, "scheduler", "notifiers", "importers")
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


def test_the_core_imports_no_outer_package():
    offenders = {f"{p.relative_to(ROOT)}: {name}" for p in python_files("custody")
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


def test_the_core_draws_no_terminal_output():
    """Rich and Typer are the command line's: the core returns text and plain tables (custody.fee_text.TextTable)."""
    offenders = {f"{p.relative_to(ROOT)}: {name}" for p in python_files("custody")
                 for name in imported_top_names(p) if name.split(".")[0] in ("rich", "typer", "click")}
    assert not offenders


# --- import cycles: every import counts, at module level or inside a function (an import moved into a function
# to dodge a cycle still ties the two modules together); only `if TYPE_CHECKING:` imports, never run, do not.

PACKAGES = ("custody", "scheduler", "notifiers", "importers")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    files = [p for pkg in PACKAGES for p in python_files(pkg) if "migrations" not in p.parts]
    return {module_name(p): p for p in [*files, *sorted(ROOT.glob("*.py"))]}


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules `name` imports: `from a.b import c` names a.b.c when that is a module, else a.b."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
            continue
        base = node.module or ""
        if node.level:
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
        for alias in node.names:
            target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            if target in modules and target != name:
                found.add(target)
    return found


def import_cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan): modules that import each other in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: set[frozenset[str]] = set()

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = {stack.pop()}
            while module not in group:
                group.add(stack.pop())
            if len(group) > 1:
                cycles.add(frozenset(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def project_cycles() -> set[frozenset[str]]:
    modules = our_modules()
    return import_cycles({name: imported_modules(name, path, modules) for name, path in modules.items()})


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, set()),
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, {frozenset({"a", "b"})}),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, {frozenset({"a", "b", "c"})}),
])
def test_import_cycles_finds_rings_of_modules(graph, expected):
    assert import_cycles(graph) == expected


def test_a_function_level_import_counts_and_a_type_checking_one_does_not(tmp_path):
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n"
                                   "def f():\n    from c import g\n", encoding="utf-8")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py", "c": tmp_path / "c.py"}
    assert imported_modules("a", modules["a"], modules) == {"c"}


def test_the_scheduler_ticks_and_their_work_import_one_way():
    modules = our_modules()
    assert "scheduler.dispatch" in imported_modules("scheduler.ticks", modules["scheduler.ticks"], modules)
    assert not [c for c in project_cycles() if any(m.startswith("scheduler.") for m in c)]


def test_no_module_of_ours_is_in_an_import_cycle():
    assert project_cycles() == set()


def test_config_toml_documents_the_rule_settings_defaults():
    documented = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["rules"]
    assert documented == {f.name: f.default for f in fields(RuleSettings)}


def test_the_limitations_name_every_unconfirmed_setting():
    limitations = (ROOT / "docs" / "limitations.md").read_text(encoding="utf-8")
    for f in fields(RuleSettings):
        assert f"`{f.name} = " in limitations, f.name
