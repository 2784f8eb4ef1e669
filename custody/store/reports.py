"""What the reports read from the database: the portfolio as plain `PortfolioPatent`s, and the reminders
outbox counted by channel and state. The computing is in custody/reports.py and custody/report_figures.py.

`enterprise_code` restricts every query to one enterprise at the source, so nothing of another enterprise is
even loaded.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, func, select

from custody.creditcode import InvalidCreditCode, parse_credit_code
from custody.domain import DatePeriod
from custody.explained import Explained, tx
from custody.models import Enterprise, OpenLicence, Patent, Payment
from custody.models.status import StatusEvent
from custody.report_figures import ReminderFigures
from custody.reports import PortfolioPatent
from custody.status_effects import WatchState
from custody.store.patents import patent_facts
from custody.store.status import latest_decisions, watch_states

SHANGHAI = ZoneInfo("Asia/Shanghai")


class UnknownEnterprise(Explained, LookupError):
    """No enterprise has the code asked for."""


def enterprise_by_code(session: Session, code: str) -> Enterprise:
    try:
        canonical = str(parse_credit_code(code))
    except InvalidCreditCode:
        canonical = code.strip().upper()
    found = session.exec(select(Enterprise).where(Enterprise.credit_code == canonical)).first()
    if found is None:
        raise UnknownEnterprise(tx("no enterprise with code {code}", code=code))
    return found


def portfolio(session: Session, enterprise_code: str | None = None,
              patent_id: int | None = None) -> list[PortfolioPatent]:
    """Every stored patent (or one enterprise's, or the one with `patent_id`) with its facts, watch state,
    decision, payments and events."""
    statement = select(Patent, Enterprise).join(Enterprise, Enterprise.id == Patent.enterprise_id, isouter=True)
    if enterprise_code is not None:
        statement = statement.where(Patent.enterprise_id == enterprise_by_code(session, enterprise_code).id)
    if patent_id is not None:
        statement = statement.where(Patent.id == patent_id)
    found = list(session.exec(statement.order_by(Patent.application_number)))
    ids = [p.id for p, _ in found]
    payments, licences, events = _payments(session, ids), _licences(session, ids), _events(session, ids)
    watches, decisions = watch_states(session, ids), latest_decisions(session, ids)
    return [PortfolioPatent(
        patent_id=p.id, enterprise_code=e.credit_code if e else "", enterprise_name=e.name if e else "",
        application_number=p.application_number, title=p.title, mode=p.mode,
        facts=patent_facts(p, (year for year, _ in payments.get(p.id, ())), licences.get(p.id, ())),
        legal_status=p.legal_status, legal_status_date=p.legal_status_date, watch=watches.get(p.id, WatchState()),
        decision=decisions.get(p.id),
        payments=tuple(payments.get(p.id, ())), events=tuple(events.get(p.id, ())),
        paid_through_inferred=bool(p.paid_through_inferred), unknown_through=p.unknown_through,
    ) for p, e in found]


def _grouped(rows) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for patent_id, *rest in rows:
        grouped[patent_id].append(tuple(rest) if len(rest) > 1 else rest[0])
    return grouped


def _payments(session: Session, ids: list[int]) -> dict[int, list[tuple[int, date]]]:
    statement = (select(Payment.patent_id, Payment.year, Payment.paid_on).where(Payment.patent_id.in_(ids))
                 .order_by(Payment.paid_on))
    return _grouped(session.exec(statement))


def _licences(session: Session, ids: list[int]) -> dict[int, list[DatePeriod]]:
    statement = (select(OpenLicence.patent_id, OpenLicence.start, OpenLicence.end)
                 .where(OpenLicence.patent_id.in_(ids)).order_by(OpenLicence.start))
    return {pid: [DatePeriod(*row) for row in rows] for pid, rows in _grouped(session.exec(statement)).items()}


def _events(session: Session, ids: list[int]) -> dict[int, list[tuple[str, date]]]:
    statement = (select(StatusEvent.patent_id, StatusEvent.kind, StatusEvent.announced_on)
                 .where(StatusEvent.patent_id.in_(ids)).order_by(StatusEvent.announced_on))
    return _grouped(session.exec(statement))


# ---------------------------------------------------------------------------------------------- reminders outbox


def has_outbox(session: Session) -> bool:
    return sa.inspect(session.connection()).has_table("reminder")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def delivery_counts(session: Session, start: date | None, end: date | None,
                    enterprise_code: str | None = None) -> dict[tuple[str, str], int] | None:
    """(channel, state) -> number of messages for days in [start, end]; None when there is no outbox table.
    A message sent whose delivery receipt never came (custody.store.outbox.NO_RECEIPT) counts as "no_receipt"."""
    if not has_outbox(session):
        return None
    from custody.models.reminders import Reminder
    from custody.store.outbox import NO_RECEIPT

    state = sa.case((sa.and_(Reminder.state == "sent", Reminder.last_code == NO_RECEIPT), "no_receipt"),
                    else_=Reminder.state)
    statement = select(Reminder.channel, state, func.count()).group_by(Reminder.channel, state)
    if start is not None:
        statement = statement.where(Reminder.day >= start)
    if end is not None:
        statement = statement.where(Reminder.day <= end)
    if enterprise_code is not None:
        statement = statement.where(Reminder.enterprise_id == enterprise_by_code(session, enterprise_code).id)
    return {(channel, state): count for channel, state, count in session.exec(statement)}


def reminder_figures(session: Session, year: int, enterprise_code: str | None = None) -> ReminderFigures | None:
    """Messages that went out during `year` (Asia/Shanghai): reminders to enterprises (and how many of them were
    delivered), operator alerts, and the watch's notices (pledgee alerts, digests), each counted apart."""
    if not has_outbox(session):
        return None
    from custody.models.reminders import Reminder

    start, end = _day_start(date(year, 1, 1)), _day_start(date(year + 1, 1, 1))
    sent = select(func.count()).where(Reminder.sent_at >= start, Reminder.sent_at < end)
    if enterprise_code is not None:
        sent = sent.where(Reminder.enterprise_id == enterprise_by_code(session, enterprise_code).id)
    # Every alert-kind row is planned as "alert:…" for the operator (custody.store.outbox.plan_alert); the watch's
    # pledgee alerts and digests are alert-kind rows to contacts.
    is_alert, to_operator = Reminder.kind == "alert", Reminder.key.startswith("alert:")
    reminders = sent.where(~is_alert, Reminder.kind != "statement")  # a statement email is no reminder
    return ReminderFigures(session.exec(reminders).one(),
                           session.exec(reminders.where(Reminder.state == "delivered")).one(),
                           alerts_sent=session.exec(sent.where(is_alert, to_operator)).one(),
                           notices_sent=session.exec(sent.where(is_alert, ~to_operator)).one())


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1) - timedelta(days=1)
