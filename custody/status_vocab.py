"""The legal-status event vocabulary: every source's records normalised into one set of event kinds.

The wording lives in custody/rules/legal_status.toml (data, with the Chinese text each kind matches); this module
loads it, classifies a record's status and detail, and gives each event the identity that makes ingesting it twice
a no-op. Pure: no clock, no database.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Protocol

from custody.table_errors import TableError, TableFile, Text, as_written, entries_of, one_of, read_table, tx

DEFAULT_VOCABULARY = Path(__file__).parent / "rules" / "legal_status.toml"
EFFECTS = ("lapse", "restore", "end", "terminate", "transfer", "rename", "pledge", "pledge_cancel", "note")
UNKNOWN = "unknown"
_SPACE = re.compile(r"\s+")
# The files a legal-status export comes as (CNIPA and the commercial databases export CSV or Excel). A folder sync
# takes these and never touches anything else: a database, a config file or a note beside them stays where it is.
STATUS_FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls")
NOT_EXPORT_PREFIXES = (".", "~$")  # hidden files and Excel's lock files


class VocabularyError(TableError):
    """The vocabulary (or the OPS code table) is malformed; the message names the file, the entry and the field,
    and what to do."""


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


_REQUIRED = ("kind", "effect", "label", "label_zh", "wordings")


def _texts(value: object) -> bool:
    """Whether `value` is a non-empty list of non-empty texts (a lone text would be read letter by letter)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def _entry_problem(raw: dict) -> Text | None:
    """What is wrong with one [[event]] entry (the first thing), or None."""
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        return tx("field {field} is missing: every [[event]] entry needs {required}", field=missing[0],
                  required=", ".join(_REQUIRED))
    for key in ("kind", "label", "label_zh"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            return tx("field {field} must be a text in quotes, not empty", field=key)
    if raw["effect"] not in EFFECTS:
        return tx("field effect: {value} is not an effect: write one of {allowed}", value=as_written(raw["effect"]),
                  allowed=one_of(EFFECTS))
    if not _texts(raw["wordings"]):
        return tx("field wordings must be a list of texts (wordings = ['未缴年费专利权终止']), not empty")
    if "detail_any" in raw and not _texts(raw["detail_any"]):
        return tx("field detail_any must be a list of texts (detail_any = ['未缴年费']), not empty")
    fields = raw.get("fields", {})
    if not isinstance(fields, dict) or not all(isinstance(p, str) for p in fields.values()):
        return tx("field fields must be a table of patterns in quotes, one per value read from the detail")
    for name, pattern in fields.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            return tx("field fields.{name}: {pattern} is not a regular expression (it breaks at character "
                      "{position}): correct the pattern", name=name, pattern=as_written(pattern),
                      position=(exc.pos or 0) + 1)
    return None


def _entry(source: TableFile, raw: dict, index: int) -> VocabEntry:
    problem = _entry_problem(raw)
    if problem is not None:
        raise source.entry_error("event", index, raw, "kind", problem, VocabularyError)
    fields = tuple((name, re.compile(pattern)) for name, pattern in raw.get("fields", {}).items())
    return VocabEntry(raw["kind"], raw["effect"], raw["label"], raw["label_zh"],
                      frozenset(compact(w) for w in raw["wordings"]),
                      tuple(compact(p) for p in raw.get("detail_any", ())), fields, raw.get("source", ""))


def vocabulary_from_mapping(data: dict, origin: TableFile | None = None) -> Vocabulary:
    """The vocabulary in `data` (a parsed legal_status.toml); `origin` names the file in its errors."""
    source = origin or TableFile(DEFAULT_VOCABULARY.name)
    entries = entries_of(source, data, "event", VocabularyError)
    return Vocabulary(tuple(_entry(source, raw, i) for i, raw in enumerate(entries)))


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    if path is None:
        return default_vocabulary()
    source, data = read_table(path, VocabularyError)
    return vocabulary_from_mapping(data, source)


@cache
def default_vocabulary() -> Vocabulary:
    source, data = read_table(DEFAULT_VOCABULARY, VocabularyError)
    return vocabulary_from_mapping(data, source)


def event_key(application_number: str, announced_on: date, kind: str, status: str) -> str:
    """The identity of an event: the same patent, day and kind is one event, whichever source or wording said it.

    Unrecognised statuses keep their own wording in the key, so two different unknown statuses stay two events.
    The detail is left out on purpose: sources format it differently for the same announcement.
    """
    what = f"{UNKNOWN}:{compact(status)}" if kind == UNKNOWN else kind
    text = "|".join((application_number, announced_on.isoformat(), what))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
