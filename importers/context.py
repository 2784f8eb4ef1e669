"""What an importer may know about the database: enterprises and stored patents, asked for through a Lookup.

Importers never open the database; the command hands them a Lookup (custody.store.imports.StoreLookup is the
real one) and they ask it read-only questions while they check a file.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from custody.fees import Calendar
from custody.ruleset import RuleSet
from custody.store.imports import StoredEnterprise, StoredPatent


class Lookup(Protocol):
    def enterprises(self) -> Mapping[str, StoredEnterprise]:
        """Every enterprise by credit code."""
        ...

    def patents(self, numbers: Collection[str]) -> Mapping[str, StoredPatent]:
        """The stored patents among `numbers` (canonical application numbers)."""
        ...

    def patent_enterprises(self, numbers: Collection[str]) -> Mapping[str, int | None]:
        """The enterprise on record (id, or None) of each stored patent among `numbers`."""
        ...


@dataclass(frozen=True)
class Options:
    """How to read and check one file: the command's options and the configuration, resolved."""

    rules: RuleSet
    calendar: Calendar
    language: str = "zh"
    enterprise: str | None = None  # --enterprise CODE for patents without an enterprise column
    as_of: date | None = None  # --as-of: the date the file's legal statuses describe
    file_date: date | None = None  # fallback for as_of: the file's modification date
    profile_name: str | None = None
    import_config: Mapping[str, object] = field(default_factory=dict)
