"""Replaying a patent's legal-status events in announcement order, for an announcement that arrives after a later
one was applied (a backfilled export, a feed that caught up): the patent's state must be the one its latest event
leaves, whatever order the sources reported them in.

The replay starts from nothing known and runs the pure custody.status_effects over every stored event, oldest
announcement first. Only the final state, owners and paid-through year are kept; the effects of the replayed
events were recorded when each arrived. A transfer the operator confirmed stays confirmed.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import Session, select

from custody.fees import Calendar
from custody.models.status import StatusEffect, StatusEvent
from custody.ruleset import RuleSet
from custody.status_effects import (
    TRANSFER_CONFIRMED,
    EventFacts,
    Outcome,
    PatentContext,
    WatchState,
    apply_event,
    event_facts,
)
from custody.status_vocab import Classified, Vocabulary


def replayed(session: Session, patent_id: int, context: PatentContext, vocabulary: Vocabulary, rules: RuleSet,
             calendar: Calendar, today: date) -> Outcome:
    """The state every event of the patent leaves when applied in announcement order (ties in arrival order), with
    the owners and paid-through year they set; no effects."""
    confirmed_at = _last_transfer_confirmation(session, patent_id)
    state, owners, paid = WatchState(), context.owners, None
    statement = (select(StatusEvent).where(StatusEvent.patent_id == patent_id)
                 .order_by(StatusEvent.announced_on, StatusEvent.id))
    for row in session.exec(statement):
        step = apply_event(_facts_of(row, vocabulary), state, replace(context, owners=owners), rules, calendar, today)
        state = step.state
        if state.transfer_to is not None and confirmed_at is not None and row.ingested_at <= confirmed_at:
            state = replace(state, transfer_to=None, transfer_on=None)
        owners = step.owners or owners
        paid = max(paid or 0, step.paid_through or 0) or None
    return Outcome(state, (), owners if owners != context.owners else None, paid)


def _facts_of(row: StatusEvent, vocabulary: Vocabulary) -> EventFacts:
    """The stored event classified again; the values read from its detail are the ones stored with it."""
    meaning = vocabulary.classify(row.status, row.detail)
    meaning = Classified(meaning.kind, meaning.effect, meaning.label, meaning.label_zh, json.loads(row.fields or "{}"))
    return event_facts(meaning, row.status, row.announced_on, row.location or row.source)


def _last_transfer_confirmation(session: Session, patent_id: int) -> datetime | None:
    statement = select(StatusEffect.recorded_at).where(StatusEffect.patent_id == patent_id,
                                                       StatusEffect.code == TRANSFER_CONFIRMED)
    return max(session.exec(statement).all(), default=None)
