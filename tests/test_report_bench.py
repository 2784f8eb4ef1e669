"""The reports benchmark runs end to end on a small portfolio (the million-patent run is `make bench`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
