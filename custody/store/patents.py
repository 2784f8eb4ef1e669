"""Reading and recording patents and their annual-fee payments.

`facts_of` is the bridge from the tables to the pure fee engine (custody.fees works on PatentFacts only).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from custody.appno import InvalidApplicationNumber, parse_application_number
from custody.domain import DatePeriod, PatentFacts, PatentType, Reduction, yuan
from custody.models import OpenLicence, Patent, PatentChange, Payment
from custody.models.core import utc_now


def canonical_number(number: str) -> str:
    """`number` in the canonical stored form when it reads as an application number, else stripped as given."""
    try:
        return str(parse_application_number(number))
    except InvalidApplicationNumber:
        return number.strip()


def patent_by_number(session: Session, number: str) -> Patent | None:
    """The patent with this application number (any common spelling: ZL…, no dot, full-width), or None."""
    statement = select(Patent).where(Patent.application_number == canonical_number(number))
    return session.exec(statement).first()


def paid_years_of(session: Session, patent: Patent) -> frozenset[int]:
    """Every patent year with at least one payment on record (a top-up adds a row, not a year)."""
    statement = select(Payment.year).where(Payment.patent_id == patent.id).distinct()
    return frozenset(session.exec(statement).all())


def open_licences_of(session: Session, patent: Patent) -> tuple[DatePeriod, ...]:
    statement = select(OpenLicence).where(OpenLicence.patent_id == patent.id).order_by(OpenLicence.start)
    return tuple(DatePeriod(row.start, row.end) for row in session.exec(statement).all())


def facts_of(session: Session, patent: Patent) -> PatentFacts:
    """What the fee engine needs about `patent`; paid_through is the stored value, not recomputed."""
    return patent_facts(patent, paid_years_of(session, patent), open_licences_of(session, patent))


def patent_facts(patent: Patent, paid_years: Iterable[int], open_licences: Iterable[DatePeriod]) -> PatentFacts:
    """`patent`'s row as the fee engine's facts, given its paid years and open-licence periods: the one place a
    stored patent becomes PatentFacts (`custody patent show`, the reports and the planner must all agree)."""
    return PatentFacts(
        type=PatentType(patent.type),
        filing_date=patent.filing_date,
        grant_year=patent.grant_year,
        granted_on=patent.granted_on,
        paid_through=patent.paid_through,
        paid_years=frozenset(paid_years),
        reduction=Reduction(patent.reduction),
        open_licences=tuple(open_licences),
        term_extension_days=patent.term_extension_days,
        application_number=patent.application_number,
        reduction_recorded_on=patent.reduction_recorded_on,
        restored_on=patent.restored_on,
        reduction_refile_on=patent.reduction_refile_on,
    )


def add_payment(
    session: Session,
    patent: Patent,
    year: int,
    amount: Decimal | int | str,
    paid_on: date,
    source: str,
    note: str | None = None,
) -> Payment:
    """Record a payment for patent year `year` and advance `patent.paid_through` over any run it completes.

    paid_through only ever rises: to the highest N such that every year after the current paid_through up
    to N has a payment. A payment for a later year leaves a gap, and paid_through waits until it is filled.
    The audit trail (patent_change) gets the payment and any paid-through change, with `source`.
    """
    if year < 1:
        raise ValueError(f"patent year must be 1 or more, not {year}")
    # Lock the patent row (PostgreSQL) so two recorders cannot both read the old paid_through and lose an advance.
    session.flush()
    session.refresh(patent, with_for_update=True)
    payment = Payment(
        patent_id=patent.id, year=year, amount=yuan(amount), paid_on=paid_on, source=source, note=note
    )
    session.add(payment)
    session.flush()
    before = patent.paid_through
    _advance_paid_through(patent, paid_years_of(session, patent))
    session.add(patent)
    changes = [("payment", None, payment_change_text(year, payment.amount, paid_on))]
    if patent.paid_through != before:
        changes.append(("paid_through", before, patent.paid_through))
    session.add_all(PatentChange(patent_id=patent.id, field=name, old_value=_text(old), new_value=_text(new),
                                 source=source) for name, old, new in changes)
    session.flush()
    return payment


def payment_change_text(year: int, amount: Decimal, paid_on: date) -> str:
    """A payment as the audit trail (patent_change, field "payment") records it, from `pay` or an import."""
    return f"year {year}: {amount} paid on {paid_on.isoformat()}"


def record_payment(session: Session, patent: Patent, year: int, amount: Decimal | int | str, paid_on: date,
                   source: str, note: str | None = None, now: datetime | None = None) -> Payment:
    """`add_payment`, then cancel at once every reminder for that fee that is planned and not yet sent
    (planning and dispatch would catch it too, but only on their next run)."""
    payment = add_payment(session, patent, year, amount, paid_on, source, note)
    if sa.inspect(session.connection()).has_table("reminder_item"):
        from custody.reasons import reason
        from custody.store.cancel import cancel_planned_for  # reminders are a later layer of the store

        cancel_planned_for(session, patent.id, reason("paid"), now or utc_now(), year=year)
    return payment


def record_paid_through(session: Session, patent: Patent, year: int, source: str) -> bool:
    """Advance `patent.paid_through` to `year` (and over any paid run after it) on evidence other than a payment
    row, such as a restoration; audited like a payment's advance. Never lowers it; True when it moved."""
    before = patent.paid_through
    end = paid_run_end(paid_years_of(session, patent), year)
    if before is not None and end <= before:
        return False
    patent.paid_through, patent.paid_through_inferred = end, False
    session.add(patent)
    session.add(PatentChange(patent_id=patent.id, field="paid_through", old_value=_text(before),
                             new_value=_text(end), source=source[:200]))
    return True


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _advance_paid_through(patent: Patent, paid_years: frozenset[int]) -> None:
    start = _last_year_known_paid(patent, paid_years)
    end = paid_run_end(paid_years, start)
    # Only a run of at least one paid year moves it: an unknown paid_through stays unknown across a gap.
    if end > start:
        patent.paid_through = end
        # A payment on record for year `end` is evidence, not an inference.
        patent.paid_through_inferred = False


def _last_year_known_paid(patent: Patent, paid_years: frozenset[int]) -> int:
    """Where the run of paid years starts from when paid_through is not yet known."""
    if patent.paid_through is not None:
        return patent.paid_through
    # Annual fees start with the grant year (Rule 114, old Rule 97: its fee is paid on registration), so the run
    # starts there; with no grant year either, it starts at the earliest year we hold a payment for.
    if patent.grant_year is not None:
        return patent.grant_year - 1
    return min(paid_years) - 1


def paid_run_end(paid_years: frozenset[int], paid_through: int) -> int:
    """The highest year N such that every year from paid_through + 1 to N is in `paid_years`."""
    end = paid_through
    while end + 1 in paid_years:
        end += 1
    return end


def payments_of(session: Session, patent: Patent) -> list[Payment]:
    statement = select(Payment).where(Payment.patent_id == patent.id).order_by(Payment.year, Payment.paid_on)
    return list(session.exec(statement).all())


def payments_total(session: Session, patent: Patent, year: int) -> Decimal:
    """Everything already paid towards patent year `year` (several rows when topped up)."""
    return sum((p.amount for p in payments_of(session, patent) if p.year == year), Decimal("0"))


def set_reduction(session: Session, patent: Patent, reduction: Reduction, recorded_on: date | None,
                  source: str) -> list[tuple[str, str | None, str | None]]:
    """Record the owner's fee reduction (费减备案) as filed: the reduction and its recording day, and an end to any
    wait for a re-filing after a transfer. Every change goes to the audit trail (patent_change); returns them as
    (field, old, new)."""
    wanted = {"reduction": reduction.value, "reduction_recorded_on": recorded_on, "reduction_refile_on": None}
    changes = []
    for name, new in wanted.items():
        old = getattr(patent, name)
        old = old.value if isinstance(old, Reduction) else old
        if old != new:
            changes.append((name, _text(old.isoformat() if isinstance(old, date) else old),
                            _text(new.isoformat() if isinstance(new, date) else new)))
    if not changes:
        return []
    patent.reduction, patent.reduction_recorded_on, patent.reduction_refile_on = reduction, recorded_on, None
    session.add(patent)
    session.add_all(PatentChange(patent_id=patent.id, field=name, old_value=old, new_value=new, source=source)
                    for name, old, new in changes)
    session.flush()
    return changes


def stored_facts(url: str, number: str) -> PatentFacts | None:
    """The stored facts of patent `number` at `url` (`custody fees APPNO`); None when it is not stored, or when there
    is no database yet (the calculator works without one). A database that cannot be reached raises."""
    from sqlalchemy.exc import ProgrammingError

    from custody.store.calendar import _sqlite_file_exists
    from custody.store.db import engine_for

    if url.startswith("sqlite:///") and not _sqlite_file_exists(url):
        return None
    engine = engine_for(url)
    try:
        with Session(engine) as session:
            if not sa.inspect(engine).has_table(Patent.__tablename__):
                return None
            patent = patent_by_number(session, number)
            return facts_of(session, patent) if patent is not None else None
    except ProgrammingError:
        return None
    finally:
        engine.dispose()
