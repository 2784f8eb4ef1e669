"""A reproducible install: every dependency bounded above and pinned in constraints.txt (what `make install`, `make
test`, `make demo` and CI install), none declared but unused; the version, the licence and `python -m custody`."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import metadata, packages_distributions, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import cli
from custody import __version__

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
TEST = [Requirement(r) for r in PROJECT["optional-dependencies"]["test"]]
# Declared without an import of their own: the PostgreSQL driver SQLAlchemy loads from the URL, a pytest plugin
# (pyproject's `timeout`) and the two checkers `make test` runs.
USED_WITHOUT_IMPORT = {"psycopg", "pytest-timeout", "ruff", "mypy"}


def _pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = [line.split("==") for line in lines if line.strip() and not line.startswith("#")]
    assert all(len(pin) == 2 for pin in pins), "constraints.txt holds exact pins only (name==version)"
    return {canonicalize_name(name): pinned.strip() for name, pinned in pins}


@pytest.mark.parametrize("requirement", RUNTIME + TEST, ids=str)
def test_every_dependency_has_an_upper_bound(requirement: Requirement) -> None:
    assert any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier), requirement


@pytest.mark.parametrize("requirement", RUNTIME + TEST, ids=str)
def test_constraints_pin_every_dependency_within_its_bounds(requirement: Requirement) -> None:
    pinned = _pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in constraints.txt: run make lock"
    assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement.name}=={pinned} ∉ {requirement}"


def test_the_installed_versions_are_the_pinned_ones() -> None:
    pins = _pins()
    drifted = {name: (version(name), pins[canonicalize_name(name)]) for name in
               (r.name for r in RUNTIME + TEST) if version(name) != pins[canonicalize_name(name)]}
    assert drifted == {}, "the virtual environment is not the locked one: make install"


def test_make_installs_from_the_constraints_and_ci_runs_make() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    install = [line for line in makefile.splitlines() if "pip install" in line and "-e '.[test]'" in line]
    assert install[0].split() == ["$(BIN)/pip", "install", "--quiet", "--constraint", "constraints.txt", "-e",
                                  "'.[test]'"]
    assert re.search(r"^\$\(STAMP\):.*constraints\.txt", makefile, re.M)
    assert re.search(r"^lock:", makefile, re.M) and "make test" in (ROOT / ".ci" / "run").read_text()


def _imported_top_names() -> set[str]:
    names: set[str] = set()
    files = [*ROOT.glob("cli*.py"), *[p for d in ("custody", "scheduler", "notifiers", "importers", "tests", "bench")
                                for p in (ROOT / d).rglob("*.py")]]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_no_dependency_is_declared_but_unused() -> None:
    provided_by: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            provided_by.setdefault(canonicalize_name(distribution), set()).add(module)
    imported = _imported_top_names()
    unused = [r.name for r in RUNTIME + TEST if r.name not in USED_WITHOUT_IMPORT
              and not provided_by.get(canonicalize_name(r.name), set()) & imported]
    assert unused == []


def test_version_and_licence_are_in_the_metadata() -> None:
    meta = metadata("patent-custody")
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:200]
    assert meta["Author"] or meta["Author-email"]
    assert meta.get_all("Classifier")


def test_the_metadata_names_the_project_urls() -> None:
    urls = dict(entry.split(", ", 1) for entry in metadata("patent-custody").get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Source", "Issues", "Documentation"}
    assert all(url.startswith("https://") for url in urls.values())


def test_custody_version_prints_the_version_without_reading_any_configuration(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_bytes(b"\x00\xff not a configuration")
    assert cli.run(["--version"]) == 0
    assert capsys.readouterr().out == f"custody {__version__}\n"


def test_python_dash_m_custody_is_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "custody", "--version"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, f"custody {__version__}\n")
