"""Import benchmark: synthetic portfolios (seeded) imported through the real command, next to a floor.

    .venv/bin/python bench/import_bench.py                      # 1,000,000-row CSV and 100,000-row xlsx
    .venv/bin/python bench/import_bench.py --rows 20000 --xlsx-rows 5000 --pg ""   # a quick run, SQLite only

Each import runs `custody import patents FILE` in a child process (so its peak memory is its own) on a fresh,
migrated database that already holds the enterprises. The floor is measured in the same run: the same rows,
already typed, inserted into the same empty table with one raw executemany (SQLite, with the page cache an
import's connection gets) or one COPY (PostgreSQL). Everything the run writes (databases, the children's log)
goes to a temporary folder; the PostgreSQL schema it creates (bench_<timestamp>) is dropped at the end.
Targets (issue 3, on a 2-core machine): 1M-row CSV into SQLite <= 60 s and <= 3x its floor (issue 9: <= 2x);
100k-row xlsx <= 10 s, with its paid-through years given and without them (inferred from the legal status); peak memory
<= 1.5 GB; PostgreSQL within 2x of SQLite. Prints one JSON object. A target is judged only at the size it is set
for: in a reduced run (fewer rows) its figure is null, neither met nor missed.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from custody.appno import check_character
from custody.creditcode import credit_code_check_character

ROOT = Path(__file__).resolve().parent.parent
# The sizes issue 3 sets its targets for: a smaller run says nothing about them.
FULL_CSV_ROWS, FULL_XLSX_ROWS = 1_000_000, 100_000
TYPES = (("1", "发明", 0.40, 20), ("2", "实用新型", 0.45, 10), ("3", "外观设计", 0.15, 10))
HEADER = ["申请号", "专利名称", "专利类型", "申请日", "授权公告日", "授权年度", "已缴至年度", "费减比例", "法律状态",
          "专利权人", "统一社会信用代码"]
REDUCTIONS = ("85%", "85%", "70%", "无", "")
AS_OF = date(2024, 5, 1)
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def enterprises(count: int, rng: random.Random) -> list[tuple[str, str]]:
    found = []
    for i in range(count):
        first17 = "9135" + f"{rng.randrange(10**4):04d}" + "".join(rng.choice(CODE_CHARS) for _ in range(8)) + "0"
        found.append((f"合成企业{i:05d}科技有限公司", first17 + credit_code_check_character(first17)))
    return list(dict((code, (name, code)) for name, code in found).values())


def patent_rows(count: int, owners: list[tuple[str, str]], rng: random.Random):
    """Typed rows: (number, title, type label, filing, granted, grant_year, paid_through, reduction, owner)."""
    serial = {}
    for _ in range(count):
        digit, label, _, term = rng.choices(TYPES, weights=[t[2] for t in TYPES])[0]
        # Filed within the term as of AS_OF: every row says 有效 (in force), as a live portfolio's export does.
        year = rng.randrange(max(2005, AS_OF.year - term + 1), 2023)
        key = (year, digit)
        serial[key] = serial.get(key, rng.randrange(100000, 200000)) + 1
        digits = f"{year}{digit}{serial[key]:07d}"
        filing = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        granted = filing + timedelta(days=rng.randrange(200, 1200 if digit == "1" else 500))
        grant_year = (granted.year - filing.year) + (1 if (granted.month, granted.day) >= (filing.month, filing.day)
                                                      else 0)
        age = AS_OF.year - filing.year
        paid = min(max(grant_year, age), term)
        name, code = rng.choice(owners)
        yield (f"{digits}.{check_character(digits)}", f"一种合成测试装置{rng.randrange(10**6)}", label, filing, granted,
               grant_year, paid, rng.choice(REDUCTIONS), name, code)


def write_csv(path: Path, rows) -> list[tuple]:
    typed = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for number, title, label, filing, granted, grant_year, paid, reduction, name, code in rows:
            writer.writerow([number, title, label, filing.isoformat(), granted.isoformat(), grant_year, paid,
                             reduction, "有效", name, code])
            typed.append((number, label, title, name, filing, granted, grant_year, paid, reduction, code))
    return typed


def write_xlsx(path: Path, rows, with_paid_through: bool = True) -> None:
    """An xlsx export; without the paid-through column the import infers it from the legal status."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("专利清单")
    ws.append(["合成专利清单（截至2024年5月1日）"])
    ws.append(HEADER)
    for number, title, label, filing, granted, grant_year, paid, reduction, name, code in rows:
        ws.append([number, title, label, filing, granted, grant_year, paid if with_paid_through else None,
                   reduction, "有效", name, code])
    wb.save(path)


def write_enterprises(path: Path, owners: list[tuple[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["企业名称", "统一社会信用代码"])
        writer.writerows(owners)


# The child reports its own peak RSS (VmHWM): a forked child's ru_maxrss would include this process's memory.
# A large file is read by a process the import forks (importers.forked): its peak is added, as if both peaked
# at once (an upper bound).
CHILD = ("import resource, sys, cli\nrc = cli.run(sys.argv[2:])\n"
         "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
         "reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
         "open(sys.argv[1], 'w').write(str(int(hwm.split()[1]) + reader))\nsys.exit(rc)")


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """(seconds, peak RSS in MB, exit code, CPU seconds) of `custody ARGS` in a child process, with the process it
    reads a large file in. The CPU time (user + system) tells a busy machine from a slow import: with the reader
    process it is up to twice the wall time on an idle 2-core machine."""
    with tempfile.NamedTemporaryFile(suffix=".hwm") as hwm:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD, hwm.name, *args], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kb = int(Path(hwm.name).read_text() or 0)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, peak_kb / 1024, done.returncode, cpu


def fresh_database(url: str) -> None:
    from custody.store.db import upgrade

    upgrade(url)


def write_config(workdir: Path) -> Path:
    """The children's configuration: English messages, the log in the temporary folder (not the repository)."""
    config = workdir / "bench-config.toml"
    config.write_text(f'[general]\nlanguage = "en"\nlog_file = "{workdir / "custody.log"}"\n', encoding="utf-8")
    return config


def floor_seconds(url: str, typed: list[tuple], enterprises_file: Path, workdir: Path) -> float:
    """The same rows inserted with one raw executemany (SQLite) or COPY (PostgreSQL) into the empty table
    (enterprises loaded first, so the rows carry the same enterprise ids and foreign-key checks)."""
    import sqlalchemy as sa

    from custody.store.db import engine_for
    from custody.store.imports import SQLITE_IMPORT_CACHE_KIB

    run_child(["import", "enterprises", str(enterprises_file)],
              {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_CONFIG": str(write_config(workdir))})
    engine = engine_for(url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT credit_code, id FROM enterprise")).all())
    now = datetime.now(UTC)
    types = {"发明": "invention", "实用新型": "utility_model", "外观设计": "design"}
    reductions = {"85%": "85", "70%": "70", "无": "none", "": "none"}
    rows = [(n, types[t], title, owner, f, g, gy, pt, reductions[r], "有效", AS_OF, ids[code], now, now)
            for n, t, title, owner, f, g, gy, pt, r, code in typed]
    columns = ("application_number, type, title, owners, filing_date, granted_on, grant_year, paid_through, "
               "reduction, legal_status, legal_status_date, enterprise_id, created_at, updated_at")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY patent ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            text = [(*r[:4], r[4].isoformat(), r[5].isoformat(), *r[6:10], r[10].isoformat(), r[11],
                     r[12].strftime("%Y-%m-%d %H:%M:%S.%f"), r[13].strftime("%Y-%m-%d %H:%M:%S.%f")) for r in rows]
            cursor.execute(f"PRAGMA cache_size = {SQLITE_IMPORT_CACHE_KIB}")
            start = time.perf_counter()
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO patent ({columns}) VALUES ({', '.join('?' * 14)})", text)
        raw.commit()
        return time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()


def bench_import(label: str, url: str, file: Path, enterprises_file: Path, workdir: Path) -> dict:
    fresh_database(url)
    env = {**os.environ, "CUSTODY_DATABASE_URL": url, "CUSTODY_CONFIG": str(write_config(workdir))}
    run_child(["import", "enterprises", str(enterprises_file)], env)
    seconds, peak_mb, status, cpu = run_child(["import", "patents", str(file), "--as-of", AS_OF.isoformat()], env)
    again, again_mb, again_status, _ = run_child(["import", "patents", str(file), "--as-of", AS_OF.isoformat()], env)
    return {"case": label, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mb": round(peak_mb),
            "exit_code": status, "reimport_seconds": round(again, 2), "reimport_peak_rss_mb": round(again_mb),
            "reimport_exit_code": again_status}


def pg_server(arg: str | None) -> str | None:
    """The PostgreSQL server's URL: --pg, else $CUSTODY_TEST_PG_URL, else the local test server; '' for none."""
    url = os.environ.get("CUSTODY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test") \
        if arg is None else arg
    return url or None


def pg_url(url: str) -> tuple[str, str] | None:
    """(URL of a fresh schema bench_<timestamp> on the server `url`, its name), or None when unreachable."""
    schema = f"bench_{int(time.time())}"
    try:
        _pg_admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # unreachable server: report and go on with SQLite only
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return None
    from custody.store.db import database_url

    return database_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False), schema


def _pg_admin(url: str, *statements: str) -> None:
    import sqlalchemy as sa

    from custody.store.db import database_url

    engine = sa.create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def reset_pg(url: str) -> None:
    import sqlalchemy as sa

    from custody.store.db import engine_for

    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS patent_change, import_record, payment, open_licence, patent, "
                             "contact, enterprise, alembic_version CASCADE"))
        rest = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all()
        for (name,) in rest:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_CSV_ROWS)
    parser.add_argument("--xlsx-rows", type=int, default=FULL_XLSX_ROWS)
    parser.add_argument("--inferred-rows", type=int, default=FULL_XLSX_ROWS,
                        help="rows of an extra xlsx case without paid-through years (inferred); 0 to skip")
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL ('' to skip; default $CUSTODY_TEST_PG_URL)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results: dict = {"rows": args.rows, "xlsx_rows": args.xlsx_rows, "seed": args.seed, "cases": []}
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        workdir = Path(tmp)
        owners = enterprises(args.enterprises, rng)
        enterprises_file = workdir / "enterprises.csv"
        write_enterprises(enterprises_file, owners)
        csv_file = workdir / "portfolio.csv"
        typed = write_csv(csv_file, patent_rows(args.rows, owners, rng))
        sqlite_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        case = bench_import("csv-sqlite", sqlite_url, csv_file, enterprises_file, workdir)
        case["rows"] = args.rows
        floor_url = f"sqlite:///{workdir / 'floor.sqlite3'}"
        fresh_database(floor_url)
        case["floor_seconds"] = round(floor_seconds(floor_url, typed, enterprises_file, workdir), 2)
        case["ratio_to_floor"] = round(case["seconds"] / case["floor_seconds"], 2)
        results["cases"].append(case)
        if args.xlsx_rows:
            xlsx_file = workdir / "portfolio.xlsx"
            write_xlsx(xlsx_file, patent_rows(args.xlsx_rows, owners, random.Random(args.seed + 1)))
            xlsx_url = f"sqlite:///{workdir / 'bench-xlsx.sqlite3'}"
            case = bench_import("xlsx-sqlite", xlsx_url, xlsx_file, enterprises_file, workdir)
            case["rows"] = args.xlsx_rows
            results["cases"].append(case)
        if args.inferred_rows:
            # The same export without paid-through years: each is inferred through custody.fees (slower path).
            inferred_file = workdir / "portfolio-inferred.xlsx"
            write_xlsx(inferred_file, patent_rows(args.inferred_rows, owners, random.Random(args.seed + 2)),
                       with_paid_through=False)
            inferred_url = f"sqlite:///{workdir / 'bench-inferred.sqlite3'}"
            case = bench_import("xlsx-sqlite-paid-through-inferred", inferred_url, inferred_file, enterprises_file,
                                workdir)
            case["rows"] = args.inferred_rows
            results["cases"].append(case)
        server = pg_server(args.pg)
        pg = pg_url(server) if server else None
        if pg:
            url, schema = pg
            try:
                case = bench_import("csv-postgresql", url, csv_file, enterprises_file, workdir)
                case["rows"] = args.rows
                reset_pg(url)
                fresh_database(url)
                case["floor_seconds"] = round(floor_seconds(url, typed, enterprises_file, workdir), 2)
                case["ratio_to_floor"] = round(case["seconds"] / case["floor_seconds"], 2)
                case["ratio_to_sqlite"] = round(case["seconds"] / results["cases"][0]["seconds"], 2)
                results["cases"].append(case)
            finally:
                _pg_admin(server, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    results["peak_rss_mb_bench_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["targets"] = targets(results["cases"])
    print(json.dumps(results, ensure_ascii=False, indent=2))


FULL_ROWS = {"csv-sqlite": FULL_CSV_ROWS, "csv-postgresql": FULL_CSV_ROWS, "xlsx-sqlite": FULL_XLSX_ROWS,
             "xlsx-sqlite-paid-through-inferred": FULL_XLSX_ROWS}


def targets(cases: list[dict]) -> dict[str, bool | None]:
    """Issue 3's targets for the cases this run measured: met (true) or not (false) when the case ran at the size
    the target is set for, null in a reduced run (a quick run's seconds would pass or fail it by accident)."""
    by_name = {case["case"]: case for case in cases}

    def judged(name: str, is_met: bool) -> bool | None:
        return is_met if by_name[name]["rows"] >= FULL_ROWS[name] else None

    is_full = all(c["rows"] >= FULL_ROWS[c["case"]] for c in cases)
    found = {"peak_rss_under_1_5_gb": all(c["peak_rss_mb"] <= 1536 and c["reimport_peak_rss_mb"] <= 1536
                                          for c in cases) if is_full else None}
    if "csv-sqlite" in by_name:
        found["csv_sqlite_under_60_s"] = judged("csv-sqlite", by_name["csv-sqlite"]["seconds"] <= 60)
        found["csv_sqlite_within_3x_floor"] = judged("csv-sqlite", by_name["csv-sqlite"]["ratio_to_floor"] <= 3)
        # Issue 9 tightened it: a million CSV rows within twice the floor.
        found["csv_sqlite_within_2x_floor"] = judged("csv-sqlite", by_name["csv-sqlite"]["ratio_to_floor"] <= 2)
    if "xlsx-sqlite" in by_name:
        found["xlsx_sqlite_under_10_s"] = judged("xlsx-sqlite", by_name["xlsx-sqlite"]["seconds"] <= 10)
    inferred = "xlsx-sqlite-paid-through-inferred"
    if inferred in by_name:
        found["xlsx_inferred_sqlite_under_10_s"] = judged(inferred, by_name[inferred]["seconds"] <= 10)
    if "csv-postgresql" in by_name:
        found["postgresql_within_2x_sqlite"] = judged("csv-postgresql",
                                                      by_name["csv-postgresql"]["ratio_to_sqlite"] <= 2)
    return found


if __name__ == "__main__":
    main()
