"""The status ticks the daemon runs (daily, and every minute for the drop folder), on SQLite and PostgreSQL with a
frozen clock: run twice, they apply each event once and plan each notice once; a failing feed is recorded, alerts
the operator, and does not stop the drop folder; `custody status sync http` reads the configured feed."""
from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, func
from sqlmodel import Session, select

import cli
from custody.models.reminders import Reminder, TickRun
from custody.models.status import StatusEvent, StatusSync
from custody.reminder_settings import ReminderSettings
from custody.ruleset import default_rules
from custody.store.db import engine_for
from importers.status_file import read_status_file
from importers.status_http import HttpStatusSource
from scheduler.status_tick import StatusWiring, drop_folder_tick, status_tick
from scheduler.ticks import Ticks
from tests.test_status_portfolio import NOW, build_portfolio

DATA = Path(__file__).parent / "data" / "status"


class _Failing(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.send_response(500)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"oops!")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_feed() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/status"
    server.shutdown()
    server.server_close()


def _ticks(engine: Engine) -> Ticks:
    return Ticks(engine, ReminderSettings(), default_rules(), {}, clock=lambda: NOW)


def _landed(folder: Path, name: str, settled_at: float | None = None) -> None:
    """Copy a status file into the drop folder, written a minute before `settled_at` (default: now)."""
    folder.mkdir(exist_ok=True)
    shutil.copy(DATA / name, folder / name)
    old = (settled_at or time.time()) - 60
    os.utime(folder / name, (old, old))


def _drop_folder_config(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(drop folder, config file) for a CLI run on `db_url` with a drop folder and a file outbox."""
    inbox = tmp_path / "inbox"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[general]\nlog_file = "{tmp_path / "custody.log"}"\n'
                      f'[outbox]\ndir = "{tmp_path / "outbox"}"\nreplace = true\n'
                      f'[status]\ndrop_folder = "{inbox}"\n', encoding="utf-8")
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    return inbox, config


def _count(engine: Engine, statement) -> int:
    with Session(engine) as session:
        return session.exec(statement).one()


def test_the_daily_tick_run_twice_applies_once_and_plans_each_notice_once(engine: Engine, session: Session,
                                                                          tmp_path: Path) -> None:
    build_portfolio(session, spares=True)
    inbox = tmp_path / "inbox"
    _landed(inbox, "status-all.csv")
    wiring = StatusWiring(lambda: [], read_status_file, inbox)
    first, second = status_tick(_ticks(engine), wiring), status_tick(_ticks(engine), wiring)
    assert (first["pledgee_alerts"], first["digests"]) == (1, 1)
    assert (second["pledgee_alerts"], second["digests"], second["drop_folder"]) == (0, 0, [])
    assert _count(engine, select(func.count()).select_from(StatusEvent)) == 19
    assert _count(engine, select(func.count()).where(Reminder.key.startswith("pledgee:"))) == 1
    assert _count(engine, select(func.count()).where(Reminder.key.startswith("digest:"))) == 1
    with Session(engine) as check:
        run = check.get(TickRun, "status")
    assert (run.runs, run.last_failure_at) == (2, None)


def test_a_failing_feed_is_recorded_and_alerted_and_the_drop_folder_still_runs(engine: Engine, session: Session,
                                                                               tmp_path: Path,
                                                                               failing_feed: str) -> None:
    build_portfolio(session)
    inbox = tmp_path / "inbox"
    _landed(inbox, "status-gbk.csv")
    feed = HttpStatusSource(failing_feed, timeout_seconds=5)
    summary = status_tick(_ticks(engine), StatusWiring(lambda: [feed], read_status_file, inbox))
    assert summary[feed.name].startswith(f"failed, nothing applied: {failing_feed}: HTTP 500")
    assert summary["drop_folder"][0]["file"] == "status-gbk.csv"
    assert _count(engine, select(func.count()).select_from(StatusEvent)) == 2
    with Session(engine) as check:
        failure = check.exec(select(StatusSync).where(StatusSync.error.is_not(None))).one()
        alert = check.exec(select(Reminder).where(Reminder.key.startswith("alert:status-failed"))).one()
    assert failure.source == feed.name and "法律状态同步失败" in alert.subject


def test_the_drop_folder_tick_applies_a_file_as_it_lands(engine: Engine, session: Session, tmp_path: Path) -> None:
    build_portfolio(session)
    inbox = tmp_path / "inbox"
    wiring = StatusWiring(lambda: [], read_status_file, inbox)
    assert drop_folder_tick(_ticks(engine), wiring) == {"files": []}
    _landed(inbox, "status-export.xlsx")
    summary = drop_folder_tick(_ticks(engine), wiring)
    assert summary["files"][0]["summary"].startswith("file:status-export.xlsx: 3 record(s), 3 new event(s)")
    assert _count(engine, select(func.count()).select_from(StatusEvent)) == 3


def test_status_sync_http_reads_the_configured_feed(db_url: str, session: Session, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, failing_feed: str,
                                                    capsys: pytest.CaptureFixture) -> None:
    build_portfolio(session)
    session.close()
    config = tmp_path / "config.toml"
    # A feed without authentication says so (auth_env = ""): the documented default asks for CUSTODY_STATUS_TOKEN.
    config.write_text(f'[database]\nurl = "{db_url}"\n[status.http]\nurl = "{failing_feed}"\nauth_env = ""\n',
                      encoding="utf-8")
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    assert cli.run(["--config", str(config), "status", "sync", "http"]) == 1
    assert capsys.readouterr().err.startswith(f"错误：{failing_feed}: 状态接口返回 HTTP 500，未应用任何记录")


def test_status_sync_http_without_a_feed_is_a_configuration_error(db_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    assert cli.run(["status", "sync", "http"]) == 2
    assert "未设置 [status.http] url" in capsys.readouterr().err


def test_run_once_applies_a_file_landed_in_the_drop_folder_and_reads_the_feeds_once_a_day(
        db_url: str, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    build_portfolio(session)
    session.close()
    inbox, config = _drop_folder_config(tmp_path, db_url, monkeypatch)
    _landed(inbox, "status-export.xlsx", settled_at=NOW.timestamp())
    with freeze_time(NOW):
        assert cli.run(["--config", str(config), "run-once", "--format", "json"]) == 0, capsys.readouterr().err
    engine = engine_for(db_url)
    try:
        assert _count(engine, select(func.count()).select_from(StatusEvent)) == 3
        assert [p.name.endswith("status-export.xlsx") for p in (inbox / "done").iterdir()] == [True]
        _landed(inbox, "status-gbk.csv", settled_at=NOW.timestamp())
        with freeze_time(NOW + timedelta(minutes=5)):  # cron's next run, the same day
            assert cli.run(["--config", str(config), "run-once", "--format", "json"]) == 0
        with Session(engine) as check:
            runs = {name: check.get(TickRun, name).runs for name in ("status", "status_drop", "plan")}
        assert runs == {"status": 1, "status_drop": 1, "plan": 2}  # the daily tick once, the drop folder each run
        assert _count(engine, select(func.count()).select_from(StatusEvent)) == 5
    finally:
        engine.dispose()


@pytest.mark.parametrize("second_run", [False, True], ids=["daily-tick", "drop-folder-tick"])
def test_run_once_exits_1_when_a_file_in_the_drop_folder_is_refused(
        db_url: str, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture, second_run: bool) -> None:
    build_portfolio(session)
    session.close()
    inbox, config = _drop_folder_config(tmp_path, db_url, monkeypatch)
    inbox.mkdir()
    if second_run:  # the daily tick already ran today: this run only looks into the drop folder
        with freeze_time(NOW):
            assert cli.run(["--config", str(config), "run-once", "--format", "json"]) == 0
        capsys.readouterr()
    _landed(inbox, "status-bad.csv", settled_at=NOW.timestamp())
    with freeze_time(NOW + timedelta(minutes=5)):
        code = cli.run(["--config", str(config), "run-once", "--format", "json"])
    err = capsys.readouterr().err
    moved = sorted((inbox / "failed").iterdir())
    assert code == 1
    assert [p.name for p in moved] == ["20250616-093500-status-bad.csv",
                                             "20250616-093500-status-bad.csv.problems.txt"]
    assert f"错误：drop folder: status-bad.csv refused, moved to {inbox / 'failed' / moved[0].name}: " in err


def test_an_unmatched_pledge_alerts_the_operator_on_the_configured_alert_channel(engine: Engine, session: Session,
                                                                                 tmp_path: Path) -> None:
    from custody.models.core import Contact

    build_portfolio(session, spares=True)
    for contact in session.exec(select(Contact).where(Contact.role == "pledgee")):
        contact.name = "中国银行 王经理"  # no contact speaks for the bank the pledge names
    session.commit()
    inbox = tmp_path / "inbox"
    _landed(inbox, "status-all.csv")
    ticks = Ticks(engine, ReminderSettings(alert_channel="email"), default_rules(), {}, clock=lambda: NOW)
    status_tick(ticks, StatusWiring(lambda: [], read_status_file, inbox))
    with Session(engine) as check:
        alert = check.exec(select(Reminder).where(Reminder.key.startswith("alert:pledgee-unmatched:"))).one()
    assert (alert.recipient, alert.channel) == ("operator", "email")
