"""Writing imported enterprises (upsert by credit code) and their contacts (upsert by enterprise and mobile, else
email): the people reminders go to."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from custody.domain import email_key
from custody.models import Contact, Enterprise
from custody.store.bulk import insert_rows
from custody.store.import_batch import CONTACT_FIELDS, Change, Outcome

ENTERPRISE = Enterprise.__table__
CONTACT = Contact.__table__
# A contact listed without a role is the enterprise's patent contact: the one reminders and digests go to.
DEFAULT_CONTACT_ROLE = "ip_manager"
NEW_CONTACT = {"name": "", "role": DEFAULT_CONTACT_ROLE, "mobile": None, "email": None, "consent_sms": True,
               "consent_email": True}


def write_enterprises(conn: Connection, outcome: Outcome, now: datetime, rows: Sequence[tuple]) -> dict[str, int]:
    """Upsert `rows` (credit code, name); returns every enterprise's id by credit code."""
    existing = {r.credit_code: r for r in conn.execute(sa.select(ENTERPRISE))}
    new = []
    for code, name in rows:
        old = existing.get(code)
        if old is None:
            new.append((code, name))
            outcome.note_new("enterprise", code)
        elif name is not None and name != old.name:
            conn.execute(ENTERPRISE.update().where(ENTERPRISE.c.id == old.id).values(name=name, updated_at=now))
            outcome.table("enterprise").updated += 1
            outcome.note_change(Change("enterprise", code, "name", old.name, name))
        else:
            outcome.table("enterprise").unchanged += 1
    insert_rows(conn, ENTERPRISE, ("credit_code", "name"), new, constants={"created_at": now, "updated_at": now})
    return {r.credit_code: r.id for r in conn.execute(sa.select(ENTERPRISE.c.credit_code, ENTERPRISE.c.id))}


def write_contacts(conn: Connection, outcome: Outcome, now: datetime, rows: Sequence[tuple],
                   ids: dict[str, int]) -> None:
    """Upsert `rows` (CONTACT_FIELDS) by (enterprise, mobile), else (enterprise, email); a later row that matches
    a contact new in this file completes it rather than adding a second one."""
    known: dict[int, list[SimpleNamespace]] = {}
    query = sa.select(CONTACT).where(CONTACT.c.enterprise_id.in_({ids[r[0]] for r in rows} or {-1}))
    for stored in conn.execute(query.order_by(CONTACT.c.id)):
        known.setdefault(stored.enterprise_id, []).append(SimpleNamespace(**stored._mapping, is_new=False))
    new: list[SimpleNamespace] = []
    for row in rows:
        values = dict(zip(CONTACT_FIELDS, row, strict=True))
        enterprise_id = ids[values.pop("credit_code")]
        key = f"{row[0]}:{values['mobile'] or values['email']}"
        contact = matching_contact(known.get(enterprise_id, []), values)
        if contact is None:
            contact = SimpleNamespace(**NEW_CONTACT | {k: v for k, v in values.items() if v is not None},
                                      enterprise_id=enterprise_id, is_new=True)
            known.setdefault(enterprise_id, []).append(contact)
            new.append(contact)
            outcome.note_new("contact", key)
            continue
        changed = {k: v for k, v in values.items() if v is not None and not _same(k, v, getattr(contact, k))}
        if changed and not contact.is_new:
            conn.execute(CONTACT.update().where(CONTACT.c.id == contact.id).values(**changed, updated_at=now))
            outcome.table("contact").updated += 1
            for name, value in changed.items():
                outcome.note_change(Change("contact", key, name, getattr(contact, name), value))
        elif not contact.is_new:
            outcome.table("contact").unchanged += 1
        vars(contact).update(changed)
    columns = (*NEW_CONTACT, "enterprise_id")
    insert_rows(conn, CONTACT, columns, [tuple(getattr(c, name) for name in columns) for c in new],
                constants={"created_at": now, "updated_at": now})


def matching_contact(contacts: Sequence[Any], values: dict[str, Any]) -> Any | None:
    """The contact `values` describe among one enterprise's: the one with the same mobile, else the one with the
    same email (when several share the email: the one without a mobile, or with the same name)."""
    if values["mobile"]:
        found = next((c for c in contacts if c.mobile == values["mobile"]), None)
        if found is not None:
            return found
    if not values["email"]:
        return None
    sharing = [c for c in contacts if c.email and email_key(c.email) == email_key(values["email"])]
    if len(sharing) > 1:
        sharing = [c for c in sharing if not c.mobile or (values["name"] and c.name == values["name"])]
    return sharing[0] if len(sharing) == 1 else None


def _same(field: str, new: Any, old: Any) -> bool:
    # An address stored in another case (by hand, or before imports wrote lower case) is the same address.
    if field == "email" and old is not None:
        return email_key(new) == email_key(old)
    return new == old
