"""The OPS watch against a local OPS-compatible server, through the real python-epo-ops-client, on SQLite and
PostgreSQL: each code does what the same heading from a file does (and is the same event), token renewal, 403
quota, 404, a malformed body (nothing applied), an unknown code (kept and surfaced), the throttling header, the
quota counted across a restart, the schedule, and the commands an operator uses."""
from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine
from sqlmodel import Session, select

import cli
from custody.models import Patent
from custody.models.ops import OpsPatent, OpsState
from custody.models.reminders import PatentDue, Reminder
from custody.models.status import StatusEffect, StatusEvent, StatusSync
from custody.ops_schedule import OpsSettings
from custody.ruleset import default_rules
from custody.store.db import engine_for, upgrade
from custody.store.ops_watch import cycle_health, used_this_week
from custody.store.status import watch_state
from custody.store.status_review import review_rows
from importers.status_file import StatusFile
from importers.status_ops import OpsGateway, OpsStatusSource
from scheduler.ops_tick import OpsWiring, run_ops
from scheduler.status_tick import StatusWiring, plan_status_notices, sync_source
from tests.support.cli import hand_to_cli
from tests.support.ops_server import KEY, SECRET, OpsServer
from tests.test_status_portfolio import (
    NOW,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    P7,
    RESTORED,
    SPARE,
    TODAY,
    UNPLEDGED,
    build_portfolio,
)

DATA = Path(__file__).parent / "data" / "ops"
LEGAL = {
    "(CN).(201410000003).(A)": "cn_family_p3.xml", "(CN).(202010000018).(A)": "cn_restored.xml",
    "(CN).(201910000019).(A)": "cn_pledges.xml", "(CN).(201910000005).(A)": "cn_watch_transfer.xml",
    "(CN).(201710000001).(A)": "cn_p1_misc.xml", "(CN).(201630000004).(S)": "cn_old_codes.xml",
    "(CN).(201510000008).(A)": "cn_c19.xml", "(CN).(202110000009).(A)": "cn_expy.xml",
    "(CN).(201610000010).(A)": "cn_cx01.xml", "(CN).(201810000006).(A)": "cn_unknown.xml",
    "(CN).(2019100000076).(A)": "cn_p7_checkdigit.xml", "(CN).(201710000011).(A)": "cn_iw01.xml",
    "(CN).(201810000012).(A)": "cn_ip01.xml", "(CN).(201910000013).(A)": "cn_av01.xml",
}
NUMBERS = {"(CN).(201910000007.6)": "CN.2019100000076.A"}
BLACK = "busy (images=green:100, inpadoc=black:0, other=green:1000, retrieval=green:100, search=green:10)"
OVERLOADED = "overloaded (images=green:50, inpadoc=green:1000, other=green:1000, retrieval=green:50, search=green:5)"
BUSY = "busy (images=green:100, inpadoc=yellow:1000, other=green:1000, retrieval=green:100, search=green:15)"


@pytest.fixture
def ops() -> Iterator[OpsServer]:
    with OpsServer(LEGAL, NUMBERS) as server:
        yield server


@pytest.fixture
def portfolio(session: Session) -> dict[str, Patent]:
    return build_portfolio(session, spares=True, lifecycle=True)


def wiring(ops: OpsServer, **settings) -> OpsWiring:
    chosen = replace(OpsSettings(base_url=ops.base_url, timeout_seconds=5), **settings)
    status = StatusWiring(lambda: [], StatusFile)
    return OpsWiring(chosen, lambda: OpsGateway(KEY, SECRET, chosen.base_url, chosen.timeout_seconds),
                     OpsStatusSource, None,
                     lambda engine, rules, now, alerts: plan_status_notices(engine, status, rules, now, alerts))


def check(engine: Engine, ops: OpsServer, number: str | None = None, now=NOW, dry_run: bool = False, **settings):
    return run_ops(engine, wiring(ops, **settings), default_rules(), now, only=number, dry_run=dry_run)


def _events(engine: Engine, number: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        patent = session.exec(select(Patent).where(Patent.application_number == number)).one()
        rows = session.exec(select(StatusEvent).where(StatusEvent.patent_id == patent.id)
                            .order_by(StatusEvent.announced_on, StatusEvent.id))
        return [(e.announced_on.isoformat(), e.kind) for e in rows]


def _watch(engine: Engine, number: str):
    with Session(engine) as session:
        patent = session.exec(select(Patent).where(Patent.application_number == number)).one()
        return watch_state(session, patent.id), patent


# ---------------------------------------------------------------------------------------------- events


def test_a_family_answer_applies_only_our_cn_members_events(engine: Engine, portfolio, ops: OpsServer) -> None:
    run = check(engine, ops, P3)
    assert (run.checked, run.failed) == (1, [])
    # The utility model filed beside it (terminated 2017), the US and the EP members are not P3's.
    assert _events(engine, P3) == [("2014-06-18", "publication"), ("2014-07-16", "examination"),
                                   ("2016-10-12", "grant"), ("2025-05-06", "lapse_nonpayment")]
    state, _ = _watch(engine, P3)
    assert state.lapsed_on.isoformat() == "2025-05-06" and state.restore_by is not None
    assert ops.calls("legal")[0]["body"] == "(CN).(201410000003).(A)"


@pytest.mark.parametrize(("number", "expect"), [
    pytest.param(RESTORED, lambda s, p: s.lapsed_on is None and s.ended is None, id="cf01-then-rr01-restored"),
    pytest.param(UNPLEDGED, lambda s, p: s.pledgee == "兴业银行股份有限公司福州分行", id="pledges-same-day"),
    pytest.param(P5, lambda s, p: s.transfer_to == "另一家公司", id="watch-only-transfer-held"),
    pytest.param(P1, lambda s, p: p.owners == "福州甲科技股份有限公司", id="cp01-renames-the-owner"),
    pytest.param(P4, lambda s, p: s.lapsed_on.isoformat() == "2023-03-03", id="c17-free-text-non-payment"),
    pytest.param(SPARE[0], lambda s, p: s.lapsed_on.isoformat() == "2025-06-04", id="c19-padded"),
    pytest.param(SPARE[2], lambda s, p: s.ended == "expired", id="cx01-expired"),
    pytest.param(SPARE[1], lambda s, p: s.ended == "termination", id="expy-in-term-ended-for-review"),
    # As the same headings from a status file do (tests/test_status_ingest.py, SPARE[3] to SPARE[5]).
    pytest.param(SPARE[3], lambda s, p: (s.ended, str(s.ended_on)) == ("invalidated_full", "2025-02-02"),
                 id="iw01-invalid-in-full-ends-the-patent"),
    pytest.param(SPARE[4], lambda s, p: s.ended is None and s.lapsed_on is None, id="ip01-invalid-in-part-keeps-it"),
    pytest.param(SPARE[5], lambda s, p: (s.ended, str(s.ended_on)) == ("abandoned", "2025-04-01"),
                 id="av01-abandoned-ends-the-patent"),
])
def test_each_code_changes_the_watch_as_its_heading_does(engine: Engine, portfolio, ops: OpsServer, number: str,
                                                        expect) -> None:
    run = check(engine, ops, number)
    assert run.failed == [] and run.checked == 1
    state, patent = _watch(engine, number)
    assert expect(state, patent), (state, patent.owners)


def test_an_unknown_code_is_kept_and_shown_to_the_operator(engine: Engine, portfolio, ops: OpsServer) -> None:
    run = run_ops(engine, wiring(ops), default_rules(), NOW, _settings(), only=P6)
    assert [u["status"] for u in run.result.unknown] == ["ZX99 SOME EVENT CODE ADDED LATER"]
    assert ("2025-06-12", "unknown") in _events(engine, P6)
    with Session(engine) as session:
        review = review_rows(session, TODAY - timedelta(days=30))
        alerts = session.exec(select(Reminder).where(Reminder.key.startswith("alert:status-unknown:ops"))).all()
    assert any(r["application_number"] == P6 and "ZX99" in r["message"] for r in review)
    assert len(alerts) == 1


def _settings():
    from custody.reminder_settings import reminder_settings

    return reminder_settings({})


def _file_rows(number: str) -> list[dict]:
    """P3's CNIPA export rows for the same announcements OPS gives (法律状态公告日, 法律状态, 法律状态信息)."""
    return [{"申请号": number, "法律状态公告日": "2016-10-12", "法律状态": "授权", "法律状态信息": ""},
            {"申请号": number, "法律状态公告日": "2025-05-06", "法律状态": "未缴年费专利权终止",
             "法律状态信息": "未缴年费专利权终止 IPC(主分类): H01Q 1/24"}]


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("file_first", [True, False], ids=["file-then-ops", "ops-then-file"])
def test_the_same_event_from_ops_and_from_a_file_is_one_event(engine: Engine, portfolio, ops: OpsServer,
                                                              tmp_path: Path, file_first: bool) -> None:
    export = StatusFile(_write_csv(tmp_path / "status.csv", _file_rows(P3)))
    if file_first:
        sync_source(engine, export.fetch, export.name, default_rules(), NOW)
    run = check(engine, ops, P3)
    second = None if file_first else sync_source(engine, export.fetch, export.name, default_rules(), NOW)
    assert _events(engine, P3).count(("2025-05-06", "lapse_nonpayment")) == 1
    assert _events(engine, P3).count(("2016-10-12", "grant")) == 1
    assert (run.result.duplicates if file_first else second.duplicates) == 2


def test_every_effect_of_an_ops_event_is_the_effect_of_the_same_file_event(engine: Engine, portfolio,
                                                                           ops: OpsServer, tmp_path: Path) -> None:
    """One database takes P3's events from OPS, another the same announcements from an export: the same effects."""
    check(engine, ops, P3)
    other_url = f"sqlite:///{tmp_path / 'file.sqlite3'}"
    upgrade(other_url)
    other = engine_for(other_url)
    try:
        with Session(other) as session:
            build_portfolio(session, spares=True, lifecycle=True)
        with Session(engine) as session:
            rows = [{"申请号": P3, "法律状态公告日": e.announced_on.isoformat(), "法律状态": e.status,
                     "法律状态信息": e.detail} for e in session.exec(select(StatusEvent).order_by(StatusEvent.id))]
        export = StatusFile(_write_csv(tmp_path / "same.csv", rows))
        sync_source(other, export.fetch, export.name, default_rules(), NOW)
        assert _effects(other, P3) == _effects(engine, P3)
        assert _watch(other, P3)[0] == _watch(engine, P3)[0]
    finally:
        other.dispose()


def _effects(engine: Engine, number: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        patent = session.exec(select(Patent).where(Patent.application_number == number)).one()
        rows = session.exec(select(StatusEffect).where(StatusEffect.patent_id == patent.id).order_by(StatusEffect.id))
        return [(e.code, e.message.split(" (cause:")[0]) for e in rows]


def test_a_watch_only_patents_change_goes_into_the_watching_enterprises_digest(engine: Engine, portfolio,
                                                                               ops: OpsServer) -> None:
    run_ops(engine, wiring(ops), default_rules(), NOW, _settings(), only=P5)
    with Session(engine) as session:
        digests = session.exec(select(Reminder).where(Reminder.key.startswith("digest:"))).all()
        watcher = session.exec(select(Patent.enterprise_id).where(Patent.application_number == P5)).one()
        events = session.exec(select(StatusEvent).where(StatusEvent.patent_id == _id(session, P5))).all()
    assert digests and {d.enterprise_id for d in digests} == {watcher}
    assert events and all(e.digested_at is not None for e in events)


# ---------------------------------------------------------------------------------------------- faults


def test_an_expired_token_is_renewed_and_the_request_repeated(ops: OpsServer) -> None:
    gateway = OpsGateway(KEY, SECRET, ops.base_url, 5)
    first = gateway.legal(_docdb(P3))
    ops.expire_tokens()
    second = gateway.legal(_docdb(P1))
    assert first.body and second.body
    assert len(ops.calls("token")) == 2
    assert [r["body"] for r in ops.calls("legal")] == ["(CN).(201410000003).(A)", "(CN).(201710000001).(A)",
                                                        "(CN).(201710000001).(A)"]


def _docdb(number: str):
    from custody.appno import parse_application_number
    from custody.ops_legal import docdb_guess

    return docdb_guess(parse_application_number(number))


def test_a_token_that_cannot_be_renewed_is_recorded_per_patent_and_no_secret_shows(
        engine: Engine, portfolio, ops: OpsServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ops.fail_next("token", 401)
    run = run_ops(engine, wiring(ops), default_rules(), NOW, _settings(), only=P3)
    assert run.is_error and run.failed[0]["code"] == "auth_failed"
    with Session(engine) as session:
        review = review_rows(session, TODAY - timedelta(days=1))
        stored = [s.error or "" for s in session.exec(select(StatusSync))]
        stored += [r.error or "" for r in session.exec(select(OpsPatent))]
        stored += [r.body + r.subject for r in session.exec(select(Reminder))]
    assert any(r["what"] == "ops_check_failed" and "CUSTODY_OPS_KEY" in r["message"] for r in review)
    everything = caplog.text + json.dumps(review, ensure_ascii=False) + "".join(stored) + repr(run)
    assert KEY not in everything and SECRET not in everything


@pytest.mark.parametrize(("rejection", "pause"), [
    pytest.param("RegisteredQuotaPerWeek exceeded", timedelta(days=1), id="weekly-a-day"),
    pytest.param("IndividualQuotaPerHour exceeded", timedelta(hours=1), id="hourly"),
    pytest.param("", timedelta(hours=1), id="fair-use-refusal"),
])
def test_a_403_stops_the_run_and_pauses_the_watch(engine: Engine, portfolio, ops: OpsServer, rejection: str,
                                                  pause: timedelta) -> None:
    ops.fail_next("legal", 403, rejection=rejection)
    run = check(engine, ops, P3)
    assert run.is_error and run.checked == 0
    with Session(engine) as session:
        assert session.get(OpsState, 1).paused_until - NOW == pause
    calls = len(ops.requests)
    again = check(engine, ops, P1)
    assert again.stopped.startswith("paused until") and len(ops.requests) == calls  # OPS not asked again


def test_an_unknown_document_is_a_failure_listed_for_review(engine: Engine, portfolio, ops: OpsServer) -> None:
    run = check(engine, ops, P2)  # neither the guessed number nor the number service knows it
    assert run.failed[0]["code"] == "not_found"
    assert [r["service"] for r in ops.requests if r["service"] != "token"] == ["legal", "number"]
    with Session(engine) as session:
        row = session.get(OpsPatent, _id(session, P2))
        review = review_rows(session, TODAY - timedelta(days=1))
    assert row.failures == 1 and row.next_check_at - NOW == timedelta(hours=6)
    assert any(r["application_number"] == P2 and r["what"] == "ops_check_failed" for r in review)


def _id(session: Session, number: str) -> int:
    return session.exec(select(Patent.id).where(Patent.application_number == number)).one()


def test_the_number_service_finds_what_the_guess_does_not_and_is_cached(engine: Engine, portfolio,
                                                                         ops: OpsServer) -> None:
    check(engine, ops, P7)
    assert _watch(engine, P7)[0].pledgee == "中国银行股份有限公司深圳分行"
    check(engine, ops, P7, now=NOW + timedelta(days=8))
    assert [r["body"] for r in ops.requests if r["service"] != "token"] == [
        "(CN).(201910000007).(A)", "(CN).(201910000007.6)", "(CN).(2019100000076).(A)", "(CN).(2019100000076).(A)"]


def test_a_malformed_body_applies_nothing_and_the_next_patent_goes_on(engine: Engine, portfolio,
                                                                      ops: OpsServer) -> None:
    ops.legal["(CN).(202010000018).(A)"] = "malformed.xml"
    first = check(engine, ops, RESTORED)
    second = check(engine, ops, P3)
    assert first.failed[0]["code"] == "malformed_response" and _events(engine, RESTORED) == []
    assert second.checked == 1 and _events(engine, P3)


def test_a_dry_run_changes_nothing_but_counts_the_volume(engine: Engine, portfolio, ops: OpsServer) -> None:
    run = check(engine, ops, P3, dry_run=True)
    assert len(run.result.new_events) == 4 and _events(engine, P3) == []
    with Session(engine) as session:
        assert used_this_week(session, NOW) == run.bytes > 0
        assert session.get(OpsPatent, _id(session, P3)).last_checked_at is None


# ---------------------------------------------------------------------------------------------- schedule


def _enrolled(session: Session) -> int:
    return len(session.exec(select(OpsPatent)).all())


def test_the_first_run_checks_urgent_patents_then_the_week_spreads_the_rest(engine: Engine, portfolio,
                                                                             ops: OpsServer) -> None:
    with Session(engine) as session:  # P2's year-6 fee is in its grace period (what daily planning records)
        session.add(PatentDue(patent_id=_id(session, P2), fee_year=6, due_date=date(2025, 3, 10),
                              grace_end=date(2025, 9, 10), fee=Decimal("600"), full_fee=Decimal("600")))
        session.commit()
    first = check(engine, ops)
    with Session(engine) as session:
        assert _enrolled(session) == len(portfolio)
        assert session.get(OpsState, 1).cycle_completed_at is None  # caught up, but most never checked yet
    # Only the urgent patent at once (P2, which OPS does not know); the others at their point of the week.
    assert [f["application_number"] for f in first.failed] == [P2] and first.checked == 0
    week = NOW + timedelta(days=7, minutes=1)
    later = check(engine, ops, now=week)
    assert later.checked + len(later.failed) == len(portfolio)  # P2 again too: its retry time has come
    with Session(engine) as session:
        due = {n: session.get(OpsPatent, _id(session, n)).next_check_at - week for n in (P1, P3)}
        assert due == {P1: timedelta(days=7), P3: timedelta(days=1)}  # P3 is terminated and still restorable
        assert cycle_health(session, OpsSettings(), week + timedelta(minutes=1))[0]
        assert not cycle_health(session, OpsSettings(), week + timedelta(days=15))[0]


@pytest.mark.parametrize(("header", "stops"), [
    pytest.param(None, False, id="idle"), pytest.param(BUSY, False, id="busy"),
    pytest.param(OVERLOADED, True, id="overloaded"), pytest.param(BLACK, True, id="black-listed"),
])
def test_the_throttling_header_paces_or_stops_the_run(engine: Engine, portfolio, ops: OpsServer, header: str | None,
                                                      stops: bool) -> None:
    check(engine, ops)  # the first run: the week's checks are spread from here
    if header:
        ops.throttle = header
    run = check(engine, ops, now=NOW + timedelta(days=7, minutes=1))
    assert (run.checked + len(run.failed) == 1) is stops
    assert (run.stopped is not None) is stops and not run.is_error
    with Session(engine) as session:
        state = session.get(OpsState, 1)
        assert (state.paused_until is not None) is stops
        assert state.last_throttle.split(" ")[0] == (header or "idle").split(" ")[0]


def test_the_volume_is_counted_across_a_restart_and_stops_the_watch_for_the_day(db_url: str, engine: Engine,
                                                                                 portfolio, ops: OpsServer) -> None:
    run = check(engine, ops, P3)
    size = len((DATA / "cn_family_p3.xml").read_bytes())
    assert run.bytes >= size
    engine.dispose()
    restarted = engine_for(db_url)
    try:
        with Session(restarted) as session:
            assert used_this_week(session, NOW) == run.bytes
        # A quota this small is reached: the next run stops for the day without asking OPS.
        calls = len(ops.requests)
        stopped = run_ops(restarted, wiring(ops, weekly_quota_mb=1, stop_at_percent=1), default_rules(),
                          NOW + timedelta(hours=1), only=P1)
        assert stopped.stopped.startswith("weekly quota near") and len(ops.requests) == calls
        # OPS's own weekly figure counts when it is larger than ours.
        ops.week_used = 10**9
        run_ops(restarted, wiring(ops), default_rules(), NOW + timedelta(days=1, hours=1), only=P1)
        with Session(restarted) as session:
            assert used_this_week(session, NOW + timedelta(days=1, hours=1)) == 10**9
    finally:
        restarted.dispose()


# ---------------------------------------------------------------------------------------------- commands


@pytest.fixture
def home(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ops: OpsServer) -> Path:
    build_portfolio(session, spares=True, lifecycle=True)
    folder = hand_to_cli(session, db_url, monkeypatch, tmp_path)
    (folder / "config.toml").write_text(f'[status.ops]\nbase_url = "{ops.base_url}"\n', encoding="utf-8")
    monkeypatch.setenv("CUSTODY_OPS_KEY", KEY)
    monkeypatch.setenv("CUSTODY_OPS_SECRET", SECRET)
    return folder


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = cli.run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_operator_syncs_one_patent_and_reads_the_usage(home: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, "status", "sync", "ops", "--patent", P3)
    assert code == 0 and "新事件 4 个" in out and "查询专利 1 件" in out
    code, out, err = _run(capsys, "status", "sync", "ops", "--patent", P6)
    assert code == 0 and "待核实：未识别的法律状态已保留" in err and "ZX99" in err
    code, out, _ = _run(capsys, "status", "ops-usage", "--format", "json")
    usage = {row["item"]: row["value"] for row in json.loads(out)}
    assert code == 0 and usage["used_bytes"] > 0 and usage["quota_mb"] == 2500
    for text in (out, err):
        assert KEY not in text and SECRET not in text


def test_a_failed_check_exits_1_and_an_unknown_patent_is_refused(home: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "status", "sync", "ops", "--patent", P2)
    assert code == 1 and "失败：" + P2 in err and "status review" in err
    code, _, err = _run(capsys, "status", "sync", "ops", "--patent", "201710099999.4")
    assert code == 1 and "not in the portfolio" in err


def test_without_credentials_the_ops_sync_is_a_configuration_error(home: Path, capsys: pytest.CaptureFixture,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTODY_OPS_SECRET")
    code, _, err = _run(capsys, "status", "sync", "ops")
    assert code == 2 and "CUSTODY_OPS_SECRET" in err


def test_health_fails_when_the_ops_watch_has_not_completed_a_cycle(home: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "health", "--format", "json")
    ops_line = next(c for c in json.loads(out) if c["check"] == "ops watch")
    assert code == 1 and not ops_line["ok"] and "never run" in ops_line["detail"]


def _ticks_run(out: str) -> dict[str, dict]:
    return {row["tick"]: json.loads(row["result"]) for row in json.loads(out)}


def test_run_once_runs_the_ops_watch_before_planning_as_the_daemon_does(home: Path, capsys: pytest.CaptureFixture,
                                                                        ops: OpsServer, engine: Engine) -> None:
    code, out, err = _run(capsys, "run-once", "--format", "json")
    ticks = _ticks_run(out)
    assert list(ticks) == ["status", "ops", "plan", "dispatch", "receipts"] and code == 0
    assert ticks["ops"]["error"] is False and ticks["ops"]["stopped"] is None
    with Session(engine) as session:  # enrolled, each at its point of the week (nothing urgent yet)
        assert _enrolled(session) == len(session.exec(select(Patent)).all())
    with freeze_time(datetime.now(UTC) + timedelta(days=8), tick=True):  # a week of cron runs later
        code, out, err = _run(capsys, "run-once", "--format", "json")
    ops_run = _ticks_run(out)["ops"]
    assert ops_run["checked"] >= 1 and ops.calls("legal") and ops_run["error"] is False
    assert ("2025-02-02", "invalidated_full") in _events(engine, SPARE[3])
    for text in (out, err):
        assert KEY not in text and SECRET not in text


@pytest.mark.parametrize("why", ["no-secret", "disabled"])
def test_run_once_leaves_the_ops_watch_out_without_credentials_or_when_disabled(
        home: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, ops: OpsServer, why: str) -> None:
    if why == "no-secret":
        monkeypatch.delenv("CUSTODY_OPS_SECRET")
    else:
        (home / "config.toml").write_text(f'[status.ops]\nenabled = false\nbase_url = "{ops.base_url}"\n',
                                          encoding="utf-8")
    code, out, _ = _run(capsys, "run-once", "--format", "json")
    assert code == 0 and list(_ticks_run(out)) == ["status", "plan", "dispatch", "receipts"]
    assert ops.calls("legal") == [] and ops.calls("token") == []


def test_run_once_exits_1_when_ops_refuses_the_run(home: Path, capsys: pytest.CaptureFixture, ops: OpsServer) -> None:
    assert _run(capsys, "run-once")[0] == 0  # enrols the portfolio; nothing due yet
    ops.fail_next("legal", 403, rejection="RegisteredQuotaPerWeek exceeded")
    with freeze_time(datetime.now(UTC) + timedelta(days=8), tick=True):
        code, out, _ = _run(capsys, "run-once", "--format", "json")
    assert code == 1 and _ticks_run(out)["ops"]["error"] is True
