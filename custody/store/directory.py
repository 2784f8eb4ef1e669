"""What the operator looks up: one enterprise (`enterprise show`), the contacts (`contact list`), the import log
(`import log`) and a patent's payments, imports and field changes (`patent history`).

Addresses are masked (custody.masking) wherever they are shown; enumerated values are returned as stored and
labelled by the caller's renderer (custody.i18n.label). Counts are SQL aggregates: an enterprise with a hundred
thousand patents is three GROUP BYs, not a load of its patents.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.i18n import label, labels, tr
from custody.masking import mask_text
from custody.models import Contact, Enterprise, Patent, Payment
from custody.models.imports import CREATED, ImportRecord, PatentChange
from custody.models.reminders import EnterpriseReminderInstruction, Reminder
from custody.reminder_settings import ReminderSettings
from custody.store.reach import enterprise_reach

CONTACT = Contact.__table__
PATENT = Patent.__table__
IMPORT = ImportRecord.__table__
CHANGE = PatentChange.__table__
PAYMENT = Payment.__table__
CHUNK = 5_000


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment is not None else None


# ---------------------------------------------------------------------------------------------- enterprise show


def enterprise_detail(session: Session, enterprise: Enterprise, settings: ReminderSettings) -> dict[str, Any]:
    """The enterprise, its standing instructions, patents per mode and state of the watch, its contacts (masked)
    and the reminders it was sent."""
    (reach,) = enterprise_reach(session, settings, codes=[enterprise.credit_code])
    modes = dict(session.execute(sa.select(PATENT.c.mode, sa.func.count()).where(
        PATENT.c.enterprise_id == enterprise.id).group_by(PATENT.c.mode)).all())
    instruction = session.get(EnterpriseReminderInstruction, enterprise.id)
    sent = dict(session.execute(sa.select(Reminder.state, sa.func.count()).where(
        Reminder.enterprise_id == enterprise.id).group_by(Reminder.state)).all())
    return {
        "credit_code": enterprise.credit_code, "name": enterprise.name,
        "patents": {mode: modes.get(mode, 0) for mode in ("custody", "watch", "ended")},
        "recipients": reach.recipients,
        "instructions": {"sms": not (instruction and instruction.no_sms),
                         "remind_only": bool(instruction and instruction.remind_only),
                         "agency": bool(instruction and instruction.via_agency),
                         "skip_abandoned": bool(instruction and instruction.skip_abandoned),
                         "note": instruction.note if instruction else None},
        "reminders": sent,
        "contacts": list(contact_rows(session, enterprise.id)),
    }


def enterprise_lines(detail: dict[str, Any]) -> list[str]:
    """`enterprise show` as lines to read, in the current language (its contacts follow as a table)."""
    p, i = detail["patents"], detail["instructions"]
    lines = [tr("{name} ({code})", name=detail["name"], code=detail["credit_code"]),
             tr("patents: {custody} in custody, {watch} watch-only, {ended} custody ended",
                custody=p["custody"], watch=p["watch"], ended=p["ended"]),
             tr("contacts receiving before-due reminders: {n}", n=detail["recipients"]),
             tr("SMS allowed: {sms}; we only remind: {remind}; pays through an agency: {agency}; no reminders on "
                "patents marked to abandon: {skip}", sms=label("bool", i["sms"]),
                remind=label("bool", i["remind_only"]), agency=label("bool", i["agency"]),
                skip=label("bool", i["skip_abandoned"]))]
    if i["note"]:
        lines.append(tr("remark: {note}", note=i["note"]))
    if detail["reminders"]:
        counts = ", ".join(f"{label('reminder_state', s)} {n}" for s, n in sorted(detail["reminders"].items()))
        lines.append(tr("reminders: {counts}", counts=counts))
    return lines


# ---------------------------------------------------------------------------------------------- contacts


# (key, English heading: the msgid the renderer translates)
CONTACT_HEADINGS = (("credit_code", "Credit code (USCC)"), ("enterprise", "Enterprise name"),
                    ("name", "Contact name"), ("role", "Contact role"), ("mobile", "Mobile (masked)"),
                    ("email", "Email (masked)"), ("consent_sms", "SMS consent"), ("consent_email", "Email consent"))


def contact_rows(session: Session, enterprise_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Contacts by enterprise credit code, then as imported; mobile and email masked."""
    e = Enterprise.__table__
    query = (sa.select(e.c.credit_code, e.c.name.label("enterprise"), CONTACT.c.name, CONTACT.c.role,
                       CONTACT.c.mobile, CONTACT.c.email, CONTACT.c.consent_sms, CONTACT.c.consent_email)
             .join(e, e.c.id == CONTACT.c.enterprise_id).order_by(e.c.credit_code, CONTACT.c.id))
    if enterprise_id is not None:
        query = query.where(CONTACT.c.enterprise_id == enterprise_id)
    for row in session.execute(query.execution_options(yield_per=CHUNK)):
        yield {"credit_code": row.credit_code, "enterprise": row.enterprise, "name": row.name,
               "role": label("role", row.role), "mobile": mask_text(row.mobile) if row.mobile else None,
               "email": mask_text(row.email) if row.email else None,
               "consent_sms": label("bool", bool(row.consent_sms)),
               "consent_email": label("bool", bool(row.consent_email))}


# ---------------------------------------------------------------------------------------------- import log


IMPORT_HEADINGS = (("id", "Import no."), ("finished_at", "Finished at"), ("kind", "Import kind"),
                   ("file_name", "File name"), ("dry_run", "Dry run"), ("partial", "Partial import"),
                   ("rows_read", "Rows read"), ("rows_rejected", "Rows rejected"), ("new", "New rows"),
                   ("updated", "Updated rows"), ("unchanged", "Unchanged rows"), ("sha256", "SHA-256 (first 12)"))


def import_rows(session: Session, file_name: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The import log, newest first; `file_name` matches the file's name or any part of it."""
    query = sa.select(IMPORT).order_by(IMPORT.c.id.desc()).limit(limit)
    if file_name:
        query = query.where(IMPORT.c.file_name.contains(file_name, autoescape=True))
    return [{"id": r.id, "finished_at": _local(r.finished_at), "kind": label("import_kind", r.kind),
             "file_name": r.file_name, "dry_run": label("bool", bool(r.dry_run)),
             "partial": label("bool", bool(r.partial)), "rows_read": r.rows_read, "rows_rejected": r.rows_rejected,
             "new": r.new, "updated": r.updated, "unchanged": r.unchanged, "sha256": r.sha256[:12]}
            for r in session.execute(query)]


# ---------------------------------------------------------------------------------------------- patent history


def record_history(session: Session, patent_id: int) -> list[dict[str, Any]]:
    """The patent's payments, the imports that touched it and every field change, as history rows (date, what,
    detail, source, and `_at` to order them among the watch's rows)."""
    rows = []
    for p in session.execute(sa.select(PAYMENT).where(PAYMENT.c.patent_id == patent_id)):
        note = f" ({p.note})" if p.note else ""
        rows.append({"date": p.paid_on, "what": tr("payment"),
                     "detail": tr("year {year}: {amount} yuan paid on {day}", year=p.year, amount=p.amount,
                                  day=p.paid_on) + note, "source": p.source, "_at": p.recorded_at, "_order": 1})
    query = (sa.select(CHANGE, IMPORT.c.file_name, IMPORT.c.kind)
             .outerjoin(IMPORT, IMPORT.c.id == CHANGE.c.import_id)
             # A payment's audit row says what the payment row says: the payment is shown once, from its row.
             .where(CHANGE.c.patent_id == patent_id, CHANGE.c.field != "payment"))
    for c in session.execute(query):
        day = c.changed_at.astimezone(SHANGHAI).date()
        source = tr("import {file} (#{id})", file=c.file_name, id=c.import_id) if c.import_id else c.source
        if c.field == CREATED:
            rows.append({"date": day, "what": tr("import: created"), "detail": tr("created from {file}",
                         file=c.file_name or c.source), "source": source, "_at": c.changed_at, "_order": -1})
        else:
            rows.append({"date": day, "what": tr("change: {field}", field=field_word(c.field)),
                         "detail": f"{_shown(c.field, c.old_value)} → {_shown(c.field, c.new_value)}",
                         "source": source, "_at": c.changed_at, "_order": 1})
    return rows


def field_word(field: str) -> str:
    """A patent field as an audit line names it: the set command's word, else the import's (labels.toml)."""
    return label("field" if field in labels().get("field", {}) else "import_field", field)


def _shown(field: str, value: str | None) -> str:
    """A stored value as text; an enumerated one (mode, type, reduction) as its word."""
    return label(field, value)


def full_history(session: Session, patent: Patent) -> list[dict[str, Any]]:
    """custody.store.status.history (events, effects, decisions, reminders) with the patent's payments, imports
    and field changes, oldest first."""
    from custody.store.status import history

    return history(session, patent, record_history(session, patent.id))


def patents_by_mode(session: Session) -> dict[int, dict[str, int]]:
    """{enterprise id: {mode: patents}}, one GROUP BY over the patent table (`enterprise list`)."""
    found: dict[int, dict[str, int]] = {}
    query = (sa.select(PATENT.c.enterprise_id, PATENT.c.mode, sa.func.count())
             .where(PATENT.c.enterprise_id.is_not(None)).group_by(PATENT.c.enterprise_id, PATENT.c.mode))
    for enterprise_id, mode, count in session.execute(query):
        found.setdefault(enterprise_id, {})[mode] = count
    return found
