"""The legal-status event vocabulary: every source's records normalised into one set of event kinds.

The wording lives in custody/rules/legal_status.toml (data, with the Chinese text each kind matches); this module
loads it, classifies a record's status and detail, and gives each event the identity that makes ingesting it twice
a no-op. Pure: no clock, no database.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Protocol

DEFAULT_VOCABULARY = Path(__file__).parent / "rules" / "legal_status.toml"
EFFECTS = ("lapse", "restore", "end", "terminate", "transfer", "rename", "pledge", "pledge_cancel", "note")
UNKNOWN = "unknown"
_SPACE = re.compile(r"\s+")
# The files a legal-status export comes as (CNIPA and the commercial databases export CSV or Excel). A folder sync
# takes these and never touches anything else: a database, a config file or a note beside them stays where it is.
STATUS_FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls")
NOT_EXPORT_PREFIXES = (".", "~$")  # hidden files and Excel's lock files


class VocabularyError(ValueError):
    """The vocabulary file is malformed; the message names the entry."""


@dataclass(frozen=True)
class StatusRecord:
    """One legal-status row as a source gives it, before classification. `location` is file:row or url#index."""

    application_number: str
    announced_on: date
    status: str
    detail: str = ""
    location: str = ""


@dataclass(frozen=True)
class SourceProblem:
    """A record a source could not read: `location` is file:row:column (or url#index:field)."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class StatusBatch:
    """Everything one source gave in one read. Any problem refuses the whole batch: nothing is half-applied."""

    source: str  # e.g. "file:status-2024.xlsx", "http:https://feed.example/status"
    records: tuple[StatusRecord, ...]
    problems: tuple[SourceProblem, ...] = ()


class StatusSourceError(RuntimeError):
    """The source could not be read at all (unreachable, HTTP error, malformed body, unidentifiable file)."""


def is_status_export(name: str) -> bool:
    """Whether a file of this name may be a legal-status export (by suffix; hidden and lock files never are)."""
    lowered = name.lower()
    return not lowered.startswith(NOT_EXPORT_PREFIXES) and lowered.endswith(STATUS_FILE_SUFFIXES)


class StatusSource(Protocol):
    """The one interface every legal-status source implements (export file, drop folder file, HTTP feed)."""

    @property
    def name(self) -> str: ...

    def fetch(self) -> StatusBatch:
        """Read the source; raises StatusSourceError when nothing usable could be read."""
        ...


@dataclass(frozen=True)
class Classified:
    """What a status (with its detail) means: the event kind, its effect, and values read from the detail."""

    kind: str
    effect: str
    label: str
    label_zh: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_unknown(self) -> bool:
        return self.kind == UNKNOWN


@dataclass(frozen=True)
class VocabEntry:
    kind: str
    effect: str
    label: str
    label_zh: str
    wordings: frozenset[str]
    detail_any: tuple[str, ...] = ()
    fields: tuple[tuple[str, re.Pattern[str]], ...] = ()
    source: str = ""

    def matches(self, status: str, detail: str) -> bool:
        return status in self.wordings and (not self.detail_any or any(p in detail for p in self.detail_any))

    def values_in(self, detail: str) -> dict[str, str]:
        values = {}
        for name, pattern in self.fields:
            found = pattern.search(detail)
            if found:
                values[name] = found.group(name) if name in pattern.groupindex else found.group(1)
        return values


def compact(text: str) -> str:
    """`text` as wordings are compared: NFKC (full-width to ASCII), every whitespace removed."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def spaced(text: str) -> str:
    """`text` as fields are read: NFKC, runs of whitespace as one space (they separate the detail's items)."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


@dataclass(frozen=True)
class Vocabulary:
    entries: tuple[VocabEntry, ...]

    def classify(self, status: str, detail: str = "") -> Classified:
        """The first entry matching the status (and detail); kind "unknown" when none does."""
        wording, detail_compact = compact(status), compact(detail)
        entry = next((e for e in self.entries if e.matches(wording, detail_compact)), None)
        if entry is None:
            return Classified(UNKNOWN, "note", "Unrecognised status", "未识别的法律状态")
        return Classified(entry.kind, entry.effect, entry.label, entry.label_zh, entry.values_in(spaced(detail)))

    def label_of(self, kind: str, language: str = "en") -> str:
        entry = next((e for e in self.entries if e.kind == kind), None)
        if entry is None:
            return "未识别的法律状态" if language == "zh" else "Unrecognised status"
        return entry.label_zh if language == "zh" else entry.label

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.kind for e in self.entries))


def _entry(raw: dict, index: int) -> VocabEntry:
    where = f"legal_status vocabulary entry {index + 1} ({raw.get('kind', '?')})"
    try:
        effect = raw["effect"]
        if effect not in EFFECTS:
            raise VocabularyError(f"{where}: effect {effect!r} is not one of {', '.join(EFFECTS)}")
        fields = tuple((name, re.compile(pattern)) for name, pattern in raw.get("fields", {}).items())
        return VocabEntry(raw["kind"], effect, raw["label"], raw["label_zh"],
                          frozenset(compact(w) for w in raw["wordings"]),
                          tuple(compact(p) for p in raw.get("detail_any", ())), fields, raw.get("source", ""))
    except KeyError as exc:
        raise VocabularyError(f"{where}: missing {exc.args[0]}") from None
    except re.error as exc:
        raise VocabularyError(f"{where}: bad field pattern: {exc}") from None


def vocabulary_from_mapping(data: dict) -> Vocabulary:
    return Vocabulary(tuple(_entry(raw, i) for i, raw in enumerate(data.get("event", ()))))


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    if path is None:
        return default_vocabulary()
    with open(path, "rb") as fh:
        return vocabulary_from_mapping(tomllib.load(fh))


@cache
def default_vocabulary() -> Vocabulary:
    with open(DEFAULT_VOCABULARY, "rb") as fh:
        return vocabulary_from_mapping(tomllib.load(fh))


def event_key(application_number: str, announced_on: date, kind: str, status: str) -> str:
    """The identity of an event: the same patent, day and kind is one event, whichever source or wording said it.

    Unrecognised statuses keep their own wording in the key, so two different unknown statuses stay two events.
    The detail is left out on purpose: sources format it differently for the same announcement.
    """
    what = f"{UNKNOWN}:{compact(status)}" if kind == UNKNOWN else kind
    text = "|".join((application_number, announced_on.isoformat(), what))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
