"""A reminder tier as a person reads it (`custody.i18n.label("tier", stored)`): "before_due:due-60" is
到期前60天 (60 days before the due date).

A reminder item stores its TierEvent label (custody.reminder_policy: `{tier name}:{anchor tag}{offset:+d}`, with
custody.store.fallback's ">fallback" when it was rerouted): it is part of the item's unique key, so it stays as it
is in the database and in JSON; what is shown says when the reminder fires relative to what. The tier's name is
the configuration's own (config.toml [[reminders.tiers]] name) and is not repeated: the anchor and the offset say
it all. A late-fee rise is the start of a month of the grace period (Rule 115: 5 % more each month, up to 25 %).
A label that is not a tier event's is shown as it is stored.
"""
from __future__ import annotations

import re
from typing import Any

_LABEL = re.compile(r"^[^:]+:(?P<tag>due|rise\d+|grace_end|notice|restore_by)(?P<offset>[+-]\d+)"
                    r"(?P<fallback>>fallback)?$")
_RISE_STEP = 5  # Rule 115: the late fee rises by 5 % of the full fee at the start of each month of the grace period

# (before, on the day, after) the anchor, per anchor tag.
_WORDS = {
    "due": ("{n} days before the due date", "on the due date", "{n} days after the due date"),
    "rise": ("{n} days before grace month {month} (late fee {rate}%)", "grace month {month} begins (late fee {rate}%)",
             "{n} days into grace month {month} (late fee {rate}%)"),
    "grace_end": ("{n} days before the grace period ends", "the day the grace period ends",
                  "{n} days after the grace period ended"),
    "notice": ("{n} days before the termination notice", "the day of the termination notice",
               "{n} days after the termination notice"),
    "restore_by": ("{n} days before the restoration deadline", "the restoration deadline",
                   "{n} days after the restoration deadline"),
}


def tier_message(label: str) -> tuple[tuple[str, dict[str, Any]], ...] | None:
    """When the reminder of `label` fires, as messages (msgid, fields) to say one after the other; None for a
    label that is not a tier event's. custody.i18n words them (label domain "tier"): this module imports no catalogue,
    so the catalogue can ask it."""
    found = _LABEL.match(label)
    if found is None:
        return None
    tag, offset = found["tag"], int(found["offset"])
    before, on, after = _WORDS["rise" if tag.startswith("rise") else tag]
    rate = int(tag[4:]) if tag.startswith("rise") else 0
    msgid = before if offset < 0 else on if offset == 0 else after
    said = ((msgid, {"n": abs(offset), "rate": rate, "month": max(rate // _RISE_STEP, 1)}),)
    return said + (((" (fallback channel)", {}),) if found["fallback"] else ())
