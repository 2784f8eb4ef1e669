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

from custody.domain import PROVISIONAL_WORDS_ZH, PatentType, is_provisional_date, yuan
from custody.fees import restoration_cost
from custody.masking import mask_text
from custody.ruleset import RestorationRule, default_rules

TEMPLATES = Path(__file__).parent / "templates"
# SMS template keys (config [sms.templates] maps each to an approved TemplateCode) and the variables each uses.
# A digest holds every fee of one enterprise for one recipient, channel and day, so the approved wording of each
# template must be true for the whole digest: the template is the one of its most urgent fee (see `urgency`).
SMS_TEMPLATES = {
    "due_soon": ("name", "number", "amount", "deadline"),  # every fee still before its due date
    # At least one in its grace period, with the late fee: `deadline` is the earliest pay-by day (the day before a
    # rise of the late fee, or a grace end), `last_day` the earliest grace end (after it the patent terminates).
    "overdue": ("name", "number", "amount", "deadline", "last_day"),
    # Every overdue fee in the last band of its grace period (the late fee is at its highest and rises no more):
    # "pay before it rises" would be false; what is left is the earliest grace end.
    "overdue_final": ("name", "number", "amount", "last_day"),
    "lapsed": ("name", "number"),  # past the grace end only (lapse notices or restoration reminders)
    # Past the grace end and fees still payable in one digest: the payable ones' total and earliest pay-by day.
    "lapsed_due": ("name", "number", "amount", "deadline"),
}
SMS_NAME_CHARS = 20  # Aliyun caps each variable's length (isv.PARAM_LENGTH_LIMIT): a long company name is cut
# SMS variables that may be cut to fit the channel's limit: a cut name still says who; a cut number, amount or
# date would say something false, so such a message fails instead (see `fitted`).
CUTTABLE_SMS_VARIABLES = ("name",)
CUT_MARK = "…（已截断）"
# A fee's life: payable, then past its grace end, then CNIPA's notice on record. A digest is known by its latest.
KIND_STAGE = {"fee": 0, "lapse": 1, "restore": 2}


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
    # "fee" (still payable), "lapse" (grace period over: restoration possible once CNIPA's notice comes) or
    # "restore" (the notice is on record: restoration can be requested until `pay_by`).
    kind: str = "fee"

    @property
    def total(self) -> Decimal:
        return self.fee + self.late_fee

    def is_overdue(self, on: date) -> bool:
        return self.kind == "fee" and on > self.due_date

    def is_lapsed(self) -> bool:
        return self.kind in ("lapse", "restore")

    @property
    def next_rise(self) -> date | None:
        return self.pay_by + timedelta(days=1) if self.next_rate is not None else None

    @property
    def payable_until(self) -> date:
        """The last day the fee can be paid: the grace end (Rule 115), or the due date of a fee without one."""
        return self.grace_end or self.due_date

    @property
    def type_label(self) -> str:
        return PatentType(self.patent_type).label_zh


@dataclass(frozen=True)
class Addressee:
    enterprise: str
    recipient: str  # how the message greets them
    remind_only: bool = False
    via_agency: bool = False
    # A copy for the operator's call list: it names the enterprise where the enterprise's own copy says "贵司".
    for_operator: bool = False


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
class Attachment:
    """A file sent with an email: its name as the recipient sees it, its MIME type, its bytes."""

    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes

    def __repr__(self) -> str:
        return f"Attachment({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


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
    attachments: tuple[Attachment, ...] = ()  # email only (the enterprise statement), built at each attempt

    def __repr__(self) -> str:
        return f"Envelope(key={self.key!r}, channel={self.channel!r}, recipient={mask_text(self.recipient)!r})"


def money(amount: Decimal) -> str:
    """'1,275.50': yuan with the fen, thousands separated."""
    return f"{yuan(amount):,.2f}"


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def day(value: date | None) -> str:
    """'2027年4月26日', with （暂定） after a date in a year whose holiday schedule is not published yet."""
    if not value:
        return ""
    return f"{value.year}年{value.month}月{value.day}日" + (PROVISIONAL_WORDS_ZH if is_provisional_date(value) else "")


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


def _line_view(line: FeeLine, restoration: RestorationRule) -> dict[str, Any]:
    cost = restoration_cost(line.fee, line.full_fee, restoration)
    return {**{name: getattr(line, name) for name in (
        "application_number", "title", "year", "due_date", "grace_end", "fee", "late_fee", "late_fee_rate",
        "pay_by", "next_rate", "next_rise", "total", "type_label", "kind")},
        "restoration_late_fee": cost.late_fee, "restoration_total": cost.total}


def urgency(line: FeeLine, on: date) -> tuple:
    """Sort key, most urgent first: past the grace end (restoration), in the grace period, then before the due
    date; within each, the earliest pay-by day."""
    rank = 0 if line.is_lapsed() else 1 if line.is_overdue(on) else 2
    return rank, line.pay_by, line.application_number


@dataclass(frozen=True)
class Digest:
    """The lines of one message split by state as of its day, each part most urgent first."""

    lapsed: tuple[FeeLine, ...]  # past the grace end: lapse notices and restoration reminders
    overdue: tuple[FeeLine, ...]  # in the grace period, with the late fee
    upcoming: tuple[FeeLine, ...]  # before the due date

    @classmethod
    def of(cls, lines: Sequence[FeeLine], on: date) -> Digest:
        ordered = sorted(lines, key=lambda line: urgency(line, on))
        return cls(tuple(x for x in ordered if x.is_lapsed()), tuple(x for x in ordered if x.is_overdue(on)),
                   tuple(x for x in ordered if not x.is_lapsed() and not x.is_overdue(on)))

    @property
    def lines(self) -> tuple[FeeLine, ...]:
        return self.lapsed + self.overdue + self.upcoming

    @property
    def payable(self) -> tuple[FeeLine, ...]:
        return self.overdue + self.upcoming

    @property
    def template(self) -> str:
        """The SMS template of the most urgent line, told apart by what else the digest holds: its wording is true
        for the whole digest (config.toml)."""
        if self.lapsed:
            return "lapsed_due" if self.payable else "lapsed"
        if not self.overdue:
            return "due_soon"
        return "overdue_final" if all(line.next_rate is None for line in self.overdue) else "overdue"


def sms_params(digest: Digest, enterprise: str) -> dict[str, str]:
    """The template's variables, every value a short string (Aliyun: TemplateParam values must be strings).

    `number` names the most urgent fee (with the count when there are more), `amount` is what paying every payable
    fee today costs, `deadline` their earliest pay-by day, `last_day` the earliest grace end of the overdue ones
    (Rule 115: after it the patent terminates): true for the whole digest."""
    lines, payable = digest.lines, digest.payable
    number = lines[0].application_number + (f"等{len(lines)}件" if len(lines) > 1 else "")
    values = {
        "name": enterprise[:SMS_NAME_CHARS],
        "number": number,
        "amount": money(sum((line.total for line in payable), Decimal(0))),
        "deadline": min(line.pay_by for line in payable or lines).isoformat(),
        "last_day": min((line.payable_until for line in digest.overdue), default=lines[0].pay_by).isoformat(),
    }
    return {name: values[name] for name in SMS_TEMPLATES[digest.template]}


def _checked(lines: Sequence[FeeLine]) -> None:
    if not lines:
        raise MixedMessageError("a message needs at least one fee")
    if len({line.enterprise_id for line in lines}) > 1:
        raise MixedMessageError("a message may only list the patents of the enterprise it is addressed to")


def _earliest(lines: Sequence[FeeLine], field: str) -> date | None:
    return min((getattr(line, field) for line in lines), default=None)


DATE_FIELDS = ("due_date", "grace_end", "pay_by", "next_rise", "payable_until")


def provisional_years(lines: Sequence[FeeLine]) -> list[int]:
    """The years of the provisional dates a message shows (marked （暂定））, in order."""
    return sorted({value.year for line in lines for name in DATE_FIELDS
                   for value in [getattr(line, name, None)] if value and is_provisional_date(value)})


def provisional_note(years: Sequence[int]) -> str:
    if not years:
        return ""
    return (f"注：标有（暂定）的日期，其所在年份（{'、'.join(f'{y}年' for y in years)}）的国务院节假日安排尚未公布，"
            "是按现行规则推算的；安排公布后，如期限落在节假日，将顺延至其后第一个工作日，届时以更新后的日期为准。")


def render_fee_message(channel: str, lines: Sequence[FeeLine], to: Addressee, on: date,
                       restoration: RestorationRule | None = None) -> Rendered:
    """The digest listing `lines` (fee reminders, lapse notices, restoration reminders), for `channel`, as of `on`.

    Each part is worded for what it holds (upcoming, overdue, past the grace end) and counted apart: the subject
    says "overdue" only when something is. Restoration costs (Rule 6 ¶2) follow `restoration`, the rule row of
    the rule set in use; without one, the bundled rule tables'."""
    _checked(lines)
    restoration = restoration or default_rules().restoration
    digest = Digest.of(lines, on)
    if channel == "sms":
        params = sms_params(digest, to.enterprise)
        text = _render("sms.txt.j2", {"template": digest.template, "params": params})
        return Rendered(text=text, template=digest.template, params=params)
    context: dict[str, Any] = {
        "enterprise": to.enterprise, "recipient": to.recipient, "remind_only": to.remind_only,
        "via_agency": to.via_agency, "for_operator": to.for_operator,
        "restoration_fee": restoration.fee, "restoration_rate": restoration.late_fee_rate,
        **{part: [_line_view(line, restoration) for line in getattr(digest, part)]
           for part in ("lapsed", "overdue", "upcoming")},
        "total": sum((line.total for line in digest.payable), Decimal(0)),
        # The subject of an overdue digest: when the late fee next rises, and the last day (the earliest grace end).
        "rises_on": _earliest([x for x in digest.overdue if x.next_rise], "next_rise"),
        "last_day": min((line.payable_until for line in digest.overdue), default=None),
        "upcoming_by": _earliest(digest.upcoming, "due_date"),
    }
    # A date marked （暂定） says why once, below the lists: its year's holiday schedule is not published.
    years = provisional_years(digest.lines)
    context["provisional_years"], context["provisional_note"] = years, provisional_note(years)
    subject = _render("email_subject.j2", context)
    context["subject"] = subject
    return Rendered(text=_render("email_body.txt.j2", context), subject=subject,
                    html=_render("email_body.html.j2", context), template=digest.template)


def fitted(text: str, params: Mapping[str, str], max_chars: int | None,
           max_param_chars: int | None) -> tuple[str, dict[str, str], str | None]:
    """(text, params, problem) made to fit a channel's declared limits.

    Free text (an alert, an email) longer than `max_chars` is cut and marked. An SMS variable over
    `max_param_chars` is cut when that stays true (the company name), else the message cannot be sent as it is:
    `problem` says why (the outbox fails it for good: fallback channel and operator alert).
    """
    params = dict(params)
    for name, value in params.items():
        if max_param_chars and len(value) > max_param_chars:
            if name not in CUTTABLE_SMS_VARIABLES:
                return text, params, (f"SMS variable {name} is {len(value)} characters, over the channel's limit of "
                                      f"{max_param_chars}")
            params[name] = value[:max_param_chars]
    if max_chars and len(text) > max_chars:
        if params:  # an SMS: the approved template decides the text; ours only mirrors it
            return text, params, f"SMS text is {len(text)} characters, over the channel's limit of {max_chars}"
        text = text[:max_chars - len(CUT_MARK)] + CUT_MARK
    return text, params, None


def render_alert(headline: str, details: Sequence[str] = ()) -> Rendered:
    """An operator alert (group robot): a headline and a few lines, personal data masked."""
    if isinstance(details, str):
        details = (details,)
    text = _render("alert.txt.j2", {"headline": mask_text(headline), "details": [mask_text(d) for d in details]})
    return Rendered(text=text, subject=mask_text(headline))
