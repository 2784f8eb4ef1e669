"""Amounts of money as spreadsheets write them (`¥1,200.00`, `1200元`, `１２００`), parsed into yuan.

The one amount parser: the CLI (`custody pay --amount`) and the importers both call `parse_amount`.
A comma is a thousands separator only where one belongs (1,200 and 1,200,000.50); anywhere else (1,20 or the
European 1.200,00) the amount is refused as unreadable rather than guessed at: a misread fee would pass as paid.
For the same reason an exponent (1e3), NaN/infinity, a negative amount, fractions of a fen (12.345) and an amount
beyond MAX_AMOUNT are refused, never rounded or stored.
"""
from __future__ import annotations

import re
from decimal import Decimal

from custody.domain import CENT, yuan
from custody.explained import Explained, tx

_NOISE = re.compile(r"[¥￥\s]|元|人民币|CNY|RMB", re.IGNORECASE)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
_PLAIN = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
# No annual-fee payment comes near this (the largest fee with a 25 % late fee and the restoration fee is
# 8000 + 2000 + 1000 yuan); an amount above it is a typo or a misread cell, not money paid.
MAX_AMOUNT = Decimal("10000000")
# Spreadsheet number cells are binary floats (0.1 + 0.2 = 0.30000000000000004): compared at this precision.
_FLOAT_DIGITS = 6


class AmountParseError(Explained, ValueError):
    """Not an amount of money; the message quotes the text."""


def parse_amount(value: object) -> Decimal:
    """An amount in yuan from a number or text with currency signs, units and thousands separators."""
    if isinstance(value, bool):
        raise AmountParseError(tx("{value!r} is not an amount", value=value))
    if isinstance(value, float):
        return _checked(value, Decimal(str(round(value, _FLOAT_DIGITS))) if abs(value) < 1e15 else Decimal(value))
    if isinstance(value, (int, Decimal)):
        return _checked(value, Decimal(value))
    text = _NOISE.sub("", str(value).translate(_FULL_WIDTH))
    if "," in text:
        if not _THOUSANDS.fullmatch(text):
            raise AmountParseError(tx("{value!r} is not an amount in yuan: a comma only separates thousands "
                                      "(1,200.00)", value=value))
        text = text.replace(",", "")
    if _PLAIN.fullmatch(text.lower().partition("e")[0]) and "e" in text.lower():
        raise AmountParseError(tx("{value!r} is not an amount in yuan: write it out without an exponent", value=value))
    if not _PLAIN.fullmatch(text):
        raise AmountParseError(tx("{value!r} is not an amount in yuan (e.g. 1200, ¥1,200.00 or 1200元)", value=value))
    return _checked(value, Decimal(text))


def _checked(value: object, amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise AmountParseError(tx("{value!r} is not an amount in yuan", value=value))
    if amount < 0:
        raise AmountParseError(tx("{value!r} is not an amount in yuan: it is negative", value=value))
    if amount > MAX_AMOUNT:
        raise AmountParseError(tx("{value!r} is not a plausible amount in yuan: more than {limit:,}", value=value,
                                  limit=MAX_AMOUNT))
    if amount != amount.quantize(CENT):
        raise AmountParseError(tx("{value!r} is not an amount in yuan: more than 2 decimals (fractions of a fen)",
                                  value=value))
    return yuan(amount)
