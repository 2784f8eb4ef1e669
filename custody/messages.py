"""What a reminder says: Chinese SMS template variables and email digests (subject, plain text, HTML). Pure.

Texts live in custody/templates/*.j2 (jinja2). A message is rendered from its `FeeLine`s: the snapshot of each
fee (patent, year, amounts, late fee, deadlines) as of the day the message is for. Every line of one message
belongs to the one enterprise it is addressed to; the planner groups them so, and `render_fee_message` refuses
a mixture. SMS text is fixed by the approved Aliyun template (`[sms.templates]` in config.toml), so for SMS we
produce the template key and its variables, plus the same wording as plain text for the file outbox and logs.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from custody.domain import PatentType, yuan
from custody.masking import mask_text

TEMPLATES = Path(__file__).parent / "templates"
# SMS template keys (config [sms.templates] maps each to an approved TemplateCode) and the variables each uses.
SMS_TEMPLATES = {
    "due_soon": ("name", "number", "amount", "deadline"),  # before the due date
    "overdue": ("name", "number", "amount", "deadline"),  # in the grace period, with the late fee
    "lapsed": ("name", "number"),  # the grace period is over: restoration
}
SMS_NAME_CHARS = 20  # Aliyun caps each variable's length (isv.PARAM_LENGTH_LIMIT): a long company name is cut


class MixedMessageError(ValueError):
    """Lines of different enterprises (or of no fee at all) were given for one message."""


@dataclass(frozen=True)
class FeeLine:
    """One fee in a message, as of the day the message is for."""

    enterprise_id: int
    application_number: str
    title: str
    patent_type: str
    year: int
    due_date: date
    grace_end: date | None
    fee: Decimal
    full_fee: Decimal
    late_fee: Decimal
    late_fee_rate: Decimal
    pay_by: date  # pay by this day to avoid the next rise of the late fee (or by the grace end / due date)
    next_rate: Decimal | None = None  # the rate from the day after `pay_by`, when it rises again

    @property
    def total(self) -> Decimal:
        return self.fee + self.late_fee

    @property
    def next_rise(self) -> date | None:
        return self.pay_by + timedelta(days=1) if self.next_rate is not None else None

    @property
    def type_label(self) -> str:
        return PatentType(self.patent_type).label_zh


@dataclass(frozen=True)
class Restoration:
    """Rule 6 ¶2 restoration: the fee, a late fee of 25 % of the full fee, and the restoration fee."""

    fee: Decimal = Decimal("1000")
    late_fee_rate: Decimal = Decimal("0.25")


@dataclass(frozen=True)
class Addressee:
    enterprise: str
    recipient: str  # how the message greets them
    remind_only: bool = False
    via_agency: bool = False


@dataclass(frozen=True, repr=False)
class Rendered:
    text: str
    subject: str | None = None
    html: str | None = None
    template: str | None = None  # SMS template key
    params: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Rendered(template={self.template!r}, chars={len(self.text)})"


@dataclass(frozen=True, repr=False)
class Envelope:
    """A message as the outbox hands it to a transport: the fields of notifiers.base.Message, by structure
    (custody never imports notifiers). `key` is our id: Aliyun's OutId and the email Message-ID."""

    key: str
    channel: str
    recipient: str
    text: str
    subject: str | None = None
    html: str | None = None
    template: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Envelope(key={self.key!r}, channel={self.channel!r}, recipient={mask_text(self.recipient)!r})"


def money(amount: Decimal) -> str:
    """'1,275.50': yuan with the fen, thousands separated."""
    return f"{yuan(amount):,.2f}"


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def day(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, percent=percent, day=day)
    return env


def _render(name: str, context: Mapping[str, Any]) -> str:
    return _environment().get_template(name).render(**context).strip()


def _line_view(line: FeeLine, restoration: Restoration) -> dict[str, Any]:
    late = yuan(line.full_fee * restoration.late_fee_rate)
    return {**{name: getattr(line, name) for name in (
        "application_number", "title", "year", "due_date", "grace_end", "fee", "late_fee", "late_fee_rate",
        "pay_by", "next_rate", "next_rise", "total", "type_label")},
        "restoration_late_fee": late, "restoration_total": line.fee + late + restoration.fee}


def _sms_template(kind: str, overdue: bool) -> str:
    return "lapsed" if kind == "lapse" else "overdue" if overdue else "due_soon"


def sms_params(template: str, lines: Sequence[FeeLine], enterprise: str) -> dict[str, str]:
    """The template's variables, every value a short string (Aliyun: TemplateParam values must be strings)."""
    first = min(lines, key=lambda line: (line.pay_by, line.application_number))
    number = first.application_number + (f"等{len(lines)}件" if len(lines) > 1 else "")
    values = {
        "name": enterprise[:SMS_NAME_CHARS],
        "number": number,
        "amount": money(sum((line.total for line in lines), Decimal(0))),
        "deadline": first.pay_by.isoformat(),
    }
    return {name: values[name] for name in SMS_TEMPLATES[template]}


def _checked(lines: Sequence[FeeLine]) -> None:
    if not lines:
        raise MixedMessageError("a message needs at least one fee")
    if len({line.enterprise_id for line in lines}) > 1:
        raise MixedMessageError("a message may only list the patents of the enterprise it is addressed to")


def render_fee_message(channel: str, kind: str, lines: Sequence[FeeLine], to: Addressee, on: date,
                       restoration: Restoration = Restoration()) -> Rendered:
    """The reminder (kind "fee") or lapse notice (kind "lapse") listing `lines`, for `channel`, as of `on`."""
    _checked(lines)
    lines = sorted(lines, key=lambda line: (line.pay_by, line.application_number))
    overdue = any(on > line.due_date for line in lines)
    template = _sms_template(kind, overdue)
    if channel == "sms":
        params = sms_params(template, lines, to.enterprise)
        text = _render("sms.txt.j2", {"kind": kind, "overdue": overdue, "params": params})
        return Rendered(text=text, template=template, params=params)
    context = {
        "kind": kind, "overdue": overdue, "enterprise": to.enterprise, "recipient": to.recipient,
        "lines": [_line_view(line, restoration) for line in lines], "remind_only": to.remind_only,
        "via_agency": to.via_agency, "total": sum((line.total for line in lines), Decimal(0)),
        "deadline": lines[0].pay_by, "restoration_fee": restoration.fee,
        "restoration_rate": restoration.late_fee_rate,
    }
    subject = _render("email_subject.j2", context)
    context["subject"] = subject
    return Rendered(text=_render("email_body.txt.j2", context), subject=subject,
                    html=_render("email_body.html.j2", context), template=template)


def render_alert(headline: str, details: Sequence[str] = ()) -> Rendered:
    """An operator alert (group robot): a headline and a few lines, personal data masked."""
    if isinstance(details, str):
        details = (details,)
    text = _render("alert.txt.j2", {"headline": mask_text(headline), "details": [mask_text(d) for d in details]})
    return Rendered(text=text, subject=mask_text(headline))
