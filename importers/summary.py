"""What an import did (or would do), as a dict for `--format json` and as lines for people, zh or en.

The dict is the stable contract for scripts: counts per table (new / updated / unchanged), the changes field by
field, the problems with their locations, the rejected and skipped rows, and whether anything changed at all.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from custody.store.imports import Outcome, PreviousImport
from importers.files import ParsedFile

SHOWN_PROBLEMS = 200  # problems printed in table mode; JSON has them all
SHOWN_CHANGES = 200

TABLE_ZH = {"enterprise": "企业", "contact": "联系人", "patent": "专利", "payment": "缴费记录"}
WORDS = {
    "zh": {"new": "新增", "updated": "更新", "unchanged": "不变", "rejected": "拒绝", "skipped": "跳过",
           "rows": "行", "dry_run": "试运行（未写入数据库）", "nothing": "数据库没有任何变化",
           "again": "（同一文件已于 {when} 导入过，导入记录 #{id}）", "more": "……另有 {n} 条",
           "failed": "文件有 {n} 个错误，未导入任何内容（--partial 可只导入正确的行）",
           "rejects": "被拒绝的行已写入 {path}（改正后可直接重新导入）",
           "inferred": "推定已缴年度的专利：{n} 件（截至 {as_of}）",
           "check": "宽限期内、是否已缴未知的年费：{n} 笔（按未缴处理，请核实）"},
    "en": {"new": "new", "updated": "updated", "unchanged": "unchanged", "rejected": "rejected", "skipped": "skipped",
           "rows": "rows", "dry_run": "dry run (nothing written)", "nothing": "nothing changed in the database",
           "again": " (the same file was imported on {when}, import #{id})", "more": "... and {n} more",
           "failed": "{n} error(s) in the file: nothing imported (--partial imports the good rows)",
           "rejects": "rejected rows written to {path} (fix them and import that file)",
           "inferred": "patents with paid-through inferred: {n} (as of {as_of})",
           "check": "fees in their grace period, paid or not unknown: {n} (treated as unpaid: check them)"},
}


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # StrEnum
        return value.value
    return value


def summary_dict(parsed: ParsedFile, language: str, outcome: Outcome | None = None,
                 previous: PreviousImport | None = None, rejects_file: str | None = None) -> dict[str, Any]:
    errors, warnings = parsed.sink.errors(), parsed.sink.warnings()
    result: dict[str, Any] = {
        "file": parsed.path.name, "kind": parsed.kind, "sha256": parsed.batch.sha256,
        "imported": outcome is not None and not outcome.dry_run, "dry_run": bool(outcome and outcome.dry_run),
        "rows": parsed.rows_read, "rejected": len(parsed.error_rows), "skipped": parsed.skipped,
        "errors": len(errors), "warnings": len(warnings), "stats": parsed.stats,
        "problems": [p.as_dict(language) for p in parsed.sink.problems],
        "tables": {}, "changes": [], "changes_total": 0, "new_keys": {}, "changed": False,
        "import_id": None, "previous_import": None, "rejects_file": rejects_file,
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


def summary_lines(summary: dict[str, Any], language: str) -> list[str]:
    words = WORDS.get(language, WORDS["en"])
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
        name = TABLE_ZH.get(table, table) if language == "zh" else table
        lines.append(f"  {name}: " + ", ".join(f"{words[k]} {v}" for k, v in counts.items()))
    lines.extend(_change_lines(summary, words))
    lines.extend(_stat_lines(summary, words))
    if not summary["changed"]:
        again = summary["previous_import"]
        note = words["again"].format(when=again["finished_at"][:16], id=again["id"]) if again else ""
        lines.append(words["nothing"] + note)
    if summary["rejects_file"]:
        lines.append(words["rejects"].format(path=summary["rejects_file"]))
    return lines


def failure_line(summary: dict[str, Any], language: str) -> str:
    return WORDS.get(language, WORDS["en"])["failed"].format(n=summary["errors"])


def _problem_lines(summary: dict[str, Any], words: dict[str, str], language: str) -> list[str]:
    lines = []
    for problem in summary["problems"][:SHOWN_PROBLEMS]:
        where = ":".join(str(p) for p in (problem["file"], problem["row"], problem["column"]) if p is not None)
        warn = "" if problem["severity"] == "error" else ("警告：" if language == "zh" else "warning: ")
        lines.append(f"{where}: {warn}{problem['message']}")
    if len(summary["problems"]) > SHOWN_PROBLEMS:
        lines.append(words["more"].format(n=len(summary["problems"]) - SHOWN_PROBLEMS))
    return lines


def _change_lines(summary: dict[str, Any], words: dict[str, str]) -> list[str]:
    lines = []
    # A dry run lists what would be new; a real import only counts it (the audit trail lists it).
    for table, keys in (summary["new_keys"] if summary["dry_run"] else {}).items():
        for key in keys[:SHOWN_CHANGES]:
            lines.append(f"  + {table} {key}")
    for change in summary["changes"][:SHOWN_CHANGES]:
        lines.append(f"  ~ {change['table']} {change['key']} {change['field']}: {change['old']} -> {change['new']}")
    if summary["changes_total"] > SHOWN_CHANGES:
        lines.append("  " + words["more"].format(n=summary["changes_total"] - SHOWN_CHANGES))
    return lines


def _stat_lines(summary: dict[str, Any], words: dict[str, str]) -> list[str]:
    stats, lines = summary["stats"], []
    if stats.get("paid_through_inferred"):
        lines.append(words["inferred"].format(n=stats["paid_through_inferred"], as_of=stats["as_of"]))
    if stats.get("fees_to_check"):
        lines.append(words["check"].format(n=stats["fees_to_check"]))
    return lines
