"""Errors that explain themselves in the reader's language: a message kept as its msgid and fields, rendered
when it is shown.

A domain module raises `FeeInputError(tx("year {n} is outside this patent's fee years {first}-{last}", n=…))`:
`tx` keeps the English msgid and the named fields (custody/i18n.py looks the msgid up in the catalogue,
custody/locale/zh/errors.toml). `str(exc)` renders it in the process language when it is shown (the CLI's
`Error:` line); `exc.render("zh")` in any language (an import problem stored with both, for its log). A field
may itself be a `Text` (a problem explained inside a sentence) or a `Joined` list of them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from custody.i18n import LANGUAGES, label, tr


@dataclass(frozen=True)
class Text:
    """A message not yet rendered: its English msgid and named fields."""
    msgid: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str | None = None) -> str:
        return tr(self.msgid, language, **{k: rendered(v, language) for k, v in self.fields.items()})

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Joined:
    """Several messages shown as one ("a; b"), each in the language; `more` is a Text said after them."""
    parts: tuple[Any, ...]
    separator: str = "; "
    more: Any = None

    def render(self, language: str | None = None) -> str:
        shown = self.separator.join(rendered(p, language) for p in self.parts)
        return shown + (rendered(self.more, language) if self.more is not None else "")

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Word:
    """An enumerated value shown as its word (`custody.i18n.label`): a patent type inside a sentence."""
    domain: str
    value: Any

    def render(self, language: str | None = None) -> str:
        return label(self.domain, self.value, language)

    def __str__(self) -> str:
        return self.render()


def word(domain: str, value: Any) -> Word:
    return Word(domain, value)


def tx(msgid: str, /, **fields: Any) -> Text:
    """A message to render when shown: `tr`'s twin for errors (the catalogue test reads both)."""
    return Text(msgid, fields)


def joined(parts: Iterable[Any], separator: str = "; ", more: Any = None) -> Joined:
    return Joined(tuple(parts), separator, more)


def rendered(value: Any, language: str | None = None) -> Any:
    """A Text/Joined (or an exception carrying one) in the language; any other value as it is."""
    if isinstance(value, (Text, Joined, Word)):
        return value.render(language)
    if isinstance(value, Explained):
        return value.render(language)
    return value


def in_every_language(value: Any) -> Any:
    """{"en": …, "zh": …} for a message that has words in each language (an import problem's detail, rendered
    by importers.messages in the problem's language); any other value as str."""
    if isinstance(value, (Text, Joined, Word, Explained)):
        return {language: rendered(value, language) for language in LANGUAGES}
    return str(value)


class Explained(Exception):
    """An error whose message is a `Text` (or plain text): `str` shows it in the process language."""

    def __init__(self, message: Any = "", *args: Any) -> None:
        super().__init__(message, *args)
        self.message = message

    def render(self, language: str | None = None) -> str:
        if isinstance(self.message, Exception):
            return rendered(self.message, language) if isinstance(self.message, Explained) else str(self.message)
        return str(rendered(self.message, language))

    def __str__(self) -> str:
        return self.render()
