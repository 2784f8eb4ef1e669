"""The INPADOC legal-event code table for Chinese patents (custody/rules/ops_legal_codes.toml), loaded and looked up.

OPS gives each legal event a code (space-padded: "C19 "); the table says which CNIPA legal-status heading the code
stands for, so the OPS source hands the vocabulary the same wording an export file would. Pure: no clock, no
database, no network.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from custody.status_vocab import VocabularyError

DEFAULT_CODES = Path(__file__).parent / "rules" / "ops_legal_codes.toml"
INFLUENCES = ("+", "-", "")
UNKNOWN_ORDER = 99  # an unrecognised code goes after the known events of its day


@dataclass(frozen=True)
class OpsCode:
    code: str
    wording_zh: str
    description: str
    influence: str
    kind: str
    order: int
    confirmed: bool
    source: str
    detail_zh: str = ""


def normalised_code(raw: str | None) -> str:
    """A code as the table keys it: OPS pads codes with spaces ("C19 ", "AK  ") and the case is not guaranteed."""
    return (raw or "").strip().upper()


def _row(raw: dict, index: int) -> OpsCode:
    where = f"ops_legal_codes entry {index + 1} ({raw.get('code', '?')})"
    try:
        row = OpsCode(normalised_code(raw["code"]), raw["wording_zh"], raw["description"], raw["influence"],
                      raw["kind"], int(raw["order"]), bool(raw["confirmed"]), raw["source"], raw.get("detail_zh", ""))
    except KeyError as exc:
        raise VocabularyError(f"{where}: missing {exc.args[0]}") from None
    if row.influence not in INFLUENCES or not row.code or not row.source:
        raise VocabularyError(f"{where}: influence must be +, - or empty, and code and source set")
    return row


def codes_from_mapping(data: dict) -> dict[str, OpsCode]:
    rows = [_row(raw, i) for i, raw in enumerate(data.get("code", ()))]
    table = {row.code: row for row in rows}
    if len(table) != len(rows):
        raise VocabularyError("ops_legal_codes: a code is listed twice")
    return table


@cache
def default_codes() -> dict[str, OpsCode]:
    with open(DEFAULT_CODES, "rb") as fh:
        return codes_from_mapping(tomllib.load(fh))


def code_entry(raw_code: str | None, table: dict[str, OpsCode] | None = None) -> OpsCode | None:
    """The table's row for a code as OPS wrote it, or None for a code the table does not know."""
    return (table if table is not None else default_codes()).get(normalised_code(raw_code))
