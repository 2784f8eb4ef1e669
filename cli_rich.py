"""The fee schedule and payments drawn with rich for `custody fees` and `custody patent show`.

The core (custody.fee_text) says what the lines and tables hold, as plain text; this module only draws them, so
the terminal library stays outside custody/ (issue 12). cli.py is its only user.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from custody.fee_text import (
    NO_PAYMENTS,
    TextTable,
    owed_lines,
    payments_table,
    schedule_lines_after,
    schedule_lines_before,
    schedule_table,
)


def rich_table(table: TextTable) -> Table:
    drawn = Table(title=table.title)
    for heading in table.headings:
        drawn.add_column(heading)
    for row in table.rows:
        drawn.add_row(*row)
    return drawn


def print_schedule(console: Console, view: dict[str, Any]) -> None:
    for line in schedule_lines_before(view):
        console.print(line)
    console.print(rich_table(schedule_table(view)))
    for line in schedule_lines_after(view):
        console.print(line)


def print_payments(console: Console, payments: Sequence[dict[str, Any]], owed: Sequence[dict[str, Any]] = ()) -> None:
    if not payments:
        console.print(NO_PAYMENTS)
        return
    console.print(rich_table(payments_table(payments)))
    for line in owed_lines(owed):
        console.print(line)
