"""Contact roles as enterprises write them: a sheet's 角色 cell read into one of the enterprise's own roles.

The words are data (custody/rules/contact_roles.toml, each group with where it comes from). A cell is compared
whole after NFKC, lower case and without whitespace or a bracketed remark; failing that, it is split into the
roles it names (「法人/联系人」, 「财务兼联系人」) and the person takes the one listed first in the table, the role
that receives the most reminders. No word maps to the platform operator: the operator's people are configured
([reminders] call_list), never imported. Pure: no clock, no database.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEFAULT_TABLE = Path(__file__).parent / "rules" / "contact_roles.toml"
# The enterprise's own roles (custody.models.core.CONTACT_ROLES, kept equal by a test).
ENTERPRISE_ROLES = ("ip_manager", "finance", "legal_rep", "pledgee", "other")
_REMARK = re.compile(r"\([^()]*\)$")  # after NFKC, （主） is (主)
_SEPARATORS = re.compile(r"[/、,;&+|]|兼")


class RoleTableError(ValueError):
    """The role table is malformed; the message names the entry."""


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


def _roles(raw: list) -> tuple[tuple[str, ...], dict[str, str], dict[str, str]]:
    order, zh, en = [], {}, {}
    for index, entry in enumerate(raw):
        role = entry.get("role")
        if role not in ENTERPRISE_ROLES or role in order:
            raise RoleTableError(f"role[{index}]: {role!r} is not one of {', '.join(ENTERPRISE_ROLES)} (or repeated)")
        order.append(role)
        zh[role], en[role] = str(entry.get("label_zh", role)), str(entry.get("label", role))
    if set(order) != set(ENTERPRISE_ROLES):
        raise RoleTableError(f"[[role]] must list each of {', '.join(ENTERPRISE_ROLES)} once")
    return tuple(order), zh, en


def _words(raw: list) -> dict[str, str]:
    found: dict[str, str] = {}
    for index, entry in enumerate(raw):
        role, words = entry.get("role"), entry.get("words")
        if role not in ENTERPRISE_ROLES:
            raise RoleTableError(f"alias[{index}]: role {role!r} is not one of {', '.join(ENTERPRISE_ROLES)}")
        if not entry.get("source") or not isinstance(words, list) or not words:
            raise RoleTableError(f"alias[{index}]: needs words and a source")
        for word in words:
            key = normalised(str(word))
            if found.setdefault(key, role) != role:
                raise RoleTableError(f"alias[{index}]: {word!r} is also a word for {found[key]}")
    return found


def load_role_table(path: Path = DEFAULT_TABLE) -> RoleTable:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RoleTableError(f"{path}: {exc}") from None
    order, zh, en = _roles(data.get("role", []))
    return RoleTable(order, _words(data.get("alias", [])), zh, en)


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
