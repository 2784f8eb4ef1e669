"""Who may be reminded about which patent: standing instructions, contacts and consent, and each patent's
`Standing` (custody.eligibility) gathered from the patent, the legal-status watch and the enterprise's decisions.

Everything is read in batches (one query per table for a set of patents or enterprises), so planning a day of a
million-patent portfolio stays a handful of queries.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlmodel import Session

from custody.decisions import Decision, latest_decision
from custody.eligibility import Standing
from custody.models import Contact, Enterprise, FeeDecision, PatentWatch
from custody.models.reminders import EnterpriseReminderInstruction
from custody.reminder_settings import EVERY_CONTACT, CallListEntry
from custody.status_effects import WatchState
from custody.store.bulk import among

INSTRUCTION_FLAGS = ("remind_only", "no_sms", "via_agency", "skip_abandoned")


@dataclass(frozen=True)
class Instructions:
    remind_only: bool = False
    no_sms: bool = False
    via_agency: bool = False
    skip_abandoned: bool = False


@dataclass(frozen=True)
class Recipient:
    """One address on one channel: a contact of the enterprise, or someone on the operator's call list."""

    channel: str
    address: str
    name: str
    role: str
    contact_id: int | None = None


@dataclass(frozen=True)
class ContactRow:
    id: int
    enterprise_id: int
    name: str
    role: str
    mobile: str | None
    email: str | None
    consent_sms: bool
    consent_email: bool

    def address(self, channel: str) -> str | None:
        """The contact's address on `channel`, or None without one or without consent for that channel."""
        if channel == "sms":
            return self.mobile if self.consent_sms and self.mobile else None
        if channel == "email":
            return self.email.strip().lower() if self.consent_email and self.email else None
        return None


def instructions_for(session: Session, enterprise_ids: Iterable[int]) -> dict[int, Instructions]:
    ids = list(set(enterprise_ids))
    table = EnterpriseReminderInstruction
    rows = session.execute(sa.select(table).where(among(session, table.enterprise_id, ids))).scalars() if ids else []
    return {row.enterprise_id: Instructions(*(getattr(row, flag) for flag in INSTRUCTION_FLAGS)) for row in rows}


def set_instructions(session: Session, enterprise: Enterprise, note: str | None = None,
                     **flags: bool | None) -> Instructions:
    """Change the given flags (None leaves one as it is); returns the instructions now in force."""
    row = session.get(EnterpriseReminderInstruction, enterprise.id)
    if row is None:
        row = EnterpriseReminderInstruction(enterprise_id=enterprise.id)
    for flag, value in flags.items():
        if flag not in INSTRUCTION_FLAGS:
            raise ValueError(f"unknown instruction {flag}")
        if value is not None:
            setattr(row, flag, value)
    if note is not None:
        row.note = note
    session.add(row)
    session.flush()
    return Instructions(*(getattr(row, flag) for flag in INSTRUCTION_FLAGS))


def contacts_for(session: Session, enterprise_ids: Iterable[int]) -> dict[int, list[ContactRow]]:
    ids = list(set(enterprise_ids))
    found: dict[int, list[ContactRow]] = defaultdict(list)
    if not ids:
        return found
    query = sa.select(Contact.id, Contact.enterprise_id, Contact.name, Contact.role, Contact.mobile, Contact.email,
                      Contact.consent_sms, Contact.consent_email).where(among(session, Contact.enterprise_id, ids))
    for row in session.execute(query.order_by(Contact.id)):
        found[row.enterprise_id].append(ContactRow(*row))
    return found


@cache
def _roles(audience: tuple[str, ...]) -> frozenset[str]:
    """The contact roles an audience names ("all": every contact but pledgees)."""
    return frozenset(EVERY_CONTACT if "all" in audience else ()) | (frozenset(audience) - {"all"})


def recipients(contacts: Iterable[ContactRow], call_list: Iterable[CallListEntry], audience: Iterable[str],
               channel: str) -> list[Recipient]:
    """Everyone in `audience` reachable on `channel`, each address once (consent honoured, always)."""
    audience = tuple(audience)
    roles = _roles(audience)
    found: dict[str, Recipient] = {}
    for contact in contacts:
        if contact.role not in roles:
            continue
        address = contact.address(channel)
        if address and address not in found:
            found[address] = Recipient(channel, address, contact.name, contact.role, contact.id)
    if "operator" in audience:
        for entry in call_list:
            address = entry.mobile if channel == "sms" else entry.email if channel == "email" else None
            if address and address not in found:
                found[address] = Recipient(channel, address, entry.name, "operator")
    return list(found.values())


def _watch_states(session: Session, patent_ids: list[int]) -> dict[int, WatchState]:
    rows = session.execute(sa.select(PatentWatch).where(among(session, PatentWatch.patent_id, patent_ids))).scalars()
    names = WatchState.__dataclass_fields__
    return {row.patent_id: WatchState(**{n: getattr(row, n) for n in names}) for row in rows}


def _decisions(session: Session, patent_ids: list[int]) -> dict[int, Decision]:
    found: dict[int, list[Decision]] = defaultdict(list)
    query = sa.select(FeeDecision).where(among(session, FeeDecision.patent_id, patent_ids))
    for row in session.execute(query).scalars():
        found[row.patent_id].append(Decision(row.choice, row.year, row.effective_on, row.decided_by,
                                             row.decided_at, row.note))
    return {pid: latest_decision(decisions) for pid, decisions in found.items()}


def standings(session: Session, patents: Mapping[int, tuple[str, int | None]],
              instructions: Mapping[int, Instructions]) -> dict[int, Standing]:
    """Standing per patent id, from {patent id: (mode, enterprise id)} and the enterprises' instructions."""
    ids = list(patents)
    watch, decisions = _watch_states(session, ids), _decisions(session, ids)
    result = {}
    for pid, (mode, enterprise_id) in patents.items():
        skip = instructions.get(enterprise_id, Instructions()).skip_abandoned if enterprise_id else False
        result[pid] = Standing(mode=mode, has_enterprise=enterprise_id is not None, watch=watch.get(pid),
                               decision=decisions.get(pid), skip_abandoned=skip)
    return result


def set_consent(session: Session, address: str, enterprise_id: int | None = None,
                **consent: bool | None) -> list[Contact]:
    """Record an opt-out (or opt-in again) for every contact with this mobile or email address (one enterprise's
    only, given its id), e.g. after an enterprise replied 退订 to an SMS; `consent` takes `sms` and `email`
    (None leaves one as it is). Returns the contacts changed or confirmed. Planned messages need no cancelling:
    consent is checked again when a message is sent (custody.store.compose)."""
    query = sa.select(Contact).where(sa.or_(Contact.mobile == address, sa.func.lower(Contact.email) == address))
    if enterprise_id is not None:
        query = query.where(Contact.enterprise_id == enterprise_id)
    contacts = list(session.execute(query.order_by(Contact.id)).scalars())
    for contact in contacts:
        for channel, value in consent.items():
            if value is not None:
                setattr(contact, f"consent_{channel}", value)
        session.add(contact)
    session.flush()
    return contacts
