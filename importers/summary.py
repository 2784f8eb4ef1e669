"""What an import did (or would do), as a dict for `--format json` and as lines for people, zh or en.

The dict is the stable contract for scripts: counts per table (new / updated / unchanged), the changes field by
field, the problems with their locations (sorted by row, then column), the rejected and skipped rows, and whether
anything changed at all. Table mode shows the first SHOWN_PROBLEMS problems and says where the rest are.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from custody.i18n import label, tr
from custody.store.imports import HeldBack, Outcome, PreviousImport
from importers.files import ImportFile
from importers.problems import NOTE, PREFIX, WARNING
from importers.rows import labels_for

SHOWN_PROBLEMS = 200  # problems printed in table mode; JSON and the problems file have them all
SHOWN_CHANGES = 200

# The words of an import's summary: English msgids, Chinese in custody/locale/zh/import.toml; the tables' and
# fields' names are labels (custody/locale/labels.toml, domains import_table and import_field).
WORDS = {
    "new": "new",
    "updated": "updated",
    "unchanged": "unchanged",
    "rejected": "rejected",
    "skipped": "skipped",
    "rows": "rows",
    "dry_run": "dry run (nothing written)",
    "nothing": "nothing changed in the database",
    "again": " (the same file was imported on {when}, import #{id})",
    "more": "... and {n} more",
    "more_problems": "... and {n} more problems: all of them are in {path}",
    "more_problems_json": "... and {n} more problems (--format json lists them all)",
    "failed": "{n} error(s) in the file: nothing imported (--partial imports the good rows)",
    "failed_file": "the file could not be read: nothing imported; fix what the line above says and import it again",
    "failed_dry_run": "{n} error(s) in the file: an import would write nothing (--partial imports the good rows)",
    "rejects": "rejected rows written to {path} (fix them and import that file)",
    "inferred": "patents with paid-through inferred: {n} (as of {as_of})",
    "check": "fees in their grace period, paid or not unknown: {n} (treated as unpaid: check them)",
    "owed": "  paid short: patent {application_number} year {year} still owes {owed} (late fee band of {as_of}; "
            "to be topped up)",
}


def _words(language: str) -> dict[str, str]:
    return {key: tr(msgid, language) for key, msgid in WORDS.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # StrEnum
        return value.value
    return value


def note_held_back(parsed: ImportFile, outcome: Outcome | None) -> None:
    """The paid-through years the store would not lower, as warnings at file:row:column."""
    if outcome is None or not outcome.held_back:
        return
    column = labels_for("patents", parsed.header)["paid_through"] if parsed.header else None
    for held in outcome.held_back:
        parsed.sink.add(held.row, column, _held_back_code(held), NOTE if held.checks_cleared or held.over_payments
                        else WARNING,
                        given=held.given, kept=held.kept, on_record=held.on_record, years=_years(held.paid_years))
    cleared = sum(held.checks_cleared for held in outcome.held_back)
    if cleared and parsed.stats.get("fees_to_check"):
        parsed.stats["fees_to_check"] -= cleared  # they have their payments: nothing to check
    parsed.sink.sort(parsed.header.cells if parsed.header else [])


def _held_back_code(held: HeldBack) -> str:
    if held.over_payments:
        return "paid_through_over_payments"
    if held.checks_cleared:
        return "paid_through_covers_checks"
    if held.kept == held.on_record:
        return "paid_through_kept_paid" if held.paid_years else "paid_through_kept"
    return "paid_through_floor" if held.kept != held.given else "paid_through_lowered"


def _years(years: tuple[int, ...]) -> str:
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"


def summary_dict(parsed: ImportFile, language: str, outcome: Outcome | None = None,
                 previous: PreviousImport | None = None, rejects_file: str | None = None) -> dict[str, Any]:
    errors, warnings = parsed.sink.errors(), parsed.sink.warnings()
    result: dict[str, Any] = {
        "file": parsed.path.name, "kind": parsed.kind, "sha256": parsed.batch.sha256,
        "imported": outcome is not None and not outcome.dry_run, "dry_run": bool(outcome and outcome.dry_run),
        "rows": parsed.rows_read, "rejected": len(parsed.error_rows), "skipped": parsed.skipped,
        "errors": len(errors), "warnings": len(warnings), "notes": len(parsed.sink.notes()), "stats": parsed.stats,
        "problems": [p.as_dict(language) for p in parsed.sink.problems],
        "tables": {}, "changes": [], "changes_total": 0, "new_keys": {}, "changed": False,
        "import_id": None, "previous_import": None, "rejects_file": rejects_file, "problems_file": None,
    }
    if outcome is not None:
        result.update(
            tables={name: c.as_dict() for name, c in outcome.counts.items()},
            changes=[{"table": c.table, "key": c.key, "field": c.field, "old": _plain(c.old), "new": _plain(c.new)}
                     for c in outcome.changes],
            changes_total=outcome.changes_total, new_keys=outcome.new_keys, changed=outcome.changed_anything,
            import_id=outcome.import_id)
    if previous is not None:
        result["previous_import"] = {"id": previous.id, "file": previous.file_name,
                                     "finished_at": previous.finished_at.isoformat()}
    return result


def write_problems_file(summary: dict[str, Any], path: Path, language: str) -> str | None:
    """Every problem, one `file:row:column: message` a line, to `path` when table mode cannot show them all;
    the path written, or None when there was no need or it could not be written."""
    if len(summary["problems"]) <= SHOWN_PROBLEMS:
        return None
    try:
        path.write_text("".join(_problem_line(p, language) + "\n" for p in summary["problems"]), encoding="utf-8")
    except OSError:
        return None
    summary["problems_file"] = str(path)
    return str(path)


def default_problems_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.problems.txt")


def summary_lines(summary: dict[str, Any], language: str) -> list[str]:
    words = _words(language)
    lines = _problem_lines(summary, words, language)
    if summary["import_id"] is None:
        return lines
    head = f"{summary['file']}: {summary['rows']} {words['rows']}"
    if summary["rejected"]:
        head += f", {words['rejected']} {summary['rejected']}"
    if summary["skipped"]:
        head += f", {words['skipped']} {summary['skipped']}"
    lines.append(head + (f" — {words['dry_run']}" if summary["dry_run"] else ""))
    for table, counts in summary["tables"].items():
        lines.append(f"  {_table_name(table, language)}: " + ", ".join(f"{words[k]} {v}" for k, v in counts.items()))
    lines.extend(_change_lines(summary, words, language))
    lines.extend(_stat_lines(summary, words))
    if not summary["changed"]:
        again = summary["previous_import"]
        note = words["again"].format(when=again["finished_at"][:16], id=again["id"]) if again else ""
        lines.append(words["nothing"] + note)
    if summary["rejects_file"]:
        lines.append(words["rejects"].format(path=summary["rejects_file"]))
    return lines


def failure_line(summary: dict[str, Any], language: str) -> str:
    words = _words(language)
    if summary["problems"] and all(p.get("row") is None for p in summary["problems"]):
        return words["failed_file"]  # no row was read: --partial could not help
    return words["failed_dry_run" if summary["dry_run"] else "failed"].format(n=summary["errors"])


def _problem_line(problem: dict[str, Any], language: str) -> str:
    where = ":".join(str(p) for p in (problem["file"], problem["row"], problem["column"]) if p is not None)
    prefix = PREFIX[problem["severity"]]
    return f"{where}: {tr(prefix, language) if prefix else ''}{problem['message']}"


def _problem_lines(summary: dict[str, Any], words: dict[str, str], language: str) -> list[str]:
    problems = summary["problems"]
    lines = [_problem_line(p, language) for p in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        more = len(problems) - SHOWN_PROBLEMS
        lines.append(words["more_problems"].format(n=more, path=summary["problems_file"]) if summary["problems_file"]
                     else words["more_problems_json"].format(n=more))
    return lines


def _table_name(table: str, language: str) -> str:
    return label("import_table", table, language)


# Fields whose stored values are enumerated (custody/locale/labels.toml domains).
FIELD_DOMAINS = {"type": "type", "mode": "mode", "role": "role", "reduction": "reduction"}


def _change_value(field: str, value: Any, language: str) -> str:
    """A changed field's value as a person reads it: yes/no and none as words (是/否/无), never True/False/None;
    an enumerated value as its word."""
    if value is None or isinstance(value, bool):
        return label(field, value, language)
    if field in FIELD_DOMAINS:
        return label(FIELD_DOMAINS[field], value, language)
    return str(value)


def _change_lines(summary: dict[str, Any], words: dict[str, str], language: str) -> list[str]:
    lines = []
    # A dry run lists what would be new; a real import only counts it (the audit trail lists it).
    for table, keys in (summary["new_keys"] if summary["dry_run"] else {}).items():
        for key in keys[:SHOWN_CHANGES]:
            lines.append(f"  + {_table_name(table, language)} {key}")
    for change in summary["changes"][:SHOWN_CHANGES]:
        field = label("import_field", change["field"], language)
        old, new = (_change_value(change["field"], change[k], language) for k in ("old", "new"))
        lines.append(f"  ~ {_table_name(change['table'], language)} {change['key']} {field}: {old} -> {new}")
    if summary["changes_total"] > SHOWN_CHANGES:
        lines.append("  " + words["more"].format(n=summary["changes_total"] - SHOWN_CHANGES))
    return lines


def _stat_lines(summary: dict[str, Any], words: dict[str, str]) -> list[str]:
    stats, lines = summary["stats"], []
    if stats.get("paid_through_inferred"):
        lines.append(words["inferred"].format(n=stats["paid_through_inferred"], as_of=stats["as_of"]))
    if stats.get("fees_to_check"):
        lines.append(words["check"].format(n=stats["fees_to_check"]))
    lines.extend(words["owed"].format(**owed) for owed in stats.get("amounts_owed", ())[:SHOWN_CHANGES])
    return lines
