"""What the legal-status watch leaves for the operator: effects to review, transfers on hold, records for
application numbers not in the portfolio (kept, never dropped), syncs that failed and failing OPS checks.
`custody status review` lists them; the unmatched records are kept here as they arrive.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session, select

from custody.clock import SHANGHAI
from custody.i18n import cell_label, tr
from custody.masking import redacted
from custody.models import Patent
from custody.models.status import StatusEffect, StatusSync, StatusUnmatched
from custody.status_vocab import StatusRecord, Vocabulary, event_key
from custody.store.patents import canonical_number

REVIEW_CODES = ("operator_review", "fee_reminders_held")


def keep_unmatched(session: Session, record: StatusRecord, source: str, vocabulary: Vocabulary) -> None:
    """Keep a record whose application number is not in the portfolio, once however often it is reported."""
    number = canonical_number(record.application_number)
    key = event_key(number, record.announced_on, vocabulary.classify(record.status, record.detail).kind,
                    record.status)
    known = select(StatusUnmatched.id).where(StatusUnmatched.application_number == number,
                                             StatusUnmatched.event_key == key)
    if session.exec(known).first() is not None:
        return
    session.add(StatusUnmatched(application_number=number, event_key=key, status=record.status,
                                detail=record.detail, announced_on=record.announced_on, source=source[:300],
                                location=record.location))
    session.flush()


def review_rows(session: Session, since: date) -> list[dict]:
    """Everything for the operator recorded on or after `since`, by date: effects to review and held transfers,
    records not in the portfolio (while the number is still missing from it) and failed syncs."""
    from custody.store.ops_watch import failure_rows

    rows = _effect_rows(session, since) + _unmatched_rows(session, since) + _failed_sync_rows(session, since)
    rows += failure_rows(session, _start(since))  # patents whose OPS check failed, until one succeeds
    return sorted(rows, key=lambda r: r["date"])


def _effect_rows(session: Session, since: date) -> list[dict]:
    statement = (select(StatusEffect, Patent).join(Patent, Patent.id == StatusEffect.patent_id)
                 .where(StatusEffect.code.in_(REVIEW_CODES), StatusEffect.effective_on >= since)
                 .order_by(StatusEffect.effective_on, StatusEffect.id))
    return [{"date": e.effective_on.isoformat(), "application_number": p.application_number, "what": e.code,
             "message": e.message} for e, p in session.exec(statement)]


def _unmatched_rows(session: Session, since: date) -> list[dict]:
    in_portfolio = select(Patent.id).where(Patent.application_number == StatusUnmatched.application_number)
    statement = (select(StatusUnmatched).where(StatusUnmatched.ingested_at >= _start(since), ~in_portfolio.exists())
                 .order_by(StatusUnmatched.ingested_at, StatusUnmatched.id))
    return [{"date": _day(u.ingested_at), "application_number": u.application_number, "what": "not_in_portfolio",
             "message": tr("{status} announced {day} ({where}): not in the portfolio; import the patent (or watch "
                           "it) and sync the source again to apply it", status=u.status, day=u.announced_on,
                           where=u.location or cell_label("source", u.source))}
            for u in session.exec(statement)]


def _failed_sync_rows(session: Session, since: date) -> list[dict]:
    statement = (select(StatusSync).where(StatusSync.error.is_not(None), StatusSync.started_at >= _start(since))
                 .order_by(StatusSync.started_at, StatusSync.id))
    return [{"date": _day(s.started_at), "application_number": "", "what": "sync_failed",
             "message": redacted(_failure(s.source, s.error or ""))} for s in session.exec(statement)]


def _failure(source: str, error: str) -> str:
    """A failed sync's error with where it came from, in words, said once (a refusal already names it)."""
    shown = cell_label("source", source)
    return error if error.startswith((shown, source)) else tr("{source}: {error}", source=shown, error=error)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def _day(at: datetime) -> str:
    return at.astimezone(SHANGHAI).date().isoformat()
