"""`patent_due`: each custody patent's next unpaid fee and the next day one of its reminder tiers fires.

Planning reads only `patent_due` rows with `next_fire_on <= today` (an index range), never the whole portfolio.
The rows are refreshed with the vectorised engine (custody.portfolio.next_due_frame) for the patents changed since
the last refresh (patent rows updated, payments recorded), and for every patent when the policy, the rule
settings or the loaded calendar changed. A refreshed row fires today when a tier is already live, so a newly
imported patent gets its catch-up reminder at once.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from custody.domain import PatentFacts, PatentType, Reduction
from custody.fees import fact_problems, patent_year_on
from custody.models import CalendarSchedule, OpenLicence, Patent, Payment
from custody.models.reminders import PatentDue
from custody.portfolio import next_due_frame, portfolio_problems
from custody.reminder_policy import Tier
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RuleSet
from custody.store.bulk import insert_all
from custody.store.ticks import read_cursor, write_cursor
from custody.workdays import WorkCalendar

CURSOR = "due_refresh"
CHUNK = 20_000
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
    problem: str


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


def _all_patent_ids(session: Session) -> list[int]:
    return list(session.execute(sa.select(Patent.id).order_by(Patent.id)).scalars())


def _patent_frame(session: Session, ids: Sequence[int], rules: RuleSet) -> tuple[pd.DataFrame, list[Screened]]:
    """The input columns of next_due_frame for these custody patents, indexed by patent id, less the patents the fee
    engine refuses (`_refused`), which come apart."""
    licence = (sa.select(OpenLicence.patent_id, sa.func.max(OpenLicence.start).label("open_licence_from"))
               .group_by(OpenLicence.patent_id).subquery())
    query = (sa.select(Patent.id, Patent.type, Patent.filing_date, Patent.grant_year, Patent.granted_on,
                       Patent.paid_through, Patent.reduction, Patent.term_extension_days, Patent.enterprise_id,
                       licence.c.open_licence_from, Patent.reduction_recorded_on, Patent.application_number)
             .outerjoin(licence, licence.c.patent_id == Patent.id)
             .where(Patent.id.in_(ids), Patent.mode == "custody"))
    rows = session.execute(query).all()
    refused = _refused(rows, rules)
    if refused:
        left_out = {s.patent_id for s in refused}
        rows = [row for row in rows if row.id not in left_out]
    frame = pd.DataFrame(rows, columns=["id", "type", "filing_date", "grant_year", "granted_on", "paid_through",
                                        "reduction", "term_extension_days", "enterprise_id", "open_licence_from",
                                        "reduction_recorded_on", "application_number"])
    frame = frame.set_index("id")
    frame["type"] = frame["type"].astype(str)
    frame["reduction"] = frame["reduction"].astype(str)
    frame["grant_year"] = frame["grant_year"].astype("Int64")
    missing = frame["grant_year"].isna() & frame["granted_on"].notna()
    if missing.any() and rules.settings.grant_year_inference == "announcement_patent_year":
        # The same inference as fees.grant_year_of: the patent year containing the grant announcement.
        frame.loc[missing, "grant_year"] = [patent_year_on(f, g) for f, g in zip(
            frame.loc[missing, "filing_date"], frame.loc[missing, "granted_on"], strict=True)]
    for column in ("filing_date", "open_licence_from", "reduction_recorded_on"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.drop(columns=["granted_on", "application_number"]), refused


def _facts(row: sa.Row) -> PatentFacts:
    # What custody.store.patents.facts_of builds, less payments and licences: they never make facts impossible.
    return PatentFacts(type=PatentType(row.type), filing_date=row.filing_date, grant_year=row.grant_year,
                       granted_on=row.granted_on, paid_through=row.paid_through, reduction=Reduction(row.reduction),
                       term_extension_days=row.term_extension_days, application_number=row.application_number,
                       reduction_recorded_on=row.reduction_recorded_on)


def _refused(rows: Sequence[sa.Row], rules: RuleSet) -> list[Screened]:
    """The fee engine's own screen (fees.fact_problems, which fee_schedule and so every report applies), patent by
    patent: reminders leave out exactly the patents the reports leave out (a filing date in a later year than the
    application number's, a grant date before the filing date, ...). Only the patents of a refresh: changed ones."""
    found = []
    for row in rows:
        try:
            problems = fact_problems(_facts(row), rules)
        except ValueError as exc:  # a type or reduction the engine does not know
            problems = [str(exc)]
        if problems:
            found.append(Screened(row.id, row.application_number, row.enterprise_id, problems[0]))
    return found


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


def _problem_ids(problems: Sequence[str]) -> set[int]:
    """Patent ids named by portfolio_problems ("row <id>: message")."""
    return {int(p.split(":", 1)[0].removeprefix("row ")) for p in problems}


def _day_column(values: pd.Series) -> np.ndarray:
    return values.to_numpy().astype("datetime64[D]")


def _fees_for_lapsed(frame: pd.DataFrame, result: pd.DataFrame, rules: RuleSet, calendar: WorkCalendar) -> None:
    """Lapsed rows have no payable fee on the day; the lapse notice still quotes the fee, so ask for a day when
    every unpaid fee is payable (before any due date): the fee itself does not depend on the day."""
    missing = result["year"].notna() & result["fee"].isna()
    if missing.any():
        early = next_due_frame(frame.loc[missing[missing].index], EARLY, rules, calendar)
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
                on: date, now: datetime) -> list[dict]:
    """patent_due rows for the patents of `frame` (next_due_frame's input, plus enterprise_id), as of `on`."""
    result = next_due_frame(frame.drop(columns=["enterprise_id"]), on, rules, calendar)
    keep = result["year"].notna() & (result["state"] != "expired")
    frame, result = frame.loc[keep], result.loc[keep].copy()
    if result.empty:
        return []
    _fees_for_lapsed(frame.drop(columns=["enterprise_id"]), result, rules, calendar)
    due, grace = _day_column(result["due_date"]), _day_column(result["grace_end"])
    rises = rise_days(_day_column(result["anniversary"]), due, rules, calendar)
    has_grace = ~np.isnat(grace)
    fire = next_fire_days(due, grace, rises, settings.tiers, on, settings.lapse_notice_days)
    columns = {
        "patent_id": frame.index.to_numpy(),
        "enterprise_id": frame["enterprise_id"].astype("Int64").to_numpy(dtype=object, na_value=None),
        "fee_year": result["year"].to_numpy(dtype=np.int64),
        "due_date": due.astype(object),
        "grace_end": np.where(has_grace, grace.astype(object), None),
        "fee": result["fee"].to_numpy(dtype=float).round(2),
        "full_fee": result["full_fee"].to_numpy(dtype=float).round(2),
        "rises": _rises_column(rises, _rates(rules), has_grace),
        "next_fire_on": np.where(np.isnat(fire), None, fire.astype(object)),
    }
    names = list(columns)
    return [dict(zip(names, values, strict=True), refreshed_at=now)
            for values in zip(*(columns[n].tolist() for n in names), strict=True)]


def refresh_chunk(session: Session, ids: Sequence[int], settings: ReminderSettings, rules: RuleSet,
                  calendar: WorkCalendar, on: date, now: datetime) -> tuple[int, list[Screened]]:
    """Recompute patent_due for these patents (rows of watch-only, paid-up or expired patents go away, and so do
    the rows of patents the fee engine refuses: the reports leave them out, so reminders must not quote them)."""
    frame, screened = _patent_frame(session, ids, rules)
    # The vectorised engine's own guard of its input: it agrees with fact_problems (tests/test_portfolio.py), so
    # this drops nothing the screen above let through, short of a bug, which must not stop every reminder.
    frame = frame.drop(index=list(_problem_ids(portfolio_problems(frame.drop(columns=["enterprise_id"]), rules))))
    records = due_records(frame, settings, rules, calendar, on, now) if len(frame) else []
    table = PatentDue.__table__
    session.execute(sa.delete(table).where(table.c.patent_id.in_(ids)))
    insert_all(session, table, records)
    return len(records), screened


def refresh_due(session: Session, settings: ReminderSettings, rules: RuleSet, calendar: WorkCalendar,
                on: date, now: datetime, full: bool = False) -> RefreshSummary:
    """Bring patent_due up to date: the changed patents, or all of them when anything that decides dates changed."""
    cursor = read_cursor(session, CURSOR) or {}
    fingerprint = _fingerprint(session, settings, rules)
    full = full or cursor.get("fingerprint") != fingerprint or "since" not in cursor
    ids = _all_patent_ids(session) if full else changed_patent_ids(session, datetime.fromisoformat(cursor["since"]))
    if full:
        session.execute(sa.delete(PatentDue.__table__))  # also drops rows of patents gone to watch-only
    rows, problems = 0, []
    for start in range(0, len(ids), CHUNK):
        written, found = refresh_chunk(session, ids[start:start + CHUNK], settings, rules, calendar, on, now)
        rows, problems = rows + written, problems + found
    write_cursor(session, CURSOR, json.dumps({"since": (now - OVERLAP).isoformat(), "fingerprint": fingerprint}))
    return RefreshSummary(len(ids), rows, full, tuple(problems))
