"""One HTTP GET through httpx that cannot run away: the bounds a remote feed gets ([status.http]).

- An overall deadline: every read and write of the connection waits at most until the deadline, so neither a
  body nor headers dripping a byte a second can hold a tick (httpx's own timeouts restart at each byte).
- The body is counted as it streams and refused past its limit (a larger declared Content-Length at once).
- Redirects are followed by hand: only to the feed's own origin (scheme, host, port) unless configured "any"
  (then the headers we added, the auth header among them, are not sent to another origin) or "none".
- `json_depth` measures nesting without parsing, so a body of 200,000 nested arrays never reaches json.loads.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
import numpy as np

from custody.masking import mask_loggers

MB = 1 << 20
REDIRECTS = ("same_origin", "none", "any")
# httpx logs every request's URL at INFO, and a URL may carry a token: masked, and only warnings kept.
mask_loggers("httpx", "httpcore")
logging.getLogger("httpx").setLevel(logging.WARNING)


class FetchRefused(Exception):
    """The feed could not be read within its bounds; the message says which bound, or why it was unreachable."""


@dataclass(frozen=True)
class FeedLimits:
    deadline_seconds: float = 300.0
    max_body_bytes: int = 50 * MB
    max_records: int = 1_000_000
    max_depth: int = 64
    redirects: str = "same_origin"
    max_redirects: int = 5

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> FeedLimits:
        default = cls()
        return cls(float(section.get("deadline_seconds", default.deadline_seconds)),
                   int(float(section.get("max_body_mb", default.max_body_bytes / MB)) * MB),
                   int(section.get("max_records", default.max_records)),
                   int(section.get("max_depth", default.max_depth)),
                   str(section.get("redirects", default.redirects)))


def fetch(url: str, headers: Mapping[str, str], timeout: float, limits: FeedLimits) -> tuple[int, bytes]:
    """(status code, body) of GET `url`; FetchRefused when a bound is crossed or the feed cannot be reached."""
    deadline = time.monotonic() + limits.deadline_seconds
    try:
        with httpx.Client(transport=_DeadlineTransport(deadline), timeout=timeout, follow_redirects=False) as client:
            return _get(client, httpx.URL(url), dict(headers), limits, deadline)
    except httpx.TimeoutException as exc:
        if time.monotonic() >= deadline:
            raise FetchRefused(_over_deadline(limits)) from None
        raise FetchRefused(f"cannot reach the status feed ({type(exc).__name__}: {exc})") from None
    except httpx.HTTPError as exc:
        raise FetchRefused(f"cannot reach the status feed ({type(exc).__name__}: {exc})") from None


def _over_deadline(limits: FeedLimits) -> str:
    return f"no complete answer within deadline_seconds = {limits.deadline_seconds:g} ([status.http])"


def _get(client: httpx.Client, url: httpx.URL, headers: dict[str, str], limits: FeedLimits,
         deadline: float) -> tuple[int, bytes]:
    request = client.build_request("GET", url, headers=headers)
    for _ in range(limits.max_redirects + 1):
        response = client.send(request, stream=True)
        try:
            if not response.has_redirect_location:
                return response.status_code, _body(response, limits, deadline)
            following = response.next_request
        finally:
            response.close()
        assert following is not None  # httpx sets it for every redirect it does not follow itself
        request = _redirected(following, url, headers, limits)
    raise FetchRefused(f"more than {limits.max_redirects} redirects")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _redirected(following: httpx.Request, first: httpx.URL, added: Mapping[str, str],
                limits: FeedLimits) -> httpx.Request:
    if limits.redirects == "none":
        raise FetchRefused(f"the feed redirects to {following.url}, and [status.http] redirects = \"none\"")
    if _origin(following.url) == _origin(first):
        return following
    if limits.redirects == "same_origin":
        raise FetchRefused(f"the feed redirects to another origin ({following.url}), not followed "
                           f"([status.http] redirects = \"same_origin\")")
    for name in added:  # "any": the auth header (whatever its name) stays with the feed's own origin
        if name.lower() != "accept":
            following.headers.pop(name, None)
    return following


def _body(response: httpx.Response, limits: FeedLimits, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise FetchRefused(f"the body would be {int(declared):,} bytes, more than {_mb(limits)}")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limits.max_body_bytes:
            raise FetchRefused(f"the body is larger than {_mb(limits)}")
        if time.monotonic() >= deadline:
            raise FetchRefused(_over_deadline(limits))
    return bytes(body)


def _mb(limits: FeedLimits) -> str:
    return f"max_body_mb = {limits.max_body_bytes / MB:g} ([status.http])"


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (0 for a scalar); strings, which may hold brackets, are
    left out first. A cumulative sum in numpy: a 50 MB body takes well under a second."""
    skeleton = _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKETS)
    if not skeleton:
        return 0
    steps = np.frombuffer(skeleton.translate(_STEPS), dtype=np.int8)
    return int(np.cumsum(steps, dtype=np.int64).max())


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport whose connections never wait past `deadline` (time.monotonic())."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        pool = self._pool  # httpcore's pool: its network backend opens the connections we bound
        pool._network_backend = _DeadlineBackend(pool._network_backend, deadline)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadline: float) -> None:
        self._inner, self._deadline = inner, deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _left(self._deadline, timeout), local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, _left(self._deadline, timeout), socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner, self._deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(self._deadline, timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(self._deadline, timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _left(self._deadline, timeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _left(deadline: float, timeout: float | None) -> float:
    """What an operation may wait: its own timeout, cut to the time left; none left is a timeout now."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the deadline has passed")
    return left if timeout is None else min(timeout, left)
