"""What CNIPA's and the platforms' legal-status wording means for fees: in force, pending, or ended.

The wording itself is stored as written (the status watch compares it later); only its meaning is used here,
to infer the paid-through year of a patent still in force. Unknown wording infers nothing.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

IN_FORCE = "in_force"
PENDING = "pending"
ENDED = "ended"

# Checked in order: "未缴年费终止" must hit ENDED before anything else matches a part of it.
_MEANINGS: tuple[tuple[str, str], ...] = (
    ("终止", ENDED), ("失效", ENDED), ("无效", ENDED), ("放弃", ENDED), ("驳回", ENDED), ("撤回", ENDED),
    ("届满", ENDED), ("无权", ENDED), ("lapsed", ENDED), ("expired", ENDED), ("invalid", ENDED),
    ("abandoned", ENDED), ("withdrawn", ENDED), ("rejected", ENDED), ("terminated", ENDED),
    ("在审", PENDING), ("审中", PENDING), ("实审", PENDING), ("实质审查", PENDING), ("受理", PENDING),
    ("公开", PENDING), ("待审", PENDING), ("pending", PENDING), ("under examination", PENDING),
    ("有效", IN_FORCE), ("维持", IN_FORCE), ("有权", IN_FORCE), ("授权", IN_FORCE), ("专利权", IN_FORCE),
    ("in force", IN_FORCE), ("valid", IN_FORCE), ("granted", IN_FORCE), ("active", IN_FORCE), ("alive", IN_FORCE),
)


@lru_cache(maxsize=4096)
def meaning(status: str) -> str | None:
    """IN_FORCE, PENDING, ENDED, or None when the wording is not recognised."""
    folded = unicodedata.normalize("NFKC", status).strip().lower()
    return next((m for word, m in _MEANINGS if word in folded), None)
