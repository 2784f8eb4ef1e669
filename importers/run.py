"""One import, start to end: open the file, check it against what is stored, write it chunk by chunk in one
transaction (custody.store.imports.apply_chunks), and say what happened. The readers (importers.files and the
row modules) never write; this is the one place that hands their chunks to the store, as `custody import` runs it.

A file with errors is rolled back unless --partial or --dry-run asked for the good rows; an enterprises file is
also checked, in the same transaction, for enterprises left with nobody who receives before-due reminders.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custody import clock
from custody.config_schema import Import
from custody.reminder_settings import ReminderSettings
from custody.store.import_batch import Outcome
from custody.store.imports import StoreLookup, apply_chunks, previous_import
from custody.store.reach import enterprise_reach, why_unreached
from importers.context import Options
from importers.enterprises import note_unreached
from importers.files import ImportFile, open_import
from importers.forked import can_fork, forked_chunks
from importers.rejects import default_rejects_path, write_rejects
from importers.summary import note_held_back, summary_dict

Progress = Callable[..., Callable[[int], None]]  # start(label, total) -> advance(n)


@dataclass
class ImportRun:
    """What an import did: the file as read, the store's Outcome (None: rolled back), the same file's previous
    import, and whether --partial asked for the good rows."""

    opened: ImportFile
    outcome: Outcome | None
    previous: Any
    partial: bool

    @property
    def failed(self) -> bool:
        """The file had errors and nothing was kept: the operator is told why on one line (exit 1 either way)."""
        return self.opened.has_errors and (self.outcome is None or not self.partial)

    def summary(self, file: Path, rejects_out: Path | None, language: str, dry_run: bool) -> dict[str, Any]:
        """The summary to show (importers.summary), once the rejected rows of a kept import are written to
        `rejects_out` (default: FILE.rejects.csv)."""
        note_held_back(self.opened, self.outcome)
        rejects = None
        if self.outcome is not None and self.opened.error_rows and not dry_run:
            rejects = rejects_out or default_rejects_path(file)
            write_rejects(self.opened, rejects, language)
        return summary_dict(self.opened, language, self.outcome, self.previous, str(rejects) if rejects else None)


def run_import(engine, file: Path, kind: str, options: Options, progress: Progress, *, dry_run: bool,
               partial: bool, allow_lower_paid_through: bool = False, reach: ReminderSettings | None = None,
               strict: bool = False) -> ImportRun:
    """Read, check and write `file` as `kind` (enterprises, patents, payments) on `engine` in one transaction,
    chunk by chunk; `reach`, for an enterprises file, is the [reminders] settings its enterprises are checked
    against. ProfileError for an unknown --profile."""
    lookup = StoreLookup(engine)
    opened = open_import(file, kind, lookup, options)
    previous = previous_import(engine, opened.batch.sha256, kind) if opened.batch.sha256 else None
    opened.batch.partial = partial
    inspect = reach_check(opened, reach, strict) if kind == "enterprises" and reach is not None else None
    outcome = written(engine, opened, lookup, progress, dry_run=dry_run, partial=partial,
                      allow_lower_paid_through=allow_lower_paid_through, inspect=inspect)
    return ImportRun(opened, outcome, previous, partial)


def reach_check(opened: ImportFile, settings: ReminderSettings, strict: bool):
    """After an enterprises file is written (same transaction): each of its enterprises left with nobody who
    receives before-due reminders is a warning (an error with --strict) at its rows."""
    def inspect(conn) -> None:
        unreached = enterprise_reach(conn, settings, opened.enterprise_rows, unreached_only=True)
        why = why_unreached(conn, settings, unreached)
        note_unreached(opened.sink, opened.header, opened.enterprise_rows,
                       {e.credit_code: why[e.id] for e in unreached}, strict)
        opened.stats["no_before_due_recipient"] = [e.credit_code for e in unreached]  # for scripts (JSON)
        # With --partial, rows already written that are now errors: the file is written again without them.
        opened.late_rejections = opened.late_rejections or (strict and bool(unreached))
    return inspect


def reads_in_child(opened: ImportFile, estimated_rows: int | None) -> bool:
    """Whether a patent file is large enough, by [import] reader_process_from_rows, to be read in a process of
    its own (importers.forked), and this machine can."""
    default = Import.model_fields["reader_process_from_rows"].default
    threshold = int(opened.options.import_config.get("reader_process_from_rows", default)) if opened.options else 0
    return (opened.kind == "patents" and threshold > 0 and (estimated_rows or 0) >= threshold and can_fork())


def written(engine, opened, lookup, progress, *, dry_run: bool, partial: bool, allow_lower_paid_through: bool,
             inspect=None):
    """The Outcome of writing `opened` chunk by chunk in one transaction, or None when it was rolled back (the
    file has errors and neither --partial nor --dry-run asked for the good rows)."""
    if opened.header is None:
        return None
    # A real import without --partial stops writing at the first error (it will roll back anyway).
    writes = partial or dry_run
    estimated = opened.estimated_rows()
    advance = progress("checking" if dry_run else "importing", estimated)
    keep_writing = lambda: writes or not opened.has_errors  # noqa: E731 - evaluated by whoever reads the file
    read = forked_chunks if reads_in_child(opened, estimated) else ImportFile.chunks
    chunks = read(opened, keep_writing, advance)
    outcome = apply_chunks(engine, opened.batch, chunks, dry_run=dry_run, started_at=clock.now(), now=clock.now(),
                           allow_lower_paid_through=allow_lower_paid_through, lookup=lookup, inspect=inspect,
                           keep=lambda: not opened.late_rejections and (writes or not opened.has_errors))
    if outcome is None and opened.late_rejections and writes:
        # A row written early was rejected by a later duplicate: write the file again without the rejected rows.
        outcome = apply_chunks(engine, opened.batch, opened.again().chunks(), dry_run=dry_run, started_at=clock.now(),
                               now=clock.now(), allow_lower_paid_through=allow_lower_paid_through, lookup=lookup)
    return outcome
