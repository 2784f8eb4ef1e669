"""The EPO's Open Patent Services through python-epo-ops-client: the OPS legal-status source.

`OpsGateway` is the watch's port to OPS (custody.ops_legal.OpsPort): the client library does the OAuth2 client-
credentials flow (and renews an expired token), the number service and the legal service; its throttling
middleware paces requests by the `X-Throttling-Control` header, with `Pacing` as its history (in memory: this
process's requests are the ones to space out). Every failure becomes one of custody.ops_legal's errors, each with
what it cost, and no message ever holds the key or the secret (they are only in the client's Basic header).

`OpsStatusSource` is one patent's legal events behind the same interface as the file, folder and HTTP sources.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

import requests
from epo_ops import Client
from epo_ops.exceptions import IndividualQuotaPerHourExceeded, RegisteredQuotaPerWeekExceeded
from epo_ops.middlewares import Throttler
from epo_ops.middlewares.throttle.storages import Storage
from epo_ops.models import Docdb, Original

from custody.appno import ApplicationNumber
from custody.i18n import tr
from custody.ops_legal import (
    DocdbNumber,
    OpsAuthError,
    OpsError,
    OpsFormatError,
    OpsNotFound,
    OpsQuotaExceeded,
    OpsRefused,
    OpsReply,
    OpsUnavailable,
    Throttle,
    legal_records,
    throttle_of,
)
from custody.status_vocab import StatusBatch, StatusSourceError

MAX_WAIT_SECONDS = 10.0  # longer than this, the watch pauses instead of sleeping through it
MAX_REQUESTS_PER_CALL = 4  # a token renewal and its retry; more is a loop the library would not leave


@dataclass
class Pacing(Storage):
    """The throttling middleware's history: the last header, and when each service was last asked.

    The library's own storage keeps a SQLite file under /var/tmp shared by every process on the machine; this one
    lives in memory, and also counts requests so that one call can never turn into a loop of them.
    """

    max_wait: float = MAX_WAIT_SECONDS
    throttle: Throttle = field(default_factory=Throttle)
    reported_week: int | None = None
    requests: int = 0
    limit: int = MAX_REQUESTS_PER_CALL
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def delay_for(self, service: str) -> float:
        with self._lock:
            self.requests += 1
            if self.requests > self.limit:
                raise OpsUnavailable(tr("OPS: more than {n} requests for one call: stopped", n=self.limit))
            light, allowance = self.throttle.services.get(service, ("", 0))
            if light == "black" or not allowance:
                return 0.0  # black: the watch pauses on this answer; no allowance known: nothing to space by
            wait = self._last.get(service, 0.0) + 60.0 / allowance - time.monotonic()
            self._last[service] = time.monotonic() + max(wait, 0.0)
            return min(max(wait, 0.0), self.max_wait)

    def update(self, headers) -> None:
        header = headers.get("X-Throttling-Control")
        if header:
            self.throttle = throttle_of(header)
        used = headers.get("X-RegisteredQuotaPerWeek-Used")
        if used and used.strip().isdigit():
            self.reported_week = int(used)


class _Client(Client):
    """The library's client, pointed at `base_url` (OPS itself, or a local OPS-compatible server in tests)."""

    def __init__(self, key: str, secret: str, base_url: str, timeout: float, pacing: Pacing) -> None:
        super().__init__(key, secret, accept_type="xml", middlewares=[Throttler(pacing)], timeout=timeout)
        self.__auth_url__ = f"{base_url}/auth/accesstoken"
        self.__service_url_prefix__ = f"{base_url}/rest-services"


class OpsGateway:
    """One client for a run; `number_service` and `legal` each return an OpsReply or raise an OpsError."""

    def __init__(self, key: str, secret: str, base_url: str, timeout: float = 30.0) -> None:
        self.pacing = Pacing()
        self._client = _Client(key, secret, base_url, timeout, self.pacing)

    def __repr__(self) -> str:  # the client holds the key and secret: never show them
        return "OpsGateway()"

    def number_service(self, number: ApplicationNumber) -> OpsReply:
        return self._call(lambda c: c.number("application", Original(str(number), "CN"), "docdb"),
                          f"number service for CN {number}")

    def legal(self, docdb: DocdbNumber) -> OpsReply:
        return self._call(lambda c: c.legal("application", Docdb(docdb.number, docdb.country, docdb.kind)),
                          f"legal events of {docdb.key}")

    def _call(self, request, what: str) -> OpsReply:
        self.pacing.requests = 0
        token_before = self._client._access_token
        try:
            response = request(self._client)
        except OpsError as exc:
            raise self._costed(exc, 0, token_before) from None
        except (IndividualQuotaPerHourExceeded, RegisteredQuotaPerWeekExceeded) as exc:
            scope = "hour" if isinstance(exc, IndividualQuotaPerHourExceeded) else "week"
            used_up = tr("OPS: {what}: the hourly quota is used up (403)" if scope == "hour" else
                         "OPS: {what}: the weekly quota is used up (403)", what=what)
            raise self._costed(OpsQuotaExceeded(used_up, scope),
                               _size(exc.response), token_before) from None
        except requests.HTTPError as exc:
            raise self._costed(_http_error(exc, what), _size(exc.response), token_before) from None
        except requests.RequestException as exc:
            unreachable = tr("OPS: {what}: cannot reach OPS ({error})", what=what, error=type(exc).__name__)
            raise self._costed(OpsUnavailable(unreachable), 0, token_before) from None
        except ParseError:
            raise self._costed(OpsFormatError(tr("OPS: {what}: an error answer that is not XML", what=what)), 0,
                               token_before) from None
        return OpsReply(response.content, len(response.content) + self._token_cost(token_before),
                        self.pacing.requests, self.pacing.throttle, self.pacing.reported_week)

    def _token_cost(self, before) -> int:
        token = self._client._access_token
        return len(token.response.content) if token is not None and token is not before else 0

    def _costed(self, error: OpsError, size: int, token_before) -> OpsError:
        error.size = size + self._token_cost(token_before)
        error.requests = max(self.pacing.requests, 1)
        error.throttle = self.pacing.throttle
        return error


def _size(response: requests.Response | None) -> int:
    return len(response.content) if response is not None and response.content else 0


def _http_error(exc: requests.HTTPError, what: str) -> OpsError:
    response = exc.response
    status = response.status_code if response is not None else 0
    if response is not None and response.url.endswith("/auth/accesstoken"):
        return OpsAuthError(tr("OPS: no access token (HTTP {status}): check CUSTODY_OPS_KEY and CUSTODY_OPS_SECRET",
                               status=status))
    if status == 404:
        return OpsNotFound(tr("OPS: {what}: OPS does not know this document (404)", what=what))
    if status in (401, 400) and b"access_token" in (response.content or b""):
        return OpsAuthError(tr("OPS: {what}: the access token was refused and could not be renewed (HTTP {status})",
                               what=what, status=status))
    if status == 403:
        return OpsRefused(tr("OPS: {what}: refused (403{reason})", what=what, reason=_reason(response)))
    if status == 400:
        return OpsNotFound(tr("OPS: {what}: OPS cannot read this number (400)", what=what))
    return OpsUnavailable(tr("OPS: {what}: HTTP {status} from OPS", what=what, status=status))


def _reason(response: requests.Response) -> str:
    reason = response.headers.get("X-Rejection-Reason", "")
    return f", {reason[:80]}" if reason else ""


@dataclass(frozen=True)
class OpsStatusSource:
    """One patent's legal events from OPS, as the StatusSource interface gives them (all or nothing)."""

    gateway: OpsGateway
    number: ApplicationNumber
    docdb: DocdbNumber
    reply: list[OpsReply] = field(default_factory=list, compare=False)

    @property
    def name(self) -> str:
        return f"ops:{self.docdb.key}"

    def fetch(self) -> StatusBatch:
        reply = self.gateway.legal(self.docdb)
        self.reply.append(reply)
        try:
            return StatusBatch(self.name, legal_records(reply.body, self.number, self.docdb))
        except OpsFormatError as exc:
            raise StatusSourceError(str(exc)) from None
