"""The [reminders] section of config.toml as frozen values: tiers, send windows, digests, retries, health.

Every key has a documented default (config.toml shows them all), so an empty section means the default policy:
email 90/60/30/15/7/1 days before the due date, SMS 30/7/1; in the grace period SMS and email 3 days before and
on the day each 5 % rise of the late fee, escalating to the legal representative from the 15 % band; 15, 3 and
1 days before the grace end to every contact and the operator's call list; a lapse notice the day after; once
CNIPA's termination notice for non-payment is on record (the legal-status watch), restoration reminders on the
notice day and 30, 15 and 3 days before the last day to request restoration, to every contact and the operator.
Pure: parsing only; the clock is never read. Errors are `ConfigError`s naming the key.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from custody.clock import SHANGHAI
from custody.config_error import ConfigError
from custody.explained import tx
from custody.reminder_policy import ANCHORS, KINDS, RESTORATION_ANCHORS, Tier

# The contact roles of custody.models.core.CONTACT_ROLES (kept equal by a test), plus two audience words: "all"
# (every contact but pledgees) and "operator" (the operator's call list: configured, never an enterprise contact).
CONTACT_ROLES = ("ip_manager", "legal_rep", "finance", "pledgee", "other")
AUDIENCE_WORDS = ("all", "operator")
EVERY_CONTACT = ("ip_manager", "legal_rep", "finance", "other")  # "all": pledgees only when named
CHANNELS = ("sms", "email", "file", "webhook")

DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("before_due", "due_date", (-90, -60, -30, -15, -7, -1), ("email",), ("ip_manager", "finance")),
    Tier("before_due_sms", "due_date", (-30, -7, -1), ("sms",), ("ip_manager",)),
    Tier("late_fee_rise", "late_fee_rise", (-3, 0), ("sms", "email"), ("ip_manager", "finance"),
         escalate_from_rate=Decimal("0.15"), escalate_to=("legal_rep",)),
    Tier("grace_end", "grace_end", (-15, -3, -1), ("sms", "email"), ("all", "operator")),
    Tier("lapsed", "grace_end", (1,), ("sms", "email"), ("all", "operator"), kind="lapse"),
    Tier("restoration_notice", "notice", (0,), ("sms", "email"), ("all", "operator"), kind="restore"),
    Tier("restoration", "restore_by", (-30, -15, -3), ("sms", "email"), ("all", "operator"), kind="restore"),
)


@dataclass(frozen=True)
class SendWindow:
    """Hours of the day (Asia/Shanghai) a channel may send in; outside them a message waits for the next start."""

    start: time
    end: time

    def allows(self, moment: datetime) -> bool:
        return self.start <= moment.astimezone(SHANGHAI).time() < self.end

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when the window is open, else the next time it opens."""
        local = moment.astimezone(SHANGHAI)
        if self.allows(local):
            return moment
        day = local.date() if local.time() < self.start else local.date() + timedelta(days=1)
        return datetime.combine(day, self.start, SHANGHAI)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 60.0
    factor: float = 3.0
    max_seconds: float = 6 * 3600.0
    max_attempts: int = 10  # then the message has failed for good: fallback channel and operator alert

    def delay(self, attempt: int, at_least: float | None = None) -> timedelta:
        """Wait before attempt `attempt + 1`: exponential, capped, never less than the provider asked for."""
        seconds = min(self.max_seconds, self.base_seconds * self.factor ** max(attempt - 1, 0))
        return timedelta(seconds=max(seconds, at_least or 0.0))


@dataclass(frozen=True)
class HealthThresholds:
    plan_max_age_minutes: int = 26 * 60  # planning runs daily
    dispatch_max_age_minutes: int = 10  # dispatch runs every minute
    receipts_max_age_minutes: int = 60  # receipts every 10 minutes
    overdue_minutes: int = 30  # a message this late past its time that is still not sent is stuck


@dataclass(frozen=True)
class CallListEntry:
    """One person on the operator's own call list (audience "operator")."""

    name: str
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ReminderSettings:
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    send_windows: Mapping[str, SendWindow] = field(
        default_factory=lambda: {"sms": SendWindow(time(9), time(20))})
    digest: bool = True
    lapse_notice_days: int = 60
    fallback: Mapping[str, str] = field(default_factory=lambda: {"sms": "email", "email": "sms"})
    call_list: tuple[CallListEntry, ...] = ()
    alert_channel: str = "webhook"
    retry: RetryPolicy = RetryPolicy()
    claim_timeout_seconds: int = 600  # a 'sending' claim older than this belongs to a dead worker
    unknown_recheck_seconds: int = 120  # wait before looking up a message whose outcome was unknown
    pause_minutes: int = 60  # how long a channel rests after an account/credential error
    daily_cap: Mapping[str, int] = field(default_factory=lambda: {"sms": 40})
    batch_size: int = 50
    receipts_hours: int = 72  # how long to keep asking for an SMS's delivery report
    health: HealthThresholds = HealthThresholds()
    # Not a [reminders] key: the channels the configuration can send on ([sms] / [email] enabled, or the file
    # outbox standing in for them), set by the caller (cli.py). Reminders and fallbacks are planned on no other
    # channel: a row on a disabled channel would stay planned for ever. None: every channel (tests, library use).
    sending_channels: frozenset[str] | None = None

    def can_send(self, channel: str) -> bool:
        return self.sending_channels is None or channel in self.sending_channels

    def window_for(self, channel: str) -> SendWindow | None:
        return self.send_windows.get(channel)

    def send_time(self, channel: str, moment: datetime) -> datetime:
        window = self.window_for(channel)
        return window.next_open(moment) if window else moment

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that decides *when* a tier fires changes (so due rows are recomputed). The
        sending channels are part of it: a channel just enabled gets the tiers live today at once (custody.store.due
        fires a refreshed row today when a tier is live)."""
        channels = sorted(self.sending_channels) if self.sending_channels is not None else None
        return repr((self.tiers, self.lapse_notice_days, channels))


def _fail(key: str, problem: Any) -> ConfigError:
    return ConfigError(tx("[reminders] {key}: {problem}", key=key, problem=problem))


def _clock_time(value: Any, key: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise _fail(key, tx("{value!r} is not a time like 09:00", value=value)) from None


def _strings(value: Any, key: str, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(key, tx("must be a list of strings"))
    bad = [v for v in value if allowed is not None and v not in allowed]
    if bad:
        raise _fail(key, tx("{bad} not one of {allowed}", bad=", ".join(bad), allowed=", ".join(allowed or ())))
    return tuple(value)


def _offsets(raw: Mapping[str, Any], key: str) -> tuple[int, ...]:
    before = raw.get("days_before", [])
    after = raw.get("days_after", [])
    if not all(isinstance(d, int) and d >= 0 for d in [*before, *after]):
        raise _fail(key, tx("days_before / days_after must be lists of whole days (0 or more)"))
    offsets = tuple(sorted({-d for d in before} | set(after)))
    if not offsets:
        raise _fail(key, tx("give days_before and/or days_after"))
    return offsets


def _rate(value: Any, key: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _fail(key, tx("{value!r} is not a rate like 0.15", value=value)) from None


def parse_tier(raw: Mapping[str, Any], index: int) -> Tier:
    key = f"tiers[{index}]"
    name = raw.get("name") or f"tier{index}"
    anchor = raw.get("anchor")
    if anchor not in ANCHORS:
        raise _fail(f"{key}.anchor", tx("{value!r} not one of {allowed}", value=anchor, allowed=", ".join(ANCHORS)))
    kind = raw.get("kind", "restore" if anchor in RESTORATION_ANCHORS else "fee")
    if kind not in KINDS:
        raise _fail(f"{key}.kind", tx("{value!r} not one of {allowed}", value=kind, allowed=", ".join(KINDS)))
    if (kind == "restore") != (anchor in RESTORATION_ANCHORS):
        # Restoration tiers hang on the termination notice, which only the legal-status watch knows.
        raise _fail(f"{key}.kind", tx("kind restore goes with anchor {anchors}, and only it",
                                      anchors=" or ".join(RESTORATION_ANCHORS)))
    audience_words = CONTACT_ROLES + AUDIENCE_WORDS
    return Tier(
        name=str(name), anchor=anchor, offsets=_offsets(raw, key), kind=kind,
        channels=_strings(raw.get("channels", []), f"{key}.channels", CHANNELS),
        audience=_strings(raw.get("audience", []), f"{key}.audience", audience_words),
        escalate_from_rate=_rate(raw.get("escalate_from_rate"), f"{key}.escalate_from_rate"),
        escalate_to=_strings(raw.get("escalate_to", []), f"{key}.escalate_to", audience_words),
    )


def _windows(raw: Mapping[str, Any]) -> dict[str, SendWindow]:
    windows = {}
    for channel, pair in raw.items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise _fail(f"send_hours.{channel}", tx("must be a pair of times [HH:MM, HH:MM]"))
        start, end = (_clock_time(v, f"send_hours.{channel}") for v in pair)
        if not start < end:
            raise _fail(f"send_hours.{channel}", tx("the start must come before the end"))
        windows[channel] = SendWindow(start, end)
    return windows


def _call_list(raw: Any) -> tuple[CallListEntry, ...]:
    if not isinstance(raw, list):
        raise _fail("call_list", tx("must be a list of tables with name, mobile and email"))
    return tuple(CallListEntry(str(e.get("name", "")), e.get("mobile"), e.get("email")) for e in raw)


def _dataclass_from(cls: type, raw: Mapping[str, Any], key: str) -> Any:
    try:
        return cls(**raw)
    except TypeError as exc:
        raise _fail(key, str(exc)) from None


def reminder_settings(section: Mapping[str, Any]) -> ReminderSettings:
    """The [reminders] section parsed; missing keys keep the defaults above."""
    defaults = ReminderSettings()
    tiers = section.get("tiers")
    found: dict[str, Any] = {
        "tiers": tuple(parse_tier(t, i) for i, t in enumerate(tiers)) if tiers is not None else defaults.tiers,
        "send_windows": _windows(section["send_hours"]) if "send_hours" in section else defaults.send_windows,
        "call_list": _call_list(section.get("call_list", [])),
        "retry": _dataclass_from(RetryPolicy, section.get("retry", {}), "retry"),
        "health": _dataclass_from(HealthThresholds, section.get("health", {}), "health"),
    }
    for name in ("digest", "lapse_notice_days", "alert_channel", "claim_timeout_seconds", "unknown_recheck_seconds",
                 "pause_minutes", "batch_size", "receipts_hours", "fallback", "daily_cap"):
        if name in section:
            found[name] = section[name]
    unknown = set(section) - set(found) - {"send_hours"}
    if unknown:
        raise _fail(", ".join(sorted(unknown)), tx("unknown key"))
    return ReminderSettings(**found)
