"""The reminders benchmark runs end to end on a small portfolio, on SQLite and PostgreSQL (the million-patent run
is `make bench`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.postgres
def test_remind_bench_reports_planning_and_dispatch_on_both_databases(pg_server) -> None:
    url = pg_server.url.render_as_string(hide_password=False)
    args = ["--patents", "3000", "--messages", "40", "--pg", url]
    done = subprocess.run([sys.executable, "bench/remind_bench.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=280)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert set(figures) == {"sqlite", "postgresql"}
    for database in figures.values():
        planning, dispatch = database["planning"], database["dispatch"]
        assert planning["patents"] == 3000 and planning["daily_plan_summary"]["items"] > 0
        assert planning["daily_plan_seconds"] < planning["target_seconds"]
        assert dispatch["sent"] == dispatch["messages"] == 40
        assert dispatch["received"] == {"sms": 20, "sms_distinct": 20, "email": 20}
