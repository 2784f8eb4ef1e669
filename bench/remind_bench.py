"""Reminders benchmark: planning at 1,000,000 patents, and 10,000 reminders through the local servers.

    .venv/bin/python bench/remind_bench.py [--patents 1000000] [--messages 10000] [--workers 2] [--pg URL]

Prints one JSON object, by database: SQLite always (a file in a temporary folder), and PostgreSQL too with
`--pg postgresql+psycopg://user@host:5432/db` (in a scratch schema, dropped afterwards).

Planning: a synthetic portfolio (20 years of filings, 50 patents per enterprise, about 5 % of fees in their grace
period) is loaded; the first plan after that import fills `patent_due` for every patent and plans the catch-up
reminders (`first_plan_seconds`); the day's messages are marked sent (as the dispatcher would), and the daily
planning tick is timed on the next day: it refreshes what changed, sweeps what is planned, and plans what is due,
reading only `patent_due` rows whose next tier has fired (an index range). Then a full refresh on the same day
(`refresh_seconds`: every row recomputed and rewritten, nothing new to plan). Last, the heavy day
(`heavy_tick_seconds`): the first tick after five days without one, about 130,000 items at a million patents.
Targets at 1,000,000 patents (the `targets` map; null below that size): first plan ≤ 60 s, full refresh ≤ 30 s,
daily and heavy tick ≤ 10 s, peak RSS of the process ≤ 1.5 GB;
`target_seconds` (5) is the daily tick's older, stricter aim.

Dispatch: reminders for `--messages` / 2 enterprises (one SMS and one email each) go
through the real Aliyun SDK to the local gateway and through SMTP to the local aiosmtpd server, with `--workers`
dispatchers at once; messages per second, the CPU time the dispatchers and the servers took meanwhile, and the
load average at the end. Target (`targets`; null below 10,000 messages): ≥ 150 messages a second, each received
once.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from custody.clock import SHANGHAI  # noqa: E402
from custody.models import Contact, Enterprise, Patent  # noqa: E402
from custody.reminder_policy import Tier  # noqa: E402
from custody.reminder_settings import ReminderSettings  # noqa: E402
from custody.ruleset import default_rules  # noqa: E402
from custody.store.db import engine_for, upgrade  # noqa: E402
from scheduler.ticks import Ticks, plan_now  # noqa: E402

PLAN_DAY = datetime(2025, 6, 2, 8, 0, tzinfo=SHANGHAI)
PER_ENTERPRISE = 50
CHUNK = 50_000
DISPATCH_TARGET = 150.0  # messages a second, at 10,000 messages (issue 9)


def _insert(engine, table, rows) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(sa.insert(table), rows[start:start + CHUNK])


def _portfolio(engine, patents: int, seed: int = 1, per_enterprise: int = PER_ENTERPRISE,
               recent: bool = False) -> None:
    """Enterprises with an IP manager (SMS + email) and a finance contact (email); patents filed over 20 years,
    each paid up to the year before its next anniversary after the plan day, except ~5 % one year behind."""
    # Timestamps before the plan day: the daily tick then sees what a real one sees, nothing changed since.
    rng, now = random.Random(seed), PLAN_DAY.astimezone(UTC) - timedelta(days=30)
    enterprises = -(-patents // per_enterprise)
    _insert(engine, Enterprise.__table__, [dict(id=i + 1, credit_code=f"B{i:017d}", name=f"基准企业{i}",
                                                created_at=now, updated_at=now) for i in range(enterprises)])
    contacts = []
    for i in range(enterprises):
        contacts.append(dict(enterprise_id=i + 1, name="知识产权", role="ip_manager", mobile=f"13{i:09d}",
                             email=f"ip{i}@example.com", consent_sms=True, consent_email=True,
                             created_at=now, updated_at=now))
        contacts.append(dict(enterprise_id=i + 1, name="财务", role="finance", mobile=None, email=f"fin{i}@example.com",
                             consent_sms=True, consent_email=True, created_at=now, updated_at=now))
    _insert(engine, Contact.__table__, contacts)
    rows = []
    for n in range(patents):
        if recent:  # inventions in their 6th to 10th year: each has a fee due within the coming year
            filed, type_ = date(2015, 6, 3) + timedelta(days=rng.randrange(4 * 365)), "invention"
        else:
            filed = date(2005, 1, 1) + timedelta(days=rng.randrange(20 * 365))
            type_ = "invention" if rng.random() < 0.6 else "utility_model"
        last = 20 if type_ == "invention" else 10
        years_done = PLAN_DAY.year - filed.year + (1 if (filed.month, filed.day) <= (PLAN_DAY.month, PLAN_DAY.day)
                                                   else 0)
        behind = 0 if recent else (1 if rng.random() < 0.05 else 0)
        paid = min(max(years_done - behind, 3), last)
        rows.append(dict(application_number=f"B{n:012d}.X", type=type_, title="基准专利", owners="",
                         filing_date=filed, grant_year=3, grant_year_inferred=False, paid_through=paid,
                         paid_through_inferred=False, reduction="85" if rng.random() < 0.5 else "none",
                         term_extension_days=0, mode="custody", enterprise_id=n // per_enterprise + 1,
                         created_at=now, updated_at=now))
    _insert(engine, Patent.__table__, rows)


def _a_day_passes(engine) -> None:
    """What a day does to a database between the set-up and the next planning: SQLite has checkpointed its
    write-ahead log (hundreds of MB after loading a million patents), PostgreSQL's autovacuum has cleaned up after
    the day's updates and analysed the new rows. Without it the daily tick would be timed on a state no running
    system is in."""
    if engine.dialect.name == "sqlite":
        import sqlite3

        engine.dispose()  # custody's SQLite connections begin every transaction at once: use a plain one
        with closing(sqlite3.connect(engine.url.database)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


# The heavy day: ~140 k items at a million patents. An ordinary day here plans ~36 k; the first tick after
# the server was down five days (a holiday week) plans five days' tiers at once, the issue's heavy day (~140 k).
HEAVY_DAYS = 5


def _heavy_tick(engine, ticks: Ticks):
    """The tick after HEAVY_DAYS days without one (what was planned has been sent)."""
    with engine.begin() as connection:
        connection.execute(sa.text("update reminder set state = 'sent', sent_at = created_at where state = 'planned'"))
        connection.execute(sa.text("update reminder_item set state = 'sent' where state = 'planned'"))
    _a_day_passes(engine)
    ticks.clock = lambda: PLAN_DAY + timedelta(days=HEAVY_DAYS)
    started = time.perf_counter()
    heavy = plan_now(ticks)
    return heavy, time.perf_counter() - started


def bench_planning(url: str, patents: int) -> dict:
    engine = engine_for(url)
    started = time.perf_counter()
    _portfolio(engine, patents)
    loaded = time.perf_counter() - started
    ticks = Ticks(engine, ReminderSettings(), default_rules(), {})
    ticks.clock = lambda: PLAN_DAY - timedelta(days=1)
    started = time.perf_counter()
    first = plan_now(ticks, full_refresh=True)  # fills patent_due for every patent (and plans that day)
    full = time.perf_counter() - started
    with engine.begin() as connection:  # the dispatcher sends the day's messages before the next plan
        connection.execute(sa.text("update reminder set state = 'sent', sent_at = created_at"))
        connection.execute(sa.text("update reminder_item set state = 'sent'"))
    _a_day_passes(engine)
    ticks.clock = lambda: PLAN_DAY
    started = time.perf_counter()
    daily = plan_now(ticks)
    took = time.perf_counter() - started
    # The same day, a full refresh (as after `custody calendar load` or `remind plan --full`): every row recomputed
    # and rewritten; the planner must then look only at fees whose tier state changed (here: none).
    started = time.perf_counter()
    again = plan_now(ticks, full_refresh=True)
    refresh = time.perf_counter() - started
    heavy, heavy_took = _heavy_tick(engine, ticks)
    with engine.connect() as connection:
        due_rows = connection.execute(sa.text("select count(*) from patent_due")).scalar()
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full_size = patents >= 1_000_000
    return {"patents": patents, "load_seconds": round(loaded, 1), "full_refresh_seconds": round(full, 2),
            "first_plan_seconds": round(full, 2), "full_refresh_summary": first.summary(), "patent_due_rows": due_rows,
            "daily_plan_seconds": round(took, 2), "daily_plan_summary": daily.summary(),
            "refresh_seconds": round(refresh, 2), "refresh_summary": again.summary(),
            "heavy_tick_days": HEAVY_DAYS, "heavy_tick_seconds": round(heavy_took, 2),
            "heavy_tick_summary": heavy.summary(), "peak_rss_mb": round(peak),
            "target_seconds": 5.0,
            "targets": {"first_plan_60s": full <= 60 if full_size else None,
                        "full_refresh_30s": refresh <= 30 if full_size else None,
                        "daily_tick_10s": took <= 10 if full_size else None,
                        "heavy_tick_10s": heavy_took <= 10 if full_size else None,
                        "rss_1_5gb": peak <= 1500 if full_size else None}}


def _servers(pipe) -> None:
    """In a process of its own (so the servers do not share the dispatchers' GIL): the Aliyun gateway and the
    SMTP server, until told to stop; then what each received."""
    from tests.support.aliyun_gateway import AliyunGateway
    from tests.support.smtp_server import SmtpServer

    with AliyunGateway() as gateway, SmtpServer() as smtp:
        pipe.send((gateway.endpoint, smtp.host, smtp.port))
        pipe.recv()
        started = _cpu_seconds()
        pipe.recv()
        out_ids = [m.out_id for m in gateway.accepted()]
        pipe.send(({"sms": len(out_ids), "sms_distinct": len(set(out_ids)), "email": len(smtp.received)},
                   _cpu_seconds() - started))


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_dispatch(url: str, messages: int, workers: int) -> dict:
    import multiprocessing

    from notifiers.aliyun_sms import AliyunSms, SmsSettings
    from notifiers.email_smtp import EmailSettings, SmtpEmail
    from scheduler.dispatch import dispatch
    from tests.support.aliyun_gateway import KEY_ID, KEY_SECRET
    from tests.support.smtp_server import PASSWORD, USERNAME

    engine = engine_for(url)
    _portfolio(engine, messages // 2, seed=2, per_enterprise=1, recent=True)  # one SMS and one email each
    one_year = (Tier("bench", "due_date", tuple(range(-366, 1)), ("sms", "email"), ("ip_manager",)),)
    settings = ReminderSettings(tiers=one_year, send_windows={}, batch_size=50)
    plan_now(Ticks(engine, settings, default_rules(), {}, clock=lambda: PLAN_DAY), full_refresh=True)
    with engine.connect() as connection:
        planned = connection.execute(sa.text("select count(*) from reminder where state = 'planned'")).scalar()
    here, there = multiprocessing.Pipe()
    servers = multiprocessing.get_context("spawn").Process(target=_servers, args=(there,), daemon=True)
    servers.start()
    endpoint, smtp_host, smtp_port = here.recv()
    sms = AliyunSms(SmsSettings(enabled=True, endpoint=endpoint, protocol="http", sign_name="基准",
                                templates={"due_soon": "SMS_1", "overdue": "SMS_2", "lapsed": "SMS_3",
                                           "lapsed_due": "SMS_4"}),
                    key_id=KEY_ID, key_secret=KEY_SECRET)
    email = SmtpEmail(EmailSettings(enabled=True, host=smtp_host, port=smtp_port, security="none",
                                    username=USERNAME, from_address="bench@example.com"), password=PASSWORD)
    crews = [Ticks(engine_for(url), settings, default_rules(), {"sms": sms, "email": email},
                   clock=lambda: PLAN_DAY + timedelta(hours=2)) for _ in range(workers)]
    here.send("start")
    started, cpu = time.perf_counter(), _cpu_seconds()
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda t: dispatch(t, budget_seconds=3600), crews))
    took, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    here.send("stop")
    received, servers_cpu = here.recv()
    servers.join(timeout=10)
    sent = sum(d.get("sent", 0) for d in done)
    rate = sent / took
    every_one_once = received["sms"] == received["sms_distinct"] == planned // 2 and received["email"] == planned // 2
    # The target holds at 10,000 messages or more (fewer measure mostly the first batches); each received once.
    return {"messages": planned, "workers": workers, "sent": sent, "received": received,
            "seconds": round(took, 1), "messages_per_second": round(rate, 1),
            # CPU time of the dispatching process and of the servers' process while dispatching: on 2 cores, what
            # limits the rate is their sum (and whatever else the machine runs: hence the load average).
            "cpu_seconds": {"dispatchers": round(cpu, 1), "servers": round(servers_cpu, 1)},
            "load_average": [round(n, 2) for n in os.getloadavg()],
            "targets": {"150_per_second": rate >= DISPATCH_TARGET and every_one_once
                        if messages >= 10_000 else None}}


@contextmanager
def _scratch_schema(server_url: str):
    """A URL whose search_path is a fresh PostgreSQL schema, dropped afterwards."""
    from sqlalchemy.engine import make_url

    from custody.store.db import database_url

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = database_url(make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"}))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def _kept_schema(server_url: str, schema: str):
    """A URL whose search_path is the PostgreSQL schema `schema`, created if absent and kept afterwards; with it,
    whether it existed already (then it holds what an earlier run loaded)."""
    from sqlalchemy.engine import make_url

    from custody.store.db import database_url

    admin = sa.create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(sa.text("select count(*) from pg_namespace where nspname = :s"),
                                    {"s": schema}).scalar() == 1
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    url = database_url(make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"}))
    yield url.render_as_string(hide_password=False), exists


def _run_parts(url_for, args) -> dict:
    results = {}
    for part in ("planning", "dispatch"):
        if part in args.skip:
            continue
        with url_for(part) as url:
            upgrade(url)
            if part == "planning":
                results[part] = bench_planning(url, args.patents)
            else:
                results[part] = bench_dispatch(url, args.messages, args.workers)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL server (in a scratch schema)")
    parser.add_argument("--skip", choices=("planning", "dispatch", "sqlite"), action="append", default=[])
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" not in args.skip:
            results["sqlite"] = _run_parts(lambda part: nullcontext(f"sqlite:///{folder}/{part}.sqlite3"), args)
    if args.pg:
        results["postgresql"] = _run_parts(lambda part: _scratch_schema(args.pg), args)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
