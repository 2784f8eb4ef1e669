"""Email over SMTP (smtplib): UTF-8 plain text plus optional HTML, one recipient per message.

The password comes only from the environment (CUSTODY_SMTP_PASSWORD). Security is "ssl" (implicit TLS,
usually port 465), "starttls" (usually 587) or "none" (a local relay only).

SMTP is not idempotent either: a connection lost after DATA may still have delivered the mail. Unlike SMS we
answer RETRY, not UNKNOWN, because there is no way to ask the server afterwards and a duplicate reminder
is tolerable where a lost one (a lapsed patent) is not. The Message-ID is derived from our key, so mail
clients that thread or deduplicate by it show a resend as the same message.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.message import Message as Mime
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from typing import Any

from email_validator import EmailNotValidError, validate_email

from custody import clock
from custody.config import ConfigError, secret
from custody.explained import tx
from custody.masking import mask_email, mask_text
from notifiers.base import ChannelLimits, Message, Outcome, SendResult, add_attachments

log = logging.getLogger(__name__)

PASSWORD_ENV = "CUSTODY_SMTP_PASSWORD"
SECURITY = ("ssl", "starttls", "none")
TEMPORARY_WAIT = 300.0  # 4xx: greylisting and full mailboxes clear in minutes, not seconds
NETWORK_WAIT = 60.0
IDLE_CHECK_SECONDS = 5.0  # a kept connection idle longer than this is checked (NOOP) before the next message


@dataclass(frozen=True)
class EmailSettings:
    enabled: bool = False
    host: str = ""
    port: int = 465
    security: str = "ssl"
    username: str = ""
    from_address: str = ""
    from_name: str = ""
    timeout: float = 30.0
    per_second: float | None = None  # the relay's sending rate, if it publishes one

    @classmethod
    def from_section(cls, section: Mapping[str, Any], origin: str = "config") -> EmailSettings:
        try:
            settings = cls(**section)
        except TypeError as exc:
            raise ConfigError(tx("{where}: [email]: {problem}", where=origin, problem=str(exc))) from None
        if settings.security not in SECURITY:
            raise ConfigError(tx("{where}: [email].security must be one of {allowed}", where=origin,
                                     allowed=", ".join(SECURITY)))
        if settings.enabled and not (settings.host and settings.from_address):
            raise ConfigError(tx("{where}: [email].host and [email].from_address are required when email is enabled",
                                     where=origin))
        return settings


class SmtpEmail:
    """Transport for channel "email"."""

    name = "email"

    def __init__(self, settings: EmailSettings, password: str | None = None):
        self.settings = settings
        self._password = password or secret(PASSWORD_ENV)
        self.limits = ChannelLimits(max_chars=None, per_recipient_per_day=None, per_second=settings.per_second)
        # One connection per dispatching thread, kept while it works (a TLS handshake and a login per message held
        # dispatch far below the rate the server takes) and closed at the end of a batch (close()); one SSL context
        # for all of them (loading the CA store is most of setting one up).
        self._local = threading.local()
        self._context: ssl.SSLContext | None = None

    @property
    def missing_secret(self) -> str | None:
        return f"{PASSWORD_ENV} not set" if self.settings.username and not self._password else None

    def send(self, message: Message) -> SendResult:
        result = self._local_problem(message) or self._delivered(message)
        log.info("email %s to %s: %s %s", message.key, mask_email(message.recipient), result.outcome, result.code or "")
        return result

    def _local_problem(self, message: Message) -> SendResult | None:
        if self.missing_secret:  # never claimed by such a process (scheduler.dispatch): only a direct call gets here
            return SendResult(Outcome.MISCONFIGURED, code="config.NO_PASSWORD", detail=f"set {PASSWORD_ENV}")
        try:
            validate_email(message.recipient, check_deliverability=False)
        except EmailNotValidError as exc:
            return SendResult(Outcome.PERMANENT, code="local.BAD_ADDRESS", detail=mask_text(str(exc)))
        return None

    def _delivered(self, message: Message) -> SendResult:
        try:
            email = self._mime(message)
        except (ValueError, TypeError, UnicodeError) as exc:  # a header or body that cannot be encoded: retrying
            return SendResult(Outcome.PERMANENT, code="local.BAD_MESSAGE", detail=mask_text(str(exc)))  # won't help
        try:
            self._session().send_message(email)
        except Exception as exc:  # every SMTP, TLS and socket failure becomes an outcome
            self.close()  # a connection that failed is never reused: the next message opens a new one
            return _failure(exc)
        self._local.used = time.monotonic()
        return SendResult(Outcome.SENT, provider_id=email["Message-ID"], code="250")

    def _mime(self, message: Message) -> Mime:
        """`email_message`, built with the classic MIME classes when there is nothing to attach and every address
        is ASCII: the same headers and base64 parts, at a quarter of the CPU (the header registry of
        `EmailMessage` parses and refolds every header, which made most of the cost of an email)."""
        if message.attachments or not (message.recipient.isascii() and self.settings.from_address.isascii()):
            return self.email_message(message)
        mime: Mime = MIMEText(message.text, "plain", "utf-8")
        if message.html:
            mime = MIMEMultipart("alternative", _subparts=[mime, MIMEText(message.html, "html", "utf-8")])
        mime["Subject"] = Header(message.subject or "", "utf-8") if not (message.subject or "").isascii() else (
            message.subject or "")
        mime["From"] = formataddr((self.settings.from_name, self.settings.from_address), "utf-8")
        mime["To"] = message.recipient
        mime["Date"] = format_datetime(clock.now())  # +0800, as the recipients read it
        mime["Message-ID"] = self._message_id(message)
        return mime

    def _message_id(self, message: Message) -> str:
        return f"<custody.{message.key}@{self.settings.from_address.rpartition('@')[2]}>"

    def _session(self) -> smtplib.SMTP:
        """This thread's open connection if the server still answers on it (NOOP, before anything of the message is
        sent, so a connection the server dropped while idle costs no message), else a new one, logged in."""
        smtp = getattr(self._local, "smtp", None)
        if smtp is not None and time.monotonic() - getattr(self._local, "used", 0.0) < IDLE_CHECK_SECONDS:
            # Answered a moment ago: no server drops a connection that soon (they wait minutes). Had it done so,
            # the message would be retried (RETRY), never lost.
            return smtp
        if smtp is not None:
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except Exception:  # noqa: BLE001 - dropped by the server, timed out: open a new one
                pass
            self.close()
        smtp = self._connection()
        try:
            if self.settings.username:
                smtp.login(self.settings.username, self._password or "")
        except Exception:
            _quit(smtp)
            raise
        self._local.smtp = smtp
        return smtp

    def close(self) -> None:
        """Close this thread's connection (the dispatcher calls it when a batch ends)."""
        smtp, self._local.smtp = getattr(self._local, "smtp", None), None
        _quit(smtp)  # after a successful send, a failing QUIT must not turn it into a failure

    def email_message(self, message: Message) -> EmailMessage:
        """The MIME message: UTF-8, base64 bodies (safe through relays without 8BITMIME)."""
        email = EmailMessage()
        email["Subject"] = message.subject or ""
        email["From"] = Address(self.settings.from_name, addr_spec=self.settings.from_address)
        email["To"] = message.recipient
        email["Date"] = format_datetime(clock.now())  # +0800, as the recipients read it
        email["Message-ID"] = self._message_id(message)
        email.set_content(message.text, charset="utf-8", cte="base64")
        if message.html:
            email.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
        add_attachments(email, message)
        return email

    def _connection(self) -> smtplib.SMTP:
        if self._context is None:
            self._context = ssl.create_default_context()
        settings, context = self.settings, self._context
        if settings.security == "ssl":
            return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            try:
                smtp.starttls(context=context)
            except Exception:
                smtp.close()
                raise
        return smtp


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:  # the server hung up first: nothing left to say
        smtp.close()


def _failure(exc: Exception) -> SendResult:
    """SMTP failures by kind: login, TLS trust and our sender refused are our configuration (MISCONFIGURED: the
    message fails, its fallback goes, the channel pauses); 5xx for the recipient is permanent; the rest retry."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _result(Outcome.MISCONFIGURED, exc.smtp_code, "login refused: check username and password")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _result(Outcome.MISCONFIGURED, None, f"server does not support it: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _result(Outcome.MISCONFIGURED, None, f"TLS certificate not trusted: {exc.verify_message}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return _by_code(code, text, permanent=Outcome.PERMANENT)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(exc.smtp_code, exc.smtp_error, permanent=Outcome.MISCONFIGURED)  # our from_address
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error, permanent=Outcome.PERMANENT)
    if isinstance(exc, OSError | smtplib.SMTPException):  # refused, reset, timed out, disconnected
        return SendResult(Outcome.RETRY, code=type(exc).__name__, detail=mask_text(str(exc) or type(exc).__name__),
                          retry_after_seconds=NETWORK_WAIT)
    return SendResult(Outcome.RETRY, code=type(exc).__name__, detail="unexpected failure",
                      retry_after_seconds=NETWORK_WAIT)


def _by_code(code: int, text: bytes | str, permanent: Outcome) -> SendResult:
    if 400 <= code < 500:
        return _result(Outcome.RETRY, code, text, TEMPORARY_WAIT)
    return _result(permanent, code, text)


def _result(outcome: Outcome, code: int | None, text: bytes | str, wait: float | None = None) -> SendResult:
    shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return SendResult(outcome, code=str(code) if code else None, detail=mask_text(shown), retry_after_seconds=wait)
