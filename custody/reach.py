"""Who receives before-due reminders: the routes the configured tiers give, and how they read to an operator.

A before-due reminder is one of a fee tier anchored on the due date (by default: email to the patent contact and
finance, SMS to the patent contact). An enterprise none of whose contacts is on one of those routes (the role, an
address on the channel, consent) learns of a fee only once it is overdue: the import names it, `custody health`
fails on it, `custody enterprise list --no-recipient` lists it. The operator's call list does not count: it is
the platform's, not the enterprise's. Pure: no clock, no database.
"""
from __future__ import annotations

from dataclasses import dataclass

from custody.contact_roles import role_table
from custody.i18n import label
from custody.reminder_settings import EVERY_CONTACT, ReminderSettings

CONTACT_CHANNELS = ("email", "sms")  # the channels a contact has an address on
CHANNEL_ZH = {c: label("channel", c, "zh") for c in ("sms", "email")}  # the catalogue's words


@dataclass(frozen=True)
class Route:
    """Before-due reminders go on `channel` to contacts with one of `roles`."""

    channel: str
    roles: frozenset[str]


def _roles(audience: tuple[str, ...]) -> frozenset[str]:
    return frozenset(EVERY_CONTACT if "all" in audience else ()) | (frozenset(audience) - {"all", "operator"})


def before_due_routes(settings: ReminderSettings) -> tuple[Route, ...]:
    """Per contact channel, the roles the before-due tiers address on it. Only channels that can send count;
    when none of those tiers' channels can send (a configuration not finished yet), all of them do, so the
    contacts are still judged (the planner alerts the operator of the channels)."""
    tiers = [t for t in settings.tiers if t.anchor == "due_date" and t.kind == "fee"]
    channels = {c for t in tiers for c in t.channels if c in CONTACT_CHANNELS}
    usable = {c for c in channels if settings.can_send(c)} or channels
    routes = []
    for channel in sorted(usable):
        roles = frozenset().union(*(_roles(t.audience) for t in tiers if channel in t.channels))
        if roles:
            routes.append(Route(channel, roles))
    return tuple(routes)


def routes_text(routes: tuple[Route, ...], language: str = "zh") -> str:
    """'邮件发给专利联系人、财务，短信发给专利联系人' (or English)."""
    table = role_table()
    order = {role: i for i, role in enumerate(table.order)}
    parts = []
    for route in routes:
        roles = sorted(route.roles, key=lambda r: order.get(r, len(order)))
        names = [table.label(r, language) for r in roles]
        parts.append(f"{CHANNEL_ZH[route.channel]}发给{'、'.join(names)}" if language == "zh"
                     else f"{route.channel} to {', '.join(names)}")
    none = "未配置到期前提醒" if language == "zh" else "none configured"
    return ("，" if language == "zh" else "; ").join(parts) or none


def contact_text(name: str, role: str, mobile: bool, email: bool, consent_sms: bool = True, consent_email: bool = True,
                 language: str = "zh") -> str:
    """'王五（法定代表人/负责人，手机）': how a contact shows in a warning (no address: they are personal data)."""
    label = role_table().label(role, language)
    zh = language == "zh"
    found = [("手机" if zh else "mobile") + ("" if consent_sms else "（拒收短信）" if zh else " (no SMS consent)")
             for has in (mobile,) if has]
    found += [("邮箱" if zh else "email") + ("" if consent_email else "（拒收邮件）" if zh else " (no email consent)")
              for has in (email,) if has]
    if zh:
        return f"{name or '（无姓名）'}（{label}，{'、'.join(found) or '无手机和邮箱'}）"
    return f"{name or '(no name)'} ({label}, {', '.join(found) or 'no mobile or email'})"
