"""The INPADOC legal-event code table for Chinese patents (custody/rules/ops_legal_codes.toml), loaded and looked up.

OPS gives each legal event a code (space-padded: "C19 "); the table says which CNIPA legal-status heading the code
stands for, so the OPS source hands the vocabulary the same wording an export file would. Pure: no clock, no
database, no network.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from custody.status_vocab import VocabularyError
from custody.table_errors import TableFile, Text, as_written, entries_of, one_of, read_table, tx

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


_REQUIRED = ("code", "wording_zh", "description", "influence", "kind", "order", "confirmed", "source")


def _row_problem(raw: dict) -> Text | None:
    """What is wrong with one [[code]] entry (the first thing), or None."""
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        return tx("field {field} is missing: every [[code]] entry needs {required}", field=missing[0],
                  required=", ".join(_REQUIRED))
    for key in ("code", "wording_zh", "kind", "source"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            return tx("field {field} must be a text in quotes, not empty", field=key)
    if raw["influence"] not in INFLUENCES:
        return tx("field influence: {value} is not an influence: write {allowed}",
                  value=as_written(raw["influence"]), allowed=one_of(INFLUENCES))
    if isinstance(raw["order"], bool) or not isinstance(raw["order"], int):
        return tx("field order: {value} is not a whole number: write the event's place among its day's "
                  "events (lower first)", value=as_written(raw["order"]))
    if not isinstance(raw["confirmed"], bool):
        return tx("field confirmed: {value} is neither true nor false: write true where the description was seen "
                  "in OPS answers, false otherwise", value=as_written(raw["confirmed"]))
    return None


def _row(source: TableFile, raw: dict, index: int) -> OpsCode:
    problem = _row_problem(raw)
    if problem is not None:
        raise source.entry_error("code", index, raw, "code", problem, VocabularyError)
    return OpsCode(normalised_code(raw["code"]), raw["wording_zh"], str(raw["description"]), raw["influence"],
                   raw["kind"], raw["order"], raw["confirmed"], raw["source"], str(raw.get("detail_zh", "")))


def codes_from_mapping(data: dict, origin: TableFile | None = None) -> dict[str, OpsCode]:
    """The code table in `data` (a parsed ops_legal_codes.toml); `origin` names the file in its errors."""
    source = origin or TableFile(DEFAULT_CODES.name)
    table: dict[str, OpsCode] = {}
    first: dict[str, int] = {}
    for index, raw in enumerate(entries_of(source, data, "code", VocabularyError)):
        row = _row(source, raw, index)
        if row.code in table:
            raise source.entry_error("code", index, raw, "code", tx(
                "code {code} is already entry {number} of [[code]]: keep one entry per code",
                code=as_written(row.code), number=first[row.code] + 1), VocabularyError)
        table[row.code], first[row.code] = row, index
    return table


def load_codes(path: Path | None = None) -> dict[str, OpsCode]:
    """The code table in `path` (custody/rules/ops_legal_codes.toml when none); VocabularyError when malformed."""
    source, data = read_table(path or DEFAULT_CODES, VocabularyError)
    return codes_from_mapping(data, source)


@cache
def default_codes() -> dict[str, OpsCode]:
    return load_codes()


def code_entry(raw_code: str | None, table: dict[str, OpsCode] | None = None) -> OpsCode | None:
    """The table's row for a code as OPS wrote it, or None for a code the table does not know."""
    return (table if table is not None else default_codes()).get(normalised_code(raw_code))
