"""The periods `report forecast` totals fees by: calendar years from this one, or, when this year is nearly over,
twelve-month periods from today (a December forecast would otherwise open with a "year" of three weeks).

One place decides both the periods and which period a day falls in, for the scalar reference
(custody.report_figures) and the vectorised engine (custody.report_totals) alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from custody.fees import add_months

# From this many days before the year's end, the forecast looks at the next twelve months instead.
NEARLY_OVER_DAYS = 31
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class ForecastSpan:
    start: date  # 1 January of this year, or today
    years: int
    rolling: bool  # twelve-month periods from `start` rather than calendar years

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f"y{self.start.year + i}" if not self.rolling else f"p{i + 1}" for i in range(self.years))

    def bounds(self, i: int) -> tuple[date, date]:
        """The first and last day of period `i`."""
        return add_months(self.start, 12 * i), add_months(self.start, 12 * (i + 1)) - timedelta(days=1)

    def heading(self, i: int) -> str:
        if not self.rolling:
            return str(self.start.year + i)
        first, last = self.bounds(i)
        return f"{first:%Y-%m}~{last:%Y-%m}"

    @property
    def title_span(self) -> str:
        if not self.rolling:
            return f"{self.start.year}-{self.start.year + self.years - 1}"
        return f"{self.start} ~ {self.bounds(self.years - 1)[1]}"

    def index_of(self, day: date) -> int:
        """Which period `day` falls in (negative before the first)."""
        months = (day.year - self.start.year) * 12 + day.month - self.start.month - (day.day < self.start.day)
        return months // 12

    def indexes(self, days: np.ndarray) -> np.ndarray:
        """index_of for day numbers since 1970-01-01 (int64)."""
        as_days = days.astype("datetime64[D]")
        months = as_days.astype("datetime64[M]").astype(np.int64)
        day_of_month = (as_days - as_days.astype("datetime64[M]")).astype(np.int64) + 1
        start_months = (self.start.year - 1970) * 12 + self.start.month - 1
        return (months - start_months - (day_of_month < self.start.day)) // 12


def forecast_span(today: date, years: int, calendar_years: bool = False) -> ForecastSpan:
    """Calendar years from this one; the next twelve months on when fewer than NEARLY_OVER_DAYS are left, unless
    `calendar_years` (the enterprise statement: a table of whole years)."""
    left = (date(today.year, 12, 31) - today).days
    if left < NEARLY_OVER_DAYS and not calendar_years:
        return ForecastSpan(today, years, True)
    return ForecastSpan(date(today.year, 1, 1), years, False)


def span_notes(span: ForecastSpan) -> tuple[str, ...]:
    """What the report says about its periods when they are not calendar years."""
    if not span.rolling:
        return ()
    from custody.i18n import tr

    return (tr("{year} is nearly over: the forecast is by twelve-month periods from {start} (first: {first} to "
               "{last})", year=span.start.year, start=span.start, first=span.bounds(0)[0], last=span.bounds(0)[1]),)
