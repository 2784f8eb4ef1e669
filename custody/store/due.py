"""`patent_due`: each custody patent's next unpaid fee and the next day one of its reminder tiers fires.

Planning reads only `patent_due` rows with `next_fire_on <= today` (an index range), never the whole portfolio.
The rows are refreshed with the vectorised engine (custody.portfolio.next_due_frame) for the patents changed since
the last refresh (patent rows updated, payments recorded), and for every patent when the policy, the rule
settings or the loaded calendar changed, read in chunks of ids (custody.store.portfolio_read) and screened by
custody.portfolio_screen (the fee engine's verdict, with the scalar engine asked only about suspect rows). Rows
are written in bulk (insert or update). A refreshed row fires today when a tier is already live, so a newly
imported patent gets its catch-up reminder at once; but a row whose fee and dates did not change, under the same
tiers, keeps the day its next tier fires: the planner has already planned what was live, so it looks again only
at fees whose tier state changed (a full refresh of a million patents would otherwise re-walk every live fee).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import repeat
from operator import itemgetter

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from custody.models import CalendarSchedule, Patent, Payment
from custody.models.reminders import PatentDue
from custody.portfolio import next_due_frame
from custody.portfolio_screen import Problem, screen
from custody.reminder_policy import Tier
from custody.reminder_settings import ReminderSettings
from custody.report_engine import Chunk
from custody.ruleset import RuleSet
from custody.store.bulk import among, analyze_if_grown, converted_rows, copy_tuples_then
from custody.store.portfolio_read import Scope, chunks, chunks_of
from custody.store.ticks import read_cursor, write_cursor
from custody.workdays import WorkCalendar

CURSOR = "due_refresh"
CHUNK = 50_000
# Rows changed while a refresh ran may carry a timestamp just before its start: look back this far next time.
OVERLAP = timedelta(minutes=15)
EARLY = date(1985, 4, 1)  # before any patent: next_due_frame quotes every unpaid fee as payable on this day
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Screened:
    """A custody patent whose fee facts the fee engine refuses (fees.fact_problems): no fee row, no reminder."""

    patent_id: int
    application_number: str
    enterprise_id: int | None
    problem: Problem  # str(problem): in the current language


@dataclass(frozen=True)
class RefreshSummary:
    patents: int
    rows: int
    full: bool
    problems: tuple[Screened, ...] = ()


def parse_rises(text: str) -> tuple[tuple[date, Decimal], ...]:
    if not text:
        return ()
    pairs = (item.split(":") for item in text.split(","))
    return tuple((date.fromisoformat(day), _rate(rate)) for day, rate in pairs)


@cache
def _rate(text: str) -> Decimal:
    return Decimal(text)  # a handful of distinct rates (5 % steps, Rule 115): parsed once each


def _fingerprint(session: Session, settings: ReminderSettings, rules: RuleSet) -> str:
    loaded = session.exec(sa.select(sa.func.max(CalendarSchedule.loaded_at))).scalar()
    return repr((settings.fingerprint, rules.settings, str(loaded)))


def changed_patent_ids(session: Session, since: datetime) -> list[int]:
    patents = sa.select(Patent.id).where(Patent.updated_at >= since)
    paid = sa.select(Payment.patent_id).where(Payment.recorded_at >= since)
    return sorted({row[0] for row in session.execute(patents.union(paid))})


def _screened(chunk: Chunk, rules: RuleSet, calendar: WorkCalendar) -> tuple[pd.DataFrame, list[Screened]]:
    """The custody patents of a chunk the fee engine accepts, as next_due_frame's input (plus enterprise_id), and
    those it refuses (the reports leave out exactly these too: one screen, custody.portfolio_screen)."""
    frame = chunk.patents
    frame = frame[(frame["mode"] == "custody").to_numpy()]
    verdict = screen(frame, rules, calendar)
    numbers, enterprises = frame["application_number"].to_numpy(object), frame["enterprise_id"].to_numpy(object)
    refused = [Screened(int(frame.index[i]), numbers[i], enterprises[i], text) for i, text in verdict.problems.items()]
    accepted = frame.iloc[np.flatnonzero(verdict.accepted)].copy()
    accepted["grant_year"] = verdict.grant_year[verdict.accepted]
    columns = ["type", "filing_date", "grant_year", "paid_through", "reduction", "term_extension_days",
               "reduction_recorded_on", "restored_on", "reduction_refile_on", "enterprise_id"]
    return accepted[columns], refused


def _plus_months(days: np.ndarray, months: int) -> np.ndarray:
    # Rule 5 as relativedelta does it: no matching day means the month's last day (pandas clamps the same way).
    shifted = pd.DatetimeIndex(days.astype("datetime64[ns]")) + pd.DateOffset(months=months)
    return shifted.to_numpy().astype("datetime64[D]")


def _next_working(calendar: WorkCalendar, days: np.ndarray) -> np.ndarray:
    ordinals = days.astype(np.int64) + date(1970, 1, 1).toordinal()
    low, high = int(ordinals.min()), int(ordinals.max())
    table = calendar.working_day_table(date.fromordinal(low), date.fromordinal(high))
    return (table[ordinals - low] - date(1970, 1, 1).toordinal()).astype("datetime64[D]")


def rise_days(anniversary: np.ndarray, due: np.ndarray, rules: RuleSet, calendar: WorkCalendar) -> list[np.ndarray]:
    """Per rise of the late fee (Rule 115), the first day of its band, vectorised like fees.late_fee_bands.

    The bands count from the anniversary (or the due date, per rules.grace_base), each end moved past rest days;
    a dated exception (CNIPA No. 486) moves the due date and counts from the new one.
    """
    if len(due) == 0:
        return []
    moved = due != _next_working(calendar, anniversary)
    base = due if rules.settings.grace_base == "due_date" else np.where(moved, due, anniversary)
    late = rules.late_fee
    ends = [_next_working(calendar, _plus_months(base, k)) for k in range(late.free_months, late.grace_months)]
    return [end + DAY for end in ends]


def _rates(rules: RuleSet) -> list[Decimal]:
    late = rules.late_fee
    return [late.step_rate * k for k in range(1, late.grace_months - late.free_months + 1)]


def next_fire_days(due: np.ndarray, grace: np.ndarray, rises: list[np.ndarray], tiers: Sequence[Tier],
                   on: date, lapse_days: int) -> np.ndarray:
    """Vectorised reminder_policy: `on` where a tier is live on `on`, else the first later firing day (NaT: none).

    `grace` is NaT for a grant-year fee (no grace period, no rises).
    """
    today = np.datetime64(on, "D")
    has_grace = ~np.isnat(grace)
    payable_until = np.where(has_grace, grace, due)
    best = np.full(len(due), np.datetime64("NaT"), "datetime64[D]")
    live = np.zeros(len(due), bool)
    for tier in tiers:
        if tier.kind == "restore":
            continue  # restoration tiers hang on the termination notice: planned from patent_watch, not from here
        anchors = {"due_date": [due], "late_fee_rise": rises, "grace_end": [grace]}[tier.anchor]
        until = grace + lapse_days * DAY if tier.kind == "lapse" else payable_until
        for anchor in anchors:
            for offset in tier.offsets:
                fires = anchor + offset * DAY
                valid = ~np.isnat(fires) & (fires <= until)
                if tier.kind == "lapse":
                    valid &= has_grace & (fires > grace)
                elif tier.anchor != "due_date":
                    valid &= has_grace
                live |= valid & (fires <= today) & (today <= until)
                later = valid & (fires > today)
                best = np.where(later & (np.isnat(best) | (fires < best)), fires, best)
    return np.where(live, today, best)


def _day_column(values: pd.Series) -> np.ndarray:
    return values.to_numpy().astype("datetime64[D]")


def _fees_for_lapsed(frame: pd.DataFrame, result: pd.DataFrame, rules: RuleSet, calendar: WorkCalendar,
                     chunk: Chunk) -> None:
    """Lapsed rows have no payable fee on the day; the lapse notice still quotes the fee, so ask for a day when
    every unpaid fee is payable (before any due date): the fee itself does not depend on the day."""
    missing = result["year"].notna() & result["fee"].isna()
    if missing.any():
        early = next_due_frame(frame.loc[missing[missing].index], EARLY, rules, calendar, chunk.licences,
                               chunk.paid_years)
        result.loc[missing, "fee"] = early["fee"]
        result.loc[missing, "full_fee"] = early["full_fee"]


def _rises_column(rises: list[np.ndarray], rates: list[Decimal], has_grace: np.ndarray) -> np.ndarray:
    if not rises:
        return np.array([], dtype=object)
    parts = [pd.Series(np.datetime_as_string(day, unit="D")) + f":{rate}" for day, rate in zip(rises, rates,
                                                                                                  strict=True)]
    text = parts[0]
    for part in parts[1:]:
        text = text + "," + part
    return np.where(has_grace, text.to_numpy(dtype=object), "")


def due_records(frame: pd.DataFrame, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar,
                on: date, now: datetime, chunk: Chunk | None = None) -> list[dict]:
    """patent_due rows for the patents of `frame` (next_due_frame's input, plus enterprise_id), as of `on`; the
    chunk's open licences and years paid after a gap count as the scalar engine counts them."""
    columns = _due_columns(frame, settings, rules, calendar, on, chunk)
    if columns is None:
        return []
    for name in DATE_COLUMNS:
        days = columns[name]
        columns[name] = np.where(np.isnat(days), None, days.astype(object))
    names = list(columns)
    return [dict(zip(names, values, strict=True), refreshed_at=now)
            for values in zip(*(columns[n].tolist() for n in names), strict=True)]


DATE_COLUMNS = ("due_date", "grace_end", "next_fire_on")


def _due_columns(frame: pd.DataFrame, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar,
                 on: date, chunk: Chunk | None) -> dict[str, np.ndarray] | None:
    """due_records' values a column each, dates as datetime64 (NaT for none); None when no row is left."""
    chunk = chunk or Chunk(frame)
    result = next_due_frame(frame.drop(columns=["enterprise_id"]), on, rules, calendar, chunk.licences,
                            chunk.paid_years)
    keep = result["year"].notna() & (result["state"] != "expired")
    frame, result = frame.loc[keep], result.loc[keep].copy()
    if result.empty:
        return None
    _fees_for_lapsed(frame.drop(columns=["enterprise_id"]), result, rules, calendar, chunk)
    due, grace = _day_column(result["due_date"]), _day_column(result["grace_end"])
    rises = rise_days(_day_column(result["anniversary"]), due, rules, calendar)
    has_grace = ~np.isnat(grace)
    fire = next_fire_days(due, grace, rises, settings.tiers, on, settings.lapse_notice_days)
    return {
        "patent_id": frame.index.to_numpy(),
        "enterprise_id": frame["enterprise_id"].astype("Int64").to_numpy(dtype=object, na_value=None),
        "fee_year": result["year"].to_numpy(dtype=np.int64),
        "due_date": due,
        "grace_end": grace,
        "fee": result["fee"].to_numpy(dtype=float).round(2),
        "full_fee": result["full_fee"].to_numpy(dtype=float).round(2),
        "rises": _rises_column(rises, _rates(rules), has_grace),
        "next_fire_on": fire,
    }


def _sqlite_rows(session: Session, columns: dict[str, np.ndarray], now: datetime) -> list[tuple]:
    """The driver's tuples for SQLite straight from the columns (what each column type's bind processor gives: ISO
    dates, floats, the timestamp's text), without a dict per row converted back a column at a time."""
    table = PatentDue.__table__
    dialect = session.get_bind().dialect
    values = []
    for name, column in columns.items():
        if name in DATE_COLUMNS:
            text = np.datetime_as_string(column, unit="D").astype(object)
            text[np.isnat(column)] = None
            values.append(text.tolist())
        else:
            values.append(column.tolist())
    stamp = table.c.refreshed_at.type.dialect_impl(dialect).bind_processor(dialect)(now)
    return [(*row, stamp) for row in zip(*values, strict=True)]


def refresh_chunk(session: Session, chunk: Chunk, settings: ReminderSettings, rules: RuleSet,
                  calendar: WorkCalendar, on: date, now: datetime,
                  keep_fire: bool) -> tuple[np.ndarray, list[Screened]]:
    """Recompute patent_due for the patents of a chunk and write it in bulk; returns the ids written and the
    refused patents. Rows of watch-only, paid-up, expired or refused patents are the caller's to delete (the ids
    of the chunk not written). `keep_fire`: the tiers are the ones the stored rows were planned with."""
    frame, screened = _screened(chunk, rules, calendar)
    columns = _due_columns(frame, settings, rules, calendar, on, chunk) if len(frame) else None
    if columns is None:
        return np.empty(0, np.int64), screened
    if session.get_bind().dialect.name == "postgresql":
        for name in DATE_COLUMNS:  # Python dates for COPY
            days = columns[name]
            columns[name] = np.where(np.isnat(days), None, days.astype(object))
        names = [*columns, "refreshed_at"]
        rows = zip(*(columns[n].tolist() for n in columns), repeat(now, len(columns["patent_id"])), strict=True)
        _upsert_postgresql(session, names, rows, keep_fire)
    else:
        _upsert_sqlite(session, [*columns, "refreshed_at"], _sqlite_rows(session, columns, now), keep_fire)
    return np.asarray(columns["patent_id"], np.int64), screened


UPDATED = ("enterprise_id", "fee_year", "due_date", "grace_end", "fee", "full_fee", "rises", "refreshed_at")
SAME_FEE = ("fee_year", "due_date", "grace_end", "rises")


def _conflict(postgres: bool, keep_fire: bool) -> str:
    """The upsert's ON CONFLICT clause. A row is rewritten only when something in it changed (a full refresh
    of a million patents otherwise rewrote every row and its index entries, for the same values): refreshed_at
    is then when its values last changed. A row whose fee year and dates are the ones on record keeps its next
    firing day when `keep_fire` (the planner has planned what was live for it)."""
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    same = " AND ".join(f'patent_due."{c}" IS NOT DISTINCT FROM excluded."{c}"' if postgres
                        else f'patent_due."{c}" IS excluded."{c}"' for c in SAME_FEE)
    fire = (f'CASE WHEN {same} THEN patent_due.next_fire_on ELSE excluded.next_fire_on END' if keep_fire
            else "excluded.next_fire_on")
    updates = ", ".join([*(f'"{c}" = excluded."{c}"' for c in UPDATED), f"next_fire_on = {fire}"])
    compared = [c for c in UPDATED if c != "refreshed_at"] + ([] if keep_fire else ["next_fire_on"])
    changed = " OR ".join(f'patent_due."{c}" {differs} excluded."{c}"' for c in compared)
    return f"ON CONFLICT (patent_id) DO UPDATE SET {updates} WHERE {changed}"


def upsert_due(session: Session, records: list[dict], keep_fire: bool) -> None:
    """Insert or update patent_due rows in one statement per batch (see _conflict)."""
    if not records:
        return
    table = PatentDue.__table__
    names = list(records[0])
    if session.get_bind().dialect.name == "postgresql":
        _upsert_postgresql(session, names, (itemgetter(*names)(r) for r in records), keep_fire)
        return
    _upsert_sqlite(session, names, converted_rows(session, table, records), keep_fire)


def _upsert_postgresql(session: Session, names: list[str], rows: Iterable[Sequence], keep_fire: bool) -> None:
    copy_tuples_then(session, PatentDue.__table__, names, rows,
                     f'SELECT {", ".join(names)} FROM {{scratch}} {_conflict(True, keep_fire)}')


def _upsert_sqlite(session: Session, names: list[str], rows: list[tuple], keep_fire: bool) -> None:
    session.connection().exec_driver_sql(
        f'INSERT INTO patent_due ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)}) '
        f'{_conflict(False, keep_fire)}', rows)


def refresh_due(session: Session, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar,
                on: date, now: datetime, full: bool = False) -> RefreshSummary:
    """Bring patent_due up to date: the changed patents, or all of them when anything that decides dates changed."""
    cursor = read_cursor(session, CURSOR) or {}
    fingerprint = _fingerprint(session, settings, rules)
    tiers = repr(settings.fingerprint)
    full = full or cursor.get("fingerprint") != fingerprint or "since" not in cursor
    # Kept firing days were planned up to the last refresh's day: a refresh as of an earlier day (a dry run with
    # --as-of) must recompute them.
    keep_fire = cursor.get("tiers") == tiers and on >= date.fromisoformat(cursor.get("day", "9999-12-31"))
    if full:
        count = session.execute(sa.select(sa.func.count()).select_from(Patent)).scalar()
        analyze_if_grown(session, Patent.__table__, count)  # the first refresh after a bulk import
        found = chunks(session, Scope(custody_only=True, facts_only=True), size=CHUNK)
    else:
        ids = changed_patent_ids(session, datetime.fromisoformat(cursor["since"]))
        # Lists of at most 20,000 ids: within SQLite's parameter limit.
        found, count = chunks_of(session, ids, Scope(facts_only=True)), len(ids)
    rows, problems, previous = 0, [], 0
    for chunk in found:
        written, refused = refresh_chunk(session, chunk, settings, rules, calendar, on, now, keep_fire)
        rows, problems = rows + len(written), problems + refused
        if full:  # the chunks are id ranges: what is stored in this one and was not written goes
            high = int(chunk.patents.index.max())
            _drop_unwritten_between(session, previous, high, written)
            previous = high
        else:
            _drop_unwritten(session, chunk.patents.index, written)
    if full:  # also drops rows of patents gone to watch-only, paid up, expired or refused
        _drop_unwritten_between(session, previous, None, np.empty(0, np.int64))
        # What it holds now: the planner's reads and updates of these rows follow in this transaction.
        analyze_if_grown(session, PatentDue.__table__, rows)
    write_cursor(session, CURSOR, json.dumps({"since": (now - OVERLAP).isoformat(), "fingerprint": fingerprint,
                                              "tiers": tiers, "day": on.isoformat()}))
    return RefreshSummary(count, rows, full, tuple(problems))


def _drop_unwritten(session: Session, ids: pd.Index, written: np.ndarray) -> None:
    """Rows of these patents that this refresh did not write (watch-only, paid up, expired, refused now). Unchanged
    rows are not rewritten (upsert_due), so what counts is the ids written, not the rows' refreshed_at."""
    _delete_due(session, np.setdiff1d(ids.to_numpy(np.int64), written))


def _drop_unwritten_between(session: Session, low: int, high: int | None, written: np.ndarray) -> None:
    """Rows with low < patent_id <= high (no upper bound when None) this refresh did not write."""
    table = PatentDue.__table__
    query = sa.select(table.c.patent_id).where(table.c.patent_id > low)
    if high is not None:
        query = query.where(table.c.patent_id <= high)
    stored = np.array(session.execute(query).scalars().all(), dtype=np.int64)  # all at once, not row by row
    _delete_due(session, np.setdiff1d(stored, written))


def _delete_due(session: Session, ids: np.ndarray, batch: int = 20_000) -> None:
    table = PatentDue.__table__
    for start in range(0, len(ids), batch):  # within SQLite's parameter limit
        session.execute(sa.delete(table).where(among(session, table.c.patent_id, ids[start:start + batch].tolist())))
