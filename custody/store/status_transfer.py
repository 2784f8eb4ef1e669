"""The operator's confirmation of a transfer (`custody status confirm`): who owns the patent now, which enterprise
and contacts get its reminders; then the reminders held since the transfer are released."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from custody.domain import Reduction
from custody.i18n import label, tr
from custody.models import Contact, Enterprise, Patent, PatentChange
from custody.status_effects import NOT_GIVEN, Effect
from custody.status_effects import confirm_transfer as confirm
from custody.store.status import record_effects, save_watch, watch_state


def confirm_transfer(session: Session, patent: Patent, by: str, today: date, enterprise: Enterprise | None = None,
                     owner: str | None = None) -> list[Effect]:
    """Release the hold after the operator confirmed the new owner (`owner`, default: the transferee the record
    names) and the enterprise whose contacts now get the reminders (`enterprise`, default: the one it is with)."""
    state = watch_state(session, patent.id)
    if state.transfer_to is None:
        raise ValueError(tr("{number}: no transfer is awaiting confirmation", number=patent.application_number))
    owner = (owner or "").strip() or (state.transfer_to if state.transfer_to != NOT_GIVEN else "")
    if not owner:
        raise ValueError(tr("{number}: the record does not name the new owner: give it (--owner)",
                            number=patent.application_number))
    target = enterprise or (session.get(Enterprise, patent.enterprise_id) if patent.enterprise_id else None)
    if target is None:
        raise ValueError(tr("{number}: name the enterprise that now holds it (--enterprise CODE)",
                            number=patent.application_number))
    contacts = session.exec(select(Contact).where(Contact.enterprise_id == target.id).order_by(Contact.id)).all()
    if not contacts:
        raise ValueError(tr("{name} ({code}) has no contacts: add them before releasing the hold", name=target.name,
                            code=target.credit_code))
    effects = []
    if target.id != patent.enterprise_id:
        effects.append(Effect("enterprise_changed", tr("moved to {name} ({code}) by {by}", name=target.name,
                                                       code=target.credit_code, by=by)))
        patent.enterprise_id = target.id
    holder = tr("{name} ({code}), contacts {contacts}", name=target.name, code=target.credit_code,
                contacts=tr(", ").join(tr("{name} ({role})", name=c.name, role=label("role", c.role))
                                       for c in contacts))
    outcome = confirm(state, owner, holder, by)
    if outcome.owners != (patent.owners or ""):
        effects.append(Effect("owner_updated", tr("owner: {old} → {new} (confirmed by {by})",
                                                  old=patent.owners or tr("(none)"), new=outcome.owners, by=by)))
        session.add(PatentChange(patent_id=patent.id, field="owners", old_value=patent.owners,
                                 new_value=outcome.owners, source="cli"))
        patent.owners = outcome.owners
        effects.extend(_reduction_to_refile(session, patent, today, by))
    session.add(patent)
    save_watch(session, patent.id, outcome.state)
    effects.extend(outcome.effects)
    record_effects(session, patent.id, effects, today)
    return effects


def _reduction_to_refile(session: Session, patent: Patent, today: date, by: str) -> list[Effect]:
    """A reduction is the owner's who filed it (费减备案): once another owner is confirmed, the one on record waits
    to be re-filed by the new owner, and every fee is quoted in full until `custody patent set --reduction` records
    it (rule reference `reduction.refile`). A name change (status event 变更) never comes here: it keeps it."""
    if Reduction(patent.reduction) == Reduction.NONE or patent.reduction_refile_on is not None:
        return []
    patent.reduction_refile_on = today
    session.add(PatentChange(patent_id=patent.id, field="reduction_refile_on", old_value=None,
                             new_value=today.isoformat(), source="cli"))
    return [Effect("reduction_to_refile", tr("fee reduction {reduction} was the previous owner's: to re-file by the "
                                             "new owner, full fee quoted from {today} until it is recorded (custody "
                                             "patent set --reduction; confirmed by {by})",
                                             reduction=label("reduction", patent.reduction), today=today, by=by))]
