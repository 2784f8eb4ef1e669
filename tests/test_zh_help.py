"""`--help` in Chinese (issue 11): with `[general] language = "zh"` every command's help, its options' and typer's
own words ("Options", "[required]", "Usage:") are Chinese; with "en" they are the English written in the code.

The only Latin letters left in a Chinese help are what the operator types or reads as a name: command and option
names, the example, file names, configuration keys, and the words the translation itself keeps (table, json, OPS).
"""
from __future__ import annotations

import re
from enum import Enum

import pytest
from rich.text import Text

import cli
from cli_help import (
    EXAMPLE_WORD,
    HELP_OPTION,
    TYPE_WORDS,
    TYPER_WORDS,
    USAGE,
    USAGE_PIECES,
    help_language,
    help_msgids,
    paragraphs,
)
from custody.config import load_config
from custody.i18n import catalogue


def _paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        found += _paths(sub, (*prefix, name))
    return found


PATHS = _paths(cli.command())


@pytest.fixture
def configured(tmp_path, monkeypatch):
    """Run a command under a configuration of the given language, at 80 columns."""
    def run(language: str, args: list[str], capsys, columns: int = 80) -> str:
        config = tmp_path / f"{language}.toml"
        config.write_text(f'[general]\nlanguage = "{language}"\n', encoding="utf-8")
        monkeypatch.setenv("CUSTODY_CONFIG", str(config))
        monkeypatch.setenv("COLUMNS", str(columns))
        cli.run(args)  # 0, or 2 for a group called bare
        return capsys.readouterr().out
    return run


# What the operator types or reads as a name: option names, code in backquotes, config sections and keys, file
# names and paths, numbers, the usage line and the example (a command line).
_NAMES = re.compile(r"^\s*(用法：|示例：).*$|--[\w-]+|`[^`]*`|\\?\[[a-z_.]+\]|[\w./$|-]*[._/$\d|][\w./$|-]*",
                    re.MULTILINE)


def latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", _NAMES.sub(" ", text)))


def _kept_words() -> set[str]:
    """The Latin words the Chinese translations keep on purpose, the command names and the option types' names."""
    kept = {word for text in catalogue("zh").values() for word in latin_words(text)}
    commands = list(cli.commands_of(cli.command()))
    names = {word for path in PATHS for name in path for word in re.findall(r"[A-Za-z]{2,}", name)}
    arguments = {param.name for command in commands for param in command.params}
    kinds = {getattr(param, "bare_type", None) for command in commands for param in command.params}
    choices = {member.value for kind in kinds if isinstance(kind, type) and issubclass(kind, Enum) for member in kind}
    return kept | names | arguments | choices


ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "custody")
def test_every_help_is_chinese_under_a_chinese_configuration(path, configured, capsys) -> None:
    shown = configured("zh", [*path, "--help"], capsys)
    prose = _NAMES.sub(" ", shown)
    assert ENGLISH_RUN.findall(prose) == []
    assert sorted(latin_words(shown) - _kept_words()) == []
    assert "用法：custody" in shown and "示例：" in shown


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "custody")
def test_chinese_help_wraps_between_characters(path, configured, capsys) -> None:
    """No Chinese text cut off with "…", and no line starting with closing punctuation."""
    lines = [line.strip("│ ") for line in configured("zh", [*path, "--help"], capsys).splitlines()]
    cut = [line for line in lines if re.search(r"[\u4e00-\u9fff]…", line) or re.match(r"[，。、；：）」”]", line)]
    assert cut == []


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "custody")
def test_every_help_is_the_english_of_the_code_under_an_english_configuration(path, configured, capsys) -> None:
    command = cli.command()
    for name in path:
        command = command.commands[name]
    shown = configured("en", [*path, "--help"], capsys, columns=1000)
    assert [p for p in help_msgids(command) if Text.from_markup(p).plain not in shown] == []
    assert shown.strip().startswith("Usage: custody") and "Options" in shown and "Show this message and exit." in shown
    zh = catalogue("zh")
    assert "用法" not in shown and [m for m in help_msgids(command) if zh.get(m, m) != m and zh[m] in shown] == []


def test_every_help_text_has_its_chinese() -> None:
    """A new option or command without a translation in custody/locale/zh/help.toml fails here."""
    zh = catalogue("zh")
    msgids = {m for command in cli.commands_of(cli.command()) for m in help_msgids(command)}
    msgids |= {*TYPER_WORDS.values(), USAGE, *USAGE_PIECES, HELP_OPTION, EXAMPLE_WORD, *TYPE_WORDS}
    assert sorted(m for m in msgids if m not in zh) == []


@pytest.mark.parametrize("args", [[], ["import"], ["report"]], ids=["custody", "import", "report"])
def test_a_group_called_bare_shows_its_help_in_chinese(args, configured, capsys) -> None:
    shown = configured("zh", args, capsys)
    assert "用法：" in shown and "Usage" not in shown and "Options" not in shown


@pytest.mark.parametrize(("text", "expected"), [
    ("One line.", ["One line."]),
    ("Broken\n    where the code\n    breaks it.\n\n    Second.", ["Broken where the code breaks it.", "Second."]),
    ("", []),
], ids=["one", "joined", "empty"])
def test_a_help_paragraph_is_one_msgid(text, expected) -> None:
    assert paragraphs(text) == expected


@pytest.mark.parametrize(("file", "env", "local", "expected"), [
    ('[general]\nlanguage = "en"\n', False, False, "en"),
    ('[general]\nlanguage = "en"\n', True, False, "en"),
    ('[general]\nlanguage = "en"\n', False, True, "en"),
    ("[general]\n", False, False, "zh"),
    (None, False, False, "zh"),
], ids=["--config", "CUSTODY_CONFIG", "./config.toml", "no-language", "built-in"])
def test_custody_help_reads_the_language_the_configuration_sets(file, env, local, expected, tmp_path,
                                                                monkeypatch) -> None:
    """`custody --help` is formatted before the configuration is loaded: the language it reads is the one
    load_config would give, by the same precedence."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUSTODY_CONFIG", raising=False)
    path = tmp_path / ("config.toml" if local else "chosen.toml")
    explicit = None
    if file is not None:
        path.write_text(file, encoding="utf-8")
        if env:
            monkeypatch.setenv("CUSTODY_CONFIG", str(path))
        elif not local:
            explicit = str(path)
    assert help_language(explicit) == expected == load_config(explicit).language


def test_an_english_line_with_chinese_characters_is_not_cut(configured, capsys) -> None:
    """rich trimmed a line's trailing space by characters, not cells: "…no contac…" where a line held 退订."""
    shown = " ".join(configured("en", ["contact", "--help"], capsys).replace("│", " ").split())
    assert "Exits 1 when no contact has that address." in shown
