"""Amounts of money as spreadsheets write them (`¥1,200.00`, `1200元`, `１２００`), parsed into yuan.

A comma is a thousands separator only where one belongs (1,200 and 1,200,000.50); anywhere else (1,20 or the
European 1.200,00) the amount is refused as unreadable rather than guessed at: a misread fee would pass as paid.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from custody.domain import yuan

_NOISE = re.compile(r"[¥￥\s]|元|人民币|CNY|RMB", re.IGNORECASE)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")


class AmountParseError(ValueError):
    """Not an amount of money; the message quotes the text."""


def parse_amount(value: object) -> Decimal:
    """An amount in yuan from a number or text with currency signs, units and thousands separators."""
    if isinstance(value, bool):
        raise AmountParseError(f"{value!r} is not an amount")
    if isinstance(value, (int, float, Decimal)):
        return yuan(value)
    text = _NOISE.sub("", str(value).translate(_FULL_WIDTH))
    if "," in text:
        if not _THOUSANDS.fullmatch(text):
            raise AmountParseError(f"{value!r} is not an amount in yuan: a comma only separates thousands "
                                   "(1,200.00)")
        text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountParseError(f"{value!r} is not an amount in yuan (e.g. 1200, ¥1,200.00 or 1200元)") from None
    if not amount.is_finite() or amount < 0:
        raise AmountParseError(f"{value!r} is not an amount in yuan")
    return yuan(amount)
