"""Masking of personal data and secrets in anything a person may read: logs, errors, printed configuration.

Phone numbers keep their first three and last four digits (138****5678), enough to tell contacts apart;
email addresses keep their first character and the domain (z***@example.com). Secrets are replaced whole.

`redacted` is the one redaction step every error text passes before it is shown (`Error:` lines), stored (a
failed sync), reported or alerted: it removes the values of environment variables whose names say they are
secret and of every secret handed out by custody.config.secret() (an auth header's variable may be named
anything), `Authorization`/token headers and any echo of them (`Bearer …`), the userinfo of URLs, and tokens in
URLs: in the query (?key=, ?access_token=, &sign=) and in the path of a webhook URL (…/hook/<token>).
`mask_text` does the same and masks personal data too; `MaskingFilter` applies it to log records.
"""
from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any


class _Pattern:
    """A regular expression compiled when first used: every command imports this module (its log handlers mask),
    few have anything to mask, and compiling these nine took about 8 ms of each start (issue 9)."""

    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:  # fullmatch, sub, ...: the compiled pattern's
        if self._compiled is None:
            self._compiled = re.compile(self._pattern)
        return getattr(self._compiled, name)


# Mainland mobile numbers: 1[3-9] + 9 digits, optionally +86/0086/86 and spaced or dashed as 3-4-4.
_PHONE = _Pattern(r"(?<!\d)((?:\+|00)?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
# The local part is ASCII only, so Chinese text running into an address stays readable.
_EMAIL = _Pattern(r"([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-\u0080-\uffff]+(?:\.[A-Za-z0-9\-\u0080-\uffff]+)+)")
# Tokens carried in URLs: WeCom robots use ?key=, DingTalk ?access_token= and &sign=.
_URL_TOKEN = _Pattern(r"(?i)([?&](?:[a-z_]*key|access_token|[a-z_]*token|secret|sign|signature|password|auth|"
                        r"credential|code)=)[^&\s\"'<>]+")
# The userinfo of a URL: its password (scheme://user:password@host), or the whole of it when it is a token
# (scheme://<token>@host); a plain user name (postgresql://custody@db) says who, not how, and stays.
_USERINFO = _Pattern(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s@\"'<>:]*)(:[^/\s@\"'<>]*)?@")
# A token as a path segment (Feishu …/hook/<uuid>, Slack-like …/T0/B0/<token>): 16+ characters of a token's
# alphabet with both letters and digits. Application numbers (digits and a dot) and words never qualify.
_PATH_TOKEN = _Pattern(r"(?i)(?<=/)(?=[a-z0-9_\-]*\d)(?=[a-z0-9_\-]*[a-z])[a-z0-9_\-]{16,}(?=[/?#\s\"'<>]|$)")
_TOKEN_LIKE = _Pattern(r"(?i)(?=[a-z0-9_\-]*\d)(?=[a-z0-9_\-]*[a-z])[a-z0-9_\-]{16,}")
_URL = _Pattern(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s\"'<>]+")
# An Authorization (or token) header, as sent or echoed back: `Authorization: Bearer x`, `"authorization": "x"`.
_AUTH_HEADER = _Pattern(r"(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]?key|x-auth-token|auth[-_]?token|"
                          r"access[-_]?token|token|cookie|set-cookie)(\\?[\"']?\s*[:=]\s*\\?[\"']?)"
                          r"(?:(bearer|basic|token|digest)\s+)?[^\s\"',;&<>\\]+")
# A credential after its scheme word, anywhere: "Bearer x" or "Basic x" always; "Token x" only when x has a digit
# ("token expired" is English).
_SCHEME_CREDENTIAL = _Pattern(r"(?i)\b(bearer|basic|(?:token|digest)(?=\s+[^\s\d]*\d))\s+[a-z0-9._~+/=\-]{6,}")
_registered: set[str] = set()

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


def register_secret(value: str | None) -> None:
    """Remember a secret this process uses, whatever its variable is called, so `redacted` removes it; a header
    value like "Bearer x" also registers x, which a server may echo alone."""
    if not value:
        return
    _registered.add(value)
    scheme, _, credential = value.partition(" ")
    if credential and scheme.lower() in ("bearer", "basic", "token", "digest"):
        _registered.add(credential.strip())


def redacted(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any secret (module docstring); personal data is left as it is."""
    known = {*secrets, *_registered, *_environment_secrets()}
    for value in sorted({s for s in known if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(value, SECRET_MASK)
    lowered = text.lower()  # each pattern only where its words occur: this runs on every log line
    if any(word in lowered for word in ("auth", "key", "token", "cookie")):
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) + ' ' if m.group(3) else ''}"
                                          f"{SECRET_MASK}", text)
    if any(word in lowered for word in ("bearer", "basic", "token", "digest")):
        text = _SCHEME_CREDENTIAL.sub(lambda m: f"{m.group(1)} {SECRET_MASK}", text)
    return _URL.sub(_redacted_url, text) if "://" in text else text


_environment: tuple[int, list[str]] = (0, [])


def _environment_secrets() -> list[str]:
    """secret_values(os.environ), read again only when the environment changed (reading it costs more than all
    the patterns together)."""
    global _environment
    fingerprint = hash(tuple(getattr(os.environ, "_data", os.environ).items()))
    if fingerprint != _environment[0]:
        _environment = (fingerprint, secret_values(os.environ))
    return _environment[1]


def _redacted_userinfo(match: re.Match[str]) -> str:
    scheme, user, password = match.group(1), match.group(2), match.group(3)
    if password:
        return f"{scheme}{user}:{SECRET_MASK}@"
    return f"{scheme}{SECRET_MASK if _TOKEN_LIKE.fullmatch(user) else user}@"


def _redacted_url(match: re.Match[str]) -> str:
    url = _USERINFO.sub(_redacted_userinfo, match.group(0))
    url = _URL_TOKEN.sub(lambda m: m.group(1) + SECRET_MASK, url)
    scheme_and_host, slash, rest = url.partition("//")[2].partition("/")
    if not slash:
        return url
    return url[: len(url) - len(rest)] + _PATH_TOKEN.sub(SECRET_MASK, rest)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Every secret (`redacted`), phone number and email address in free text, masked."""
    text = redacted(text, secrets)
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
