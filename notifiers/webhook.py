"""Operator alerts to a WeCom (企业微信) or DingTalk (钉钉) group robot: one JSON POST per message (httpx).

The robot's URL embeds its token, so it comes only from the environment (CUSTODY_ALERT_WEBHOOK_URL); a DingTalk
robot secured by signing also needs CUSTODY_ALERT_WEBHOOK_SECRET. Both robots answer HTTP 200 with
`errcode != 0` when they refuse a message, so the errcode is checked on every answer.

An alert robot is the operator's last line: pausing it would silence every later alert, so a refused alert fails
alone (PERMANENT); a process without the URL in its environment leaves alerts to one that has it
(`missing_secret`). Timeouts are retried: a duplicate alert is harmless where a lost one is not.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from custody.config import ConfigError, secret
from custody.explained import tx
from custody.masking import mask_loggers, mask_text
from notifiers.base import ChannelLimits, Message, Outcome, SendResult

log = logging.getLogger(__name__)
mask_loggers("httpx")  # httpx logs each request's URL, which carries the robot's token

URL_ENV = "CUSTODY_ALERT_WEBHOOK_URL"
SECRET_ENV = "CUSTODY_ALERT_WEBHOOK_SECRET"
KINDS = ("wecom", "dingtalk")
FORMATS = ("text", "markdown")
# WeCom: text content at most 2048 bytes, markdown 4096 bytes (UTF-8). DingTalk publishes no byte figure that we
# found; we keep to the same caps. Both robots take at most 20 messages a minute.
MAX_BYTES = {"text": 2048, "markdown": 4096}
WEBHOOK_LIMITS = ChannelLimits(max_chars=2048 // 3, per_recipient_per_day=None, per_second=20 / 60)
RATE_LIMITED = {45009: "WeCom: api freq out of limit", 130101: "DingTalk: send too fast"}
RATE_WAIT = 60.0  # the robots count per minute
NETWORK_WAIT = 30.0


@dataclass(frozen=True)
class AlertSettings:
    enabled: bool = False
    kind: str = "wecom"
    format: str = "text"
    keyword: str = ""  # a DingTalk robot with "custom keywords" security drops messages without one
    timeout: float = 10.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any], origin: str = "config") -> AlertSettings:
        try:
            settings = cls(**section)
        except TypeError as exc:
            raise ConfigError(tx("{where}: [alerts]: {problem}", where=origin, problem=str(exc))) from None
        if settings.kind not in KINDS:
            raise ConfigError(tx("{where}: [alerts].kind must be wecom or dingtalk, not {value!r}", where=origin,
                                     value=settings.kind))
        if settings.format not in FORMATS:
            raise ConfigError(tx("{where}: [alerts].format must be text or markdown, not {value!r}", where=origin,
                                     value=settings.format))
        return settings


class RobotWebhook:
    """Transport for channel "webhook" (the recipient is a label; the robot's URL decides the group)."""

    name = "webhook"
    limits = WEBHOOK_LIMITS

    def __init__(self, settings: AlertSettings, url: str | None = None, signing_secret: str | None = None):
        self.settings = settings
        self._url = url or secret(URL_ENV)
        self._secret = signing_secret or secret(SECRET_ENV)

    @property
    def missing_secret(self) -> str | None:
        return None if self._url else f"{URL_ENV} not set"

    def send(self, message: Message) -> SendResult:
        if not self._url:
            return SendResult(Outcome.PAUSE_CHANNEL, code="config.NO_URL", detail=f"set {URL_ENV}")
        try:
            # Merged into the URL's own query: httpx's `params=` replaces it, and with it the robot's key.
            url = httpx.URL(self._url).copy_merge_params(self._signature())
            response = httpx.post(url, json=self.payload(message), timeout=self.settings.timeout)
        except httpx.HTTPError as exc:  # connection refused, timeout, protocol error
            return SendResult(Outcome.RETRY, code=type(exc).__name__, detail=mask_text(str(exc)),
                              retry_after_seconds=NETWORK_WAIT)
        result = _answer(response)
        log.info("webhook %s (%s): %s %s", message.key, self.settings.kind, result.outcome, result.code or "")
        return result

    def payload(self, message: Message) -> dict[str, Any]:
        fmt, content = self.settings.format, self._content(message)
        if fmt == "text":
            return {"msgtype": "text", "text": {"content": content}}
        if self.settings.kind == "dingtalk":
            title = message.subject or (message.text.splitlines() or ["alert"])[0]
            return {"msgtype": "markdown", "markdown": {"title": title, "text": content}}
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def _content(self, message: Message) -> str:
        heading = "### " if self.settings.format == "markdown" else ""
        # An alert's text already opens with its headline (custody/templates/alert.txt.j2): not twice.
        titled = message.subject and not message.text.startswith(message.subject)
        content = f"{heading}{message.subject}\n\n{message.text}" if titled else f"{heading}{message.text}"
        keyword = self.settings.keyword
        if keyword and keyword not in content:
            content = f"[{keyword}] {content}"
        return _clipped(content, MAX_BYTES[self.settings.format])

    def _signature(self) -> dict[str, str]:
        """DingTalk signing: HMAC-SHA256 over "timestamp\\nsecret" with the secret, base64, as URL parameters."""
        if self.settings.kind != "dingtalk" or not self._secret:
            return {}
        timestamp = str(int(time.time() * 1000))
        digest = hmac.new(self._secret.encode(), f"{timestamp}\n{self._secret}".encode(), hashlib.sha256).digest()
        return {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}


def _answer(response: httpx.Response) -> SendResult:
    if response.status_code >= 500 or response.status_code == 429:
        return SendResult(Outcome.RETRY, code=f"HTTP {response.status_code}", retry_after_seconds=NETWORK_WAIT)
    if response.status_code >= 300:
        return SendResult(Outcome.PERMANENT, code=f"HTTP {response.status_code}")
    try:
        answer = response.json()
        errcode, errmsg = int(answer.get("errcode", -1)), str(answer.get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):  # a 200 that is not the robot (a proxy's page)
        return SendResult(Outcome.RETRY, code="local.BAD_RESPONSE", retry_after_seconds=NETWORK_WAIT)
    if errcode == 0:
        return SendResult(Outcome.SENT, code="0")
    if errcode in RATE_LIMITED:
        return SendResult(Outcome.RETRY, code=str(errcode), detail=RATE_LIMITED[errcode], retry_after_seconds=RATE_WAIT)
    return SendResult(Outcome.PERMANENT, code=str(errcode), detail=mask_text(errmsg))


def _clipped(text: str, max_bytes: int) -> str:
    """The text cut to the robot's byte limit (UTF-8), marked with an ellipsis when cut."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - len("…".encode())].decode("utf-8", "ignore") + "…"
