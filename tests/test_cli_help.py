"""`custody --help` and README in step (sqlite-utils' habit): every command's help ends with an example of that
command, and README names every command."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _paths(sub, (*prefix, name))
    return found


PATHS = _paths(cli.command())


@pytest.fixture(params=["en", "zh"])
def language(request, tmp_path, monkeypatch) -> str:
    """Each help in both languages (`custody --help` reads [general] language before the configuration)."""
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlanguage = "{request.param}"\n', encoding="utf-8")
    monkeypatch.setenv("CUSTODY_CONFIG", str(config))
    return request.param


def _help(path: tuple[str, ...], capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "400")  # one line per paragraph: the example is not wrapped
    assert cli.run([*path, "--help"]) == 0
    return capsys.readouterr().out


def test_the_command_tree_is_found() -> None:
    assert {("fees",), ("import", "patents"), ("remind", "plan"), ("report", "kpi"), ("daemon",)} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "custody")
def test_every_help_ends_with_an_example_of_that_command(path, language, capsys, monkeypatch) -> None:
    last = [line.strip() for line in _help(path, capsys, monkeypatch).splitlines() if line.strip()][-1]
    assert last.startswith(("Example: ", "示例：")) and "custody" in last
    words = last.split()
    assert all(word in words for word in path), f"the example does not run {' '.join(path)}: {last}"


@pytest.mark.parametrize("path", [p for p in PATHS if p], ids=" ".join)
def test_readme_names_every_command(path) -> None:
    assert f"custody {' '.join(path)}" in README


SECTION = re.compile(r"\\?\[([a-z][a-z_]*(?:\.[a-z_]+)*)\]")  # a config section name: [status], [status.http]


def _command(path: tuple[str, ...]):
    found = cli.command()
    for name in path:
        found = found.commands[name]
    return found


def _raw_help(command) -> str:
    return "\n".join(filter(None, [command.help, *(getattr(p, "help", None) for p in command.params)]))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "custody")
def test_no_help_loses_a_config_section_name_to_rich_markup(path, language, capsys, monkeypatch) -> None:
    # Rich takes an unescaped "[status]" for a style tag and prints nothing: write "\\[status]" in the help.
    names = SECTION.findall(_raw_help(_command(path)))
    shown = _help(path, capsys, monkeypatch)
    assert [name for name in names if f"[{name}]" not in shown] == []


# The legal-status watch's commands: README documents every option they take.
STATUS_WATCH = [("status", "sync"), ("status", "review"), ("status", "confirm"), ("patent", "history"),
                ("patent", "watch"), ("patent", "custody"), ("decide",), ("run-once",)]


@pytest.mark.parametrize("path", STATUS_WATCH, ids=" ".join)
def test_readme_names_every_option_of_the_status_watch_commands(path) -> None:
    options = [o for p in _command(path).params for o in getattr(p, "opts", ()) if o.startswith("--")]
    assert [o for o in options if o not in {"--help", "--format"} and o not in README] == []
