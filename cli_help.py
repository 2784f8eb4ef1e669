"""`--help` in the configured language (issue 11): every help text, and typer's and click's own words, from the
catalogue at the moment the help is formatted.

The help texts stay written in English in the code (docstrings, `help=`): they are the msgids. Each paragraph is
one msgid, its lines joined into one line (`paragraphs`), so a docstring re-wrapped in the code keeps its
translation, and rich wraps a paragraph at the terminal's width instead of breaking it where the code does (in
English too). Their Chinese is custody/locale/zh/help.toml; tests/test_zh_help.py checks every msgid has one.

`HelpCommand` and `HelpGroup` (every command and group of cli.py is one) translate themselves, their options and
their sub-commands' summaries in `format_help`, and set typer's section titles ("Options", "[required]", …), which
typer.rich_utils keeps as module-level words. A sub-command's help is formatted after the root callback has set
the configured language; `custody --help` (eager, before the callback) takes it from `help_language`, which
reads [general] language without loading the configuration's checks (start-up budget, issue 9).
"""
from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer.core

from custody.catalogue import DEFAULT_LANGUAGE, LANGUAGES, current_language, tr

# typer.rich_utils' words, as typer writes them (the msgids): set in the language before each help is formatted.
TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "DEFAULT_STRING": "[default: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "DEPRECATED_STRING": "(deprecated) ",
    "ENVVAR_STRING": "[env var: {}]",
}
# The kinds of value typer shows beside an option ("--amount <str>"); a choice (<table|json>) is what is typed.
TYPE_WORDS = ("<str>", "<bool>", "<int>", "<int range>", "<float>", "<float range>", "<path>")
# click's words in the usage line and the help option's help.
USAGE = "Usage: "
USAGE_PIECES = ("[OPTIONS]", "COMMAND [ARGS]...")
HELP_OPTION = "Show this message and exit."
EXAMPLE = "Example:"
EXAMPLE_WORD = "Example: "


# Where rich may break a Chinese line: before any Chinese character, never before closing punctuation (，。）) nor
# after opening (（「). rich's own words are runs without spaces, so a Chinese sentence would be one word: moved
# whole to the next line, or cut off with "…" in a table, whose columns it also widens (the option names cut).
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u201c\u201d\u2014\u2026"
_OPEN = "\uff08\u300c\u300e\u201c\u3010"
_CLOSE = "\uff0c\u3002\u3001\uff1b\uff1a\uff09\u300d\u300f\u201d\uff01\uff1f\u2026\u3011"
CJK_WORDS = re.compile(rf"\s*[{_OPEN}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{_CLOSE}]*\s*")


def paragraphs(text: str) -> list[str]:
    """`text`'s paragraphs, each on one line: the msgids of a help text."""
    return [" ".join(part.split()) for part in text.strip().split("\n\n") if part.strip()]


def translated(text: str | None, language: str) -> str | None:
    """A help text in `language`, paragraph by paragraph; its example keeps its command line."""
    if not text:
        return text
    said = []
    for paragraph in paragraphs(text):
        if paragraph.startswith(EXAMPLE):
            said.append(tr(EXAMPLE_WORD, language) + paragraph.removeprefix(EXAMPLE).strip())
        else:
            said.append(tr(paragraph, language))
    return "\n\n".join(said)


def help_msgids(command: Any) -> Iterator[str]:
    """Every msgid of `command`'s help and its options' (not its sub-commands')."""
    for text in (command.help, *(getattr(param, "help", None) for param in command.params)):
        yield from (p for p in paragraphs(text or "") if not p.startswith(EXAMPLE))


class _InLanguage:
    """format_help and format_usage of a typer command or group, in the current language."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        language = current_language()
        _translate(self, self.get_params(ctx), language)  # type: ignore[attr-defined]
        for sub in getattr(self, "commands", {}).values():
            sub.help, sub.short_help = translated(sub.help, language), translated(sub.short_help, language)
        from typer import rich_utils

        for name, word in TYPER_WORDS.items():
            setattr(rich_utils, name, tr(word, language))
        with wrapping(language):
            super().format_help(ctx, formatter)  # type: ignore[misc]

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = [tr(piece) if piece in USAGE_PIECES else piece
                  for piece in self.collect_usage_pieces(ctx)]  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=tr(USAGE))


@contextmanager
def wrapping(language: str) -> Iterator[None]:
    """rich wraps help text so meanwhile, then as before. In Chinese, at `CJK_WORDS` (its words, `rich._wrap.re_word`,
    and the narrowest a text can be, `Text.__rich_measure__`'s longest word). In every language, a line's trailing
    space is trimmed by its width in cells (`Text.rstrip_end` counts characters: a line with two Chinese characters
    that ends one cell short of a table's column was cut with "…")."""
    from rich import _wrap
    from rich.text import Text

    saved = _wrap.re_word, Text.__rich_measure__, Text.rstrip_end
    Text.rstrip_end = _rstrip_end  # type: ignore[method-assign]
    if language == "zh":
        _wrap.re_word, Text.__rich_measure__ = CJK_WORDS, _measure  # type: ignore[method-assign]
    try:
        yield
    finally:
        _wrap.re_word, Text.__rich_measure__, Text.rstrip_end = saved  # type: ignore[method-assign]


def _measure(text: Any, console: Any, options: Any) -> Any:
    from rich.cells import cell_len
    from rich.measure import Measurement

    widest = max((cell_len(line) for line in text.plain.splitlines()), default=0)
    words = [word.strip() for word in CJK_WORDS.findall(text.plain)]
    return Measurement(max((cell_len(word) for word in words), default=widest), widest)


def _rstrip_end(text: Any, size: int) -> None:
    excess = text.cell_len - size
    trailing = len(text.plain) - len(text.plain.rstrip())
    if excess > 0 and trailing:
        text.right_crop(min(trailing, excess))


def _translate(command: Any, params: list[Any], language: str) -> None:
    """`command`'s texts in `language`, in place (cli.command() makes the tree afresh for each run)."""
    command.help = translated(command.help, language)
    command.short_help = translated(command.short_help, language)
    command.epilog = translated(command.epilog, language)
    for param in params:
        param.help = translated(getattr(param, "help", None), language)
        if language != "en" and hasattr(param, "display_type_rich"):
            param.display_type_rich = _type_in(param.display_type_rich, language)


def _type_in(shown: Any, language: str) -> Any:
    """typer's `display_type_rich` of a parameter, its kind of value in `language`."""
    def display_type_rich(ctx: Any) -> str | None:
        label = shown(ctx)
        return tr(label, language) if label in TYPE_WORDS else label
    return display_type_rich


class HelpCommand(_InLanguage, typer.core.TyperCommand):
    """A command whose `--help` speaks the configured language."""


class HelpGroup(_InLanguage, typer.core.TyperGroup):
    """A group whose `--help` speaks the configured language."""


def help_language(config: str | None) -> str:
    """[general] language of the configuration the command will run under, read as it is (no checks: the root
    callback checks the file), or the default when it cannot be read. The file by custody.config.config_path's
    precedence: --config, else $CUSTODY_CONFIG, else ./config.toml, else built-in defaults."""
    chosen = config or os.environ.get("CUSTODY_CONFIG") or ("config.toml" if Path("config.toml").is_file() else None)
    if chosen is None:
        return DEFAULT_LANGUAGE
    try:
        with open(chosen, "rb") as fh:
            language = tomllib.load(fh).get("general", {}).get("language", DEFAULT_LANGUAGE)
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        return DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE
