"""One import file from path to checked rows: open it, find the header, read every row, collect every problem.

`parse_file` never writes: it returns the rows for custody.store.imports.apply_batch together with every
problem, and the command decides (a file with any error changes nothing unless --partial).

The date a file's legal statuses describe (for inferring paid-through years) is, in order: --as-of; a date
written in a title or note above the header (导出日期 / 截至…); the file's modification date (Asia/Shanghai).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from custody.store.imports import Batch
from importers.columns import Profile, profile_from_config
from importers.context import Lookup, Options
from importers.enterprises import EnterpriseRows
from importers.header import Header, find_header
from importers.patents import Enterprises, PatentRows
from importers.payments import PaymentRows
from importers.problems import ProblemSink
from importers.readers import Cell, ReadError, Source, open_source, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROGRESS_EVERY = 5000


@dataclass
class ParsedFile:
    path: Path
    kind: str
    sink: ProblemSink
    batch: Batch
    source: Source | None = None
    header: Header | None = None
    rows_read: int = 0
    skipped: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def error_rows(self) -> set[int]:
        return self.sink.error_rows

    @property
    def has_errors(self) -> bool:
        return bool(self.sink.errors())

    @property
    def can_import_partially(self) -> bool:
        """Rows can be imported one by one only when the file itself was understood."""
        return self.header is not None and not self.sink.has_file_error


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def modification_date(path: Path) -> date:
    return datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI).date()


def parse_file(path: str | Path, kind: str, lookup: Lookup, options: Options,
               progress: Callable[[int], None] | None = None) -> ParsedFile:
    """Every row of `path` read as `kind` (enterprises, patents or payments) and checked; nothing is written.

    Raises ProfileError for a --profile the configuration does not define (a usage error, not the file's)."""
    path = Path(path)
    sink = ProblemSink(path.name)
    parsed = ParsedFile(path, kind, sink, Batch(kind, path.name, ""))
    try:
        profile = _profile(options, kind)
        parsed.source = open_source(path, profile.sheet if profile else None)
        parsed.batch.sha256 = file_sha256(path)
        found = find_header(rows(parsed.source), kind, sink, profile)
        if found is None:
            return parsed
        parsed.header, data = found
        _read(parsed, _counted(data, progress), lookup, options)
    except ReadError as exc:
        sink.add(None, None, exc.code, **exc.params)
    parsed.batch.rows_read = parsed.rows_read
    parsed.batch.rows_rejected = len(parsed.error_rows)
    if parsed.header is not None and parsed.rows_read == 0 and not sink.has_file_error:
        sink.add(None, None, "no_rows")
    return parsed


def _profile(options: Options, kind: str) -> Profile | None:
    if options.profile_name is None:
        return None
    return profile_from_config(options.profile_name, options.import_config, kind)


def _counted(data: Iterator[tuple[int, list[Cell]]], progress: Callable[[int], None] | None):
    if progress is None:
        yield from data
        return
    count = 0
    for item in data:
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        yield item
    progress(count % PROGRESS_EVERY)


def _read(parsed: ParsedFile, data: Iterator[tuple[int, list[Cell]]], lookup: Lookup, options: Options) -> None:
    header, sink, batch = parsed.header, parsed.sink, parsed.batch
    if parsed.kind == "enterprises":
        reader = EnterpriseRows(header, sink)
        parsed.rows_read = reader.read(data)
        batch.enterprises, batch.contacts = reader.accepted()
    elif parsed.kind == "patents":
        as_of = options.as_of or header.file_date or options.file_date or modification_date(parsed.path)
        enterprises = _enterprises(lookup, options)
        reader = PatentRows(header, sink, options, enterprises, as_of)
        parsed.rows_read = reader.read(data)
        batch.patents = reader.accepted()
        parsed.stats = {"paid_through_inferred": reader.stats.paid_through_inferred,
                        "grant_year_inferred": reader.stats.grant_year_inferred,
                        "fees_to_check": reader.stats.check_fees, "as_of": as_of.isoformat()}
    else:
        reader = PaymentRows(header, sink, options)
        parsed.rows_read = reader.read(data)
        batch.payments, batch.patents = reader.checked(lookup)
        parsed.skipped = reader.skipped
        parsed.stats = {"top_ups": reader.topups, "skipped_not_annual_fee": reader.skipped}


def _enterprises(lookup: Lookup, options: Options) -> Enterprises:
    by_code = dict(lookup.enterprises())
    option = None
    if options.enterprise is not None:
        option = by_code.get(options.enterprise)
        if option is None:
            raise ReadError("enterprise_unknown", value=options.enterprise)
    return Enterprises(by_code, option)
