"""Messages the legal-status watch sends through the reminders outbox (issue 4): pledgee alerts when a pledged
patent enters its grace period, and each watching enterprise's digest of status changes on watch-only patents.

A pledgee alert goes only to the contact (role pledgee) that speaks for the pledgee on record (its name holds the
pledgee's name, custody.status_effects.is_pledgee_contact): another bank's contact must never hear of it. When no
contact matches, the operator is alerted instead of a guess.

Both are written as outbox rows of kind "alert" with their text rendered here; the outbox's unique key makes
planning them idempotent (a tick run twice, or by cron beside the daemon, plans one message). Each planned
message is also an effect in the patent's history, so "why did the bank hear about it" has an answer.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from custody.fees import Calendar, first_unpaid, quote
from custody.i18n import label, tr
from custody.models import Enterprise, Patent
from custody.models.reminders import Reminder
from custody.models.status import PatentWatch, StatusEvent
from custody.reminder_settings import ReminderSettings
from custody.ruleset import RuleSet
from custody.status_effects import Effect, is_pledgee_contact, pledgee_alert_year, pledgees_of
from custody.status_vocab import default_vocabulary
from custody.store.outbox import insert_ignore, plan_alert
from custody.store.pledge_alerts import pledgee_alert_keys, pledgee_tag
from custody.store.standing import ContactRow, contacts_for
from custody.store.status import record_effects, schedule_or_none, watch_state

REMINDER = Reminder.__table__


def _plan(session: Session, key: str, contact: ContactRow, channel: str, enterprise_id: int, subject: str,
          body: str, today: date, now: datetime) -> bool:
    """One alert row to one contact; False when the same key was planned before (nothing new)."""
    address = contact.address(channel)
    if address is None:
        return False
    key = key[:255]
    if session.execute(sa.select(REMINDER.c.id).where(REMINDER.c.key == key)).first() is not None:
        return False
    insert_ignore(session, REMINDER, [dict(
        key=key, kind="alert", channel=channel, recipient=address, recipient_name=contact.name,
        contact_id=contact.id, enterprise_id=enterprise_id, day=today, state="planned", not_before=now, attempts=0,
        subject=subject, body=body, created_at=now, updated_at=now)], ["key"])
    return True


# ---------------------------------------------------------------------------------------------- pledgee alerts


def _pledgee_text(patent: Patent, enterprise: str, pledgee: str, schedule, today: date) -> tuple[str, str]:
    fee = first_unpaid(schedule)
    q = quote(schedule, today, fee.year)
    subject = f"质押专利年费逾期提醒：{patent.application_number}"
    body = (f"{pledgee}：\n贵方作为质权人的专利 {patent.application_number}《{patent.title}》（专利权人：{enterprise}）"
            f"第{fee.year}年度年费已于{fee.due_date}到期未缴，现处于滞纳期。\n"
            f"须于{fee.grace_end}前缴纳（今日应缴 {q.total} 元，含滞纳金 {q.late_fee} 元），"
            f"否则专利权终止，质押物随之灭失。\n"
            f"专利权人已同时收到提醒。")
    return subject, body


def plan_pledgee_alerts(session: Session, rules: RuleSet, calendar: Calendar, today: date, now: datetime,
                        channels: Sequence[str] = ("email",), settings: ReminderSettings | None = None) -> list[dict]:
    """Alert the pledgee's contact of every pledged custody patent now in its grace period (once per fee year), or
    the operator (on `settings`' alert channel) when the enterprise has no contact for that pledgee."""
    statement = (select(Patent, PatentWatch).join(PatentWatch, PatentWatch.patent_id == Patent.id)
                 .where(PatentWatch.pledgee.is_not(None), Patent.mode == "custody", Patent.enterprise_id.is_not(None)))
    found = list(session.exec(statement))
    contacts = contacts_for(session, [p.enterprise_id for p, _ in found])
    planned = []
    for patent, _ in found:
        schedule = schedule_or_none(session, patent, rules, calendar)
        state = watch_state(session, patent.id)
        year = pledgee_alert_year(state, schedule, patent.mode, today)
        if year is None:
            continue
        enterprise = session.get(Enterprise, patent.enterprise_id)
        for pledgee in pledgees_of(state):
            speakers = [c for c in contacts.get(patent.enterprise_id, [])
                        if c.role == "pledgee" and is_pledgee_contact(c.name, pledgee)]
            if not speakers:
                planned.extend(_alert_operator(session, settings or ReminderSettings(), patent, enterprise, pledgee,
                                               year, schedule, today, now))
            planned.extend(_alert_contacts(session, patent, enterprise, speakers, channels, year, schedule, today,
                                           now))
    return planned


def _alert_contacts(session: Session, patent: Patent, enterprise: Enterprise, speakers: Sequence, channels,
                    year: int, schedule, today: date, now: datetime) -> list[dict]:
    """Alert each contact that speaks for a pledgee (once per fee year, contact and channel)."""
    planned = []
    for contact in speakers:
        subject, body = _pledgee_text(patent, enterprise.name, contact.name, schedule, today)
        for channel in channels:
            key = f"{pledgee_alert_keys(patent.id)[0]}{year}:{contact.id}:{channel}"
            if _plan(session, key, contact, channel, patent.enterprise_id, subject, body, today, now):
                planned.append({"application_number": patent.application_number, "year": year,
                                "channel": channel, "contact": contact.name})
                record_effects(session, patent.id, [Effect(
                    "pledgee_alerted", tr("pledgee contact {name} alerted by {channel}: year {year} fee in its "
                                          "grace period (the patent is pledged)", name=contact.name,
                                          channel=label("channel", channel), year=year))], today)
    return planned


def _alert_operator(session: Session, settings: ReminderSettings, patent: Patent, enterprise: Enterprise,
                    pledgee: str, year: int, schedule, today: date, now: datetime) -> list[dict]:
    """The operator hears of a pledged patent in its grace period whose pledgee has no contact (once a fee year)."""
    key = f"{pledgee_alert_keys(patent.id)[1]}{year}:{pledgee_tag(pledgee)}"
    if session.execute(sa.select(REMINDER.c.id).where(REMINDER.c.key == key)).first() is not None:
        return []
    fee = first_unpaid(schedule)
    plan_alert(session, settings, key.removeprefix("alert:"), now,
               f"质押专利进入滞纳期，但没有质权人「{pledgee}」的联系人：请人工通知质权人",
               [f"{patent.application_number}《{patent.title}》（{enterprise.name}）第{fee.year}年度年费"
                f"{fee.due_date}到期未缴，须于{fee.grace_end}前缴纳",
                "在该企业下添加角色为 pledgee、名称含质权人名称的联系人后，今后的提醒将直接发给质权人"])
    record_effects(session, patent.id, [Effect(
        "operator_review", tr("pledged to {pledgee}, year {year} fee in its grace period, but no pledgee contact "
                              "matches {pledgee}: the operator was alerted to tell the pledgee", pledgee=pledgee,
                              year=year))], today)
    return [{"application_number": patent.application_number, "year": year, "channel": settings.alert_channel,
             "contact": "operator"}]


# ---------------------------------------------------------------------------------------------- watch digests


def _digest_text(enterprise: str, lines: list[str], today: date) -> tuple[str, str]:
    subject = f"专利法律状态变更摘要 {today}（{len(lines)}条）"
    body = f"{enterprise}：\n您监控的专利有以下法律状态变更：\n" + "\n".join(lines)
    return subject, body


def plan_watch_digests(session: Session, today: date, now: datetime, channels: Sequence[str] = ("email",),
                       roles: Sequence[str] = ("ip_manager",), settings: ReminderSettings | None = None) -> list[dict]:
    """One digest per watching enterprise of the status changes on its watch-only patents not sent yet. A digest
    no contact can receive (none with the roles, an address on the channels and consent) goes to the operator on
    `settings`' alert channel instead, so no change is silently dropped."""
    statement = (select(StatusEvent, Patent).join(Patent, Patent.id == StatusEvent.patent_id)
                 .where(Patent.mode == "watch", StatusEvent.digested_at.is_(None), Patent.enterprise_id.is_not(None))
                 .order_by(StatusEvent.announced_on, StatusEvent.id))
    by_enterprise: dict[int, list[tuple[StatusEvent, Patent]]] = defaultdict(list)
    for event, patent in session.exec(statement):
        by_enterprise[patent.enterprise_id].append((event, patent))
    contacts = contacts_for(session, by_enterprise)
    vocabulary, planned = default_vocabulary(), []
    for enterprise_id, events in by_enterprise.items():
        enterprise = session.get(Enterprise, enterprise_id)
        lines = [f"- {p.application_number}《{p.title}》 {e.announced_on} {e.status}"
                 f"（{vocabulary.label_of(e.kind, 'zh')}）" for e, p in events]
        subject, body = _digest_text(enterprise.name, lines, today)
        key = f"digest:{enterprise_id}:{today}:{events[-1][0].id}"
        sent_to = []
        for contact in (c for c in contacts.get(enterprise_id, []) if c.role in roles):
            for channel in channels:
                if _plan(session, f"{key}:{contact.id}:{channel}", contact, channel, enterprise_id, subject, body,
                         today, now):
                    sent_to.append(tr("{name} ({role})", name=contact.name, role=label("channel", channel)))
        shown = tr(", ").join(sent_to) or _digest_to_operator(session, settings or ReminderSettings(), key, enterprise,
                                                          lines, roles, channels, now)
        for event, patent in events:
            event.digested_at = now
            session.add(event)
            effect = Effect("watch_digest_sent", tr("in {name}'s status digest of {today} to {shown}",
                                                    name=enterprise.name, today=today, shown=shown))
            record_effects(session, patent.id, [effect], today, event_id=event.id)
        planned.append({"enterprise": enterprise.name, "events": len(events), "recipients": len(sent_to)})
    return planned


def _digest_to_operator(session: Session, settings: ReminderSettings, key: str, enterprise: Enterprise,
                        lines: list[str], roles: Sequence[str], channels: Sequence[str], now: datetime) -> str:
    """A digest no contact can receive goes to the operator (once per digest); says so for the history."""
    plan_alert(session, settings, f"digest-unreachable:{key.removeprefix('digest:')}", now,
               f"监控专利法律状态变更摘要无法送达：{enterprise.name}没有可接收的联系人（{len(lines)}条）",
               [*lines, f"请为该企业添加角色为 {'/'.join(label('role', r, 'zh') for r in roles)}、有 "
                        f"{'/'.join(label('channel', c, 'zh') for c in channels)} 地址并同意接收的联系人"])
    return tr("nobody (no contact with that role, channel and consent): the operator was alerted instead")
