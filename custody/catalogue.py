"""The message catalogue and the process language: `tr` looks an English msgid up in the configured language.

The lowest layer of custody.i18n (which re-exports all of it and adds the words of enumerated values): the data
tables whose words `label` reads (custody.contact_roles, custody.status_vocab) word their own errors with `tr`
from here, so the two do not import each other. See custody/i18n.py for the catalogue's layout.
"""
from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
_LOCALE = Path(__file__).with_name("locale")
_state = {"language": DEFAULT_LANGUAGE}


def set_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: one of {', '.join(LANGUAGES)}")
    _state["language"] = language


def current_language() -> str:
    return _state["language"]


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every message of one language, merged from its area files (a msgid defined twice is a bug)."""
    merged: dict[str, str] = {}
    folder = _LOCALE / language
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
        for msgid, text in tomllib.loads(path.read_text(encoding="utf-8")).items():
            if msgid in merged and merged[msgid] != text:
                raise ValueError(f"{path.name}: message {msgid!r} translated twice, differently")
            merged[msgid] = text
    return merged


def tr(msgid: str, /, language: str | None = None, **fields: Any) -> str:
    """`msgid` in the language (English when it is the language or a translation is missing), filled in.

    Field values that are None/bool/enum-like are the caller's to render with `label` first: `tr` formats
    what it is given and never invents words."""
    language = language or current_language()
    text = msgid if language == "en" else catalogue(language).get(msgid, msgid)
    return text.format(**fields) if fields else text


