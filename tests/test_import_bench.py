"""The import benchmark runs end to end on a few thousand rows (the million-row run is `make`-free, by hand)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_import_bench_prints_figures_next_to_its_floor():
    args = ["--rows", "3000", "--xlsx-rows", "300", "--inferred-rows", "100", "--enterprises", "50", "--pg", ""]
    done = subprocess.run([sys.executable, "bench/import_bench.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    csv_case, xlsx_case, inferred_case = figures["cases"]
    assert (csv_case["case"], csv_case["exit_code"], csv_case["reimport_exit_code"]) == ("csv-sqlite", 0, 0)
    assert csv_case["floor_seconds"] > 0 and csv_case["ratio_to_floor"] > 0
    assert (xlsx_case["case"], xlsx_case["exit_code"]) == ("xlsx-sqlite", 0)
    assert (inferred_case["rows"], inferred_case["exit_code"]) == (100, 0)
