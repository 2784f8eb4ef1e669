"""Chinese patent application numbers (专利申请号, standard ZC 0006-2003): parse, normalise, check.

Spreadsheets and exports write the same number many ways (ZL…, CN…, no dot, full-width digits, the check
character lost); `parse_application_number` turns each into one canonical value or says exactly what is wrong.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from custody.domain import PatentType
from custody.explained import Explained, Text, tx

# ZC 0006-2003: 12-digit form since 2003-10-01 (weights 2..9,2..5); old 8-digit form before it (weights 2..9).
WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
TYPE_BY_DIGIT = {
    "1": PatentType.INVENTION,
    "2": PatentType.UTILITY_MODEL,
    "3": PatentType.DESIGN,
    "8": PatentType.INVENTION,  # PCT application entering the national phase
    "9": PatentType.UTILITY_MODEL,  # PCT application entering the national phase
}
PCT_TYPE_DIGITS = frozenset("89")
FIRST_NEW_FORM_YEAR, LAST_NEW_FORM_YEAR = 2003, 2100
# The Patent Law took effect on 1985-04-01; the old form ended when the 12-digit form began in 2003.
OLD_FORM_YEARS = range(1985, 2004)
# Kind codes of publication/announcement numbers (CN…A, CN…U, CN…S and their granted variants).
PUBLICATION_KIND_CODES = frozenset("ABCUYS")
EXAMPLES = "e.g. 201710601862.3"


class InvalidApplicationNumber(Explained, ValueError):
    """The text cannot be read as a patent application number; the message says why."""


def check_character(digits: str) -> str:
    """The check character for 12 (or old-form 8) digits: weighted sum mod 11, 10 written 'X'."""
    # ZC 0006-2003: the plain remainder, not 11 minus it.
    remainder = sum(int(digit) * weight for digit, weight in zip(digits, WEIGHTS, strict=False)) % 11
    return "X" if remainder == 10 else str(remainder)


@dataclass(frozen=True)
class ApplicationNumber:
    digits: str
    check: str
    check_supplied: bool = True

    def __post_init__(self) -> None:
        problem = _digits_problem(self.digits) or _check_problem(self.digits, self.check)
        if problem:
            raise InvalidApplicationNumber(problem)

    @property
    def is_old_form(self) -> bool:
        return len(self.digits) == 8

    @property
    def type_digit(self) -> str:
        return self.digits[2] if self.is_old_form else self.digits[4]

    @property
    def type(self) -> PatentType:
        return TYPE_BY_DIGIT[self.type_digit]

    @property
    def is_pct_national_phase(self) -> bool:
        return self.type_digit in PCT_TYPE_DIGITS

    @property
    def year(self) -> int:
        """The year CNIPA received the application (may be later than the filing date's year)."""
        return _year_of(self.digits)

    @property
    def patent_number(self) -> str:
        return f"ZL{self}"

    def __str__(self) -> str:
        return f"{self.digits}.{self.check}"


def parse_application_number(text: str) -> ApplicationNumber:
    """Read any common spelling of an application number; raise InvalidApplicationNumber if impossible."""
    normalised = _normalised(text)
    compact = _without_prefix(normalised)
    if not compact:
        raise InvalidApplicationNumber(tx("empty application number"))
    _reject_publication_number(compact, shown=normalised)
    digits, check = _split_check(compact)
    problem = _digits_problem(digits)
    if problem:
        raise InvalidApplicationNumber(problem)
    if check is None:
        return ApplicationNumber(digits, check_character(digits), check_supplied=False)
    return ApplicationNumber(digits, check)


def application_number_problem(text: str) -> str | None:
    """What is wrong with `text` as an application number, or None; for importers that collect errors."""
    try:
        parse_application_number(text)
    except InvalidApplicationNumber as error:
        return str(error)
    return None


def filing_date_problem(number: ApplicationNumber, filing_date: date) -> Text | None:
    """A filing date in a later year than the number's year is impossible (divisionals and PCT entries
    keep an earlier date, Rules 49 and 119, so an earlier year is fine)."""
    if filing_date.year > number.year:
        return tx("filing date {filed} is after the year of application number {number}",
                  filed=filing_date.isoformat(), number=str(number))
    return None


def _normalised(text: str) -> str:
    # NFKC folds full-width digits, letters and '．'; the ideographic full stop '。' needs doing by hand.
    folded = unicodedata.normalize("NFKC", text).replace("。", ".")
    return "".join(folded.split()).upper()


def _without_prefix(compact: str) -> str:
    return compact[2:] if compact[:2] in ("ZL", "CN") else compact


def _reject_publication_number(compact: str, shown: str) -> None:
    kind = compact[-1]
    # Publication numbers never carry a dot; with one, a letter is a bad check character instead.
    if kind in PUBLICATION_KIND_CODES and compact[:-1].isdigit():
        raise InvalidApplicationNumber(
            tx("'{shown}' ends with publication kind code {kind}: that is a publication number, not an application "
               "number (e.g. 201710601862.3)", shown=shown, kind=kind)
        )


def _split_check(compact: str) -> tuple[str, str | None]:
    """Digits and check character (None when the input had none)."""
    if compact.count(".") > 1:
        raise InvalidApplicationNumber(tx("more than one dot in '{text}'", text=compact))
    if "." in compact:
        digits, check = compact.split(".")
        if not check:
            raise InvalidApplicationNumber(tx("missing check character after the dot in '{text}'", text=compact))
        if len(check) != 1:
            raise InvalidApplicationNumber(tx("expected one check character after the dot, got '{check}'",
                                                  check=check))
        return digits, check
    if compact.endswith("X") or len(compact) in (9, 13):
        return compact[:-1], compact[-1]
    return compact, None


def _digits_problem(digits: str) -> Text | None:
    for position, char in enumerate(digits, start=1):
        if not char.isdecimal() or not char.isascii():
            return tx("character '{char}' at position {position} is not a digit", char=char, position=position)
    if len(digits) not in (8, 12):
        return tx("expected 12 digits and a check character (e.g. 201710601862.3), got {count} digits; numbers from "
                  "before 2003-10-01 have 8 (e.g. 97101765.4)", count=len(digits))
    type_digit = digits[2] if len(digits) == 8 else digits[4]
    if type_digit not in TYPE_BY_DIGIT:
        return tx("type digit {digit} is not a patent type (1, 2, 3, 8 or 9)", digit=type_digit)
    return _year_problem(digits)


def _year_problem(digits: str) -> Text | None:
    year = _year_of(digits)
    if len(digits) == 12 and not FIRST_NEW_FORM_YEAR <= year <= LAST_NEW_FORM_YEAR:
        return tx("year {year} is impossible: the 12-digit form began in {first}", year=year, first=FIRST_NEW_FORM_YEAR)
    if len(digits) == 8 and year not in OLD_FORM_YEARS:
        return tx("year digits {digits} are impossible: the 8-digit form was used from 1985 to 2003", digits=digits[:2])
    return None


def _year_of(digits: str) -> int:
    if len(digits) == 12:
        return int(digits[:4])
    two_digits = int(digits[:2])
    return 1900 + two_digits if two_digits >= 85 else 2000 + two_digits


def _check_problem(digits: str, check: str) -> Text | None:
    if len(check) != 1 or check not in "0123456789X":
        return tx("check character must be a digit or X, got '{check}'", check=check)
    expected = check_character(digits)
    if check != expected:
        return tx("check digit should be {expected}, got {check}", expected=expected, check=check)
    return None
