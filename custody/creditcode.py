"""The unified social credit code (统一社会信用代码, GB 32100-2015): normalise and check it.

Patent owners that are organisations are identified by this 18-character code; a typo in it sends a fee-
reduction filing or a reminder to the wrong owner, so importers validate it on the way in.
"""
from __future__ import annotations

import unicodedata

from custody.explained import Explained, Text, tx

# GB 32100-2015: the code uses digits and upper-case letters except I, O, Z, S and V (31 characters);
# each character's value is its index in this string.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015: weights for positions 1-17 are 3^(i-1) mod 31.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


class InvalidCreditCode(Explained, ValueError):
    """The text is not a valid unified social credit code; the message says why."""


def credit_code_check_character(first17: str) -> str:
    """The 18th character for the first 17: (31 - weighted sum mod 31) mod 31, as a code character."""
    problem = _characters_problem(first17)
    if problem or len(first17) != LENGTH - 1:
        raise InvalidCreditCode(problem or tx("need the first 17 characters, got {count}", count=len(first17)))
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(text: str) -> str:
    """The code upper-cased with full-width characters folded and spaces removed; raise if it is invalid."""
    code = _normalised(text)
    problem = _code_problem(code)
    if problem:
        raise InvalidCreditCode(problem)
    return code


def credit_code_problem(text: str) -> str | None:
    """What is wrong with `text` as a credit code, or None; for importers that collect errors as values."""
    problem = _code_problem(_normalised(text))
    return None if problem is None else str(problem)


def _normalised(text: str) -> str:
    # NFKC folds full-width letters and digits (and the ideographic space) to ASCII.
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _code_problem(code: str) -> Text | None:
    if not code:
        return tx("empty credit code")
    if len(code) != LENGTH:
        return tx("must be {length} characters, got {count}", length=LENGTH, count=len(code))
    problem = _characters_problem(code)
    if problem:
        return problem
    expected = credit_code_check_character(code[:-1])
    if code[-1] != expected:
        return tx("check character should be {expected}, got {check}", expected=expected, check=code[-1])
    return None


def _characters_problem(code: str) -> Text | None:
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            return tx("character '{char}' at position {position} is not allowed (codes use 0-9 and A-Y without I, O, "
                      "S, V or Z)", char=char, position=position)
    return None
