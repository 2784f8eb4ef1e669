"""The OPS watch's weekly volume for a portfolio, from the bytes one check costs on the test fixtures.

A check is one legal-service answer (tests/data/ops/*.xml: CN records as OPS 3.2 writes them, one of them a family
of four members); the number service is asked once per patent (then cached) and a token costs a few hundred bytes
every 20 minutes. Prints JSON: bytes per check (mean and largest), checks per week and MB per week against the
quota, for a portfolio of PATENTS patents with URGENT_SHARE of them checked daily instead of weekly.

    python bench/ops_quota.py [PATENTS] [URGENT_SHARE]
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from custody.ops_schedule import BYTES_PER_MB, OpsSettings

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "ops"
NOT_ANSWERS = {"malformed.xml", "no_family.xml"}


def main(patents: int = 50_000, urgent_share: float = 0.10) -> dict:
    sizes = [p.stat().st_size for p in sorted(FIXTURES.glob("*.xml")) if p.name not in NOT_ANSWERS]
    settings = OpsSettings()
    urgent = round(patents * urgent_share)
    checks = (patents - urgent) * 7 // settings.interval_days + urgent * 7 // settings.urgent_interval_days
    mean, largest = statistics.mean(sizes), max(sizes)
    tokens = 7 * 24 * 3  # a token every 20 minutes, all week
    week = {name: (checks * size + tokens * 500) / BYTES_PER_MB
            for name, size in (("mean", mean), ("largest", largest))}
    return {"patents": patents, "urgent_share": urgent_share, "fixtures": len(sizes),
            "bytes_per_check_mean": round(mean), "bytes_per_check_largest": largest, "checks_per_week": checks,
            "mb_per_week_mean": round(week["mean"], 1), "mb_per_week_largest": round(week["largest"], 1),
            "number_service_once_mb": round(patents * 1200 / BYTES_PER_MB, 1),
            "weekly_quota_mb": settings.weekly_quota_mb,
            "stop_at_mb": settings.stop_bytes / BYTES_PER_MB}


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(main(int(args[0]) if args else 50_000, float(args[1]) if len(args) > 1 else 0.10), indent=2))
