"""Dates as operators' spreadsheets and fingers write them, parsed into `date` or refused with a reason.

Accepted: ISO `2023-03-15`, `2023/3/15`, `2023.03.15`, `20230315`, `2023年3月15日`, a datetime with a time part,
and Excel serial numbers (1900 date system) such as `44999` or `44999.0`. A number from 19000101 to 29991231
(a date typed into a number cell) is read as YYYYMMDD, like the same text: no serial comes anywhere near it.
Messages quote the value as the operator wrote it (20230315, not 2.02303e+07).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from custody.explained import Explained, tx

# Excel's day 0 is 1899-12-30 once its fictitious 1900-02-29 is accounted for.
EXCEL_EPOCH = date(1899, 12, 30)
# Serials outside this window are far more likely a wrong column than a date this engine cares about.
EXCEL_SERIAL_RANGE = (20000, 80000)  # 1954-10-03 .. 2119-01-10
COMPACT_NUMBER_RANGE = (19000101, 29991231)  # YYYYMMDD typed as a number

_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(\.0+)?$")
_TIME_PART = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


class DateParseError(Explained, ValueError):
    """The text is not a date in any accepted form; the message quotes it."""


def excel_serial_date(serial: float) -> date:
    low, high = EXCEL_SERIAL_RANGE
    if not low <= serial < high:
        raise DateParseError(tx("{value} is not a plausible Excel date serial", value=_shown(serial)))
    return EXCEL_EPOCH + timedelta(days=int(serial))


def _shown(number: float) -> str:
    """A number as written: 20230315 for 20230315.0, 123.5 as it is (never the exponent form of `g`)."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _number_date(value: float) -> date:
    low, high = COMPACT_NUMBER_RANGE
    if float(value).is_integer() and low <= value <= high:
        return _compact_date(str(int(value)), _shown(value))
    return excel_serial_date(float(value))


def _compact_date(digits: str, shown: object) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as exc:
        raise DateParseError(tx("{value} is not a real date ({reason})", value=shown, reason=str(exc))) from None


def parse_date(value: object) -> date:
    """A date from a cell or an option, whatever its spelling; DateParseError says what was wrong."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_date(value)
    text = _TIME_PART.sub("", str(value).strip().translate(_FULL_WIDTH))
    if not text:
        raise DateParseError(tx("empty date"))
    match = _SEPARATED.match(text) or _COMPACT.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise DateParseError(tx("{value!r} is not a real date ({reason})", value=value, reason=str(exc))) from None
    if _SERIAL.match(text):
        return excel_serial_date(float(text))
    raise DateParseError(tx("{value!r} is not a date (write it as 2023-03-15, 2023/3/15 or 2023年3月15日)",
                               value=value))


_FULL_WIDTH = str.maketrans("０１２３４５６７８９／－．：　", "0123456789/-.: ")
