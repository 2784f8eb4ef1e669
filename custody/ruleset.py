"""The CNIPA rule tables (custody/rules/cnipa.toml) loaded into typed rows, and the look-ups the engine uses.

Each look-up returns the row in force for a date, so a figure can always name the row (and source) behind it.
The readings the rules reference could not confirm are `RuleSettings`, overridable in config.toml [rules].
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TypeVar

from custody.domain import Citation, PatentType
from custody.explained import Explained, tx, word

DEFAULT_RULES = Path(__file__).parent / "rules" / "cnipa.toml"

GRACE_BASES = ("anniversary", "due_date")
GRANT_YEAR_INFERENCES = ("announcement_patent_year", "require")
OPEN_LICENCE_MAPPINGS = ("due_date_in_period", "anniversary_in_period")
COMPENSATION_WHOLE_YEARS = ("365_days", "calendar_years")
# A lead time outside this range is a typo, not a reading of the sources (which say 2.5 or 3 months).
REDUCTION_LEAD_MONTHS = range(0, 13)
# How far ahead of its anniversary a year's fee may be paid (UNCONFIRMED; the rules reference names no window).
ADVANCE_PAYMENT_MONTHS = range(0, 13)
# After a restoration, when the fees that fell due while the patent was terminated are due (UNCONFIRMED).
BACK_FEE_MONTHS = range(0, 7)


R = TypeVar("R", bound="Row")


class RuleError(Explained, ValueError):
    """The rule tables or settings are inconsistent, or a question falls outside them."""


@dataclass(frozen=True)
class RuleSettings:
    """Readings of points the official texts leave open; documented in README and config.toml [rules]."""

    # Late-fee bands and the grace end count from the raw anniversary (then each end moves past rest days),
    # or from the due date already moved past a rest day.
    grace_base: str = "anniversary"
    # With no grant year imported: the patent year containing the grant announcement date, or refuse.
    grant_year_inference: str = "announcement_patent_year"
    # An open licence reduces a fee whose due date (or anniversary) falls inside the licence period.
    open_licence_mapping: str = "due_date_in_period"
    # How many months before the due date a reduction must be on record (sources say 2.5 or 3).
    reduction_lead_months: int = 3
    # How many months before its anniversary a year's fee may be paid at the earliest (UNCONFIRMED): `custody pay`
    # refuses an earlier payment date without --force, as more likely a typo than money paid.
    advance_payment_months: int = 3
    # A "whole compensated year" of term compensation (8000 CNY each, nothing for a part-year): every 365 days of
    # the extension, or every full calendar year from the normal expiry (a leap day makes one 366 days long).
    compensation_whole_year: str = "365_days"
    # Fees that fell due while a patent was terminated, after its restoration (UNCONFIRMED: CNIPA asks for them with
    # the restoration; the rules name no deadline of their own): due this many months after the restoration's
    # announcement, their late-fee bands counted from then, each such fee marked "check".
    restoration_back_fee_months: int = 2

    def __post_init__(self) -> None:
        for name, allowed in (
            ("grace_base", GRACE_BASES),
            ("grant_year_inference", GRANT_YEAR_INFERENCES),
            ("open_licence_mapping", OPEN_LICENCE_MAPPINGS),
            ("compensation_whole_year", COMPENSATION_WHOLE_YEARS),
        ):
            if getattr(self, name) not in allowed:
                raise RuleError(tx("rules.{name} must be one of {allowed}, got {value!r}", name=name,
                                   allowed=", ".join(allowed), value=getattr(self, name)))
        for name, allowed_months in (("reduction_lead_months", REDUCTION_LEAD_MONTHS),
                                     ("advance_payment_months", ADVANCE_PAYMENT_MONTHS),
                                     ("restoration_back_fee_months", BACK_FEE_MONTHS)):
            months = getattr(self, name)
            # bool is an int in Python: `true` in the TOML must not read as 1 month.
            if isinstance(months, bool) or not isinstance(months, int) or months not in allowed_months:
                raise RuleError(tx("rules.{name} must be a whole number of months from {low} to {high}, got "
                                   "{value!r}", name=name, low=allowed_months.start, high=allowed_months.stop - 1,
                                   value=months))


@dataclass(frozen=True)
class Row:
    """Common columns of every rule row."""

    id: str
    source: str
    effective_from: date
    confirmed: bool

    @property
    def citation(self) -> Citation:
        return Citation(self.id, self.source, self.confirmed)


@dataclass(frozen=True)
class FeeRow(Row):
    type: PatentType
    first_year: int
    last_year: int
    fee: Decimal


@dataclass(frozen=True)
class TermRow(Row):
    type: PatentType
    years: int
    filed_from: date


@dataclass(frozen=True)
class ShareRow(Row):
    """A share of the full fee still payable: 0.15 for an 85 % reduction, 0.85 under an open licence."""

    key: str
    payable_share: Decimal


@dataclass(frozen=True)
class WindowRow(Row):
    years_from_grant: int


@dataclass(frozen=True)
class LateFeeRule(Row):
    grace_months: int
    free_months: int
    step_rate: Decimal
    max_rate: Decimal


@dataclass(frozen=True)
class RestorationRule(Row):
    fee: Decimal
    late_fee_rate: Decimal
    request_months: int


@dataclass(frozen=True)
class TermCompensationRule(Row):
    fee_per_year: Decimal
    request_fee: Decimal


@dataclass(frozen=True)
class DeadlineException(Row):
    due_from: date
    due_to: date
    new_due_date: date
    applies_to: str

    def applies(self, due_date: date, is_reduced: bool) -> bool:
        wanted = self.applies_to == "all" or (self.applies_to == "reduced" and is_reduced)
        return wanted and self.due_from <= due_date <= self.due_to


def _in_force(rows: tuple[R, ...], on: date) -> R | None:
    candidates = [r for r in rows if r.effective_from <= on]
    return max(candidates, key=lambda r: r.effective_from) if candidates else None


@dataclass(frozen=True)
class RuleSet:
    fees: tuple[FeeRow, ...]
    terms: tuple[TermRow, ...]
    reduction_rates: tuple[ShareRow, ...]
    reduction_windows: tuple[WindowRow, ...]
    open_licence: tuple[ShareRow, ...]
    late_fee: LateFeeRule
    restoration: RestorationRule
    term_compensation: TermCompensationRule
    exceptions: tuple[DeadlineException, ...]
    references: tuple[Row, ...] = ()
    settings: RuleSettings = field(default_factory=RuleSettings)

    def cite(self, rule_id: str) -> Citation:
        row = next((r for r in self.references if r.id == rule_id), None)
        if row is None:
            raise RuleError(tx("no rule {rule!r} in the rule tables", rule=rule_id))
        return row.citation

    def earliest_filing_date(self, patent_type: PatentType) -> date | None:
        """The first filing date any term row covers for this type (None: the tables know no such type)."""
        return min((r.filed_from for r in self.terms if r.type == patent_type), default=None)

    def term(self, patent_type: PatentType, filing_date: date) -> TermRow:
        rows = tuple(r for r in self.terms if r.type == patent_type and r.filed_from <= filing_date)
        if not rows:
            raise RuleError(tx("no term of protection known for a {type} filed on {filed}",
                               type=word("type", patent_type),
                                  filed=filing_date))
        return max(rows, key=lambda r: r.filed_from)

    def annual_fee(self, patent_type: PatentType, year: int, due_date: date) -> FeeRow:
        rows = tuple(r for r in self.fees if r.type == patent_type and r.first_year <= year <= r.last_year)
        row = _in_force(rows, due_date)
        if row is None:
            raise RuleError(tx("no annual fee known for year {year} of a {type} due on {due}", year=year,
                                  type=word("type", patent_type), due=due_date))
        return row

    def reduction_share(self, key: str, due_date: date) -> ShareRow | None:
        return _in_force(tuple(r for r in self.reduction_rates if r.key == key), due_date)

    def reduction_window(self, due_date: date) -> WindowRow | None:
        return _in_force(self.reduction_windows, due_date)

    def open_licence_share(self, due_date: date) -> ShareRow | None:
        return _in_force(self.open_licence, due_date)

    def exception_for(self, anniversary: date, is_reduced: bool) -> DeadlineException | None:
        """The dated exception for a fee whose deadline is `anniversary`: the raw anniversary, not a date moved past
        a rest day (CNIPA's Q&A on announcement No. 486: 缴费期限届满日即申请日在该年的相应日)."""
        return next((e for e in self.exceptions if e.applies(anniversary, is_reduced)), None)


def _common(raw: dict) -> dict:
    # Every row names its source, the date it applies from and whether it is confirmed: no silent defaults.
    missing = [key for key in ("id", "source", "effective_from", "confirmed") if key not in raw]
    if missing:
        raise RuleError(tx("rule row {row!r} lacks {missing}", row=raw.get("id", "(no id)"),
                           missing=", ".join(missing)))
    if not isinstance(raw["effective_from"], date) or not isinstance(raw["confirmed"], bool):
        raise RuleError(tx("rule row {row!r}: effective_from must be a date and confirmed true or false",
                           row=raw["id"]))
    return {key: raw[key] for key in ("id", "source", "effective_from", "confirmed")}


def _fee_row(raw: dict) -> FeeRow:
    first, last = raw["years"]
    return FeeRow(**_common(raw), type=PatentType(raw["type"]), first_year=first, last_year=last,
                  fee=Decimal(str(raw["fee"])))


def _term_row(raw: dict) -> TermRow:
    return TermRow(**_common(raw), type=PatentType(raw["type"]), years=raw["years"], filed_from=raw["filed_from"])


def _share_row(raw: dict) -> ShareRow:
    return ShareRow(**_common(raw), key=raw.get("key", "open_licence"), payable_share=Decimal(raw["payable_share"]))


def rules_from_mapping(data: dict, settings: RuleSettings | None = None) -> RuleSet:
    late, rest, comp = data["late_fee"], data["restoration"], data["term_compensation"]
    return RuleSet(
        fees=tuple(_fee_row(r) for r in data["annual_fee"]),
        terms=tuple(_term_row(r) for r in data["term"]),
        reduction_rates=tuple(_share_row(r) for r in data["reduction_rate"]),
        reduction_windows=tuple(
            WindowRow(**_common(r), years_from_grant=r["years_from_grant"]) for r in data["reduction_window"]
        ),
        open_licence=tuple(_share_row(r) for r in data.get("open_licence", ())),
        late_fee=LateFeeRule(**_common(late), grace_months=late["grace_months"], free_months=late["free_months"],
                             step_rate=Decimal(late["step_rate"]), max_rate=Decimal(late["max_rate"])),
        restoration=RestorationRule(**_common(rest), fee=Decimal(str(rest["fee"])),
                                    late_fee_rate=Decimal(rest["late_fee_rate"]),
                                    request_months=rest["request_months"]),
        term_compensation=TermCompensationRule(**_common(comp), fee_per_year=Decimal(str(comp["fee_per_year"])),
                                               request_fee=Decimal(str(comp["request_fee"]))),
        exceptions=tuple(
            DeadlineException(**_common(r), due_from=r["due_from"], due_to=r["due_to"],
                              new_due_date=r["new_due_date"], applies_to=r["applies_to"])
            for r in data.get("deadline_exception", ())
        ),
        references=tuple(Row(**_common(r)) for r in data.get("reference", ())),
        settings=settings or RuleSettings(),
    )


def load_rules(path: Path | None = None, settings: RuleSettings | None = None) -> RuleSet:
    """The rule set from a TOML file (the packaged CNIPA tables by default)."""
    if path is None and settings is None:
        return default_rules()
    with open(path or DEFAULT_RULES, "rb") as fh:
        return rules_from_mapping(tomllib.load(fh), settings)


@cache
def default_rules() -> RuleSet:
    with open(DEFAULT_RULES, "rb") as fh:
        return rules_from_mapping(tomllib.load(fh))
