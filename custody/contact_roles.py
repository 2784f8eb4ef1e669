"""Contact roles as enterprises write them: a sheet's 角色 cell read into one of the enterprise's own roles.

The words are data (custody/rules/contact_roles.toml, each group with where it comes from). A cell is compared
whole after NFKC, lower case and without whitespace or a bracketed remark; failing that, it is split into the
roles it names (「法人/联系人」, 「财务兼联系人」) and the person takes the one listed first in the table, the role
that receives the most reminders. No word maps to the platform operator: the operator's people are configured
([reminders] call_list), never imported. Pure: no clock, no database.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from custody.table_errors import TableError, TableFile, Text, as_written, entries_of, one_of, read_table, tx

DEFAULT_TABLE = Path(__file__).parent / "rules" / "contact_roles.toml"
# The enterprise's own roles (custody.models.core.CONTACT_ROLES, kept equal by a test).
ENTERPRISE_ROLES = ("ip_manager", "finance", "legal_rep", "pledgee", "other")
_REMARK = re.compile(r"\([^()]*\)$")  # after NFKC, （主） is (主)
_SEPARATORS = re.compile(r"[/、,;&+|]|兼")


class RoleTableError(TableError):
    """The role table is malformed; the message names the file, the entry and the field, and what to do."""


@dataclass(frozen=True)
class RoleTable:
    order: tuple[str, ...]  # the roles, the one receiving the most reminders first
    words: Mapping[str, str]  # normalised word -> role
    labels_zh: Mapping[str, str]
    labels: Mapping[str, str]

    def label(self, role: str, language: str = "zh") -> str:
        return (self.labels_zh if language == "zh" else self.labels).get(role, role)


@dataclass(frozen=True)
class RoleReading:
    """What a 角色 cell says: the role (None when no word is known) and the parts no word matched."""

    role: str | None
    unknown: tuple[str, ...] = ()


def normalised(text: str) -> str:
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    return _REMARK.sub("", key) or key


def _refused(source: TableFile, table: str, index: int, entry: dict, problem: Text) -> TableError:
    return source.entry_error(table, index, entry, "role", problem, RoleTableError)


def _roles(source: TableFile, raw: list[dict]) -> tuple[tuple[str, ...], dict[str, str], dict[str, str]]:
    order: list[str] = []
    zh, en = {}, {}
    for index, entry in enumerate(raw):
        role = entry.get("role")
        if role not in ENTERPRISE_ROLES:
            raise _refused(source, "role", index, entry, tx(
                "field role: {value} is not one of the enterprise's roles: write one of {allowed}",
                value=as_written(role) if role is not None else tx("(missing)"), allowed=one_of(ENTERPRISE_ROLES)))
        if role in order:
            raise _refused(source, "role", index, entry, tx(
                "role {value} is listed twice: list each role once, the one receiving the most reminders first",
                value=as_written(role)))
        for key in ("label_zh", "label"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise _refused(source, "role", index, entry, tx(
                    "field {field} is missing or empty: write the role's words ({in_language}) that messages show",
                    field=key, in_language=tx("Chinese") if key == "label_zh" else tx("English")))
        order.append(role)
        zh[role], en[role] = entry["label_zh"], entry["label"]
    missing = [role for role in ENTERPRISE_ROLES if role not in order]
    if missing:
        raise source.error(tx("[[role]] lacks {missing}: list each of {allowed} once, the one receiving the most "
                              "reminders first", missing=one_of(missing), allowed=one_of(ENTERPRISE_ROLES)),
                           RoleTableError)
    return tuple(order), zh, en


def _words(source: TableFile, raw: list[dict]) -> dict[str, str]:
    found: dict[str, tuple[str, int]] = {}  # normalised word -> (role, entry index)
    for index, entry in enumerate(raw):
        role, words = entry.get("role"), entry.get("words")
        if role not in ENTERPRISE_ROLES:
            raise _refused(source, "alias", index, entry, tx(
                "field role: {value} is not one of the enterprise's roles: write one of {allowed}",
                value=as_written(role) if role is not None else tx("(missing)"), allowed=one_of(ENTERPRISE_ROLES)))
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise _refused(source, "alias", index, entry, tx(
                "field words: missing, empty or not a list of texts: write the words a sheet uses for this role "
                "(words = ['联系人', '专利专员'])"))
        if not isinstance(entry.get("source"), str) or not entry["source"].strip():
            raise _refused(source, "alias", index, entry, tx(
                "field source is missing or empty: say where these words come from"))
        for word in words:
            key = normalised(word)
            other, at = found.setdefault(key, (role, index))
            if other != role:
                raise _refused(source, "alias", index, entry, tx(
                    "the word {word} is also a word for {other} (entry {number} of [[alias]]): keep it in one "
                    "entry only", word=as_written(word), other=as_written(other), number=at + 1))
    return {key: role for key, (role, _) in found.items()}


def load_role_table(path: Path | None = None) -> RoleTable:
    """The role table in `path` (custody/rules/contact_roles.toml when none); RoleTableError when malformed."""
    source, data = read_table(path or DEFAULT_TABLE, RoleTableError)
    order, zh, en = _roles(source, entries_of(source, data, "role", RoleTableError))
    return RoleTable(order, _words(source, entries_of(source, data, "alias", RoleTableError)), zh, en)


@cache
def role_table() -> RoleTable:
    return load_role_table()


def read_role(cell: str, table: RoleTable | None = None) -> RoleReading:
    """The role a 角色 cell names (see the module docstring)."""
    table = table or role_table()
    whole = table.words.get(normalised(cell))
    if whole is not None:
        return RoleReading(whole)
    parts = [p for p in (normalised(part) for part in _SEPARATORS.split(normalised(cell))) if p]
    known = [table.words[p] for p in parts if p in table.words]
    unknown = tuple(p for p in parts if p not in table.words)
    if not known:
        return RoleReading(None, unknown or (cell.strip(),))
    return RoleReading(min(known, key=table.order.index), unknown)
