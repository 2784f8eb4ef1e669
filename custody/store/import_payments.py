"""Writing imported payments: a payment identical to one on record (patent, year, amount, date) is the same
payment, so re-importing a payments file adds nothing. The paid-through advances they make arrive as patent rows
(importers/payments.py) and go through custody.store.import_patents."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection

from custody.domain import yuan
from custody.models import Patent, Payment
from custody.store.bulk import insert_rows
from custody.store.import_batch import Outcome
from custody.store.import_patents import AUDIT, AUDIT_COLUMNS
from custody.store.patents import payment_change_text

PATENT = Patent.__table__
PAYMENT = Payment.__table__


def write_payments(conn: Connection, outcome: Outcome, source: str, now: datetime, rows: Sequence[tuple],
                   import_id: int | None = None) -> None:
    """Insert the payments not on record yet (patent, year, amount, date identical: the same payment), each with
    its line in the patent's audit trail, as `custody pay` writes it."""
    numbers = sorted({r[0] for r in rows})
    query = sa.select(PATENT.c.id, PATENT.c.application_number).where(PATENT.c.application_number.in_(numbers))
    ids = {r.application_number: r.id for r in conn.execute(query)}
    query = sa.select(PAYMENT.c.patent_id, PAYMENT.c.year, PAYMENT.c.amount, PAYMENT.c.paid_on)
    on_record = {(p.patent_id, p.year, Decimal(p.amount), p.paid_on)
                 for p in conn.execute(query.where(PAYMENT.c.patent_id.in_(ids.values() or [-1])))}
    new, audit = [], []
    for number, year, amount, paid_on, note in rows:
        if number not in ids:
            raise ValueError(f"payment for patent {number}, which is not on record")
        key = (ids[number], year, Decimal(amount), paid_on)
        if key in on_record:
            outcome.table("payment").unchanged += 1
            continue
        on_record.add(key)
        new.append((ids[number], year, amount, paid_on, source, note))
        audit.append((ids[number], "payment", None, payment_change_text(year, yuan(amount), paid_on), import_id,
                      source, now))
        outcome.note_new("payment", f"{number}:{year}:{amount}:{paid_on.isoformat()}")
    insert_rows(conn, PAYMENT, ("patent_id", "year", "amount", "paid_on", "source", "note"), new,
                constants={"recorded_at": now})
    insert_rows(conn, AUDIT, AUDIT_COLUMNS, audit)
