"""No secret in any output of a hostile run: recognisable secrets in the environment (one under a variable whose
name says nothing), a status feed that answers 401 echoing the Authorization header it got, and a WeCom robot on
127.0.0.1 whose URL carries its token in the path and in the query. Every command's stdout and stderr, every
row of every table, every alert the robot received and every log line is searched for each secret."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

import cli
from custody.masking import redacted
from custody.store.db import engine_for
from tests.test_notifier_webhook import Robot

CREDENTIAL = "feedcred-7d41c0ffee9a2b"
SECRETS = {
    "STATUS_FEED_AUTH": f"Bearer {CREDENTIAL}",  # named by [status.http] auth_env: nothing in the name says secret
    "CUSTODY_SMTP_PASSWORD": "smtp-pass-4c1d9e77",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIkeyid5f0e3a21",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "aliyun-secret-98b2c4d6",
    "CUSTODY_ALERT_WEBHOOK_SECRET": "SECdingtalk0a1b2c3d4",
}
PATH_TOKEN = "8f14e45f-ceea-467f-a0e6-c2a97b1d3e55"
QUERY_KEY = "wecomkey-693a9fcc0b1d"


class _EchoingFeed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        got = self.headers.get("Authorization", "")
        body = json.dumps({"error": "invalid credentials", "received": {"Authorization": got},
                           "hint": f"token {got.split()[-1]} was rejected"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("WWW-Authenticate", f'Bearer error="invalid_token", echo="{got}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echoing_feed() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingFeed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/status-feed"
    server.shutdown()
    server.server_close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    with Robot() as running:
        yield running


def _secrets(webhook_url: str) -> list[str]:
    return [*SECRETS.values(), CREDENTIAL, PATH_TOKEN, QUERY_KEY, webhook_url]


def _every_stored_text(db_url: str) -> str:
    engine = engine_for(db_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                             for row in connection.execute(select(table)))
    finally:
        engine.dispose()


def test_a_hostile_run_shows_stores_alerts_and_logs_no_secret(db_url: str, tmp_path: Path, echoing_feed: str,
                                                               robot: Robot, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    host, port = robot._server.server_address[:2]
    webhook_url = f"http://{host}:{port}/cgi-bin/webhook/hook/{PATH_TOKEN}?key={QUERY_KEY}"
    for name, value in {**SECRETS, "CUSTODY_ALERT_WEBHOOK_URL": webhook_url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    log_file = tmp_path / "custody.log"
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\nlog_file = "{log_file}"\n[database]\nurl = "{db_url}"\n'
                      f'[alerts]\nenabled = true\nkind = "wecom"\n'
                      f'[status.http]\nurl = "{echoing_feed}"\nauth_env = "STATUS_FEED_AUTH"\n', encoding="utf-8")
    commands = [["status", "sync", "http"], ["status", "sync", "http", "--format", "json"], ["run-once"],
                ["remind", "send"], ["status", "review", "--format", "csv"], ["status", "review", "--format", "json"],
                ["remind", "list", "--format", "json"], ["health", "--format", "json"]]
    shown = []
    for command in commands:
        code = cli.run(["--config", str(config), *command])
        captured = capsys.readouterr()
        shown.append(f"{command} -> {code}\n{captured.out}\n{captured.err}")
    everything = {"output": "\n".join(shown), "log": log_file.read_text(encoding="utf-8"),
                  "database": _every_stored_text(db_url),
                  "alerts": json.dumps([body for _, body in robot.posts], ensure_ascii=False)}

    assert "状态接口返回 HTTP 401" in everything["output"]  # the run did meet the hostile feed
    assert robot.posts and "法律状态同步失败" in everything["alerts"]  # and the operator was alerted
    assert "HTTP 401" in everything["database"]  # the failure is on record
    leaks = {(where, secret) for where, text in everything.items() for secret in _secrets(webhook_url)
             if secret in text}
    assert leaks == set()


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("Authorization: Bearer abc123def456", "Authorization: Bearer ******", id="header"),
    pytest.param('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', '{"authorization": "Basic ******"}',
                 id="echo-in-json"),
    pytest.param("X-Api-Key=k3y-0123456789", "X-Api-Key=******", id="api-key-header"),
    pytest.param("token 0123456789abcdef was rejected", "token ****** was rejected", id="bare-token-echo"),
    pytest.param("https://user:pa55word@feed.example.com/x", "https://user:******@feed.example.com/x",
                 id="userinfo-password"),
    pytest.param("https://3f2a9c0d4b5e6f7a8b9c@hooks.example.com/x", "https://******@hooks.example.com/x",
                 id="userinfo-token"),
    pytest.param("postgresql://custody@db:5432/custody", "postgresql://custody@db:5432/custody",
                 id="user-name-kept"),
    pytest.param("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a9fcc-0b1d",
                 "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=******", id="query-token"),
    pytest.param("POST https://open.feishu.cn/open-apis/bot/v2/hook/8f14e45f-ceea-467f-a0e6 failed",
                 "POST https://open.feishu.cn/open-apis/bot/v2/hook/****** failed", id="path-token"),
    pytest.param("token expired at https://feed.example.com/patents/201710601862.3",
                 "token expired at https://feed.example.com/patents/201710601862.3", id="ordinary-text-untouched"),
])
def test_redaction_removes_every_kind_of_secret(text: str, expected: str) -> None:
    assert redacted(text) == expected


def test_a_secret_handed_out_under_any_name_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    from custody.config import secret

    monkeypatch.setenv("FEED_HEADER_VALUE", "Token plainname-credential-42")
    assert secret("FEED_HEADER_VALUE")
    assert redacted("echo: plainname-credential-42 / Token plainname-credential-42") == "echo: ****** / ******"
