"""Amounts of money as spreadsheets write them (`¥1,200.00`, `1200元`, `１２００`), parsed into yuan."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from custody.domain import yuan

_NOISE = re.compile(r"[¥￥,，\s]|元|人民币|CNY|RMB", re.IGNORECASE)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


class AmountParseError(ValueError):
    """Not an amount of money; the message quotes the text."""


def parse_amount(value: object) -> Decimal:
    """An amount in yuan from a number or text with currency signs, units and thousands separators."""
    if isinstance(value, bool):
        raise AmountParseError(f"{value!r} is not an amount")
    if isinstance(value, (int, float, Decimal)):
        return yuan(value)
    text = _NOISE.sub("", str(value).translate(_FULL_WIDTH))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountParseError(f"{value!r} is not an amount in yuan (e.g. 1200, ¥1,200.00 or 1200元)") from None
    if not amount.is_finite() or amount < 0:
        raise AmountParseError(f"{value!r} is not an amount in yuan")
    return yuan(amount)
