"""The enterprise statement from the database, and its emails through the outbox.

A statement email is an outbox row like a reminder (kind "statement", channel email), so it has the same
guarantees: planned before any network call, claimed atomically (planned -> sending -> sent/failed), each attempt
recorded, a dead claim reconciled. Its key, `statement:CODE:PERIOD:ADDRESS`, is unique in the table: an
enterprise's statement of a period goes to an address once, whoever plans it, however often (a database fact, not
a check in code). The document is rendered at each attempt, as of the row's day, by `statement_mail`.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from custody.i18n import tr
from custody.messages import Attachment, Rendered, money
from custody.models import Contact, Enterprise
from custody.models.reminders import Reminder
from custody.ruleset import RuleSet
from custody.statement import (
    STATEMENT_KIND,
    Statement,
    StatementSettings,
    build_statement,
    layout,
    summary_figures,
)
from custody.statement_render import PDF_TYPE, pdf_bytes
from custody.status_effects import RestorationWindow
from custody.store.bulk import insert_ignore
from custody.store.calendar import calendar_from
from custody.store.portfolio_read import report_chunks
from custody.store.reports import enterprise_by_code

REMINDER = Reminder.__table__


def statement_of(session: Session, code: str, rules: RuleSet, settings: StatementSettings, day) -> Statement:
    """The statement of the enterprise with credit code `code` on `day` (UnknownEnterprise if nobody has it)."""
    found = enterprise_by_code(session, code)
    chunks = list(report_chunks(session, found.credit_code))
    window = settings.window or RestorationWindow(rules.restoration.request_months)
    return build_statement(chunks, rules, calendar_from(session), day, found.credit_code, found.name, window,
                           settings.platform)


def statement_key(code: str, period: str, address: str) -> str:
    return f"statement:{code}:{period}:{address.strip().lower()}"


def recipients(session: Session, codes: list[str] | None) -> list[tuple[Enterprise, Contact]]:
    """Each enterprise's contacts with an email address and consent to email (all enterprises when `codes` is
    None), by enterprise and contact."""
    query = (sa.select(Enterprise, Contact).join(Contact, Contact.enterprise_id == Enterprise.id)
             .where(Contact.email.is_not(None), Contact.email != "", Contact.consent_email.is_(True))
             .order_by(Enterprise.credit_code, Contact.id))
    if codes is not None:
        query = query.where(Enterprise.credit_code.in_(codes))
    return [(e, c) for e, c in session.execute(query).all()]


def plan_statement_mails(session: Session, codes: list[str] | None, period: str, day, now) -> dict[str, int]:
    """Outbox rows for the period's statement to each recipient not already planned: {"planned": new rows,
    "already": rows the unique key found}. `day` is the statement's as-of day."""
    rows = [dict(key=statement_key(e.credit_code, period, c.email), kind=STATEMENT_KIND, channel="email",
                 recipient=c.email.strip().lower(), recipient_name=c.name or "", contact_id=c.id, enterprise_id=e.id,
                 day=day, state="planned", not_before=now, attempts=0, created_at=now, updated_at=now)
            for e, c in recipients(session, codes)]
    keys = [r["key"] for r in rows]
    before = _existing(session, keys)
    insert_ignore(session, REMINDER, [r for r in rows if r["key"] not in before], ["key"])
    return {"planned": len(_existing(session, keys)) - len(before), "already": len(before)}


def _existing(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        found |= set(session.execute(sa.select(REMINDER.c.key).where(REMINDER.c.key.in_(part))).scalars())
    return found


def period_of_key(key: str) -> str:
    return key.split(":", 3)[2]


def statement_mail(session: Session, reminder: Reminder, rules: RuleSet,
                   settings: StatementSettings) -> tuple[Rendered, Attachment]:
    """The email of a planned statement row: its text and the PDF, as of the row's day."""
    code = session.get(Enterprise, reminder.enterprise_id).credit_code
    statement = statement_of(session, code, rules, settings, reminder.day)
    language, period = settings.language, period_of_key(reminder.key)
    figures = {msgid: value for msgid, _, _, value in summary_figures(statement)}
    subject = tr("Patent statement {period}: {name}", language, period=period, name=statement.name)
    text = tr("Dear {name},\n\nattached is your patent annual fee statement as of {day}: {due} fee(s) due within a "
              "year ({amount} CNY), {grace} in the grace period, {restorable} lapsed patent(s) that can be restored."
              "\n\n{platform}", language, name=reminder.recipient_name or statement.name, day=reminder.day.isoformat(),
              due=figures["Number of fees due within a year"], amount=money(figures["Amount due within a year (CNY)"]),
              grace=figures["Fees in the grace period"], restorable=figures["Lapsed patents that can be restored"],
              platform=" ".join(p for p in (settings.platform.name, settings.platform.contact) if p))
    document = pdf_bytes(layout(statement, language))
    return Rendered(text.rstrip(), subject), Attachment(f"statement-{code}-{period}.pdf", PDF_TYPE, document)
