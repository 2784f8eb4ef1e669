"""Masking of personal data and secrets in anything a person may read: logs, errors, printed configuration.

Phone numbers keep their first three and last four digits (138****5678), enough to tell contacts apart;
email addresses keep their first character and the domain (z***@example.com). Secrets are replaced whole.
`MaskingFilter` applies all of it to log records, including the values of environment variables whose names
say they are secret, so a key that slips into an exception message still never reaches a log file.
"""
from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Iterable, Mapping

# Mainland mobile numbers: 1[3-9] + 9 digits, optionally +86/0086/86 and spaced or dashed as 3-4-4.
_PHONE = re.compile(r"(?<!\d)((?:\+|00)?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
# The local part is ASCII only, so Chinese text running into an address stays readable.
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-\u0080-\uffff]+(?:\.[A-Za-z0-9\-\u0080-\uffff]+)+)")
# Tokens carried in URLs: WeCom robots use ?key=, DingTalk ?access_token= and &sign=.
_URL_TOKEN = re.compile(r"(?i)([?&](?:key|access_token|token|secret|sign|signature|password)=)[^&\s\"']+")

SECRET_NAME_PARTS = ("KEY", "SECRET", "PASSWORD", "TOKEN", "WEBHOOK")
MIN_SECRET_LENGTH = 6  # shorter values ("1", "yes") would mask ordinary words and numbers
SECRET_MASK = "******"


def mask_phone(phone: str) -> str:
    """'13812345678' -> '138****5678'; keeps a +86 prefix; anything not a mobile is masked but for its ends."""
    digits = phone.strip()
    match = _PHONE.fullmatch(digits)
    if match:
        return _masked_phone(match)
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def mask_email(address: str) -> str:
    """'zhang.san@example.com' -> 'z***@example.com'."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return mask_phone(address)
    return f"{local[:1]}***@{domain}"


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Every phone number, email address, URL token and given secret in free text, masked."""
    for value in sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(value, SECRET_MASK)
    text = _URL_TOKEN.sub(lambda m: m.group(1) + SECRET_MASK, text)
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(_masked_phone, text)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose names say they hold a secret."""
    return [
        value
        for name, value in environ.items()
        if value and len(value) >= MIN_SECRET_LENGTH and any(part in name.upper() for part in SECRET_NAME_PARTS)
    ]


def _masked_phone(match: re.Match[str]) -> str:
    prefix = (match.group(1) or "").rstrip("- ")
    return f"{prefix}{match.group(2)}****{match.group(4)}"


class MaskingFilter(logging.Filter):
    """Masks each record's message, arguments and traceback text in place; never drops a record.

    Attach it to handlers (it then covers every logger) or to a third-party logger whose messages carry
    request parameters. Secrets are read from the environment at each record, so keys set later are covered.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, extra_secrets: Iterable[str] = ()):
        super().__init__()
        self._environ = environ
        self._extra = tuple(extra_secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [*self._extra, *secret_values(os.environ if self._environ is None else self._environ)]
        record.msg = mask_text(_message_of(record), secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, secrets)
        return True


def mask_loggers(*names: str) -> None:
    """Attach a MaskingFilter to these loggers (once each): for libraries that log URLs or request parameters.

    A logger's filters see only records created on that very logger, not on its children, so name each one.
    """
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())


def _message_of(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a malformed format string must not lose the record (nor its personal data masking)
        return f"{record.msg} {record.args}"
