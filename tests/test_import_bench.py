"""The import benchmark runs end to end on a few thousand rows (the million-row run is `make`-free, by hand), and
leaves nothing behind: no log in the repository, no bench_<timestamp> schema on the PostgreSQL server."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

ROOT = Path(__file__).parent.parent
SMALL = ["--rows", "3000", "--xlsx-rows", "300", "--inferred-rows", "100", "--enterprises", "50"]


def _bench(*args: str) -> dict:
    log = ROOT / "custody.log"
    before = log.stat().st_mtime_ns if log.exists() else None
    done = subprocess.run([sys.executable, "bench/import_bench.py", *SMALL, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert (log.stat().st_mtime_ns if log.exists() else None) == before  # the children log to the temp folder
    return json.loads(done.stdout)


def test_import_bench_prints_figures_next_to_its_floor():
    figures = _bench("--pg", "")
    csv_case, xlsx_case, inferred_case = figures["cases"]
    assert (csv_case["case"], csv_case["exit_code"], csv_case["reimport_exit_code"]) == ("csv-sqlite", 0, 0)
    assert csv_case["floor_seconds"] > 0 and csv_case["ratio_to_floor"] > 0 and csv_case["cpu_seconds"] > 0
    assert (xlsx_case["case"], xlsx_case["exit_code"]) == ("xlsx-sqlite", 0)
    assert (inferred_case["rows"], inferred_case["exit_code"]) == (100, 0)
    # A reduced run judges no target: its figures are null, not pass or fail.
    assert figures["targets"] == dict.fromkeys({"peak_rss_under_1_5_gb", "csv_sqlite_under_60_s",
                                                "csv_sqlite_within_3x_floor", "csv_sqlite_within_2x_floor",
                                                "xlsx_sqlite_under_10_s", "xlsx_inferred_sqlite_under_10_s"})


def _case(name: str, rows: int, seconds: float, **more: float) -> dict:
    return {"case": name, "rows": rows, "seconds": seconds, "peak_rss_mb": 900, "reimport_peak_rss_mb": 900,
            **more}


def test_targets_are_judged_at_full_size_only():
    spec = importlib.util.spec_from_file_location("import_bench", ROOT / "bench" / "import_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    full = [_case("csv-sqlite", 1_000_000, 40, ratio_to_floor=2.5), _case("xlsx-sqlite", 100_000, 8),
            _case("xlsx-sqlite-paid-through-inferred", 100_000, 12),
            _case("csv-postgresql", 1_000_000, 90, ratio_to_sqlite=2.25)]
    assert bench.targets(full) == {"peak_rss_under_1_5_gb": True, "csv_sqlite_under_60_s": True,
                                   "csv_sqlite_within_3x_floor": True, "csv_sqlite_within_2x_floor": False,
                                   "xlsx_sqlite_under_10_s": True,
                                   "xlsx_inferred_sqlite_under_10_s": False, "postgresql_within_2x_sqlite": False}
    reduced = [_case("csv-sqlite", 1_000_000, 40, ratio_to_floor=2.5), _case("xlsx-sqlite", 5000, 1)]
    assert bench.targets(reduced) == {"peak_rss_under_1_5_gb": None, "csv_sqlite_under_60_s": True,
                                      "csv_sqlite_within_3x_floor": True, "csv_sqlite_within_2x_floor": False,
                                      "xlsx_sqlite_under_10_s": None}


@pytest.mark.postgres
def test_import_bench_on_postgresql_drops_the_schema_it_made(pg_server: Engine):
    schemas = "SELECT nspname FROM pg_namespace WHERE nspname ~ '^bench_[0-9]+$'"
    with pg_server.connect() as conn:
        before = {r[0] for r in conn.execute(text(schemas))}
    url = os.environ.get("CUSTODY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    figures = _bench("--pg", url, "--xlsx-rows", "0", "--inferred-rows", "0")
    postgresql = figures["cases"][-1]
    assert (postgresql["case"], postgresql["exit_code"]) == ("csv-postgresql", 0)
    assert postgresql["ratio_to_sqlite"] > 0 and "postgresql_within_2x_sqlite" in figures["targets"]
    with pg_server.connect() as conn:
        assert {r[0] for r in conn.execute(text(schemas))} <= before
