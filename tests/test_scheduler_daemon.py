"""The daemon (triggers, SIGTERM in a real subprocess), `custody run-once`, `custody health` and the reminder
commands of the CLI."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from datetime import time as day_time
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.cron import CronTrigger
from freezegun import freeze_time
from sqlalchemy import Engine

import cli
import cli_logging
import cli_wiring
from custody.clock import now as real_now
from custody.config import load_config
from custody.models import Enterprise
from custody.models.reminders import PatentDue, Reminder, ReminderAttempt, TickRun
from custody.reasons import reason
from custody.store.cancel import cancel_planned_for
from custody.store.db import engine_for, session_for, upgrade
from scheduler.daemon import ExtraJob, build_scheduler
from scheduler.status_tick import drop_folder_tick, status_tick
from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET, timeout
from tests.test_remind_world import Clock, add_enterprise, add_patent, at, items, outbox, ticks_for, world

pytest_plugins = ["tests.support.fixtures"]  # also in tests/conftest.py; registering twice is harmless
ROOT = Path(__file__).resolve().parent.parent


def test_daemon_jobs_run_in_shanghai_time_and_catch_up_after_downtime() -> None:
    ticks = ticks_for(None, {}, clock=Clock(at("2025-04-18", "07:15")))
    status = ExtraJob("status", lambda t: None, CronTrigger(hour=6, timezone="Asia/Shanghai"))
    scheduler = build_scheduler(ticks, ThreadPoolExecutor(1), extra=[status])
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"plan", "dispatch", "receipts", "status"}  # other ticks (legal status) plug in
    # At start: planning (which sends at once after it), receipts and the status tick; the minute's dispatch
    # job waits a minute, so it never races the dispatch that follows the first planning.
    start = ticks.clock()
    assert {i: jobs[i].next_run_time for i in ("plan", "receipts", "status")} == dict.fromkeys(
        ("plan", "receipts", "status"), start)
    assert jobs["dispatch"].next_run_time == start + timedelta(minutes=1)
    plan = jobs["plan"].trigger
    assert plan.get_next_fire_time(None, at("2025-04-18", "07:00")) == at("2025-04-18", "08:00")
    assert plan.get_next_fire_time(None, at("2025-04-18", "09:00")) == at("2025-04-19", "08:00")
    every = jobs["dispatch"].trigger
    assert every.interval == timedelta(minutes=1) and jobs["receipts"].trigger.interval == timedelta(minutes=10)
    # APScheduler 3.11 drops a run missed by more than 1 s unless told otherwise (reference: apscheduler.md).
    assert all(job.misfire_grace_time is None and job.coalesce and job.max_instances == 1 for job in jobs.values())


def test_the_daemon_runs_the_status_tick_daily_and_at_start_and_the_drop_folder_every_minute(tmp_path) -> None:
    config = _config(tmp_path, "sqlite://", f'[status]\ndrop_folder = "{tmp_path / "inbox"}"\n')
    ticks = ticks_for(None, {}, clock=Clock(at("2025-04-18", "07:15")))
    # what `custody daemon` hands the scheduler
    extra = cli_wiring.status_jobs(load_config(str(config)), day_time(7, 30))
    jobs = {job.id: job for job in build_scheduler(ticks, ThreadPoolExecutor(1), extra=extra).get_jobs()}
    assert set(jobs) == {"plan", "dispatch", "receipts", "status", "status_drop"}
    daily = jobs["status"].trigger
    assert daily.get_next_fire_time(None, at("2025-04-18", "07:00")) == at("2025-04-18", "07:30")
    assert daily.get_next_fire_time(None, at("2025-04-18", "08:00")) == at("2025-04-19", "07:30")
    assert jobs["status"].next_run_time == ticks.clock()  # also at start
    assert jobs["status_drop"].trigger.interval == timedelta(minutes=1)
    assert jobs["status"].func.func is status_tick and jobs["status_drop"].func.func is drop_folder_tick
    assert jobs["status_drop"].func.keywords["wiring"].drop_folder == tmp_path / "inbox"


def _config(tmp_path: Path, db_url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[general]\nlog_file = "{tmp_path / "custody.log"}"\n'
                    f'[outbox]\ndir = "{tmp_path / "outbox"}"\nreplace = true\n{extra}', encoding="utf-8")
    return path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _plan_state(engine: Engine) -> tuple:
    """What planning keeps between runs: each patent's next firing day and the refresh cursor."""
    with engine.connect() as connection:
        due = connection.execute(sa.select(PatentDue.patent_id, PatentDue.next_fire_on)).all()
        cursor = connection.execute(sa.select(TickRun.cursor).where(TickRun.name == "due_refresh")).scalar()
    return sorted(due), cursor


def test_remind_plan_dry_run_shows_what_and_why_and_saves_nothing(db_url: str, engine: Engine, tmp_path, capsys,
                                                                  monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    code, out, err = _run(capsys, "--config", config, "remind", "plan", "--as-of", "2025-04-18", "--dry-run",
                          "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["tier"], r["channel"], r["recipient"], r["outcome"]) for r in rows] == [
        ("before_due:due-7", "email", "i***@example.com", "planned"),
        ("before_due_sms:due-7", "sms", "138****0001", "planned")]
    assert outbox(engine) == [] and items(engine) == [] and _plan_state(engine) == ([], None)
    with freeze_time("2025-04-18 10:00:00+08:00"):
        code, out, _ = _run(capsys, "--config", config, "remind", "plan", "--format", "json")
    assert code == 0 and len(outbox(engine)) == 2


def test_as_of_without_dry_run_is_refused_and_changes_nothing(db_url: str, engine: Engine, tmp_path, capsys,
                                                             monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    with freeze_time("2025-10-10 10:00:00+08:00"):  # the daemon planned today: next tier fires on 10-12
        assert _run(capsys, "--config", config, "remind", "plan")[0] == 0
    before = _plan_state(engine)
    with freeze_time("2025-10-10 11:00:00+08:00"):
        code, _, err = _run(capsys, "--config", config, "remind", "plan", "--as-of", "2025-10-27")
    # Planning "as of" a later day would have saved that day's next firing days and refresh cursor, and the
    # daemon would then have skipped the last warnings before the grace end.
    assert code == 2 and err.strip() == "错误：--as-of 只能与 --dry-run 一起用（正式安排总是以当前时间为准）"
    assert _plan_state(engine) == before and len(outbox(engine)) == 2


def test_as_of_dry_run_recomputes_what_the_daemon_planned_for_another_day(db_url: str, engine: Engine, tmp_path,
                                                                          capsys, monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    with freeze_time("2025-04-01 10:00:00+08:00"):  # imported before the daemon planned: unchanged since
        world(engine, lambda s: add_patent(s, add_enterprise(s)))
    with freeze_time("2025-04-18 10:00:00+08:00"):  # the daemon's plan: the patent's next tier now fires 04-24
        assert _run(capsys, "--config", config, "remind", "plan")[0] == 0
        code, out, err = _run(capsys, "--config", config, "remind", "plan", "--as-of", "2025-04-10", "--dry-run",
                              "--format", "json")
    assert code == 0, err
    # Read from patent_due as the daemon left it (next tier 04-24), 04-10 would have shown nothing at all.
    assert [(r["tier"], r["outcome"]) for r in json.loads(out)] == [("before_due:due-15", "planned"),
                                                                     ("before_due_sms:due-30", "planned")]


def test_a_dry_run_only_says_it_would_alert_the_operator(db_url: str, engine: Engine, tmp_path, capsys,
                                                         monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    world(engine, lambda s: add_patent(s, add_enterprise(s, mobile=None, email=None)))  # nobody to remind
    code, _, err = _run(capsys, "--config", config, "remind", "plan", "--as-of", "2025-04-18", "--dry-run")
    assert code == 0 and "警告：将提醒运营人员（试运行，未保存）：无人可提醒" in err
    assert "operator alert:" not in err and outbox(engine) == []
    assert "before_due" not in err  # the tier in words (到期前…), not its stored label


def test_run_once_health_list_and_send(db_url: str, engine: Engine, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    with freeze_time("2025-04-18 10:00:00+08:00"):
        code, out, _ = _run(capsys, "--config", config, "health")
        assert code == 1 and "异常" in out  # no tick has ever run (FAIL, in the configured language)
        code, out, _ = _run(capsys, "--config", config, "remind", "send", "--dry-run", "--format", "json")
        assert code == 0 and json.loads(out) == []  # nothing planned yet
        code, out, err = _run(capsys, "--config", config, "run-once", "--format", "json")
        assert code == 0, err
        code, out, _ = _run(capsys, "--config", config, "health", "--format", "json")
        assert code == 0, out
        checks = json.loads(out)  # for a probe: `ok` is a boolean, `status` the word the table shows
        assert {(c["ok"], c["status"]) for c in checks} == {(True, "ok")}
    journal = (tmp_path / "outbox" / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["channel"] for line in journal) == ["email", "sms"]
    code, out, _ = _run(capsys, "--config", config, "remind", "list", "--format", "json")
    listed = json.loads(out)
    assert {r["state"] for r in listed} == {"sent"} and "13800000001" not in out
    code, _, err = _run(capsys, "--config", config, "remind", "list", "--state", "lost")
    assert code == 2 and "--state 须为以下之一" in err
    with freeze_time("2025-04-18 11:00:00+08:00"):
        code, out, _ = _run(capsys, "--config", config, "health")
    assert code == 1 and "发送任务" in out  # the dispatch tick (发送任务 in zh) is now an hour old


def test_remind_list_and_send_dry_run_leave_out_fees_cancelled_from_a_message(db_url: str, engine: Engine,
                                                                              tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    paid, kept = world(engine, lambda s: [add_patent(s, e) for e in [add_enterprise(s)] for _ in range(2)])
    with freeze_time("2025-04-18 10:00:00+08:00"):
        _run(capsys, "--config", config, "remind", "plan")
        with session_for(engine) as session:  # the enterprise paid one of the two fees of the digest
            cancel_planned_for(session, paid.id, reason("paid"), real_now(), year=9)
        for args in (("remind", "list"), ("remind", "send", "--dry-run")):
            code, out, _ = _run(capsys, "--config", config, *args, "--format", "json")
            assert code == 0 and {r["patents"] for r in json.loads(out)} == {f"{kept.application_number}/9"}


def test_enterprise_set_changes_standing_instructions(db_url: str, engine: Engine, tmp_path, capsys,
                                                      monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    enterprise = world(engine, lambda s: add_enterprise(s))
    with engine.begin() as connection:
        connection.execute(sa.text("update enterprise set credit_code = '91350100M000100Y43'"))
    world(engine, lambda s: add_patent(s, s.get(Enterprise, enterprise.id)))
    code, out, err = _run(capsys, "--config", config, "enterprise", "set", "91350100M000100Y43", "--no-sms",
                          "--agency", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == [{"enterprise": "福建测试科技有限公司", "sms": False, "remind_only": False,
                                "agency": True, "skip_abandoned": False}]
    with freeze_time("2025-04-18 10:00:00+08:00"):
        _run(capsys, "--config", config, "remind", "plan")
    assert {i.channel for i in items(engine)} == {"email"}
    code, _, err = _run(capsys, "--config", config, "enterprise", "set", "91110000600037341L", "--sms")
    assert code == 1 and "错误：" in err


def test_contact_set_records_an_opt_out_per_channel(db_url: str, engine: Engine, tmp_path, capsys,
                                                   monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    code, out, err = _run(capsys, "--config", config, "contact", "set", "+86 138 0000 0001", "--no-sms",
                          "--format", "json")
    assert code == 0, err
    assert [(c["mobile"], c["consent_sms"], c["consent_email"]) for c in json.loads(out)] == [
        ("13800000001", False, True)]
    with freeze_time("2025-04-18 10:00:00+08:00"):
        _run(capsys, "--config", config, "remind", "plan")
    assert {i.channel for i in items(engine)} == {"email"}
    code, out, _ = _run(capsys, "--config", config, "contact", "set", "IP@Example.com", "--no-email",
                        "--format", "json")
    assert code == 0 and json.loads(out)[0]["consent_email"] is False


@pytest.mark.parametrize(("args", "exit_code", "says"), [
    pytest.param(("13900000009", "--no-sms"), 1, "没有联系人 13900000009", id="unknown-address"),
    pytest.param(("not-a-number", "--no-sms"), 1, "既不是大陆手机号", id="not-an-address"),
    pytest.param(("13800000001",), 2, "请给出 --sms/--no-sms", id="no-channel-given"),
    pytest.param(("13800000001", "--no-sms", "--enterprise", "91110000600037341L"), 1, "没有统一社会信用代码为",
                 id="unknown-enterprise"),
])
def test_contact_set_refuses_what_it_cannot_apply(db_url: str, engine: Engine, tmp_path, capsys, monkeypatch,
                                                  args: tuple, exit_code: int, says: str) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url))
    world(engine, lambda s: add_enterprise(s))
    code, _, err = _run(capsys, "--config", config, "contact", "set", *args)
    assert (code, err.count("\n"), says in err) == (exit_code, 1, True), err


def test_a_bad_reminder_setting_is_a_configuration_error(db_url: str, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = str(_config(tmp_path, db_url, "[reminders]\ndigest = true\nquiet = 1\n"))
    code, _, err = _run(capsys, "--config", config, "remind", "plan", "--dry-run")
    assert code == 2 and "[reminders] quiet: unknown key" in err


def _due_soon_filing_date() -> date:
    """A filing date whose year-9 fee falls due within the next two weeks (by the real clock)."""
    soon = real_now().date() + timedelta(days=10)
    return soon.replace(year=soon.year - 8, day=min(soon.day, 28))


DAEMON_CONFIG = """
[sms]
enabled = true
endpoint = "{endpoint}"
protocol = "http"
sign_name = "专利托管"
read_timeout = 30
[sms.templates]
due_soon = "SMS_1"
overdue = "SMS_2"
lapsed = "SMS_3"
lapsed_due = "SMS_4"
overdue_final = "SMS_5"
[reminders.send_hours]
sms = ["00:00", "23:59"]
[[reminders.tiers]]
name = "every_day"
anchor = "due_date"
days_before = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
channels = ["sms"]
audience = ["ip_manager"]
"""


def test_sigterm_lets_the_running_tick_finish_and_exits_0(tmp_path, aliyun_gateway) -> None:
    db_url = f"sqlite:///{tmp_path / 'daemon.sqlite3'}"
    upgrade(db_url)
    engine = engine_for(db_url)
    world(engine, lambda s: [add_patent(s, add_enterprise(s), filed=_due_soon_filing_date()),
                             add_patent(s, add_enterprise(s, "无人公司", mobile=None, email=None),
                                        filed=_due_soon_filing_date())])  # nobody to remind: a warning
    status = f'[status]\ndrop_folder = "{tmp_path / "inbox"}"\n'
    config = _config(tmp_path, db_url, DAEMON_CONFIG.format(endpoint=aliyun_gateway.endpoint) + status)
    config.write_text(config.read_text(encoding="utf-8").replace("replace = true", "replace = false"),
                      encoding="utf-8")
    # The gateway takes the SMS and holds its answer for 3 s: SIGTERM arrives while the dispatch tick is sending.
    aliyun_gateway.fail_next(timeout(record=True, delay=3))
    env = {**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY_SECRET,
           "CUSTODY_CONFIG": str(config)}
    env.pop("CUSTODY_DATABASE_URL", None)
    daemon = subprocess.Popen([sys.executable, "-m", "cli", "daemon"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 100  # planning wakes dispatch at once; at worst the next minute's run
        while not aliyun_gateway.accepted() and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.05)
        assert aliyun_gateway.accepted(), daemon.communicate(timeout=5)
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert "daemon stopped" in err and "13800000001" not in err  # logs mask numbers
    with engine.connect() as connection:
        attempts = connection.execute(sa.select(ReminderAttempt.outcome).join(
            Reminder, Reminder.id == ReminderAttempt.reminder_id).where(Reminder.channel == "sms")).scalars().all()
        ticks = {row.name: row for row in connection.execute(sa.select(TickRun)).all()}
    # The send in flight was finished and recorded, not abandoned mid-way: the gateway took the SMS and answered
    # 504 after 3 s, so its outcome is unknown (looked up by OutId before any resend), never "retry".
    assert attempts == ["unknown"] and len(aliyun_gateway.accepted()) == 1
    assert {m.state for m in outbox(engine, kind="fee", channel="sms")} == {"unknown"}
    assert ticks["plan"].last_success_at is not None and ticks["status"].last_success_at is not None
    # At start planning runs, then its dispatch, in order: no job skipped for a running instance; and each
    # warning is printed once (one stderr handler).
    assert "maximum number of running instances" not in err
    assert err.count("无人可提醒") == 1 and "status, status_drop" in err


def test_log_lines_carry_shanghai_time_with_its_offset(tmp_path, capsys) -> None:
    config = load_config(str(_config(tmp_path, "sqlite://")))
    cli_logging.configure_logging(config)
    cli_logging.log_to_stderr()  # what `custody daemon` does: journald and cron mail read these lines
    with freeze_time("2025-04-18 02:00:00+00:00"):  # the machine's clock in UTC
        logging.getLogger("scheduler.ticks").warning("tick dispatch: late")
    line = "2025-04-18 10:00:00.000+08:00 WARNING scheduler.ticks: tick dispatch: late"
    assert line in capsys.readouterr().err
    assert line in (tmp_path / "custody.log").read_text(encoding="utf-8")


def test_remind_plan_dry_run_says_which_channels_cannot_send(db_url: str, engine: Engine, tmp_path, capsys,
                                                            monkeypatch) -> None:
    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = tmp_path / "config.toml"  # SMS off (the default), email on: nothing is planned on SMS
    config.write_text(f'[database]\nurl = "{db_url}"\n[general]\nlog_file = "{tmp_path / "custody.log"}"\n'
                      '[email]\nenabled = true\nhost = "127.0.0.1"\nfrom_address = "r@example.com"\n',
                      encoding="utf-8")
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    code, out, err = _run(capsys, "--config", str(config), "remind", "plan", "--as-of", "2025-04-18", "--dry-run",
                          "--format", "json")
    assert code == 0, err
    assert [(r["tier"], r["channel"], r["outcome"]) for r in json.loads(out)] == [
        ("before_due:due-7", "email", "planned"),
        ("before_due_sms:due-7", "sms", "skipped: 短信无法发送（未启用）")]  # the reason in the language (zh)
    assert "将提醒运营人员（试运行，未保存）：提醒层级 before_due_sms 的渠道（sms）均未启用" in err
    assert outbox(engine) == []


def test_remind_plan_says_what_it_rerouted_and_left_out(db_url: str, engine: Engine, tmp_path, capsys,
                                                         monkeypatch) -> None:
    from custody.appno import check_character
    from custody.models import Patent

    monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)
    config = tmp_path / "config.toml"  # SMS off since the SMS below was planned; email on
    config.write_text(f'[database]\nurl = "{db_url}"\n[general]\nlog_file = "{tmp_path / "custody.log"}"\n'
                      '[email]\nenabled = true\nhost = "127.0.0.1"\nfrom_address = "r@example.com"\n',
                      encoding="utf-8")
    world(engine, lambda s: add_patent(s, add_enterprise(s)))
    with freeze_time("2025-04-18 10:00:00+08:00"):
        from scheduler.ticks import plan_now
        plan_now(ticks_for(engine, {}))  # SMS and email, while SMS was still on

    def refused(s):  # filed in 2017 under a 2016 number: the fee engine refuses it
        patent = add_patent(s, s.merge(s.get(Enterprise, 1)))
        patent.application_number = f"201610601862.{check_character('201610601862')}"
    world(engine, refused)
    before = [(m.id, m.state) for m in outbox(engine)]
    with freeze_time("2025-04-18 10:05:00+08:00"):
        code, _out, err = _run(capsys, "--config", str(config), "remind", "plan", "--dry-run")
    assert code == 0, err
    assert "1 件专利未纳入（费用信息不完整）" in err and "1 条改走备用渠道" in err
    assert [(m.id, m.state) for m in outbox(engine)] == before  # a dry run: nothing saved
    with session_for(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Patent)).scalar() == 2
