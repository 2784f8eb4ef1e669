"""Reports benchmark: every `custody report` at 1,000,000 patents, next to a floor measured in the same run.

    .venv/bin/python bench/report_bench.py [--patents 1000000] [--formats table,csv,json,xlsx] [--pg URL]
    .venv/bin/python bench/report_bench.py --build FILE [--patents N]    # then --reuse FILE (same --patents)
    .venv/bin/python bench/report_bench.py --skip-sqlite --pg URL --pg-schema NAME    # PostgreSQL, kept for reuse

Prints one JSON object, by database: SQLite always (a file in a temporary folder), and PostgreSQL too with
`--pg postgresql+psycopg://user@host:5432/db` (in a scratch schema, dropped afterwards; with `--pg-schema NAME`
in that schema instead, loaded the first time and kept, its reports only on later runs). The portfolio is the
reminders benchmark's (20 years of filings, 50 patents per enterprise, half the fees reduced, ~5 % in grace), with
one enterprise holding 2 % of it (the largest statement) and a reminders outbox of one message per 5 patents.

Each report runs as `custody report …` in a process of its own (wall seconds and peak RSS of that process), on
the day after the portfolio's plan day: due --within 90d, grace, lapsed, forecast --years 5, kpi, the largest
enterprise's statement, deliveries. The floor reads the patent table with plain sqlite3 (or psycopg) and writes it
with csv.writer. Targets (full size only; `null` below it): each report ≤ 10 s and ≤ 1.5 GB in table/CSV/JSON,
≤ 30 s in XLSX; PostgreSQL within 2× of SQLite.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.remind_bench import _insert, _kept_schema, _portfolio, _scratch_schema  # noqa: E402
from custody.models.reminders import Reminder  # noqa: E402
from custody.store.db import engine_for, upgrade  # noqa: E402

FULL = 1_000_000
AS_OF = "2025-06-03"
LARGEST = "B00000000000000000"  # enterprise 1's credit code in the reminders benchmark's portfolio
REPORTS = {
    "due": ["due", "--within", "90d"], "grace": ["grace"], "lapsed": ["lapsed"],
    "forecast": ["forecast", "--years", "5"], "kpi": ["kpi", "--year", "2025"],
    "enterprise": ["enterprise", LARGEST], "deliveries": ["deliveries", "--from", "2025-01-01"],
}
LIMITS = {"seconds": 10.0, "xlsx_seconds": 30.0, "peak_rss_mb": 1500.0}


def _load(url: str, patents: int) -> float:
    engine = engine_for(url)
    started = time.perf_counter()
    _portfolio(engine, patents)
    with engine.begin() as connection:
        connection.execute(sa.text("update patent set enterprise_id = 1 where id <= :n"), {"n": patents // 50})
    rng, now = random.Random(3), datetime(2025, 5, 1, tzinfo=UTC)
    enterprises = -(-patents // 50)
    states = ("sent", "delivered", "failed", "cancelled", "planned")
    _insert(engine, Reminder.__table__, [dict(
        key=f"bench:{i}", kind="fee", channel=rng.choice(("sms", "email")), recipient=f"r{i}",
        enterprise_id=i % enterprises + 1, day=date(2025, 1, 1) + timedelta(days=i % 150),
        state=rng.choice(states), not_before=now, sent_at=now, attempts=1, created_at=now, updated_at=now)
        for i in range(patents // 5)])
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def _floor(url: str, folder: str) -> float:
    """Read the patent table with the plain driver and write it with csv.writer."""
    started = time.perf_counter()
    path = Path(folder) / "floor.csv"
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = connection.execute("select * from patent")
    else:
        import psycopg

        from custody.store.db import database_url

        parsed = database_url(url)
        connection = psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
        # A server-side cursor, as the reports' chunks are: a client-side one holds the whole table in this process
        # (seconds of buffering, and a peak RSS every report process started after it would inherit).
        rows = connection.cursor(name="floor")
        rows.itersize = 10_000
        rows.execute("select * from patent")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        while batch := rows.fetchmany(10_000):
            writer.writerows(batch)
    connection.close()
    return time.perf_counter() - started


def _child(args: list[str]) -> None:
    """Run one command of the CLI and print its wall seconds and peak RSS (MB) as JSON on stderr's last line."""
    import cli

    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        sys.stdout = devnull
        code = cli.run(args)
    sys.stdout = sys.__stdout__
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds beside wall seconds: on a shared machine the wall time also counts the waits for a core.
    print(json.dumps({"code": code, "seconds": round(time.perf_counter() - started, 2),
                      "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                      "peak_rss_mb": round(usage.ru_maxrss / 1024)}), file=sys.stderr)


def _run_report(url: str, folder: str, name: str, fmt: str) -> dict:
    out = ["--out", str(Path(folder) / f"{name}.{fmt}")] if fmt in ("csv", "json", "xlsx") else []
    as_of = [] if name == "deliveries" else ["--as-of", AS_OF]
    args = ["report", *REPORTS[name], *as_of, "--format", fmt, *out]
    env = {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_CONFIG": str(Path(folder) / "none.toml")}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)], capture_output=True, text=True,
                          env=env, cwd=folder, timeout=3600)
    figures = json.loads(done.stderr.strip().splitlines()[-1])
    if figures["code"] != 0:
        figures["error"] = done.stderr.strip().splitlines()[-2:-1]
    return figures


def bench(url: str, patents: int, formats: list[str], folder: str, reuse: bool = False) -> dict:
    Path(folder, "none.toml").write_text(f'[general]\nlog_file = "{folder}/custody.log"\n', encoding="utf-8")
    upgrade(url)
    loaded = 0.0 if reuse else _load(url, patents)
    floor = _floor(url, folder)
    results: dict = {"patents": patents, "load_seconds": round(loaded, 1), "floor_seconds": round(floor, 2),
                     "reports": {}}
    for name in REPORTS:
        results["reports"][name] = {fmt: _run_report(url, folder, name, fmt) for fmt in formats}
    results["targets"] = _targets(results, patents)
    return results


def _targets(results: dict, patents: int) -> dict | None:
    if patents < FULL:
        return dict.fromkeys(REPORTS)
    found = {}
    for name, by_format in results["reports"].items():
        ok = True
        for fmt, figures in by_format.items():
            limit = LIMITS["xlsx_seconds"] if fmt == "xlsx" else LIMITS["seconds"]
            ok &= figures["code"] == 0 and figures["seconds"] <= limit and figures["peak_rss_mb"] <= \
                LIMITS["peak_rss_mb"]
        found[name] = ok
    return found


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(json.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=FULL)
    parser.add_argument("--formats", default="table,csv,json,xlsx")
    parser.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL server (in a scratch schema)")
    parser.add_argument("--pg-schema", metavar="NAME", help="with --pg: load into this schema the first time and "
                        "keep it; when it exists already (--patents must match), its reports only")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--reuse", metavar="SQLITE_FILE", help="a database this script loaded before (--patents must "
                        "match): its reports only, without loading it again")
    parser.add_argument("--build", metavar="SQLITE_FILE", help="load a database of --patents patents into this new "
                        "file and stop (for --reuse later)")
    args = parser.parse_args()
    if args.build:
        url = f"sqlite:///{Path(args.build).resolve()}"
        upgrade(url)
        print(json.dumps({"patents": args.patents, "load_seconds": round(_load(url, args.patents), 1)}))
        return
    formats = args.formats.split(",")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        if args.reuse:
            results["sqlite"] = bench(f"sqlite:///{Path(args.reuse).resolve()}", args.patents, formats, folder, True)
        elif not args.skip_sqlite:
            with nullcontext(f"sqlite:///{folder}/reports.sqlite3") as url:
                results["sqlite"] = bench(url, args.patents, formats, folder)
        if args.pg and args.pg_schema:
            with _kept_schema(args.pg, args.pg_schema) as (url, exists):
                results["postgresql"] = bench(url, args.patents, formats, folder, exists)
        elif args.pg:
            with _scratch_schema(args.pg) as url:
                results["postgresql"] = bench(url, args.patents, formats, folder)
    if "sqlite" in results and "postgresql" in results:
        results["postgresql_within_2x_of_sqlite"] = {
            name: all(results["postgresql"]["reports"][name][f]["seconds"]
                      <= 2 * max(results["sqlite"]["reports"][name][f]["seconds"], 0.5) for f in formats)
            for name in REPORTS} if args.patents >= FULL else None
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
