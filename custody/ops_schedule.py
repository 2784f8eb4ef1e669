"""When the OPS watch checks a patent, and how much of the weekly quota it may use. Pure: takes `now`.

The rule in four sentences. Every watched patent (custody and watch-only, not ended) is checked every
`interval_days`; one whose state makes news urgent (a fee in its grace period, terminated and still restorable, a
transfer on hold) every `urgent_interval_days`. A patent's first check falls at a fixed point of the first interval
(its `phase`, from its id), so the checks spread evenly over the week instead of coming all at once. A run stops
for the day once the last seven days' volume reaches `stop_at_percent` of `weekly_quota_mb` (the larger of our
count and the figure OPS reports), and pauses whenever OPS refuses (quota, black light) or is overloaded.
A check that failed is tried again after `retry_hours`, doubling up to the interval.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from custody.config_error import ConfigError
from custody.explained import tx

DEFAULT_BASE_URL = "https://ops.epo.org/3.2"
KEY_ENV, SECRET_ENV = "CUSTODY_OPS_KEY", "CUSTODY_OPS_SECRET"
BYTES_PER_MB = 1_000_000  # decimal megabytes: the smaller unit, so the quota is never overrun by the unit
GOLDEN = 0.6180339887498949  # consecutive ids land far apart in [0, 1)
QUOTA_WINDOW_DAYS = 7
# Pauses OPS asks for, by the reason it gave (403 X-Rejection-Reason, a black light, overload).
PAUSES = {"hour": timedelta(hours=1), "week": timedelta(days=1), "refused": timedelta(hours=1),
          "black": timedelta(minutes=10), "unavailable": timedelta(minutes=15)}


@dataclass(frozen=True)
class OpsSettings:
    """[status.ops] in config.toml, checked."""

    enabled: bool = True
    base_url: str = DEFAULT_BASE_URL
    interval_days: int = 7
    urgent_interval_days: int = 1
    weekly_quota_mb: int = 2500
    stop_at_percent: int = 90
    max_checks_per_run: int = 1000
    run_every_minutes: int = 30
    retry_hours: int = 6
    overloaded_pause_minutes: int = 30
    timeout_seconds: float = 30.0

    @property
    def interval(self) -> timedelta:
        return timedelta(days=self.interval_days)

    @property
    def urgent_interval(self) -> timedelta:
        return timedelta(days=self.urgent_interval_days)

    @property
    def stop_bytes(self) -> int:
        return self.weekly_quota_mb * BYTES_PER_MB * self.stop_at_percent // 100


_BOUNDS: dict[str, tuple[type, float, float]] = {
    "interval_days": (int, 1, 90), "urgent_interval_days": (int, 1, 90), "weekly_quota_mb": (int, 1, 1_000_000),
    "stop_at_percent": (int, 10, 100), "max_checks_per_run": (int, 1, 100_000), "run_every_minutes": (int, 1, 1440),
    "retry_hours": (int, 1, 168), "overloaded_pause_minutes": (int, 1, 1440), "timeout_seconds": (float, 1, 300),
}


def ops_settings(section: Mapping[str, Any], origin: str = "config") -> OpsSettings:
    """Settings from [status.ops]; a wrong type, an unknown key or a value out of bounds is a ConfigError."""
    unknown = sorted(set(section) - set(_BOUNDS) - {"enabled", "base_url"})
    if unknown:
        raise ConfigError(tx("{where}: [status.ops] has unknown key(s): {keys}", where=origin, keys=", ".join(unknown)))
    values: dict[str, Any] = {}
    for key, (kind, low, high) in _BOUNDS.items():
        if key in section:
            values[key] = _bounded(section[key], key, kind, low, high, origin)
    if "enabled" in section and not isinstance(section["enabled"], bool):
        raise ConfigError(tx("{where}: [status.ops] enabled must be true or false", where=origin))
    base_url = section.get("base_url", DEFAULT_BASE_URL)
    if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
        raise ConfigError(tx("{where}: [status.ops] base_url must be an http(s) URL, got {value!r}", where=origin,
                             value=base_url))
    settings = OpsSettings(section.get("enabled", True), base_url.rstrip("/"), **values)
    if settings.urgent_interval_days > settings.interval_days:
        raise ConfigError(tx("{where}: [status.ops] urgent_interval_days ({urgent}) is longer than interval_days "
                             "({interval})", where=origin, urgent=settings.urgent_interval_days,
                             interval=settings.interval_days))
    return settings


def _bounded(value: Any, key: str, kind: type, low: float, high: float, origin: str) -> Any:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or (kind is int and not isinstance(value, int)) or not low <= value <= high:
        message = ("{where}: [status.ops] {key} must be a whole number from {low:g} to {high:g}, got {value!r}"
                   if kind is int else "{where}: [status.ops] {key} must be a number from {low:g} to {high:g}, got "
                   "{value!r}")
        raise ConfigError(tx(message, where=origin, key=key, low=low, high=high, value=value))
    return kind(value)


def phase(patent_id: int) -> float:
    """Where in the interval a patent's checks fall, in [0, 1): fixed by its id, spread evenly."""
    return (patent_id * GOLDEN) % 1.0


def first_check_at(started_at: datetime, patent_id: int, settings: OpsSettings) -> datetime:
    return started_at + settings.interval * phase(patent_id)


def next_check_at(now: datetime, is_urgent: bool, settings: OpsSettings) -> datetime:
    return now + (settings.urgent_interval if is_urgent else settings.interval)


def retry_at(now: datetime, failures: int, settings: OpsSettings) -> datetime:
    """After the n-th failure in a row: retry_hours, doubling, never later than the interval."""
    wait = timedelta(hours=settings.retry_hours) * (2 ** min(max(failures - 1, 0), 10))
    return now + min(wait, settings.interval)


def week_bytes(counted: int, reported: int | None) -> int:
    """The volume of the last seven days: ours, or OPS's own figure when it reports a larger one."""
    return max(counted, reported or 0)


def is_quota_near(used: int, settings: OpsSettings) -> bool:
    return used >= settings.stop_bytes


def start_of_next_day(now_local: datetime) -> datetime:
    """Midnight after `now_local` (an aware Asia/Shanghai time): "stop for the day" resumes then."""
    return (now_local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
