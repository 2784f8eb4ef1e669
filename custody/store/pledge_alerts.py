"""The outbox rows about a patent's pledges, by key: alerts to a pledgee's contact and the operator's alert when no
contact speaks for a pledgee (planned by custody.store.status_notices), and cancelling those of a pledge that ended.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from custody.models import Contact, Patent
from custody.reasons import Reason
from custody.status_effects import Effect, is_pledgee_contact
from custody.status_vocab import compact


def pledgee_alert_keys(patent_id: int) -> tuple[str, str]:
    """Key prefixes of the outbox rows about a patent's pledge: its pledgee contact's alerts
    (`…{year}:{contact id}:{channel}`), and the operator's alert when no contact matches a pledgee
    (`…{year}:{pledgee_tag}`)."""
    return f"pledgee:{patent_id}:", f"alert:pledgee-unmatched:{patent_id}:"


def pledgee_tag(pledgee: str) -> str:
    """A short stable tag for one pledgee in an outbox key (a patent may be pledged to several)."""
    return hashlib.sha256(compact(pledgee).encode("utf-8")).hexdigest()[:8]


def cancel_pledgee_alerts(session: Session, patent: Patent, ended: Sequence[str], kept: Sequence[str], why: Reason,
                          now: datetime) -> list[Effect]:
    """Cancel the pledge alerts planned and not sent yet for the pledges that ended (all of them when none is
    kept): the pledgee has no stake any more. A contact that also speaks for a pledge still on record keeps its."""
    if not sa.inspect(session.connection()).has_table("reminder"):
        return []
    from custody.models.reminders import Reminder

    table = Reminder.__table__
    to_contact, to_operator = pledgee_alert_keys(patent.id)
    if not kept:
        matches = [table.c.key.startswith(prefix, autoescape=True) for prefix in (to_contact, to_operator)]
    else:
        contacts = session.exec(select(Contact).where(Contact.enterprise_id == patent.enterprise_id,
                                                      Contact.role == "pledgee")).all()
        ids = [c.id for c in contacts if any(is_pledgee_contact(c.name, p) for p in ended)
               and not any(is_pledgee_contact(c.name, p) for p in kept)]
        matches = [table.c.key.like(f"{to_contact}%:{cid}:%") for cid in ids]
        matches += [table.c.key.like(f"{to_operator}%:{pledgee_tag(p)}") for p in ended]
    if not matches:
        return []
    done = session.execute(sa.update(table).where(table.c.state == "planned", sa.or_(*matches))
                           .values(state="cancelled", cancel_reason=why.stored(), updated_at=now)).rowcount
    return [Effect("pledgee_alert_cancelled", f"{done} planned pledge alert(s) cancelled: {why}")] if done else []
