"""Enterprises and who among their contacts receives before-due reminders (custody.reach): for the import's
warnings, `custody health` and `custody enterprise list`.

One query, whatever the number of enterprises: each enterprise's contacts, recipients (contacts on a before-due
route, see custody.reach.before_due_routes) and patents in custody are correlated counts served by the indexes on
contact and patent. Works on a Session or on the import's own Connection.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from custody.models import Contact, Enterprise, Patent
from custody.models.reminders import EnterpriseReminderInstruction
from custody.reach import Route, before_due_routes, contact_text, routes_text
from custody.reminder_settings import ReminderSettings

CONTACT = Contact.__table__
ENTERPRISE = Enterprise.__table__
PATENT = Patent.__table__
INSTRUCTION = EnterpriseReminderInstruction.__table__


@dataclass(frozen=True)
class EnterpriseReach:
    id: int
    credit_code: str
    name: str
    contacts: int
    recipients: int  # contacts who receive before-due reminders
    custody_patents: int
    no_sms: bool

    @property
    def has_recipient(self) -> bool:
        return self.recipients > 0


def _on_route(route: Route) -> Any:
    roles = CONTACT.c.role.in_(sorted(route.roles))
    if route.channel == "email":
        return sa.and_(roles, CONTACT.c.email.is_not(None), CONTACT.c.email != "", CONTACT.c.consent_email)
    no_sms = sa.exists().where(INSTRUCTION.c.enterprise_id == ENTERPRISE.c.id, INSTRUCTION.c.no_sms)
    return sa.and_(roles, CONTACT.c.mobile.is_not(None), CONTACT.c.mobile != "", CONTACT.c.consent_sms, ~no_sms)


def _count(table: sa.Table, *where: Any) -> Any:
    return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()


def enterprise_reach(db: Any, settings: ReminderSettings, codes: Collection[str] | None = None,
                     unreached_only: bool = False) -> list[EnterpriseReach]:
    """Every enterprise (those with these credit codes, if given), by credit code, with its counts."""
    routes = before_due_routes(settings)
    mine = CONTACT.c.enterprise_id == ENTERPRISE.c.id
    reached = _count(CONTACT, mine, sa.or_(*(_on_route(r) for r in routes))) if routes else sa.literal(1)
    no_sms = sa.exists().where(INSTRUCTION.c.enterprise_id == ENTERPRISE.c.id, INSTRUCTION.c.no_sms)
    query = sa.select(ENTERPRISE.c.id, ENTERPRISE.c.credit_code, ENTERPRISE.c.name, _count(CONTACT, mine),
                      reached, _count(PATENT, PATENT.c.enterprise_id == ENTERPRISE.c.id, PATENT.c.mode == "custody"),
                      no_sms)
    if codes is not None:
        query = query.where(ENTERPRISE.c.credit_code.in_(sorted(codes)))
    if unreached_only:
        query = query.where(reached == 0)
    return [EnterpriseReach(*row) for row in db.execute(query.order_by(ENTERPRISE.c.credit_code))]


def contacts_shown(db: Any, enterprise_ids: Collection[int], language: str = "zh") -> dict[int, str]:
    """{enterprise id: its contacts as a warning shows them (name, role, which addresses; none of the addresses)}."""
    if not enterprise_ids:
        return {}
    query = (sa.select(CONTACT.c.enterprise_id, CONTACT.c.name, CONTACT.c.role, CONTACT.c.mobile, CONTACT.c.email,
                       CONTACT.c.consent_sms, CONTACT.c.consent_email)
             .where(CONTACT.c.enterprise_id.in_(sorted(enterprise_ids))).order_by(CONTACT.c.id))
    found: dict[int, list[str]] = defaultdict(list)
    for row in db.execute(query):
        found[row.enterprise_id].append(contact_text(row.name, row.role, bool(row.mobile), bool(row.email),
                                                     row.consent_sms, row.consent_email, language))
    none = "（无联系人）" if language == "zh" else "(no contacts)"
    return {eid: ("、" if language == "zh" else "; ").join(found.get(eid, [])) or none for eid in enterprise_ids}


def why_unreached(db: Any, settings: ReminderSettings, unreached: list[EnterpriseReach]) -> dict[int, dict[str, Any]]:
    """{enterprise id: the parameters of the warning}: where before-due reminders go and who the contacts are, in
    both languages (the import renders its problems in the configured one)."""
    routes = before_due_routes(settings)
    ids = [e.id for e in unreached]
    zh, en = contacts_shown(db, ids, "zh"), contacts_shown(db, ids, "en")
    wanted = {"zh": routes_text(routes, "zh"), "en": routes_text(routes, "en")}
    return {e.id: {"name": e.name, "credit_code": e.credit_code, "wanted": wanted,
                   "contacts": {"zh": zh[e.id], "en": en[e.id]}} for e in unreached}
