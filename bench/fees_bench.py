"""Benchmark: the next annual fee of a synthetic portfolio with `custody.portfolio.next_due_frame`.

Run `.venv/bin/python bench/fees_bench.py [--patents N]` (default 1,000,000). It builds a seeded portfolio with a
realistic mix (about 45 % utility models, 35 % inventions, 20 % designs, filed over 20 years, most with a fee
reduction), times one cold call (rule tables and calendar tables built inside the timing), and prints ONE JSON
object. Target: 1,000,000 patents in 5 s and 1 GB peak RSS. It reports; it never fails on the target.

`peak_rss_mb` is the whole process's peak resident size (ru_maxrss: interpreter, libraries, the input frame and
the call). `call_peak_mb` is what tracemalloc saw the call itself allocate at its peak, from a second, untimed run.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from datetime import date

import numpy as np
import pandas as pd

from custody.portfolio import next_due_frame
from custody.ruleset import default_rules
from custody.workdays import default_calendar

TARGET_SECONDS = 5.0
TARGET_MB = 1024
MIX = {"utility_model": 0.45, "invention": 0.35, "design": 0.20}


def synthetic_portfolio(n: int, on: date, seed: int) -> pd.DataFrame:
    """n patents filed over the 20 years before `on`; most paid up to the current year, some behind."""
    rng = np.random.default_rng(seed)
    types = rng.choice(list(MIX), n, p=list(MIX.values()))
    today = np.datetime64(on, "D")
    filed = today - rng.integers(30, 20 * 365, n).astype("timedelta64[D]")
    term = np.where(types == "invention", 20, np.where((types == "design") & (filed >= np.datetime64("2021-06-01")),
                                                       15, 10))
    grant = np.minimum(np.where(types == "invention", rng.integers(2, 5, n), rng.integers(1, 3, n)), term)
    current = ((today - filed).astype(int) // 365 + 1).clip(1, None)  # the patent year on `on`, near enough
    behind = rng.choice([0, 1, 3], n, p=[0.85, 0.10, 0.05])  # paid up / one fee behind / abandoned earlier
    paid = np.clip(np.minimum(current - behind, term), grant, None)
    licensed = rng.random(n) < 0.02
    licence_from = np.datetime64("2024-01-20") + rng.integers(0, 500, n).astype("timedelta64[D]")
    return pd.DataFrame({
        "type": pd.array(types, dtype="str"),
        "filing_date": filed.astype("datetime64[s]"),
        "grant_year": grant,
        "paid_through": pd.array(paid, dtype="Int64"),
        "reduction": pd.array(rng.choice(["85", "70", "none"], n, p=[0.6, 0.1, 0.3]), dtype="str"),
        "open_licence_from": np.where(licensed, licence_from, np.datetime64("NaT")).astype("datetime64[s]"),
        "open_licence_to": np.full(n, np.datetime64("NaT"), "datetime64[s]"),
        "term_extension_days": np.where((types == "invention") & (rng.random(n) < 0.005), rng.integers(1, 1500, n), 0),
    })


def timed_call(patents: pd.DataFrame, on: date) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    result = next_due_frame(patents, on, default_rules(), default_calendar())
    return time.perf_counter() - start, result


def traced_peak_mb(patents: pd.DataFrame, on: date) -> float:
    tracemalloc.start()
    next_due_frame(patents, on, default_rules(), default_calendar())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240120)
    parser.add_argument("--on", type=date.fromisoformat, default=date(2025, 6, 30), help="the day to ask about")
    args = parser.parse_args(argv)
    patents = synthetic_portfolio(args.patents, args.on, args.seed)
    seconds, result = timed_call(patents, args.on)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    report = {
        "patents": args.patents,
        "seconds": round(seconds, 3),
        "patents_per_second": round(args.patents / seconds) if seconds else None,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "call_peak_mb": round(traced_peak_mb(patents, args.on), 1),
        "states": {k: int(v) for k, v in result["state"].value_counts().items()},
        "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB,
        "ok": seconds <= TARGET_SECONDS and peak_rss_mb <= TARGET_MB,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
