"""`custody status sync` from the command line (cron or by hand), on SQLite and PostgreSQL: a folder sync moves only
legal-status exports and refuses a folder that holds none; unknown statuses are listed for every source and, like
failures, alerted to the operator through the reminders outbox; `--format json` is one JSON document for a file,
a folder, the drop folder and the HTTP feed; CSV from every listing neutralises formula text."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

import cli
from custody.models.reminders import Reminder
from custody.store.db import engine_for
from tests.support.cli import hand_to_cli
from tests.test_status_portfolio import P1, P3, B, build_portfolio
from tests.test_status_sources import TOKEN, feed_url  # noqa: F401 - the local feed server fixture

DATA = Path(__file__).parent / "data" / "status"
EVIL = '=HYPERLINK("http://evil.example","点击")'
OTHERS = {"custody.sqlite3": b"SQLite format 3\x00", "config.toml": b"[general]\n", "notes.txt": b"x\n"}


@pytest.fixture
def home(db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    build_portfolio(session, spares=True)
    return hand_to_cli(session, db_url, monkeypatch, tmp_path)


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = cli.run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _alerts(db_url: str, prefix: str) -> list[Reminder]:
    engine = engine_for(db_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(Reminder).where(Reminder.key.startswith(prefix))))
    finally:
        engine.dispose()


def _folder(home: Path, *exports: str, others: dict[str, bytes] | None = None) -> Path:
    folder = home / "folder"
    folder.mkdir()
    for name, data in (others or {}).items():
        (folder / name).write_bytes(data)
    for name in exports:
        shutil.copy(DATA / name, folder / name)
    return folder


# ---------------------------------------------------------------------------------------------- folders


@freeze_time("2025-06-16 01:30:00")
def test_a_folder_sync_moves_only_the_status_export(home: Path, capsys: pytest.CaptureFixture) -> None:
    folder = _folder(home, "status-gbk.csv", others=OTHERS)
    code, out, err = _run(capsys, "status", "sync", str(folder))
    assert code == 0, err
    assert out.startswith("status-gbk.csv: 文件 status-gbk.csv：2 条记录，新事件 2 个")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == OTHERS
    assert [p.name for p in (folder / "done").iterdir()] == ["20250616-093000-status-gbk.csv"]
    assert "提示：未处理（不是法律状态导出文件）：config.toml, custody.sqlite3, notes.txt" in err
    # Run again (from cron): nothing new, the other files still left alone; not refused, the folder is an inbox.
    code, out, err = _run(capsys, "status", "sync", str(folder))
    assert (code, out.strip()) == (0, f"{folder}：没有待应用的法律状态导出文件")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == OTHERS


@freeze_time("2025-06-16 01:30:00")
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["apply", "dry-run"])
def test_a_folder_without_any_export_is_refused_and_left_alone(home: Path, capsys: pytest.CaptureFixture,
                                                               dry_run: list) -> None:
    folder = _folder(home, others=OTHERS)
    code, out, err = _run(capsys, "status", "sync", str(folder), *dry_run)
    assert (code, out) == (1, "")
    assert err.startswith(f"错误：{folder} holds no legal-status export (.csv, .xlsx, .xlsm, .xls), only other "
                          f"files (config.toml, custody.sqlite3, notes.txt): nothing was touched")
    assert sorted(p.name for p in folder.iterdir()) == sorted(OTHERS)


@freeze_time("2025-06-16 01:30:00")
def test_a_file_that_is_not_an_export_is_refused(home: Path, capsys: pytest.CaptureFixture) -> None:
    (home / "config.toml").write_text("[general]\n", encoding="utf-8")
    code, _, err = _run(capsys, "status", "sync", str(home / "config.toml"))
    assert code == 1 and err.strip().endswith("config.toml：不是法律状态导出文件（应为 .csv, .xlsx, .xlsm, "
                                              ".xls 文件）")


# ---------------------------------------------------------------------------------------------- unknown and failures


@freeze_time("2025-06-16 01:30:00")
def test_a_folder_sync_lists_unknown_statuses_and_alerts_the_operator(home: Path, db_url: str,
                                                                      capsys: pytest.CaptureFixture) -> None:
    folder = _folder(home, "status-all.csv")
    code, out, err = _run(capsys, "status", "sync", str(folder), "--format", "json")
    shown = json.loads(out)
    assert code == 0 and shown["folder"] == str(folder) and shown["left_alone"] == []
    [entry] = shown["files"]
    assert entry["file"] == "status-all.csv" and entry["moved_to"].endswith("done/20250616-093000-status-all.csv")
    assert entry["unknown"] == [{"application_number": P1, "announced_on": "2025-06-02", "kind": "unknown",
                                 "status": "专利权人请求更正", "location": "status-all.csv:20"}]
    assert "待核实：未识别的法律状态已保留：201710000001.X 2025-06-02 专利权人请求更正（status-all.csv:20）" in err
    [alert] = _alerts(db_url, "alert:status-unknown:file:status-all.csv")
    assert "1条未识别的法律状态" in alert.subject and "专利权人请求更正" in alert.body
    assert alert.subject.endswith("（文件 status-all.csv）"), alert.subject  # where it came from, in words


@freeze_time("2025-06-16 01:30:00")
def test_a_refused_file_alerts_the_operator(home: Path, db_url: str, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "status", "sync", str(DATA / "status-bad.csv"))
    assert code == 1 and err.splitlines()[-1] == "错误：文件 status-bad.csv：3 条记录无法读取：未应用任何记录"
    [alert] = _alerts(db_url, "alert:status-failed:file:status-bad.csv")
    assert "法律状态同步失败，未做任何更改：文件 status-bad.csv" in alert.subject and "2025-13-45" in alert.body


@freeze_time("2025-06-16 01:30:00")
def test_a_dry_run_alerts_nobody(home: Path, db_url: str, capsys: pytest.CaptureFixture) -> None:
    assert _run(capsys, "status", "sync", str(DATA / "status-all.csv"), "--dry-run")[0] == 0
    assert _run(capsys, "status", "sync", str(DATA / "status-bad.csv"), "--dry-run")[0] == 1
    assert _alerts(db_url, "alert:") == []


# ---------------------------------------------------------------------------------------------- JSON for every source


@freeze_time("2025-06-16 01:30:00")
def test_the_drop_folder_answers_in_json(home: Path, capsys: pytest.CaptureFixture) -> None:
    inbox = home / "inbox"
    # settle_seconds = 0: under a frozen clock every file just copied would look years too young to read.
    (home / "config.toml").write_text(f'[general]\nlog_file = "{home / "custody.log"}"\n'
                                      f'[status]\ndrop_folder = "{inbox}"\nsettle_seconds = 0\n', encoding="utf-8")
    inbox.mkdir()
    shutil.copy(DATA / "status-gbk.csv", inbox / "a.csv")
    shutil.copy(DATA / "status-bad.csv", inbox / "b.csv")
    code, out, err = _run(capsys, "status", "sync", "drop", "--format", "json")
    shown = json.loads(out)
    assert code == 1 and err.strip().splitlines()[-1].startswith("错误：b.csv refused")
    assert [(f["file"], "summary" in f, "error" in f) for f in shown["files"]] == [("a.csv", True, False),
                                                                                   ("b.csv", False, True)]
    code, out, _ = _run(capsys, "status", "sync", "drop", "--format", "json")
    assert (code, json.loads(out)) == (0, {"folder": str(inbox), "files": [], "left_alone": []})


@freeze_time("2025-06-16 01:30:00")
def test_the_http_feed_answers_in_json(home: Path, feed_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                       capsys: pytest.CaptureFixture) -> None:
    (home / "config.toml").write_text(
        f'[status.http]\nurl = "{feed_url}/feed"\nrecords_path = "data.items"\nauth_header = "Authorization"\n'
        'auth_env = "CUSTODY_STATUS_TOKEN"\n'
        '[status.http.fields]\napplication_number = "patent.appNo"\nannounced_on = "lawDate"\n'
        'status = "lawStatus"\ndetail = "info"\n', encoding="utf-8")
    monkeypatch.setenv("CUSTODY_STATUS_TOKEN", TOKEN)
    code, out, err = _run(capsys, "status", "sync", "http", "--format", "json")
    shown = json.loads(out)
    assert code == 0, err
    assert (shown["source"], shown["records"], len(shown["new_events"])) == (f"http:{feed_url}/feed", 2, 2)


# ---------------------------------------------------------------------------------------------- CSV listings


@freeze_time("2025-06-16 01:30:00")
def test_csv_listings_neutralise_formula_text(home: Path, capsys: pytest.CaptureFixture) -> None:
    export = home / "evil.csv"
    export.write_text(f'申请号,法律状态公告日,法律状态\n{P3},2025-06-10,"{EVIL.replace(chr(34), chr(34) * 2)}"\n',
                      encoding="utf-8")
    assert _run(capsys, "status", "sync", str(export))[0] == 0
    code, out, _ = _run(capsys, "patent", "history", P3, "--format", "csv")
    assert code == 0
    first = out.splitlines()[1]
    assert first.startswith("2025-06-10,法律事件：未识别的法律状态,") and f"'{EVIL}" in first.replace('""', '"')
    code, out, _ = _run(capsys, "status", "review", "--since", "2025-01-01", "--format", "csv")
    assert code == 0 and "未识别的法律状态已保留" in out
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in out.splitlines() for cell in line.split(","))


# ---------------------------------------------------------------------------------------------- review


@freeze_time("2025-06-16 01:30:00")
def test_review_lists_records_not_in_the_portfolio_once_and_failed_syncs(home: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    for _ in range(2):  # the same export twice: each record not in the portfolio is kept once
        assert _run(capsys, "status", "sync", str(DATA / "status-all.csv"))[0] == 0
    assert _run(capsys, "status", "sync", str(DATA / "status-bad.csv"))[0] == 1
    code, out, err = _run(capsys, "status", "review", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    unmatched = [(r["application_number"], r["message"].split("，")[0]) for r in rows
                 if r["what"] == "not_in_portfolio"]
    # status-all.csv names three application numbers the portfolio (without its lifecycle patents) lacks.
    assert sorted(unmatched) == [
        ("201910000019.9", "专利权质押合同登记的注销（2025-04-15 公告"),
        ("201910000019.9", "专利权质押合同登记的生效（2024-05-06 公告"),
        ("202010000018.7", "专利权的恢复（2025-01-10 公告"),
        ("202010000018.7", "未缴年费专利权终止（2024-11-15 公告"),
        ("202210000099.X", "授权（2025-06-03 公告"),
    ]
    failed = [r["message"] for r in rows if r["what"] == "sync_failed"]
    assert len(failed) == 1 and failed[0].startswith("文件 status-bad.csv：3 条记录无法读取，未应用任何记录："), failed


@freeze_time("2025-06-16 01:30:00")
def test_confirm_records_the_new_owner_and_the_contacts_then_releases(home: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    assert _run(capsys, "status", "sync", str(DATA / "status-all.csv"))[0] == 0
    code, out, err = _run(capsys, "status", "confirm", "202010000017.2", "--enterprise", B, "--owner",
                          "上海丁科技有限公司", "--by", "张三")
    assert code == 0, err
    assert out.splitlines() == [
        f"已转至 深圳乙电子有限公司（{B}）（张三 操作）",
        "权利人：福州甲科技有限公司 → 上海丁科技有限公司（张三 确认）",
        f"转让给 上海丁有限公司 已由 张三 确认：权利人 上海丁科技有限公司；提醒恢复，发给 深圳乙电子有限公司（{B}），"
        "联系人 王五（专利联系人）",
    ]
    code, out, err = _run(capsys, "status", "confirm", "202010000017.2")
    assert (code, err.strip()) == (1, "错误：202010000017.2：没有待确认的转让")


@pytest.mark.parametrize("args", [
    pytest.param(["status", "sync", str(DATA / "status-gbk.csv"), "--format", "csv"], id="sync-csv"),
    pytest.param(["status", "review", "--format", "xlsx"], id="review-xlsx"),
    pytest.param(["status", "confirm"], id="confirm-without-appno"),
])
def test_usage_errors_in_status_commands_exit_2(home: Path, capsys: pytest.CaptureFixture, args: list) -> None:
    assert _run(capsys, *args)[0] == 2


def test_status_sync_drop_leaves_a_file_still_being_copied_in(home: Path, capsys: pytest.CaptureFixture) -> None:
    import os
    import time

    inbox = home / "inbox"
    inbox.mkdir()
    (home / "config.toml").write_text(f'[general]\nlog_file = "{home / "custody.log"}"\n'
                                      f'[status]\ndrop_folder = "{inbox}"\nsettle_seconds = 60\n', encoding="utf-8")
    half = inbox / "status-export.xlsx"
    half.write_bytes((DATA / "status-export.xlsx").read_bytes()[:1000])  # the copy has just begun
    code, _, err = _run(capsys, "status", "sync", "drop")
    assert code == 0 and half.exists() and not (inbox / "failed").exists()
    assert "提示：文件仍在复制中（未满 [status] settle_seconds），留待下次同步：status-export.xlsx" in err
    shutil.copy(DATA / "status-export.xlsx", half)  # the copy is complete, and a minute old
    os.utime(half, (time.time() - 120, time.time() - 120))
    code, out, _ = _run(capsys, "status", "sync", "drop")
    assert code == 0 and not half.exists() and "status-export.xlsx" in out
