"""One import file from path to checked rows: open it, find the header, read the rows chunk by chunk, collect
every problem.

`open_import` never writes: `ImportFile.chunks()` yields the accepted rows (custody.store.import_batch.Batch) a
chunk at a time for custody.store.imports.apply_chunks, which writes each as it comes inside one transaction;
once the chunks are consumed the sink holds every problem of the file and the command decides (a file with any
error changes nothing unless --partial). Memory stays bounded by the chunk, plus one small entry per key for
the duplicate check. `parse_file` reads a whole file into one Batch (tests, small files).

The date a file's legal statuses describe (for inferring paid-through years) is, in order: --as-of; a date
written in a title or note above the header (导出日期 / 截至…); the file's modification date (Asia/Shanghai).
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from custody.collector import collector_paused
from custody.store.import_batch import Batch
from importers.columns import Profile, profile_from_config
from importers.context import Lookup, Options
from importers.enterprises import EnterpriseRows
from importers.header import Header, find_header
from importers.patents import Enterprises, PatentRows
from importers.payments import PaymentRows
from importers.problems import NOTE, ProblemSink
from importers.readers import Cell, ReadError, Source, open_source, row_estimate, rows, sheet_names
from importers.workbook_guard import SheetLimits

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHUNK_ROWS = 20000
Progress = Callable[[int], None]
Rows = Iterator[tuple[int, list[Cell]]]


@dataclass
class ImportFile:
    path: Path
    kind: str
    sink: ProblemSink
    batch: Batch  # the file's name, hash and counts; the rows themselves come through chunks()
    source: Source | None = None
    header: Header | None = None
    rows_read: int = 0
    skipped: int = 0
    stats: dict[str, object] = field(default_factory=dict)
    late_rejections: bool = False  # a row already handed out was rejected afterwards (a disagreeing duplicate)
    data: Rows | None = field(default=None, repr=False)
    lookup: Lookup | None = field(default=None, repr=False)
    options: Options | None = field(default=None, repr=False)
    excluded: frozenset[int] = frozenset()  # rows left out on a second reading (rejected the first time)
    fast: bool = True  # read common patent rows with importers.patents_fast (False: the reference reading only)
    enterprise_rows: dict[str, list[int]] = field(default_factory=dict)  # enterprises file: credit code -> its rows

    @property
    def error_rows(self) -> set[int]:
        return self.sink.error_rows

    @property
    def has_errors(self) -> bool:
        return self.sink.has_errors

    @property
    def can_import_partially(self) -> bool:
        """Rows can be imported one by one only when the file itself was understood."""
        return self.header is not None and not self.sink.has_file_error

    def estimated_rows(self) -> int | None:
        """About how many rows the file has (for a progress bar), when that is cheap to know."""
        return row_estimate(self.source) if self.source is not None else None

    def chunks(self, keep_writing: Callable[[], bool] = lambda: True,
               progress: Progress | None = None) -> Iterator[Batch]:
        """The accepted rows, a chunk at a time; every problem lands in the sink on the way. Once `keep_writing()`
        is False (the file already failed) the rest is only checked: empty chunks, every problem still found."""
        if self.data is not None:
            data, self.data = self.data, None
            # Paused while the file streams (chunks and their writes): see custody.collector.
            with collector_paused():
                yield from _read(self, data, keep_writing, progress or (lambda n: None))
        self.batch.rows_read = self.rows_read
        self.batch.rows_rejected = len(self.error_rows)
        if self.header is not None and self.rows_read == 0 and not self.sink.has_file_error:
            self.sink.add(None, None, "no_rows")
        self.sink.sort(self.header.cells if self.header else [])

    def again(self) -> ImportFile:
        """The same file read again, leaving out the rows rejected this time (after a late rejection: rows
        already written must not stay in); its problems are this reading's, not collected twice."""
        assert self.lookup is not None and self.options is not None
        second = open_import(self.path, self.kind, self.lookup, self.options)
        second.excluded = frozenset(self.error_rows)
        second.batch = self.batch
        return second


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def modification_date(path: Path) -> date:
    return datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI).date()


def open_import(path: str | Path, kind: str, lookup: Lookup, options: Options) -> ImportFile:
    """`path` opened as `kind` (enterprises, patents or payments), its header found; no row read yet.

    Raises ProfileError for a --profile the configuration does not define (a usage error, not the file's)."""
    path = Path(path)
    sink = ProblemSink(path.name)
    opened = ImportFile(path, kind, sink, Batch(kind, path.name, ""), lookup=lookup, options=options)
    try:
        profile = _profile(options, kind)
        limits = SheetLimits.from_section(options.import_config)
        opened.source = open_source(path, profile.sheet if profile else None, limits)
        opened.batch.sha256 = file_sha256(path)
        found = _header_on_some_sheet(opened, profile)
        if found is not None:
            opened.header, opened.data = found
    except ReadError as exc:
        sink.add(None, None, exc.code, **exc.params)
    return opened


def _header_on_some_sheet(opened: ImportFile, profile: Profile | None) -> tuple[Header, Rows] | None:
    """find_header on the file, or on a workbook's first sheet; when that one has no header (a cover sheet, notes)
    and exactly one other sheet has, that sheet, with a note saying so. More than one such sheet is ambiguous:
    the first sheet's problem stands (a profile's `sheet` picks one)."""
    sink, before = opened.sink, len(opened.sink.problems)
    found = find_header(rows(opened.source), opened.kind, sink, profile)
    if found is not None or opened.source.format != "excel" or (profile and profile.sheet):
        return found
    others = [source for name in sheet_names(opened.source.path) if name != opened.source.sheet
              for source in [replace(opened.source, sheet=name, found={})]
              if find_header(rows(source), opened.kind, ProblemSink(sink.file), profile) is not None]
    if len(others) != 1:
        return None
    # The data rows report into the sink as they are read (totals rows): the chosen sheet is found again with it.
    del sink.problems[before:]
    sink.has_file_error = False
    opened.source = others[0]
    sink.add(None, None, "sheet_chosen", NOTE, sheet=opened.source.sheet)
    return find_header(rows(opened.source), opened.kind, sink, profile)


def parse_file(path: str | Path, kind: str, lookup: Lookup, options: Options,
               progress: Progress | None = None, fast: bool = True) -> ImportFile:
    """Every row of `path` read and checked into one Batch (`.batch`); nothing is written."""
    opened = open_import(path, kind, lookup, options)
    opened.fast = fast
    collected = Batch(kind, opened.path.name, "")
    for chunk in opened.chunks(progress=progress):
        collected.extend(chunk)
    if opened.late_rejections:  # rows handed out before their disagreeing duplicate turned up
        kept = [i for i, row in enumerate(collected.patent_rows) if row not in opened.error_rows]
        collected.patents = [collected.patents[i] for i in kept]
        collected.patent_rows = [collected.patent_rows[i] for i in kept]
    opened.batch = replace(collected, sha256=opened.batch.sha256, rows_read=opened.batch.rows_read,
                           rows_rejected=opened.batch.rows_rejected)
    return opened


def _profile(options: Options, kind: str) -> Profile | None:
    if options.profile_name is None:
        return None
    return profile_from_config(options.profile_name, options.import_config, kind)


def _read(opened: ImportFile, data: Rows, keep_writing: Callable[[], bool], progress: Progress) -> Iterator[Batch]:
    if opened.excluded:
        data = ((n, cells) for n, cells in data if n not in opened.excluded)
    try:
        if opened.kind == "patents":
            yield from _patents(opened, data, keep_writing, progress)
        else:
            reader = _other_rows(opened)
            while chunk := list(itertools.islice(data, CHUNK_ROWS)):
                opened.rows_read += reader.read(iter(chunk))
                progress(len(chunk))
            yield _accepted_other(opened, reader)
    except ReadError as exc:
        opened.sink.add(None, None, exc.code, **exc.params)


def _patents(opened: ImportFile, data: Rows, keep_writing: Callable[[], bool], progress: Progress) -> Iterator[Batch]:
    header, options = opened.header, opened.options
    as_of = options.as_of or header.file_date or options.file_date or modification_date(opened.path)
    reader = PatentRows(header, opened.sink, options, _enterprises(opened.lookup, options), as_of, opened.lookup,
                        fast=opened.fast)
    opened.stats = {"as_of": as_of.isoformat()}
    while chunk := list(itertools.islice(data, CHUNK_ROWS)):
        records, numbers = reader.read_chunk(chunk)
        opened.rows_read += len(chunk)
        opened.late_rejections = reader.late_rejections
        progress(len(chunk))
        writing = keep_writing()
        yield Batch("patents", opened.path.name, "", patents=records if writing else [],
                    patent_rows=numbers if writing else [])
    reader.complete_duplicates(rows(opened.source))
    opened.stats = {"paid_through_inferred": reader.stats.paid_through_inferred,
                    "grant_year_inferred": reader.stats.grant_year_inferred,
                    "fees_to_check": reader.stats.check_fees, "as_of": as_of.isoformat()}


def _other_rows(opened: ImportFile) -> EnterpriseRows | PaymentRows:
    if opened.kind == "enterprises":
        return EnterpriseRows(opened.header, opened.sink)
    return PaymentRows(opened.header, opened.sink, opened.options)


def _accepted_other(opened: ImportFile, reader: EnterpriseRows | PaymentRows) -> Batch:
    """Enterprises and payments files are small and checked as a whole (payments against each other and the
    patents on record): their rows come as one chunk at the end."""
    batch = Batch(opened.kind, opened.path.name, "")
    if isinstance(reader, EnterpriseRows):
        batch.enterprises, batch.contacts = reader.accepted()
        opened.enterprise_rows = reader.rows_of
        return batch
    batch.payments, batch.patents = reader.checked(opened.lookup)
    opened.skipped = reader.skipped
    opened.stats = {"top_ups": reader.topups, "skipped_not_annual_fee": reader.skipped, "amounts_owed": reader.owed}
    return batch


def _enterprises(lookup: Lookup, options: Options) -> Enterprises:
    by_code = dict(lookup.enterprises())
    option = None
    if options.enterprise is not None:
        option = by_code.get(options.enterprise)
        if option is None:
            raise ReadError("enterprise_unknown", value=options.enterprise)
    return Enterprises(by_code, option)
