"""The one interface every notification channel implements (the transport layer under the outbox).

A transport takes one `Message` and returns one `SendResult`; it never raises for a delivery problem.
The outbox (the database queue) decides what to do with the `Outcome`:

- SENT: the provider accepted the message (`provider_id` is its id, e.g. Aliyun's BizId).
- RETRY: it did not go out; send again, no sooner than `retry_after_seconds` (a minimum: the caller still
  backs off exponentially across attempts).
- PERMANENT: this message can never be delivered as it is (bad number, refused mailbox); do not resend.
- PAUSE_CHANNEL: nothing on this channel can succeed until the operator acts on the account (balance, daily or
  monthly quota); stop the channel and alert. The message itself is still pending: it goes once the pause ends.
- MISCONFIGURED: our configuration or credentials are wrong (signature, template, access key, password). The
  reference treats these as permanent and alerts the operator: this message fails for good (so its fallback
  channel is tried at once) and the channel pauses as well, since every other message would fail the same way.
- UNKNOWN: the request may or may not have reached the provider (a timeout after sending). The SMS API is not
  idempotent, so the caller must reconcile (`Reconciling.lookup`) before resending.

SMS transports also implement `Reconciling`: look a message up by our own key (Aliyun's OutId) and read
delivery receipts.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from custody.masking import mask_text

CHANNELS = ("sms", "email", "file", "webhook")


@dataclass(frozen=True, repr=False)
class Message:
    key: str  # our own id (the outbox row id); sent to Aliyun as OutId, used in the email Message-ID
    channel: str  # one of CHANNELS
    recipient: str  # mainland mobile (11 digits, +86 allowed), email address, or webhook name
    text: str  # plain text; for SMS only for the file outbox and logs (Aliyun sends the approved template)
    subject: str | None = None
    html: str | None = None
    template: str | None = None  # SMS template key in config [sms.templates], e.g. "due_soon"
    params: Mapping[str, str] = field(default_factory=dict)  # SMS template variables, all strings
    # Files sent with an email (the enterprise statement): each with .filename, .content_type and .data (bytes),
    # as custody.messages.Attachment; other channels ignore them.
    attachments: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        # Messages end up in logs and tracebacks: never show the recipient or the text in full.
        return f"Message(key={self.key!r}, channel={self.channel!r}, recipient={mask_text(self.recipient)!r})"


def add_attachments(email: EmailMessage, message: Message) -> None:
    """The message's attachments as MIME parts of `email` (the SMTP transport and the file outbox's .eml)."""
    for attached in message.attachments:
        maintype, _, subtype = attached.content_type.partition("/")
        email.add_attachment(attached.data, maintype=maintype, subtype=subtype, filename=attached.filename)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    PERMANENT = "permanent"
    PAUSE_CHANNEL = "pause_channel"
    MISCONFIGURED = "misconfigured"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_id: str | None = None  # the provider's id for an accepted message (Aliyun BizId, SMTP queue id)
    code: str | None = None  # the provider's error or status code, kept for the operator
    detail: str = ""  # one line for the operator; masked (no phone numbers, addresses or secrets)
    retry_after_seconds: float | None = None  # minimum wait before the next attempt (RETRY/UNKNOWN)


@dataclass(frozen=True)
class ChannelLimits:
    """A channel's limits as data, so the outbox respects them before sending: texts are made to fit (or the
    message fails with the reason) when prepared (custody.messages.fitted), rates and daily caps at dispatch."""

    max_chars: int | None  # longest text the channel takes in one message
    per_recipient_per_day: int | None  # provider's cap per recipient in a rolling day
    per_second: float | None  # sending rate the provider allows
    max_param_chars: int | None = None  # longest value of one template variable (SMS)


UNLIMITED = ChannelLimits(max_chars=None, per_recipient_per_day=None, per_second=None)

DeliveryStatus = Literal["waiting", "failed", "delivered"]


@dataclass(frozen=True)
class DeliveryReport:
    """One carrier receipt for one SMS (pulled with QuerySendDetails)."""

    mobile: str
    provider_id: str | None
    out_id: str | None  # our Message.key
    status: DeliveryStatus
    code: str | None  # carrier code (e.g. DELIVERED, or the failure code)
    at: datetime | None  # when the handset received it (or the failure was reported), Asia/Shanghai


class QueryFailed(Exception):
    """A provider query (not a send) could not be answered; `result` says why and whether to wait."""

    def __init__(self, result: SendResult):
        super().__init__(result.detail or result.code or result.outcome)
        self.result = result


@runtime_checkable
class Transport(Protocol):
    name: str
    limits: ChannelLimits
    # The secret this process lacks to send on the channel (named, never shown), or None. The dispatch tick leaves
    # such a channel's messages for a process that has it (the daemon beside a cron run started without them).
    missing_secret: str | None

    def send(self, message: Message) -> SendResult:
        """Send one message; every failure comes back as a SendResult, never as an exception."""
        ...


@runtime_checkable
class Reconciling(Protocol):
    """Providers that can be asked afterwards what happened to a message (SMS)."""

    def lookup(self, message: Message, sent_on: date) -> SendResult | None:
        """What the provider knows of `message` sent on `sent_on` (provider's local date), by our key.

        None: the provider has no record. SENT: it was accepted (do not resend). PERMANENT: it was accepted
        and the carrier failed it. UNKNOWN / PAUSE_CHANNEL / MISCONFIGURED: the query itself failed (ask again
        later).
        Records can take a while to appear: trust None only some minutes after the attempt, then resend.
        """
        ...

    def delivery_reports(self, mobile: str, sent_on: date, provider_id: str | None) -> list[DeliveryReport]:
        """Receipts for `mobile` on `sent_on`, optionally for one provider id; raises QueryFailed."""
        ...
