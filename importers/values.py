"""Cell values as operators write them, read into typed values, or a CellProblem saying what is wrong.

Every reader takes one cell (str, float, int, date, datetime or None) and returns the value or raises
CellProblem with a message code; the row parsers turn those into located problems. None means "not given".
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from functools import lru_cache

from custody.amounts import AmountParseError, parse_amount
from custody.appno import (
    FIRST_NEW_FORM_YEAR,
    LAST_NEW_FORM_YEAR,
    TYPE_BY_DIGIT,
    InvalidApplicationNumber,
    check_character,
    parse_application_number,
)
from custody.creditcode import InvalidCreditCode, parse_credit_code
from custody.dates import DateParseError, parse_date
from custody.domain import PatentType, Reduction, email_key
from custody.explained import in_every_language
from importers.readers import Cell


class CellProblem(ValueError):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def shown(cell: Cell) -> str:
    """A cell as the operator would recognise it in a message."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Line breaks and tabs inside free text (a title typed with Alt+Enter in Excel): one space instead.
_BREAKS = re.compile(r"[ ]*[\t\n\x0b\x0c\r\x85\u2028\u2029]+[ ]*")


def text(cell: Cell) -> str | None:
    """Free text (a title, owners, a note, a status): line breaks and tabs folded to one space; any other control
    character refused."""
    value = None if cell is None else shown(cell).strip() or None
    if value is None or value.isprintable():
        return value
    return one_line(value)


def one_line(value: str) -> str:
    """`value` with its line breaks and tabs folded to one space; CellProblem for any other control character."""
    folded = _BREAKS.sub(" ", value).strip()
    found = _CONTROL.search(folded)
    if found:
        raise CellProblem("control_character", char=repr(found[0])[1:-1], position=found.start() + 1)
    return folded


def name(cell: Cell) -> str | None:
    """A name (an enterprise's, a contact's): it goes into email headers and SMS, so it must be one line; any
    control character, a line break included, is refused."""
    value = None if cell is None else shown(cell).strip() or None
    if value is None or value.isprintable():
        return value
    found = _CONTROL.search(value)
    if found:
        raise CellProblem("control_character_in_name", char=repr(found[0])[1:-1], position=found.start() + 1)
    return value


_CANONICAL = re.compile(r"[0-9]{12}\.[0-9X]")  # ASCII only: full-width digits go through custody.appno
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+?\d+")


def application_number(cell: Cell) -> str:
    """The canonical number (201710601862.3); a number cell whose check character cannot be trusted is refused."""
    return application_number_read(cell)[0]


def application_number_read(cell: Cell) -> tuple[str, bool]:
    """The canonical number, and whether the cell gave its check character (201710601862 has it computed)."""
    if isinstance(cell, (int, float)):
        if float(cell).is_integer():
            raise CellProblem("appno_number_cell", value=shown(cell))
        cell = f"{cell:.1f}"  # 201710601862.3 survives a float; the caller warns that it was one
    raw = str(cell).strip()
    if _CANONICAL.fullmatch(raw) and _is_plausible_canonical(raw):
        return raw, True  # fast path for the common spelling, with the same checks as custody.appno
    if _SCIENTIFIC.fullmatch(raw):
        raise CellProblem("appno_scientific", value=raw)
    try:
        parsed = parse_application_number(raw)
    except InvalidApplicationNumber as exc:
        raise CellProblem("appno_invalid", value=raw, detail=in_every_language(exc)) from None
    return str(parsed), parsed.check_supplied


def _is_plausible_canonical(raw: str) -> bool:
    digits, check = raw[:12], raw[13]
    return (digits[4] in TYPE_BY_DIGIT and FIRST_NEW_FORM_YEAR <= int(digits[:4]) <= LAST_NEW_FORM_YEAR
            and check_character(digits) == check)


@lru_cache(maxsize=65536)
def _date(cell: Cell) -> date:
    return parse_date(cell)  # an integer 20230315 is read as a date, not an Excel serial (custody.dates)


def day(cell: Cell) -> date:
    try:
        return _date(cell)
    except DateParseError as exc:
        raise CellProblem("date_invalid", detail=in_every_language(exc)) from None
    except TypeError:  # unhashable: never from our readers, but do not fail on it
        return parse_date(cell)


_YEAR = re.compile(r"第?\s*(\d{1,2}|[一二三四五六七八九十两]{1,3})\s*(年度|年)?")
_DIGITS_ZH = {c: n for n, c in enumerate("一二三四五六七八九", start=1)} | {"两": 2}


def _zh_number(text: str) -> int | None:
    """七 -> 7, 十二 -> 12, 二十 -> 20, 二十一 -> 21: the patent years as ledgers write them in words."""
    if text.isdigit():
        return int(text)
    tens, _, ones = text.partition("十") if "十" in text else ("", "", text)
    if "十" in text:
        high = _DIGITS_ZH.get(tens, 0) if tens else 1
        low = _DIGITS_ZH.get(ones, 0) if ones else 0
        return None if (tens and tens not in _DIGITS_ZH) or (ones and ones not in _DIGITS_ZH) else high * 10 + low
    return _DIGITS_ZH.get(ones) if len(ones) == 1 else None


def patent_year(cell: Cell) -> int:
    """6, 6.0, '6', '第6年', '6年', '第六年' -> 6."""
    if isinstance(cell, (int, float)) and float(cell).is_integer():
        return int(cell)
    return _patent_year(str(cell))


@lru_cache(maxsize=1024)
def _patent_year(cell: str) -> int:
    match = _YEAR.fullmatch(unicodedata.normalize("NFKC", str(cell)).strip())
    year = _zh_number(match.group(1)) if match else None
    if year is None:
        raise CellProblem("year_invalid", value=shown(cell))
    return year


def whole_number(cell: Cell) -> int:
    if isinstance(cell, (int, float)) and float(cell).is_integer():
        return int(cell)
    try:
        return int(unicodedata.normalize("NFKC", str(cell)).replace(",", "").strip())
    except ValueError:
        raise CellProblem("int_invalid", value=shown(cell)) from None


def amount(cell: Cell) -> Decimal:
    """¥1,200.00, 1200元, 人民币1200, 1200.0 -> Decimal('1200.00') (custody.amounts); negatives are refused."""
    try:
        return parse_amount(cell)
    except AmountParseError:
        raise CellProblem("amount_invalid", value=shown(cell)) from None


_REDUCTIONS = {
    "85": Reduction.R85, "85%": Reduction.R85, "0.85": Reduction.R85, ".85": Reduction.R85,
    "70": Reduction.R70, "70%": Reduction.R70, "0.7": Reduction.R70, "0.70": Reduction.R70, ".7": Reduction.R70,
    "无": Reduction.NONE, "否": Reduction.NONE, "不减": Reduction.NONE, "无费减": Reduction.NONE, "0": Reduction.NONE,
    "0%": Reduction.NONE, "none": Reduction.NONE, "no": Reduction.NONE, "-": Reduction.NONE, "/": Reduction.NONE,
    # 不减缴 / 未费减 / 未减缴 once the trailing 减缴 or 费减 is taken off (_REDUCTION_WORDS).
    "不": Reduction.NONE, "未": Reduction.NONE,
}
# The share paid rather than waived: 15 % and 30 % can only be that, but saying so silently would be a guess.
_AMBIGUOUS_REDUCTIONS = {"15", "15%", "0.15", "30", "30%", "0.3", "0.30"}
_REDUCTION_WORDS = re.compile(r"^(个人|企业|单位|事业单位|费减|减缴|减|比例|fee reduction|reduction)+|(费减|减缴)$")


def reduction(cell: Cell) -> Reduction:
    """85% / 0.85 / 个人85% / 费减85% -> R85; 70% -> R70; 无 -> NONE."""
    return _reduction(shown(cell))


@lru_cache(maxsize=1024)
def _reduction(cell: str) -> Reduction:
    raw = unicodedata.normalize("NFKC", shown(cell)).strip().lower().replace(" ", "")
    key = _REDUCTION_WORDS.sub("", raw) or raw
    if key in _AMBIGUOUS_REDUCTIONS:
        raise CellProblem("reduction_ambiguous", value=shown(cell))
    found = _REDUCTIONS.get(key)
    if found is None:
        raise CellProblem("reduction_invalid", value=shown(cell))
    return found


_TYPES = (("实用新型", PatentType.UTILITY_MODEL), ("外观", PatentType.DESIGN), ("发明", PatentType.INVENTION),
          ("utility", PatentType.UTILITY_MODEL), ("design", PatentType.DESIGN),
          ("invention", PatentType.INVENTION))


def patent_type(cell: Cell) -> PatentType:
    """发明 / 发明专利 / PCT发明 / 实用新型 / 外观设计 / invention / utility model / design."""
    return _patent_type(shown(cell))


@lru_cache(maxsize=1024)
def _patent_type(cell: str) -> PatentType:
    raw = unicodedata.normalize("NFKC", shown(cell)).strip().lower()
    for word, found in _TYPES:
        if word in raw:
            return found
    try:
        return PatentType(raw.replace(" ", "_"))
    except ValueError:
        raise CellProblem("type_invalid", value=shown(cell)) from None


def credit_code(cell: Cell) -> str:
    return _credit_code(shown(cell))


@lru_cache(maxsize=65536)
def _credit_code(text: str) -> str:
    # Cached: a portfolio names the same few enterprises on thousands of rows.
    try:
        return parse_credit_code(text)
    except InvalidCreditCode as exc:
        raise CellProblem("credit_code_invalid", value=text, detail=in_every_language(exc)) from None


def mobile(cell: Cell) -> str:
    """The 11-digit mainland mobile number (+86, spaces and dashes removed); landlines are refused."""
    import phonenumbers

    raw = shown(cell).strip()
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise CellProblem("mobile_invalid", value=raw) from None
    kind = phonenumbers.number_type(number)
    is_mobile = kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if number.country_code != 86 or not phonenumbers.is_valid_number(number) or not is_mobile:
        raise CellProblem("mobile_invalid", value=raw)
    return str(number.national_number)


def email(cell: Cell) -> str:
    from email_validator import EmailNotValidError, validate_email

    raw = shown(cell).strip()
    try:
        return email_key(validate_email(raw, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise CellProblem("email_invalid", value=raw, detail=str(exc)) from None


_MODES = {"custody": ("custody", "托管", "代管", "代缴", "托管代缴", "缴费托管"),
          "watch": ("watch", "watch-only", "watch only", "监控", "仅监控", "监视", "关注", "跟踪")}
_MODE_BY_WORD = {word: mode for mode, words in _MODES.items() for word in words}


def mode(cell: Cell) -> str:
    """托管 / custody -> "custody" (we pay and remind); 监控 / watch -> "watch" (legal status only)."""
    found = _MODE_BY_WORD.get(unicodedata.normalize("NFKC", shown(cell)).strip().lower())
    if found is None:
        raise CellProblem("mode_invalid", value=shown(cell))
    return found


_YES = {"是", "y", "yes", "true", "1", "同意", "接收", "√", "✓", "on"}
_NO = {"否", "n", "no", "false", "0", "不同意", "不接收", "拒绝", "×", "x", "off"}


def yes_no(cell: Cell) -> bool:
    raw = unicodedata.normalize("NFKC", shown(cell)).strip().lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellProblem("bool_invalid", value=shown(cell))
