"""What an operator types for a patent type or a period, in either language: `--type 发明` as well as
`--type invention`, `--within 3m` / `3个月` / `12w` / `90d` / `90`.

The type words are the catalogue's own (custody/locale/labels.toml, domain `type`): one list of names, read by
both the output and the input. A month is a calendar month counted from the day the period starts (Rule 5's way:
no matching day means the month's last day), so "3个月" from 30 November is to 28 February.
"""
from __future__ import annotations

import re
from datetime import date

from custody.domain import PatentType
from custody.explained import Explained, tx
from custody.fees import add_months
from custody.i18n import labels

MAX_PERIOD_DAYS = 3660  # ten years ahead: any fee due further out is years beyond every reminder
_PERIOD = re.compile(r"\s*(\d+)\s*(d|w|m|天|日|周|星期|个月|月)?\s*", re.IGNORECASE)
_UNITS = {None: "d", "d": "d", "天": "d", "日": "d", "w": "w", "周": "w", "星期": "w", "m": "m", "个月": "m",
          "月": "m"}


class OptionError(Explained, ValueError):
    """A type or period that does not parse; the message names what would."""


def _type_names() -> dict[str, PatentType]:
    names: dict[str, PatentType] = {}
    for kind in PatentType:
        names[kind.value.lower()] = kind
        for word in labels().get("type", {}).get(kind.value, {}).values():
            names[word.lower()] = kind
            names[word.lower().replace(" ", "_")] = kind
    return names


def patent_type(text: str) -> PatentType:
    """The patent type named by `text`: the stored value, or its English or Chinese word (发明, 实用新型, 外观设计)."""
    found = _type_names().get(text.strip().lower())
    if found is None:
        shown = ", ".join(f"{k.value}/{labels()['type'][k.value]['zh']}" for k in PatentType)
        raise OptionError(tx("{value!r} is not a patent type: use {allowed}", value=text, allowed=shown))
    return found


def period_days(text: str, start: date) -> int:
    """How many days `text` reaches from `start`: 90d, 90, 12w, 3m or 3个月 (calendar months), at most ten years."""
    found = _PERIOD.fullmatch(text)
    if found is None:
        raise OptionError(tx("{value!r} is not a period (write 90d, 12w, 3m, 3个月 or 90)", value=text))
    digits, unit = found[1].lstrip("0") or "0", _UNITS[found[2].lower() if found[2] else None]
    count = int(digits) if len(digits) <= 6 else MAX_PERIOD_DAYS + 1  # no need to read a 5000-digit number
    if unit == "m":
        days = (add_months(start, count) - start).days if count <= 12 * 10 + 1 else MAX_PERIOD_DAYS + 1
    else:
        days = count * (7 if unit == "w" else 1)
    if days > MAX_PERIOD_DAYS:
        raise OptionError(tx("{value} is more than {limit} days (ten years)", value=text, limit=MAX_PERIOD_DAYS))
    return days
