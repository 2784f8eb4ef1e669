"""A large patent file is read in a process of its own (importers/forked.py) while the import writes it: the
operator gets the same summary, the same rows and the same audit trail as when one process does both, and a
reading process that dies (killed, out of memory) leaves the database as it was, with one clear error line."""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import cli
from custody.models import Patent
from custody.models.imports import PatentChange
from custody.store.db import engine_for, upgrade
from tests.test_import_fast import HEADER, _row

DATA = Path(__file__).parent / "data" / "import"
VOLATILE = {"id", "created_at", "updated_at", "changed_at", "import_id", "patent_id"}


def _config(tmp_path: Path, name: str, from_rows: int, language: str = "en") -> Path:
    config = tmp_path / f"{name}.toml"
    config.write_text(f'[general]\nlanguage = "{language}"\nlog_file = "{tmp_path / "custody.log"}"\n\n'
                      f"[import]\nreader_process_from_rows = {from_rows}\n", encoding="utf-8")
    return config


def _mixed_file(tmp_path: Path, rows: int, seed: int = 7) -> Path:
    """Good, odd and wrong rows, with duplicates that agree and disagree, some of them chunks apart."""
    rng, numbers = random.Random(seed), []
    path = tmp_path / "mixed.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *(_row(rng, numbers) for _ in range(rows))])
    return path


def _import(url: str, config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    os.environ["CUSTODY_DATABASE_URL"] = url
    code = cli.run(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _stored(url: str) -> dict[str, list[dict]]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            table = Patent.__table__
            patents = [{k: v for k, v in r._mapping.items() if k not in VOLATILE}
                       for r in conn.execute(sa.select(table).order_by(table.c.application_number))]
            audit = sa.select(Patent.__table__.c.application_number, PatentChange.__table__).join(
                Patent.__table__, Patent.__table__.c.id == PatentChange.__table__.c.patent_id)
            changes = sorted(str(sorted((k, str(v)) for k, v in r._mapping.items() if k not in VOLATILE))
                              for r in conn.execute(audit))
    finally:
        engine.dispose()
    return {"patents": patents, "changes": [{"row": c} for c in changes]}


def _summary(out: str) -> dict:
    found = json.loads(out)
    found.pop("import_id", None)
    return found


@pytest.fixture
def databases(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[str, str]:
    """(the parametrised database, a second SQLite one), both holding the sample enterprises."""
    monkeypatch.setenv("CUSTODY_DATABASE_URL", db_url)
    second = f"sqlite:///{tmp_path / 'in-process.sqlite3'}"
    upgrade(second)
    config = _config(tmp_path, "plain", 0)
    for url in (db_url, second):
        assert _import(url, config, "import", "enterprises", str(DATA / "enterprises.csv"), capsys=capsys)[0] == 0
    return db_url, second


@pytest.mark.parametrize(("args", "rows"), [(["--partial"], 41000), (["--dry-run"], 2500), ([], 2500)],
                         ids=["partial-three-chunks", "dry-run", "all-or-nothing"])
def test_a_file_read_in_a_child_process_imports_as_in_one_process(databases, tmp_path, capsys, args, rows):
    forked_url, plain_url = databases
    path = _mixed_file(tmp_path, rows)
    command = ["import", "patents", str(path), "--as-of", "2024-05-01", "--format", "json", *args]
    forked = _import(forked_url, _config(tmp_path, "forked", 1), *command, capsys=capsys)
    plain = _import(plain_url, _config(tmp_path, "plain", 0), *command, capsys=capsys)
    assert forked[0] == plain[0] == 1  # the file has errors
    assert _summary(forked[1]) == _summary(plain[1])
    assert forked[2] == plain[2]
    assert _stored(forked_url) == _stored(plain_url)
    if args == ["--partial"]:
        assert len(_stored(forked_url)["patents"]) > 3000


def test_a_clean_file_read_in_a_child_process_is_written_with_its_audit_trail(databases, tmp_path, capsys):
    forked_url, plain_url = databases
    path = DATA / "portfolio_gbk.csv"
    command = ["import", "patents", str(path), "--as-of", "2024-05-01", "--format", "json"]
    forked = _import(forked_url, _config(tmp_path, "forked", 1), *command, capsys=capsys)
    plain = _import(plain_url, _config(tmp_path, "plain", 0), *command, capsys=capsys)
    assert forked[0] == plain[0] == 0
    assert _summary(forked[1]) == _summary(plain[1])
    stored = _stored(forked_url)
    assert stored == _stored(plain_url)
    assert len(stored["changes"]) == len(stored["patents"]) > 0  # one "(created)" row each


def _children(of: int | None = None) -> set[int]:
    """The child processes of `of` (this process by default), zombies included (from /proc)."""
    parent, found = str(of or os.getpid()), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == parent:
                found.add(int(stat.parent.name))
        except OSError:
            continue
    return found


def _kill_children_when_they_appear(stop: threading.Event) -> list[int]:
    """SIGKILL every child process of this one as soon as it appears (as the kernel's OOM killer would)."""
    killed: list[int] = []

    def watch() -> None:
        while not stop.is_set():
            for pid in _children() - set(killed):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    return killed


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the child process through /proc")
@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_reading_process_that_dies_leaves_nothing_written(databases, tmp_path, capsys, language):
    forked_url, _ = databases
    rng = random.Random(11)
    path = tmp_path / "large.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *(_row(rng, []) for _ in range(40000))])
    stop = threading.Event()
    killed = _kill_children_when_they_appear(stop)
    try:
        code, out, err = _import(forked_url, _config(tmp_path, "forked", 1, language), "import", "patents", str(path),
                                 "--as-of", "2024-05-01", "--partial", capsys=capsys)
    finally:
        stop.set()
    assert killed
    assert code == 1
    assert "Traceback" not in out + err
    expected = "读取 large.csv 的进程在文件结束前停止（退出码 -9）；未导入任何内容" if language == "zh" else \
        "the process reading large.csv stopped before the end of the file (exit code -9); nothing was imported"
    assert expected in err
    assert _stored(forked_url) == {"patents": [], "changes": []}


@pytest.mark.parametrize("value", ["-1", '"many"', "2000000000"])
def test_the_reader_process_threshold_is_checked(tmp_path, capsys, value, monkeypatch):
    config = tmp_path / "bad.toml"
    config.write_text(f"[import]\nreader_process_from_rows = {value}\n", encoding="utf-8")
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    code = cli.run(["--config", str(config), "import", "patents", str(DATA / "portfolio_gbk.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "reader_process_from_rows" in err and "Traceback" not in err


def test_a_writer_that_stops_early_stops_the_reading_process(databases, tmp_path):
    from custody.ruleset import default_rules
    from custody.store.imports import StoreLookup
    from custody.workdays import WorkCalendar
    from importers.context import Options
    from importers.files import open_import
    from importers.forked import forked_chunks

    forked_url, _ = databases
    path = _mixed_file(tmp_path, 45000)
    engine = engine_for(forked_url)
    options = Options(rules=default_rules(), calendar=WorkCalendar(), language="en")
    opened = open_import(path, "patents", StoreLookup(engine), options)
    before = _children()
    chunks = forked_chunks(opened, lambda: True, lambda n: None)
    reader = _children() - before
    assert next(chunks).patents  # the first chunk came from the reading process
    chunks.close()  # as when the writer fails: the generator is closed, the rest is not read
    assert len(reader) == 1 and not reader & _children()  # stopped and waited for (no zombie left)
    engine.dispose()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the processes through /proc")
def test_a_reading_process_whose_importer_is_killed_ends_too(databases, tmp_path):
    import subprocess
    import sys

    forked_url, _ = databases
    path = _mixed_file(tmp_path, 60000)
    env = {**os.environ, "CUSTODY_DATABASE_URL": forked_url,
           "CUSTODY_CONFIG": str(_config(tmp_path, "forked", 1))}
    importer = subprocess.Popen([sys.executable, "-m", "custody", "import", "patents", str(path), "--as-of",
                                 "2024-05-01", "--partial"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (reader := _children(importer.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reader, "the import started no reading process"
    importer.kill()  # SIGKILL: no clean-up of its own runs
    importer.wait()
    deadline = time.monotonic() + 10
    while any(map(_running, reader)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_running, reader)), "the reading process outlived its importer"


def _running(pid: int) -> bool:
    """Whether `pid` is a process still running (a zombie waiting to be reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_stored_patent_listed_twice_chunks_apart_without_an_enterprise_merges(databases, tmp_path, capsys):
    """A file of paid-through years only (no enterprise column) that lists a stored patent twice, 20,000 rows apart:
    the second row is the same row again and merges, in one process and read in a second one alike."""
    from custody.appno import check_character

    forked_url, plain_url = databases
    stored = ["import", "patents", str(DATA / "portfolio_gbk.csv"), "--as-of", "2024-05-01"]
    for url in (forked_url, plain_url):
        assert _import(url, _config(tmp_path, "plain", 0), *stored, capsys=capsys)[0] == 0
    again = ["201710601862.3", "发明", "2017-04-25", "3", "8", "托管"]
    watched = [[f"2019{n:08d}.{check_character(f'2019{n:08d}')}", "实用新型", "2019-05-06", "1", "5", "监控"]
               for n in range(20000000, 20020500)]
    path = tmp_path / "paid.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        header = ["申请号", "专利类型", "申请日", "授权年度", "已缴至年度", "托管方式"]
        csv.writer(fh).writerows([header, again, *watched, again])
    command = ["import", "patents", str(path), "--as-of", "2024-05-01", "--format", "json"]
    forked = _import(forked_url, _config(tmp_path, "forked", 1), *command, capsys=capsys)
    plain = _import(plain_url, _config(tmp_path, "plain", 0), *command, capsys=capsys)
    assert forked[0] == plain[0] == 0
    assert _summary(forked[1]) == _summary(plain[1])
    assert not [p for p in _summary(forked[1])["problems"] if p["row"] in (2, len(watched) + 3)]
    assert _stored(forked_url) == _stored(plain_url)
