"""The reports benchmark runs end to end on a small portfolio (the million-patent run is `make bench`)."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).parent.parent


def test_report_bench_runs_every_report_and_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, "bench/report_bench.py", "--patents", "2000", "--formats", "csv"],
                          cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["sqlite"]
    assert figures["patents"] == 2000 and figures["floor_seconds"] > 0
    assert set(figures["reports"]) == {"due", "grace", "lapsed", "forecast", "kpi", "enterprise", "deliveries"}
    assert all(r["csv"]["code"] == 0 and r["csv"]["peak_rss_mb"] > 0 for r in figures["reports"].values())
    assert set(figures["targets"].values()) == {None}  # targets are judged at full size only


@pytest.mark.postgres
def test_report_bench_loads_a_kept_postgresql_schema_once_and_reuses_it(pg_server) -> None:
    url = pg_server.url.render_as_string(hide_password=False)
    schema = f"bench_kept_{uuid.uuid4().hex[:8]}"
    args = [sys.executable, "bench/report_bench.py", "--patents", "2000", "--formats", "csv", "--skip-sqlite",
            "--pg", url, "--pg-schema", schema]
    try:
        runs = []
        for _ in range(2):
            done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=280)
            assert done.returncode == 0, done.stderr
            runs.append(json.loads(done.stdout)["postgresql"])
        with pg_server.connect() as connection:
            patents = connection.execute(sa.text(f'SELECT count(*) FROM "{schema}".patent')).scalar()
    finally:
        with pg_server.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    assert runs[0]["load_seconds"] > 0 and runs[1]["load_seconds"] == 0  # loaded the first time only
    assert patents == 2000
    for run in runs:
        assert all(r["csv"]["code"] == 0 for r in run["reports"].values())
