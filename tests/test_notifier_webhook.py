"""Group-robot webhook (WeCom / DingTalk) against a tiny local robot that answers like the real ones."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from notifiers.base import Message, Outcome, Transport
from notifiers.webhook import AlertSettings, RobotWebhook

ALERT = Message(key="alert-1", channel="webhook", recipient="ops", text="短信通道已暂停：余额不足",
                subject="专利托管告警")


class Robot:
    """Records each POST; answers with the scripted (HTTP status, errcode, errmsg), else (200, 0, "ok")."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict, dict]] = []  # (query, JSON body)
        self.answers: list[tuple[int, int, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def url(self, token: str = "robot-token-123") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/cgi-bin/webhook/send?key={token}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.posts.append(({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}, body))
                status, errcode, errmsg = robot.answers.pop(0) if robot.answers else (200, 0, "ok")
                data = json.dumps({"errcode": errcode, "errmsg": errmsg}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Robot:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    with Robot() as running:
        yield running


def wecom(robot: Robot, **settings: object) -> RobotWebhook:
    return RobotWebhook(AlertSettings(enabled=True, kind="wecom", **settings), url=robot.url())


def test_webhook_is_a_transport(robot):
    assert isinstance(wecom(robot), Transport)


def test_errcode_zero_is_sent_as_a_text_message(robot):
    result = wecom(robot).send(ALERT)

    [(_, body)] = robot.posts
    assert result.outcome is Outcome.SENT
    assert body == {"msgtype": "text", "text": {"content": "专利托管告警\n\n短信通道已暂停：余额不足"}}


@pytest.mark.parametrize(
    ("answer", "outcome", "code"),
    [
        ((200, 93000, "invalid webhook url"), Outcome.PERMANENT, "93000"),
        ((200, 45009, "api freq out of limit"), Outcome.RETRY, "45009"),
        ((200, 130101, "send too fast, exceed 20 times per minute"), Outcome.RETRY, "130101"),
        ((200, 310000, "keywords not in content"), Outcome.PERMANENT, "310000"),
        ((502, 0, "bad gateway"), Outcome.RETRY, "HTTP 502"),
        ((404, 0, "not found"), Outcome.PERMANENT, "HTTP 404"),
    ],
    ids=["wecom-invalid-url", "wecom-rate-limit", "dingtalk-rate-limit", "dingtalk-keyword", "http-502", "http-404"],
)
def test_robot_refusal_maps_to_its_outcome(robot, answer, outcome, code):
    robot.answers.append(answer)

    result = wecom(robot).send(ALERT)

    assert (result.outcome, result.code) == (outcome, code)


def test_the_robots_key_in_its_url_reaches_the_robot(robot):
    wecom(robot).send(ALERT)
    assert robot.posts[0][0] == {"key": "robot-token-123"}


def test_rate_limited_alert_waits_a_minute(robot):
    robot.answers.append((200, 45009, "api freq out of limit"))

    assert wecom(robot).send(ALERT).retry_after_seconds == 60


def test_dingtalk_markdown_carries_a_title_and_a_valid_signature(robot):
    secret = "SEC0123456789abcdef"
    transport = RobotWebhook(AlertSettings(enabled=True, kind="dingtalk", format="markdown"), url=robot.url(),
                             signing_secret=secret)

    transport.send(ALERT)

    [(query, body)] = robot.posts
    assert query["key"] == "robot-token-123"  # the URL's own query is kept beside the signature
    expected = hmac.new(secret.encode(), f"{query['timestamp']}\n{secret}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(query["sign"]) == expected
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "专利托管告警"
    assert body["markdown"]["text"].startswith("### 专利托管告警")


def test_wecom_markdown_has_content_only(robot):
    wecom(robot, format="markdown").send(ALERT)

    [(query, body)] = robot.posts
    assert set(body["markdown"]) == {"content"} and "sign" not in query


def test_keyword_is_prefixed_when_the_text_lacks_it(robot):
    wecom(robot, keyword="年费").send(ALERT)

    assert robot.posts[0][1]["text"]["content"].startswith("[年费] ")


def test_long_alert_is_clipped_to_the_robots_byte_limit(robot):
    wecom(robot).send(Message(key="alert-2", channel="webhook", recipient="ops", text="专利" * 2000))

    content = robot.posts[0][1]["text"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("…")


def test_missing_url_pauses_the_channel(monkeypatch):
    monkeypatch.delenv("CUSTODY_ALERT_WEBHOOK_URL", raising=False)

    result = RobotWebhook(AlertSettings(enabled=True)).send(ALERT)

    assert (result.outcome, result.code) == (Outcome.PAUSE_CHANNEL, "config.NO_URL")


def test_url_is_read_from_the_environment(robot, monkeypatch):
    monkeypatch.setenv("CUSTODY_ALERT_WEBHOOK_URL", robot.url())

    assert RobotWebhook(AlertSettings(enabled=True)).send(ALERT).outcome is Outcome.SENT


def test_unreachable_robot_is_retried(robot):
    url = robot.url()
    robot.__exit__()

    result = RobotWebhook(AlertSettings(enabled=True, timeout=2.0), url=url).send(ALERT)

    assert result.outcome is Outcome.RETRY and "robot-token-123" not in result.detail
