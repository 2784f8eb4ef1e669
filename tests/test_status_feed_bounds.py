"""The HTTP status feed is bounded, against a real local server on 127.0.0.1 that misbehaves on purpose: a redirect
to another host, a body declaring 5 GiB, an endless body, a body or headers dripping a byte at a time, 200,000
nested arrays, too many records. Each is one clear error in bounded time, nothing applied, the sync on record
as failed. Every server loop is bounded and stops by itself."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from custody.models.status import StatusEvent, StatusSync
from custody.ruleset import default_rules
from custody.status_vocab import StatusSourceError
from importers.bounded_http import MB, FeedLimits, json_depth
from importers.status_http import HttpStatusSource
from scheduler.status_tick import sync_source
from tests.test_status_portfolio import NOW, build_portfolio

TOKEN = "Bearer bounds-token-0123456789"
GOOD = {"records": [{"application_number": "ZL201410000003.5", "announced_on": "2025-05-06",
                     "status": "未缴年费专利权终止"}]}


class _Feed(BaseHTTPRequestHandler):
    other = ""  # the other origin's base URL, for the cross-origin redirect
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Feed.seen.append((self.path, self.headers.get("Authorization")))
        getattr(self, "_" + self.path.strip("/").replace("-", "_"), self._missing)()

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _feed(self) -> None:
        self._send(200, json.dumps(GOOD, ensure_ascii=False).encode())

    def _missing(self) -> None:
        self._send(404, b"no such feed")

    def _redirect_home(self) -> None:
        self._send(302, b"", Location="/feed")

    def _redirect_away(self) -> None:
        self._send(302, b"", Location=f"{_Feed.other}/feed")

    def _redirect_loop(self) -> None:
        self._send(302, b"", Location="/redirect-loop")

    def _huge(self) -> None:  # declares 5 GiB, sends 64 KiB
        self.send_response(200)
        self.send_header("Content-Length", str(5 << 30))
        self.end_headers()
        self._write_quietly([b"[" * 65536])

    def _endless(self) -> None:  # no length; 8 MiB at most, then it stops
        self.send_response(200)
        self.end_headers()
        self._write_quietly([b" " * 65536] * 128)

    def _drip(self) -> None:  # a byte every 0.2 s, 60 bytes at most
        self.send_response(200)
        self.end_headers()
        self._write_quietly([b" "] * 60, pause=0.2)

    def _drip_headers(self) -> None:  # the header block itself, a byte every 0.2 s
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self._write_quietly([b"X"] * 60, pause=0.2)

    def _deep(self) -> None:
        self._send(200, b"[" * 200_000 + b"]" * 200_000)

    def _many(self) -> None:
        records = [GOOD["records"][0]] * 11
        self._send(200, json.dumps({"records": records}, ensure_ascii=False).encode())

    def _write_quietly(self, pieces: list[bytes], pause: float = 0.0) -> None:
        try:
            for piece in pieces:
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(pause)
        except OSError:  # the client gave up: that is the point
            pass

    def log_message(self, *args: object) -> None:
        pass


def _serve() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def feed() -> Iterator[str]:
    home, home_url = _serve()
    other, other_url = _serve()
    _Feed.other, _Feed.seen = other_url, []
    yield home_url
    for server in (home, other):
        server.shutdown()
        server.server_close()


LIMITS = FeedLimits(deadline_seconds=2.0, max_body_bytes=1 * MB, max_records=10, max_depth=64)


def _source(url: str, limits: FeedLimits = LIMITS) -> HttpStatusSource:
    return HttpStatusSource(url, "records", auth_header="Authorization", auth_value=TOKEN, timeout_seconds=5,
                            limits=limits)


@pytest.mark.parametrize(("path", "message"), [
    pytest.param("/redirect-away", r"redirects to another origin \(http://127\.0\.0\.1:\d+/feed\), not followed",
                 id="redirect-to-another-host"),
    pytest.param("/redirect-loop", r"more than 5 redirects", id="redirect-loop"),
    pytest.param("/huge", r"the body would be 5,368,709,120 bytes, more than max_body_mb = 1", id="5-gib-declared"),
    pytest.param("/endless", r"the body is larger than max_body_mb = 1", id="endless-body"),
    pytest.param("/drip", r"no complete answer within deadline_seconds = 2", id="body-drip"),
    pytest.param("/drip-headers", r"no complete answer within deadline_seconds = 2", id="header-drip"),
    pytest.param("/deep", r"the body nests 200000 levels deep, more than max_depth = 64", id="deep-json"),
    pytest.param("/many", r"11 records, more than max_records = 10", id="too-many-records"),
])
def test_each_bound_is_one_clear_error_in_bounded_time(feed: str, path: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(StatusSourceError, match=message) as caught:
        _source(feed + path).fetch()
    assert time.monotonic() - started < 4.0  # the deadline (2 s) and no more than a read's slack
    assert "nothing applied" in str(caught.value) and TOKEN not in str(caught.value)


def test_a_redirect_within_the_feeds_origin_is_followed(feed: str) -> None:
    assert len(_source(feed + "/redirect-home").fetch().records) == 1


def test_redirects_none_follows_not_even_the_feeds_own(feed: str) -> None:
    with pytest.raises(StatusSourceError, match=r'redirects = "none"'):
        _source(feed + "/redirect-home", FeedLimits(redirects="none")).fetch()


def test_redirects_any_follows_elsewhere_without_the_auth_header(feed: str) -> None:
    assert len(_source(feed + "/redirect-away", FeedLimits(redirects="any")).fetch().records) == 1
    assert _Feed.seen == [("/redirect-away", TOKEN), ("/feed", None)]


@pytest.mark.parametrize("path", ["/redirect-away", "/huge", "/drip", "/deep", "/many"])
def test_a_breach_applies_nothing_and_the_sync_is_on_record_as_failed(engine: Engine, session: Session, feed: str,
                                                                      path: str) -> None:
    build_portfolio(session)
    source = _source(feed + path)
    with pytest.raises(StatusSourceError):
        sync_source(engine, source.fetch, source.name, default_rules(), NOW)
    with Session(engine) as check:
        assert check.exec(select(func.count()).select_from(StatusEvent)).one() == 0
        failure = check.exec(select(StatusSync)).one()
    assert failure.new_events == 0 and "nothing applied" in failure.error and TOKEN not in failure.error


@pytest.mark.parametrize(("body", "depth"), [
    (b"5", 0), (b"[]", 1), (b'{"a": [1, {"b": "[[[["}]}', 3), (b'["\\"]]]]"]', 1), (b"[" * 1000 + b"]" * 1000, 1000),
])
def test_json_depth_counts_brackets_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_the_limits_come_from_config() -> None:
    from custody.config import Config
    from importers.status_http import http_source_from_config

    section = {**Config().section("status")["http"], "url": "https://feed.example/x", "auth_env": "",
               "max_body_mb": 2, "deadline_seconds": 9, "redirects": "none"}
    limits = http_source_from_config(section).limits
    assert (limits.max_body_bytes, limits.deadline_seconds, limits.redirects) == (2 * MB, 9.0, "none")
