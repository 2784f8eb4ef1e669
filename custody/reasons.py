"""Why a reminder was cancelled, held back or failed, stored as data and worded only when an operator reads it.

A reason is a code and its fields (`Reason("superseded", {"tier": "before_due:due-1"})`). The outbox keeps it in
the text columns it always had (reminder.cancel_reason and last_error, reminder_item.cancel_reason) as one JSON
object, the code under "reason" and the fields beside it: `{"reason":"superseded","tier":"before_due:due-1"}`.
Nothing else written there starts with "{", so a row tells by its first character whether it holds a code. What
`custody remind list`, `custody patent history` and the operator alerts show is `shown_reason(stored)`: the code's
English template (the msgid of custody/locale/<language>/*.toml, the reasons' own in reasons.toml) in the
operator's language, each field worded too (a tier by custody.tier_words, a channel, an ended patent's event kind,
an enterprise's decision). The language at the moment of cancelling no longer decides what is read later.

Rows written by older versions hold the sentence itself, English or (written under language = "zh") Chinese.
`read_reason` recognises them: each code's template and its translation are patterns too (a field matches any
text), with the few sentences an older version worded differently (`_LEGACY`). Anything else, such as what a
provider answered (a failure's detail), is shown as it is stored.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from custody.i18n import catalogue, current_language, label, tr

# code → English template (the msgid). Fields between braces; field names the wording below knows: tier,
# channel, how (an ended patent's event kind), text (an enterprise's decision: a mapping, or an older text). A
# field may also hold a message in every language ({"en": …, "zh": …}: the fee engine's problem).
REASONS: dict[str, str] = {
    # a fee's item, at planning or just before sending (custody.store.cancel)
    "paid": "the fee was paid",
    "other_enterprise": "the patent now belongs to another enterprise",
    "superseded": "superseded by a later reminder: {tier}",
    "duplicate_sent": "duplicate: already sent in custody-{message}",
    "too_late_restore": "too late: restoration can no longer be requested",
    "too_late_fee": "too late: the fee can no longer be paid",
    "nothing_left": "nothing left to say",
    "nothing_left_settled": "nothing left to say: every fee in it was settled or told since",
    "facts_refused": "fee facts refused: {why}",
    # the reminders gate (custody.eligibility, custody.status_effects)
    "custody_ended": "custody ended: no reminders",
    "watch_only": "watch-only patent: no fee reminders",
    "no_enterprise": "the patent belongs to no enterprise: nobody to remind",
    "ended": "ended ({how}, {day}): reminders stopped, history kept",
    "lapsed": "terminated for non-payment (notice {day}): restoration reminders instead",
    "transfer_held": "held: transfer to {owner} ({day}) awaits the operator's confirmation",
    "abandoned": "abandoned by the enterprise: {text}",
    "skip_abandoned": "marked to abandon ({text}); the enterprise asked for no reminders on such patents",
    "no_termination": "no termination notice on record: nothing to restore",
    "ended_no_restore": "ended ({how}, {day}): nothing to restore",
    "restoration_unquotable": "restoration cannot be quoted: check the patent's fee records",
    "restoration_closed": "the restoration window closed on {day} (2 months from the notice of {notice})",
    "restored": "restored ({day}): in force again, no lapse notice",
    # the person and the enterprise's instructions (custody.store.planner, custody.store.compose)
    "no_sms": "the enterprise asked for no SMS",
    "contact_removed": "the contact has been removed",
    "consent_withdrawn": "the contact withdrew consent for {channel} or changed the address",
    # the outbox (custody.store.fallback, custody.store.outbox, custody.store.pledge_alerts)
    "fallback_duplicate": "duplicate: carried by the fallback custody-{message}",
    "unreachable": "{channel} refused this person for good (custody-{message}): the operator was asked to call",
    "merged": "merged into custody-{message}: one digest per person and day (sent late, after an outage)",
    "not_enabled": "{channel} cannot send (not enabled)",
    "stranded": "{channel} unsent for {minutes} min past its time: no process has {secret}",
    "pledge_cancelled": "pledge cancelled ({cause})",
    # held back or failed (last_error): custody.store.compose, custody.store.outbox, scheduler.dispatch
    "sending_hours": "outside the channel's sending hours",
    "daily_cap": "the recipient's daily cap is reached",
    "gave_up": "gave up after {attempts} attempts: {detail}",
    "no_receipt": "no delivery receipt within {hours} h",
    "no_statements": "this dispatcher cannot render statements",
    "reconciled_resend": "reconciled: not sent, sending again",
    "lookup_failed": "look-up failed: {code} {detail}",
    "stopping": "the dispatcher is stopping",
    "channel_paused": "the channel is paused",
}

# Sentences older versions stored that no template above matches any more: code → patterns (English).
_LEGACY: dict[str, tuple[str, ...]] = {
    "paid": ("paid",),
    "superseded": ("superseded by {tier}",),
    "stopping": ("stopping",),
    "channel_paused": ("channel paused",),
}


@dataclass(frozen=True, eq=False)
class Reason:
    """A reason as data: its code (a key of REASONS) and its fields. `str()` words it in the current language."""

    code: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def stored(self) -> str:
        """What the outbox column holds: one JSON object, the code under "reason" (see the module docstring)."""
        return json.dumps({"reason": self.code, **self.fields}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"), default=str)

    def worded(self, language: str | None = None) -> str:
        language = language or current_language()
        template = REASONS.get(self.code)
        if template is None:  # a code a newer version wrote: its code and fields, never nothing
            return self.stored()
        fields = {name: _field_words(name, self.fields.get(name, ""), language) for name in _names(template)}
        return tr(template, language, **fields)

    def __str__(self) -> str:
        return self.worded()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reason) and self.stored() == other.stored()

    def __hash__(self) -> int:
        return hash(self.stored())


def reason(code: str, **fields: Any) -> Reason:
    """A reason of a known code; dates become ISO text, as they are stored."""
    if code not in REASONS:
        raise ValueError(f"unknown reason code {code!r}")
    return Reason(code, {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()})


def stored(why: Reason | str) -> str:
    """The column's text: a reason's JSON, or a text that is not ours (a provider's answer) as it is."""
    return why.stored() if isinstance(why, Reason) else why


def read_reason(text: str | None) -> Reason | None:
    """The reason a column holds: its JSON, or an older version's sentence recognised; None for anything else."""
    if not text:
        return None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            code = data.pop("reason")
            return Reason(code, data)
    for code, pattern in _patterns():
        found = pattern.match(text)
        if found:
            return Reason(code, found.groupdict())
    return None


def shown_reason(text: str | None, language: str | None = None) -> str:
    """A stored reason in the operator's language; a text that is not a reason as it is stored; "" for none."""
    found = read_reason(text)
    return found.worded(language) if found is not None else (text or "")


def reason_code(text: str | None) -> str | None:
    """The code of a stored reason (an older sentence's too), for scripts; None for any other text."""
    found = read_reason(text)
    return found.code if found is not None else None


# ---------------------------------------------------------------------------------------------- the wording


def _names(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


def _field_words(name: str, value: Any, language: str) -> str:
    if name == "tier":
        return label("tier", value, language)
    if name == "channel":
        return label("channel", value, language)
    if name == "how":  # an ended patent's event kind: its word; in English the kind itself, as it always read
        return str(value) if language == "en" else label("state", value, language)
    if isinstance(value, Mapping) and "en" in value:  # a message stored in every language (explained.in_every_language)
        return str(value.get(language) or value["en"])
    if name == "text" and isinstance(value, Mapping):
        from custody.decisions import decision_text

        return decision_text(value.get("choice", ""), value.get("year", ""), value.get("day", ""),
                             value.get("by", ""), value.get("note"), language)
    return str(value)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(code, pattern) for every template in English and its Chinese, and the older sentences: fixed texts first,
    so that "nothing left to say" is not read as a field of a longer template."""
    found: list[tuple[str, str]] = []
    zh = catalogue("zh")
    for code, template in REASONS.items():
        for text in (template, zh.get(template), *_LEGACY.get(code, ())):
            if text:
                found.append((code, text))
    found.sort(key=lambda pair: "{" in pair[1])
    return tuple((code, _pattern(text)) for code, text in found)


def _pattern(template: str) -> re.Pattern[str]:
    parts, seen = [], set()
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)
