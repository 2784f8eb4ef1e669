"""A report's cells column by column: typed arrays that every output (table, CSV, JSON, XLSX) turns into text or
values a whole column at a time, so a report of a million rows is written without a Python object per cell.

`Rows` is a report body: named columns of equal length. A column is days (with the provisional mark), amounts in
fen, late-fee rates in steps, whole numbers, or plain Python values (text, None, Decimal, date) for the rest. The
texts are those of custody.export.text_value and json_value, cell for cell (tests/test_report_engine.py).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np

from custody.domain import PROVISIONAL_MARK, ProvisionalDate, marked
from custody.portfolio import EPOCH_ORDINAL, NAT_DAYS


class Column:
    __dataclass_fields__: ClassVar[dict[str, Any]]  # every column kind is a dataclass (_joined reads its fields)

    def __len__(self) -> int:
        raise NotImplementedError

    def take(self, rows: np.ndarray) -> Column:
        raise NotImplementedError

    def values(self) -> list[Any]:
        """The cells as the scalar reports hold them (date, ProvisionalDate, Decimal, int, str, None)."""
        raise NotImplementedError

    def provisional(self) -> np.ndarray:
        return np.zeros(len(self), bool)


@dataclass(frozen=True)
class Days(Column):
    days: np.ndarray  # day numbers since 1970-01-01; NAT_DAYS for an empty cell
    marks: np.ndarray  # provisional: the year's holiday schedule is not published

    def __len__(self) -> int:
        return len(self.days)

    def take(self, rows: np.ndarray) -> Days:
        return Days(self.days[rows], self.marks[rows])

    def present(self) -> np.ndarray:
        return self.days != NAT_DAYS

    def iso(self) -> np.ndarray:
        text = np.datetime_as_string(np.where(self.present(), self.days, 0).astype("datetime64[D]"), unit="D")
        return text.astype(object)

    def values(self) -> list[Any]:
        present, marks = self.present(), self.marks
        return [marked(date.fromordinal(int(d) + EPOCH_ORDINAL), bool(m)) if p else None
                for d, m, p in zip(self.days.tolist(), marks.tolist(), present.tolist(), strict=True)]

    def provisional(self) -> np.ndarray:
        return self.present() & self.marks


@dataclass(frozen=True)
class Fen(Column):
    fen: np.ndarray  # amounts in fen
    present: np.ndarray

    def __len__(self) -> int:
        return len(self.fen)

    def take(self, rows: np.ndarray) -> Fen:
        return Fen(self.fen[rows], self.present[rows])

    def values(self) -> list[Any]:
        return [Decimal(f).scaleb(-2) if p else None for f, p in zip(self.fen.tolist(), self.present.tolist(),
                                                                      strict=True)]


@dataclass(frozen=True)
class Steps(Column):
    """Late-fee rates as a number of steps (Rule 115: 5 % of the full fee a step)."""

    steps: np.ndarray
    present: np.ndarray
    banded: np.ndarray  # in a band of the grace period; else the rate is a plain zero (no band, fees.quote)
    step: Decimal

    def __len__(self) -> int:
        return len(self.steps)

    def take(self, rows: np.ndarray) -> Steps:
        return Steps(self.steps[rows], self.present[rows], self.banded[rows], self.step)

    def values(self) -> list[Any]:
        return [(self.step * s if b else Decimal(0)) if p else None
                for s, p, b in zip(self.steps.tolist(), self.present.tolist(), self.banded.tolist(), strict=True)]


@dataclass(frozen=True)
class Ints(Column):
    ints: np.ndarray
    present: np.ndarray

    def __len__(self) -> int:
        return len(self.ints)

    def take(self, rows: np.ndarray) -> Ints:
        return Ints(self.ints[rows], self.present[rows])

    def values(self) -> list[Any]:
        return [int(v) if p else None for v, p in zip(self.ints.tolist(), self.present.tolist(), strict=True)]


@dataclass(frozen=True)
class Objects(Column):
    """Plain Python values (text, None, a Decimal, a date): what has no faster form."""

    objects: np.ndarray  # dtype object

    def __len__(self) -> int:
        return len(self.objects)

    def take(self, rows: np.ndarray) -> Objects:
        return Objects(self.objects[rows])

    def values(self) -> list[Any]:
        return self.objects.tolist()

    def provisional(self) -> np.ndarray:
        values = self.objects.tolist()
        if ProvisionalDate not in set(map(type, values)):  # text columns: one pass in C, no list of flags
            return np.zeros(len(values), bool)
        return np.array([v.__class__ is ProvisionalDate for v in values], bool)


def objects(values: Sequence[Any]) -> Objects:
    array = np.empty(len(values), object)
    array[:] = list(values)
    return Objects(array)


def nones(n: int) -> Objects:
    return Objects(np.full(n, None, object))


@dataclass(frozen=True)
class Rows:
    """A report body: columns by key, all of one length."""

    columns: Mapping[str, Column]
    length: int

    def __len__(self) -> int:
        return self.length

    def take(self, rows: np.ndarray) -> Rows:
        return Rows({k: c.take(rows) for k, c in self.columns.items()}, len(rows))

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as the scalar reports build them (only for small reports and tests)."""
        keys = list(self.columns)
        columns = [self.columns[k].values() for k in keys]
        return [dict(zip(keys, cells, strict=True)) for cells in zip(*columns, strict=True)]


def rows_from_dicts(keys: Sequence[str], dicts: Sequence[Mapping[str, Any]]) -> Rows:
    return Rows({k: objects([d.get(k) for d in dicts]) for k in keys}, len(dicts))


def concat(parts: Sequence[Rows], keys: Sequence[str]) -> Rows:
    """The parts one after the other (each holds every key)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Rows({k: nones(0) for k in keys}, 0)
    columns = {}
    for key in keys:
        found = [p.columns[key] for p in parts]
        columns[key] = _joined(found)
    return Rows(columns, sum(len(p) for p in parts))


def _joined(found: list[Column]) -> Column:
    first = found[0]
    if all(type(c) is type(first) for c in found) and not isinstance(first, Objects):
        fields = [f for f in first.__dataclass_fields__ if f != "step"]
        joined = {f: np.concatenate([getattr(c, f) for c in found]) for f in fields}
        return type(first)(**joined, **({"step": first.step} if isinstance(first, Steps) else {}))
    return Objects(np.concatenate([_as_objects(c) for c in found]))


def _as_objects(column: Column) -> np.ndarray:
    if isinstance(column, Objects):
        return column.objects
    array = np.empty(len(column), object)
    array[:] = column.values()
    return array


def mark_text(text: np.ndarray, marks: np.ndarray) -> np.ndarray:
    out = text.copy()
    out[marks] = out[marks] + PROVISIONAL_MARK
    return out


def is_date_value(value: Any) -> bool:
    return isinstance(value, (date, datetime))
