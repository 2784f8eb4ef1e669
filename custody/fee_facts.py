"""`custody fees APPNO`: the facts to compute with, from the stored patent, from the options, or both.

With no fact given the stored patent is read as it is (the same PatentFacts `patent show` and the reports use:
custody.store.patents.patent_facts). A fact given on the command line overrides the stored one, and the command
says which it overrode, so a what-if quote is never mistaken for the patent on record. Without a stored patent the
options are the whole story and the filing date is required.
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from custody.domain import PatentFacts, PatentType, Reduction
from custody.explained import Explained, tx

# What an option leaves unsaid when no patent is stored.
DEFAULTS: dict[str, Any] = {"reduction": Reduction.NONE, "term_extension_days": 0}
# Options that are facts, by the PatentFacts field they set (grant year and date go together: one replaces both).
LINKED = {"grant_year": ("granted_on",), "granted_on": ("grant_year",)}


class MissingFacts(Explained, ValueError):
    """Neither a stored patent nor --filed: nothing to compute with."""


def quoted_facts(stored: PatentFacts | None, given: dict[str, Any], patent_type: PatentType,
                 number: str | None) -> tuple[PatentFacts, list[str]]:
    """The facts to quote with and the names of the stored facts the options overrode (in PatentFacts order)."""
    given = {k: v for k, v in given.items() if v is not None and v != ()}
    if stored is None:
        if "filing_date" not in given:
            raise MissingFacts(tx("give --filed (and the other facts): no such patent is stored"))
        return PatentFacts(type=patent_type, application_number=number, **{**DEFAULTS, **given}), []
    cleared: dict[str, Any] = {linked: None for name in given for linked in LINKED.get(name, ())}
    names = [f.name for f in fields(PatentFacts)]
    overridden = [n for n in names if n in given and given[n] != getattr(stored, n)]
    if "paid_through" in given:  # the years paid after a gap are the stored patent's; a what-if starts afresh
        cleared["paid_years"] = frozenset()
    return replace(stored, **{**cleared, **given}), overridden
