"""A stored patent's page as `custody patent show` prints it (and --format json gives it): the fee schedule on a
day, the patent's facts and enterprise, its open licences and payments, the amounts owed, the import flags, and
the custody facts every report shows (custody.display).
"""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from custody.display import evaluate, patent_display
from custody.fees import fee_schedule
from custody.models import Enterprise, Patent
from custody.ruleset import RuleSet
from custody.store.calendar import calendar_from
from custody.store.patents import facts_of, open_licences_of, payments_of
from custody.store.reports import portfolio
from custody.views import display_dict, mark_amounts_owed, mark_import_flags, number, schedule_dict


def patent_page(session: Session, patent: Patent, rules: RuleSet, as_of: date) -> dict[str, Any]:
    """The page of `patent` as of `as_of`, under `rules` and the loaded holiday schedules."""
    schedule = fee_schedule(facts_of(session, patent), rules, calendar_from(session))
    view = schedule_dict(schedule, as_of)
    view["patent"] = _patent_dict(patent)
    enterprise = session.get(Enterprise, patent.enterprise_id) if patent.enterprise_id else None
    view["patent"]["enterprise"] = ({"credit_code": enterprise.credit_code, "name": enterprise.name}
                                    if enterprise else None)
    view["patent"]["open_licences"] = [{"start": period.start.isoformat(),
                                        "end": period.end.isoformat() if period.end else None}
                                       for period in open_licences_of(session, patent)]
    payments = payments_of(session, patent)
    view["payments"] = [{"year": p.year, "amount": number(p.amount), "paid_on": p.paid_on.isoformat(),
                         "source": p.source, "note": p.note} for p in payments]
    mark_import_flags(view, bool(patent.paid_through_inferred), patent.unknown_through,
                      {p["year"] for p in view["payments"]})
    mark_amounts_owed(view, schedule, [(p.year, p.amount, p.paid_on) for p in payments])
    view["custody"] = _displayed(session, patent, rules, date.fromisoformat(view["as_of"]))
    return view


def _displayed(session: Session, patent: Patent, rules: RuleSet, day: date) -> dict[str, Any]:
    """The patent's facts as every report shows them (custody.display): state, next fee, reduction, decision,
    pledge, mode."""
    (evaluated,), _ = evaluate(portfolio(session, patent_id=patent.id), rules, calendar_from(session), day)
    return display_dict(patent_display(evaluated, day))


def _patent_dict(patent) -> dict[str, Any]:
    fields = ("application_number", "title", "owners", "type", "filing_date", "granted_on", "grant_year",
              "grant_year_inferred", "paid_through", "paid_through_inferred", "reduction", "reduction_recorded_on",
              "term_extension_days", "legal_status", "legal_status_date", "mode")
    return {f: (v.isoformat() if isinstance(v, date) else (str(v) if isinstance(v, StrEnum) else v))
            for f in fields for v in [getattr(patent, f)]}

