"""A permanent failure's fallback, and what the operator is told about it: what the outbox says, nothing more.

When a message fails for good on one channel (A), every fee it carried goes to the same person on the other
channel (B, `[reminders] fallback`), unless B has *delivered* that fee to them: a B message about the same fee and
tier, or about the same fee and kind sent since the day the failed one was planned, that is sent or receipted. A
fee only planned on B still gets the fallback, and the duplicate waiting on B is cancelled; one already being
sent is left, and whichever of the two is sent later is cancelled then (custody.store.cancel). Fallback copies
carry their tier as `TIER>fallback`, so they never collide with the person's own row for the same tier on B.

A person is unreachable when the failed message was itself a fallback, or when B's latest message to their
address failed at the provider (not for a reason of ours, such as a text too long or a channel misconfigured):
no fallback is planned, the fallbacks still waiting on A for them are cancelled (A has just refused them), and
the operator is asked to call (人工联系), with the person, the enterprise, the fees and their deadlines. Every
alert names the rows it speaks of (custody-N), so its wording can be checked against the outbox.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from custody.clock import SHANGHAI
from custody.contact_roles import role_table
from custody.i18n import label
from custody.masking import mask_text
from custody.models import Contact, Enterprise, Patent
from custody.models.reminders import Reminder, ReminderAttempt, ReminderItem
from custody.reasons import Reason, reason, shown_reason
from custody.reminder_settings import ReminderSettings
from custody.store.bulk import insert_ignore

REMINDER = Reminder.__table__
ITEM = ReminderItem.__table__
FALLBACK_MARK = ">fallback"
CHANNEL_ZH = {c: label("channel", c, "zh") for c in ("sms", "email")}  # the catalogue's words
SHOWN_FEES = 20
DELIVERED = ("sent", "delivered")


@dataclass(frozen=True)
class Fee:
    """One fee a failed message carried (its reminder_item row) and the patent it is of."""

    row: dict[str, Any]
    application_number: str

    @property
    def key(self) -> tuple[int, int, str]:
        return self.row["patent_id"], self.row["fee_year"], self.row["kind"]

    @property
    def tier(self) -> str:
        return base_tier(self.row["tier"])


@dataclass
class Fallback:
    """What the failure led to: the fallback planned (or None) and the operator's alert (key, headline, details)."""

    message: Reminder | None
    summary: str  # one line for a list of failures (reroute_stranded)
    key: str
    headline: str
    details: list[str] = field(default_factory=list)


def base_tier(tier: str) -> str:
    return tier.removesuffix(FALLBACK_MARK)


def day_of(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def channel_name(channel: str) -> str:
    return CHANNEL_ZH.get(channel, channel)


# ---------------------------------------------------------------------------------------------- reading


def carried_fees(session: Session, item_ids: Iterable[int]) -> list[Fee]:
    ids = sorted(set(item_ids))
    if not ids:
        return []
    query = (sa.select(ITEM, Patent.application_number).join(Patent, Patent.id == ITEM.c.patent_id)
             .where(ITEM.c.id.in_(ids)).order_by(ITEM.c.due_date, Patent.application_number))
    return [Fee({k: v for k, v in row._mapping.items() if k != "application_number"}, row.application_number)
            for row in session.execute(query)]


def fallback_address(session: Session, reminder: Reminder, channel: str,
                     settings: ReminderSettings) -> tuple[str, str, int | None] | None:
    """(address, name, contact id) of the same person on `channel`, with their consent; None without one."""
    if reminder.contact_id is not None:
        contact = session.get(Contact, reminder.contact_id)
        if contact is None:
            return None
        address = (contact.mobile if channel == "sms" and contact.consent_sms else
                   contact.email if channel == "email" and contact.consent_email else None)
        return (address.strip().lower() if channel == "email" else address, contact.name, contact.id) \
            if address else None
    for entry in settings.call_list:
        if reminder.recipient in (entry.mobile, (entry.email or "").lower()):
            address = entry.mobile if channel == "sms" else entry.email
            return (address, entry.name, None) if address else None
    return None


def refusal(session: Session, channel: str, address: str) -> Reminder | None:
    """The message by which `channel` refused this address for good, if its latest finished message to it failed
    at the provider (a 550, an illegal number, a carrier rejection, retries exhausted); not a failure of ours
    (`local.*`: a text too long) nor of the channel's set-up (a template or credential error)."""
    query = (sa.select(Reminder)
             .where(Reminder.channel == channel, Reminder.recipient == address, Reminder.kind != "alert",
                    Reminder.state.in_([*DELIVERED, "failed"]))
             .order_by(Reminder.updated_at.desc(), Reminder.id.desc()).limit(1))
    latest = session.execute(query).scalar_one_or_none()
    if latest is None or latest.state != "failed" or (latest.last_code or "").startswith("local."):
        return None
    outcome = session.execute(sa.select(ReminderAttempt.outcome).where(ReminderAttempt.reminder_id == latest.id)
                              .order_by(ReminderAttempt.number.desc()).limit(1)).scalar_one_or_none()
    return None if outcome == "misconfigured" else latest


def delivered(session: Session, fees: Sequence[Fee], channel: str, address: str) -> dict[tuple, int]:
    """{fee key: the message that delivered it on `channel` to `address`}: a sent or receipted message about the
    same fee and tier, or about the same fee and kind sent since the day the failed item was planned."""
    if not fees:
        return {}
    query = (sa.select(ITEM.c.patent_id, ITEM.c.fee_year, ITEM.c.kind, ITEM.c.tier, REMINDER.c.id, REMINDER.c.sent_at)
             .join(REMINDER, REMINDER.c.id == ITEM.c.reminder_id)
             .where(ITEM.c.channel == channel, ITEM.c.recipient == address, ITEM.c.state == "sent",
                    REMINDER.c.state.in_(DELIVERED), ITEM.c.patent_id.in_({f.row["patent_id"] for f in fees})))
    sent = list(session.execute(query))
    found = {}
    for fee in fees:
        since = datetime.combine(day_of(fee.row["created_at"]), time(0), SHANGHAI)
        for row in sent:
            same_fee = (row.patent_id, row.fee_year, row.kind) == fee.key
            if same_fee and (base_tier(row.tier) == fee.tier or (row.sent_at and row.sent_at >= since)):
                found[fee.key] = row.id
                break
    return found


# ---------------------------------------------------------------------------------------------- writing


def _insert_fallback(session: Session, failed: Reminder, fees: Sequence[Fee], channel: str, address: str,
                     name: str, contact_id: int | None, now: datetime, settings: ReminderSettings) -> Reminder:
    not_before = settings.send_time(channel, now)
    key = f"fallback:{failed.id}:{channel}"
    insert_ignore(session, REMINDER, [dict(
        key=key, kind=failed.kind, channel=channel, recipient=address, recipient_name=name, contact_id=contact_id,
        enterprise_id=failed.enterprise_id, day=day_of(not_before), state="planned", not_before=not_before,
        attempts=0, fallback_of=failed.id, created_at=now, updated_at=now)], ["key"])
    fallback = session.execute(sa.select(Reminder).where(Reminder.key == key)).scalar_one()
    skip = {"id", "reminder_id", "channel", "recipient", "state", "cancel_reason", "created_at", "tier"}
    insert_ignore(session, ITEM, [
        {**{k: v for k, v in fee.row.items() if k not in skip}, "tier": (fee.tier + FALLBACK_MARK)[:64],
         "reminder_id": fallback.id, "channel": channel, "recipient": address, "state": "planned",
         "created_at": now} for fee in fees],
        ["patent_id", "fee_year", "tier", "channel", "recipient"])
    return fallback


def cancel_duplicates(session: Session, fees: Sequence[Fee], channel: str, address: str, fallback_id: int,
                      now: datetime) -> int:
    """The person's own items for these fees still waiting on `channel` (in messages nobody has claimed) give way
    to the fallback; a message left with nothing is cancelled. Returns how many items."""
    pairs = {(f.row["patent_id"], f.row["fee_year"], f.row["kind"]) for f in fees}
    query = (sa.select(ITEM.c.id, ITEM.c.reminder_id, ITEM.c.patent_id, ITEM.c.fee_year, ITEM.c.kind)
             .join(REMINDER, REMINDER.c.id == ITEM.c.reminder_id)
             .where(ITEM.c.channel == channel, ITEM.c.recipient == address, ITEM.c.state == "planned",
                    REMINDER.c.state == "planned", REMINDER.c.id != fallback_id,
                    ITEM.c.patent_id.in_({p for p, _, _ in pairs})))
    rows = [r for r in session.execute(query) if (r.patent_id, r.fee_year, r.kind) in pairs]
    why = reason("fallback_duplicate", message=fallback_id)
    if rows:
        session.execute(sa.update(ITEM).where(ITEM.c.id.in_([r.id for r in rows]), ITEM.c.state == "planned")
                        .values(state="cancelled", cancel_reason=why.stored()))
        _cancel_if_empty(session, {r.reminder_id for r in rows}, why, now)
    return len(rows)


def _cancel_if_empty(session: Session, message_ids: Iterable[int], why: Reason, now: datetime) -> None:
    has_item = sa.exists().where(ITEM.c.reminder_id == REMINDER.c.id, ITEM.c.state == "planned")
    session.execute(sa.update(REMINDER).where(REMINDER.c.id.in_(list(message_ids)), REMINDER.c.state == "planned",
                                              ~has_item).values(state="cancelled", cancel_reason=why.stored(),
                                                                updated_at=now))


def cancel_waiting_fallbacks(session: Session, channel: str, address: str, why: Reason, now: datetime
                             ) -> list[Fee]:
    """Fallbacks still waiting on a channel that has just refused this address for good: cancelled (they would
    only fail again). Returns the fees they carried."""
    ids = list(session.execute(sa.select(REMINDER.c.id).where(
        REMINDER.c.channel == channel, REMINDER.c.recipient == address, REMINDER.c.state == "planned",
        REMINDER.c.fallback_of.is_not(None))).scalars())
    if not ids:
        return []
    item_ids = list(session.execute(sa.select(ITEM.c.id).where(ITEM.c.reminder_id.in_(ids),
                                                               ITEM.c.state == "planned")).scalars())
    text = why.stored()
    session.execute(sa.update(ITEM).where(ITEM.c.id.in_(item_ids)).values(state="cancelled", cancel_reason=text))
    session.execute(sa.update(REMINDER).where(REMINDER.c.id.in_(ids), REMINDER.c.state == "planned")
                    .values(state="cancelled", cancel_reason=text, updated_at=now))
    return carried_fees(session, item_ids)


# ---------------------------------------------------------------------------------------------- the words


def fee_lines(fees: Sequence[Fee]) -> list[str]:
    """Each fee with its deadline, as the operator needs them on the phone (one line per fee, first 20)."""
    seen, lines = set(), []
    for fee in fees:
        row = fee.row
        if (fee.application_number, row["fee_year"]) in seen:
            continue
        seen.add((fee.application_number, row["fee_year"]))
        head = f"专利{fee.application_number} 第{row['fee_year']}年度年费"
        if row["kind"] == "restore":
            lines.append(f"{head}：专利权已终止，请求恢复截止 {row['pay_by']}")
        elif row["kind"] == "lapse":
            lines.append(f"{head}：宽限期已于 {row['grace_end']} 届满，可请求恢复")
        else:
            grace = f"，宽限期至 {row['grace_end']}" if row["grace_end"] else ""
            lines.append(f"{head}：缴费期限 {row['due_date']}{grace}")
    more = [f"……另 {len(lines) - SHOWN_FEES} 笔"] if len(lines) > SHOWN_FEES else []
    return lines[:SHOWN_FEES] + more


def enterprise_name(session: Session, enterprise_id: int | None) -> str:
    enterprise = session.get(Enterprise, enterprise_id) if enterprise_id else None
    return enterprise.name if enterprise else "（无企业）"


def person(session: Session, reminder: Reminder) -> str:
    """'张经理（专利联系人）', or the name on the operator's call list."""
    contact = session.get(Contact, reminder.contact_id) if reminder.contact_id else None
    if contact is None:
        return f"{reminder.recipient_name or '（无姓名）'}（运营方）"
    return f"{contact.name or '（无姓名）'}（{role_table().label(contact.role)}）"


def fees_digest(fees: Sequence[Fee]) -> str:
    text = ",".join(sorted({f"{f.row['patent_id']}/{f.row['fee_year']}/{f.row['kind']}" for f in fees}))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------- the decision


def plan_fallback(session: Session, failed: Reminder, now: datetime, settings: ReminderSettings,
                  item_ids: Iterable[int], code: str | None = None, detail: str = "") -> Fallback:
    """The fees `failed` carried (`item_ids`), to the same person on the fallback channel, or the reason why not;
    and the operator's alert saying which (see the module docstring)."""
    fees = carried_fees(session, item_ids)
    who, where = person(session, failed), enterprise_name(session, failed.enterprise_id)
    headline = f"提醒发送失败：{where} {failed.channel} {mask_text(failed.recipient)}（{code}）"
    said = [detail] if detail else []
    if not fees:
        return Fallback(None, "无需改发（其中的年费已处理）", f"failed:{failed.id}", headline,
                        [*said, "无需改发：该消息中的年费已缴纳或已取消"])
    if failed.fallback_of is not None:
        return _unreachable(session, failed, fees, now, code, detail, session.get(Reminder, failed.fallback_of))
    channel = settings.fallback.get(failed.channel)
    found = fallback_address(session, failed, channel, settings) if channel and settings.can_send(channel) else None
    if found is None:
        line = (f"备用渠道{channel}未启用，请人工联系" if channel and not settings.can_send(channel)
                else "没有可用的备用渠道（无地址或未同意），请人工联系")
        return Fallback(None, line, f"failed:{failed.id}", headline, [*said, f"{line}：{who}", *fee_lines(fees)])
    address, name, contact_id = found
    refused = refusal(session, channel, address)
    if refused is not None:
        return _unreachable(session, failed, fees, now, code, detail, refused)
    return _fallback_or_told(session, failed, fees, (channel, address, name, contact_id), now, settings,
                             headline, said)


def _fallback_or_told(session: Session, failed: Reminder, fees: Sequence[Fee], to: tuple, now: datetime,
                      settings: ReminderSettings, headline: str, said: list[str]) -> Fallback:
    channel, address, name, contact_id = to
    told = delivered(session, fees, channel, address)
    todo = [f for f in fees if f.key not in told]
    told_line = (f"同一联系人已通过{channel}收到{'这些' if not todo else '其中以下'}年费的提醒（{mask_text(address)}，"
                 + "、".join(f"custody-{i}" for i in sorted(set(told.values()))) + "）")
    told_fees = fee_lines([f for f in fees if f.key in told])
    if not todo:
        return Fallback(None, told_line, f"failed:{failed.id}", headline, [*said, told_line, *told_fees])
    fallback = _insert_fallback(session, failed, todo, channel, address, name, contact_id, now, settings)
    carried = session.execute(sa.select(sa.func.count()).where(ITEM.c.reminder_id == fallback.id)).scalar()
    if not carried:  # every copy is already waiting in another fallback to this address (a shared mailbox)
        session.execute(sa.delete(REMINDER).where(REMINDER.c.id == fallback.id, REMINDER.c.state == "planned"))
        line = f"这些年费已在{channel}的备用提醒中待发（{mask_text(address)}）"
        return Fallback(None, line, f"failed:{failed.id}", headline, [*said, line, *fee_lines(todo)])
    cancel_duplicates(session, todo, channel, address, fallback.id, now)
    line = f"已改用{channel}发送（{mask_text(address)}，custody-{fallback.id}）"
    return Fallback(fallback, line, f"failed:{failed.id}", headline,
                    [*said, line, *fee_lines(todo), *([told_line, *told_fees] if told else [])])


def _unreachable(session: Session, failed: Reminder, fees: Sequence[Fee], now: datetime, code: str | None,
                 detail: str, other: Reminder | None) -> Fallback:
    """Neither channel reaches this person: the fallbacks still waiting on the channel that has just refused them
    are cancelled, and the operator is asked to call, with every fee they were not told of."""
    why = reason("unreachable", channel=failed.channel, message=failed.id)
    waiting = cancel_waiting_fallbacks(session, failed.channel, failed.recipient, why, now)
    keys = {f.key for f in fees}
    missed = [*fees, *(f for f in waiting if f.key not in keys)]
    who, where = person(session, failed), enterprise_name(session, failed.enterprise_id)
    channels = [failed.channel] + ([other.channel] if other is not None and other.channel != failed.channel else [])
    headline = f"无法送达，请人工联系：{where} {who}，{'和'.join(map(channel_name, channels))}均未能送达"
    said = detail if code and detail.startswith(code) else f"{code or ''} {detail}".strip()
    details = [f"{channel_name(failed.channel)} {mask_text(failed.recipient)}：{said}（custody-{failed.id}，已失败）"]
    if other is not None:
        failed_too = other.state == "failed"
        state = "已失败" if failed_too else f"已取消：{shown_reason(other.cancel_reason)}"
        known = shown_reason(other.last_error)
        said_too = (known if known.startswith(other.last_code or "-") else f"{other.last_code or ''} {known}").strip() \
            if failed_too else ""
        details.append(f"{channel_name(other.channel)} {mask_text(other.recipient)}：{said_too}"
                       f"（custody-{other.id}，{state}）")
    if failed.fallback_of is not None:
        details.append("备用渠道也发送失败，请人工联系")
    details += ["未送达的年费：", *fee_lines(missed),
                "请电话联系该联系人（人工联系）告知以上年费，并核实其手机号和邮箱；"
                "更正后重新导入企业表（custody import enterprises），今后的提醒即发往新的地址"]
    key = f"unreachable:{failed.contact_id or failed.recipient}:{day_of(now)}:{fees_digest(missed)}"
    return Fallback(None, "两个渠道均未能送达，请人工联系", key, headline, details)
