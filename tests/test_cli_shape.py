"""The command line stays small enough to change (issue 12): cli.py is the entry point and composition root, each
command a short function in the cli_<subject> module of its subject, its logic where that subject lives."""
from __future__ import annotations

import ast
import inspect
import tomllib
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent
MAX_CLI_LINES = 1_000
# A command's body, after its options (the signature) and its help (the docstring): parse, call, render.
MAX_COMMAND_BODY_LINES = 30

REGISTERED = [(f"{function.__module__}.{function.__name__}", function)
              for _, commands in cli.COMMANDS for _, function in commands]


def body_lines(function: ast.FunctionDef) -> int:
    """The lines of `function` after its signature and docstring."""
    body = function.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1:
        body = body[1:]
    return (function.end_lineno or body[-1].lineno) - body[0].lineno + 1


@pytest.mark.parametrize(("source", "expected"), [
    ("def f():\n    '''Help.\n\n    More.'''\n    a = 1\n    return a\n", 2),
    ("def f(\n    x=1,\n    y=2,\n):\n    return x\n", 1),
])
def test_body_lines_leave_out_the_signature_and_the_help(source, expected):
    assert body_lines(ast.parse(source).body[0]) == expected


def test_cli_py_stays_the_composition_root():
    lines = len((ROOT / "cli.py").read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_CLI_LINES, f"cli.py has {lines} lines: move what is not option parsing and output out"


def test_every_command_of_the_app_is_in_the_one_table():
    """cli.COMMANDS names every command the app has, each once: the tests below see them all."""
    registered = {function for _, function in REGISTERED}
    assert len(REGISTERED) == len(registered)
    tree = cli.command()
    found = []
    stack = [tree]
    while stack:
        group = stack.pop()
        for sub in getattr(group, "commands", {}).values():
            stack.append(sub) if hasattr(sub, "commands") else found.append(sub.callback)
    assert len(found) == len(registered)


@pytest.mark.parametrize(("name", "function"), REGISTERED, ids=[name for name, _ in REGISTERED])
def test_no_command_function_grows_long(name, function):
    lines = body_lines(ast.parse(inspect.getsource(function)).body[0])
    assert lines <= MAX_COMMAND_BODY_LINES, (
        f"{name} has {lines} lines after its options and help: move the work to the package of its subject")


@pytest.mark.parametrize(("name", "function"), REGISTERED, ids=[name for name, _ in REGISTERED])
def test_no_command_annotation_is_a_string(name, function):
    """Typer evaluates each command's annotations; strings (`from __future__ import annotations`) cost a compile
    each on every start (issue 9)."""
    assert not [k for k, v in inspect.get_annotations(function).items() if isinstance(v, str)], name


def test_every_cli_module_is_installed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
                 ["py-modules"])
    assert {p.stem for p in ROOT.glob("cli*.py")} == listed
