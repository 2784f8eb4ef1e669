"""Start-up benchmark: `custody --help` and a `custody fees` quote, each a process of its own, next to a floor.

    .venv/bin/python bench/startup_bench.py [--repeats 9]

Prints one JSON object: for each command the median wall and CPU seconds (user + system of the child) over the
repeats, and the same for the floor, a bare `python -c pass` of the same interpreter, measured in the same run
(the machine is shared: compare the ratios and the CPU seconds, which waits for a core do not inflate). Run in an
empty folder with no configuration and no database, as an operator's first `custody fees` would. Targets on an idle
machine: `--help` ≤ 0.3 s and `fees` ≤ 0.5 s wall.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "floor": [sys.executable, "-c", "pass"],
    "help": [sys.executable, "-m", "cli", "--help"],
    "fees": [sys.executable, "-m", "cli", "fees", "--filed", "2015-03-01", "--type", "invention",
             "--grant-year", "3", "--paid-through", "9", "--as-of", "2025-06-03"],
}
TARGETS = {"help": 0.3, "fees": 0.5}


def _once(args: list[str], folder: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CUSTODY_CONFIG", None)
    env.pop("CUSTODY_DATABASE_URL", None)
    # An installed custody has its bytecode compiled (pip does it); the warm-up run writes it here, unless the
    # shell forbids writing it, when every run would compile the modules again and time that instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[2:])} failed: {done.stderr.strip()[-300:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as folder:
        _once(COMMANDS["fees"], folder)  # bytecode compiled and files cached before timing
        for _ in range(args.repeats):
            for name, command in COMMANDS.items():  # interleaved: a burst of load hits every command alike
                runs[name].append(_once(command, folder))
    results: dict = {"repeats": args.repeats, "load_average": os.getloadavg()[0]}
    floor = statistics.median(w for w, _ in runs["floor"])
    for name, pairs in runs.items():
        wall, cpu = statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs)
        results[name] = {"wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                         "wall_over_floor": round(wall / floor, 1)}
        if name in TARGETS:
            results[name]["target_seconds"] = TARGETS[name]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
