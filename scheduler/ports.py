"""What the ticks need from a channel, by structure: notifiers' transports fit without scheduler importing them.

cli.py builds the transports (notifiers.registry.transports_from_config) and hands them to the ticks as a
`Mapping[str, Transport]` keyed by channel name; the ticks hand them custody `Envelope`s, which carry the same
fields as notifiers.base.Message.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol, runtime_checkable

from custody.messages import Envelope


class Limits(Protocol):
    max_chars: int | None
    per_recipient_per_day: int | None
    per_second: float | None
    max_param_chars: int | None


class Result(Protocol):
    outcome: Any  # "sent", "retry", "permanent", "pause_channel", "unknown" (a StrEnum in notifiers)
    provider_id: str | None
    code: str | None
    detail: str
    retry_after_seconds: float | None


class Report(Protocol):
    out_id: str | None
    provider_id: str | None
    status: str  # "waiting", "failed", "delivered"
    code: str | None
    at: Any


@runtime_checkable
class Transport(Protocol):
    name: str
    limits: Limits
    missing_secret: str | None  # the secret this process lacks for the channel (named), or None

    def send(self, message: Envelope) -> Result: ...


@runtime_checkable
class Reconciling(Protocol):
    def lookup(self, message: Envelope, sent_on: date) -> Result | None: ...

    def delivery_reports(self, mobile: str, sent_on: date, provider_id: str | None) -> list[Report]: ...


Transports = Mapping[str, Transport]
