"""Plain domain values shared by every part of the engine: patent types, reductions, states, money.

Nothing here touches the clock, the database or the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class PatentType(StrEnum):
    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"

    @property
    def label_zh(self) -> str:
        from custody.i18n import label

        return label("type", self.value, "zh")


class Reduction(StrEnum):
    """Fee reduction on record (费减): 85 % for one qualifying owner, 70 % for several."""

    NONE = "none"
    R85 = "85"
    R70 = "70"

    @property
    def label_zh(self) -> str:
        from custody.i18n import label

        return label("reduction", self.value, "zh")


class PatentState(StrEnum):
    IN_FORCE = "in_force"
    IN_GRACE = "in_grace"
    LAPSED = "lapsed"
    EXPIRED = "expired"

    @property
    def label_zh(self) -> str:
        return {"in_force": "有效", "in_grace": "宽限期内", "lapsed": "未缴年费终止", "expired": "期满终止"}[
            self.value
        ]


CENT = Decimal("0.01")

# How every view marks a date in a year whose State Council holiday schedule is not published yet (it may still
# move when the schedule comes out), and the legend that explains the mark.
PROVISIONAL_MARK = "*"
PROVISIONAL_LEGEND_ZH = "（暂定：该年放假安排未公布）"
# In a sentence (a reminder email), where a footnote mark would be lost: the mark in words after the date.
PROVISIONAL_WORDS_ZH = "（暂定）"
PROVISIONAL_LEGEND_EN = "* provisional: that year's State Council holiday schedule is not published yet"


class ProvisionalDate(date):
    """A date computed on a provisional year's calendar. It is still a date (sorts, compares, is written as one);
    views ask `is_provisional_date` and `date_text` to mark it."""

    __slots__ = ()


def marked(day: date | None, provisional: bool) -> date | None:
    """`day`, as a ProvisionalDate when `provisional`: the one way rows carry the mark to every view."""
    if day is None or not provisional:
        return day
    return ProvisionalDate(day.year, day.month, day.day)


def is_provisional_date(day: object) -> bool:
    return isinstance(day, ProvisionalDate)


def date_text(day: date | str | None, provisional: bool | None = None) -> str:
    """ISO text of `day` with the provisional mark (from a ProvisionalDate, or `provisional` for ISO text)."""
    if day is None:
        return ""
    text = day if isinstance(day, str) else day.isoformat()
    is_marked = is_provisional_date(day) if provisional is None else provisional
    return text + (PROVISIONAL_MARK if is_marked else "")


def email_key(address: str) -> str:
    """An email address as it identifies a contact: trimmed, in lower case. Mail systems deliver whatever the
    case (the outbox sends to this form too), so `Li@Example.com` and `li@example.com` are one contact."""
    return address.strip().lower()


def yuan(value: Decimal | int | float | str) -> Decimal:
    """An amount in yuan, rounded half-up to the fen, as CNIPA bills it."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Citation:
    """Where a figure comes from: the rule id in our rule tables and the public source it encodes."""

    rule_id: str
    source: str
    confirmed: bool = True


@dataclass(frozen=True)
class DatePeriod:
    """A closed date range; `end` None means still running."""

    start: date
    end: date | None = None

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class PatentFacts:
    """What the fee engine needs to know about one patent; everything else is derived."""

    type: PatentType
    filing_date: date
    grant_year: int | None = None
    granted_on: date | None = None
    paid_through: int | None = None
    paid_years: frozenset[int] = field(default_factory=frozenset)
    reduction: Reduction = Reduction.NONE
    open_licences: tuple[DatePeriod, ...] = ()
    term_extension_days: int = 0
    application_number: str | None = None
    # When the fee reduction was put on record (备案); None = unknown, taken as in time (rules.reduction_lead_months).
    reduction_recorded_on: date | None = None
    # The day the latest restoration (专利权的恢复) was announced: fees that fell due while the patent was
    # terminated are due again from it (custody.fees: back fees). None = never restored, or lapsed again since.
    restored_on: date | None = None
    # The day a confirmed transfer to another owner made the reduction on record the old owner's: until the new
    # owner's own reduction is recorded (费减备案), every fee is quoted in full. None = nothing to re-file.
    reduction_refile_on: date | None = None
