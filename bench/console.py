"""The operator console at scale: ``python -m bench.console [--scale 0.1] [--database sqlite]``.

Seeds a fresh store (SQLite in a temporary directory, or a throw-away PostgreSQL database
``gspws_bench_<hex>`` on ``--pg-url``/``GSPWS_TEST_PG_URL``) with 1,000,000 accounts and tokens and
10,000,000 audit rows times ``--scale`` (bench/console_seed.py: generated inside the database;
every token shares one ciphertext), then times the console's queries: search by account prefix,
serial and phone; the audit page with each filter, first page and a deep keyset page; the
dashboard, the first time (rolling the 7 days up) and then as an operator sees it; and, for
comparison, the 7-day figure read straight from ``audit_events``. Each is run ``--repeat`` times;
it prints the median ms and whether it is under 300 ms. ``--keep`` leaves the store (its URL is
printed) and ``--reuse URL`` times an existing one without seeding.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.console_queries import audit_cases, search_cases
from bench.console_seed import seed
from bench.seed import create_pg_database, drop_pg_database
from gspws.config import Settings
from gspws.store import migrate
from gspws.store.dashboard import DashboardQueries, _floor
from gspws.store.models import AuditEvent
from gspws.store.verification import utc
from gspws.wsgi import build_store

GOAL_MS = 300.0


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median milliseconds of ``repeat`` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def report(name: str, ms: float, detail: str = "", goal: bool = True) -> None:
    verdict = ("under 300 ms" if ms < GOAL_MS else "OVER 300 ms") if goal else "(not a page)"
    print(f"  {name:<48} {ms:9.1f} ms  {verdict}  {detail}", flush=True)


def bench(url: str, tokens: int, audit_rows: int, now: float, repeat: int, fresh: bool) -> None:
    settings = Settings.from_env(
        {"GSPWS_SECRET_KEY": Fernet.generate_key().decode(), "GSPWS_DB_TIMEOUT": "600"},
        home=Path(tempfile.gettempdir()),
        database_url=url,
    )
    store = build_store(settings)
    engine = store.engine
    dialect = engine.dialect.name
    if fresh:
        migrate.upgrade(create_engine(url))
        print(f"seeding {tokens:,} tokens and {audit_rows:,} audit rows ({dialect})", flush=True)
        took = seed(create_engine(url), tokens, audit_rows, now, store.secrets.encrypt("A" * 32))
        print(f"  seeded in {took:.0f} s", flush=True)
    print(f"{dialect}: {tokens:,} tokens, {audit_rows:,} audit rows, median of {repeat}")
    with store.reading() as repo:
        session = repo.session
        for name, run in [*search_cases(tokens), *audit_cases(now, audit_rows, tokens)]:
            ms, rows = timed(lambda run=run: run(session), repeat)
            rows = rows[0] if isinstance(rows, tuple) else rows  # (page, next key)
            report(name, ms, f"{len(rows)} rows")
        conn = session.connection()
        events = AuditEvent.__table__.c
        raw = (
            select(_floor(dialect, events.at, 3600), events.code, func.count())
            .where(events.at >= utc(now - 7 * 86400))
            .group_by(text("1"), text("2"))
        )
        ms, rows = timed(lambda: conn.execute(raw).all(), 1)
        report("dashboard 7 days straight from audit_events", ms, f"{len(rows)} rows", goal=False)
    dashboard = DashboardQueries(store)
    ms, overview = timed(lambda: dashboard.overview(now), 1)
    report(
        "dashboard, first view (rolls up for <= 1 s)",
        ms,
        f"{overview.uncounted} periods left (catching up: see docs/admin.md)",
        goal=False,
    )
    started, views = time.perf_counter(), 0
    while overview.uncounted:
        overview, views = dashboard.overview(now), views + 1
    took = time.perf_counter() - started
    report(f"  the rest of 7 days rolled up ({views} more views)", took * 1000, goal=False)
    ms, overview = timed(lambda: dashboard.overview(now + 1), repeat)
    report("dashboard", ms, f"{overview.windows['7d'].series.total:,} calls in 7 days")
    ms, _ = timed(lambda: dashboard.overview(now + 600), 1)
    report("dashboard 10 minutes later (rolls one period)", ms)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="times 1M tokens, 10M rows")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("GSPWS_TEST_PG_URL"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the seeded store")
    parser.add_argument("--reuse", metavar="URL", help="time this seeded store, no seeding")
    parser.add_argument("--now", type=float, help="the seed's 'now' (with --reuse)")
    args = parser.parse_args(argv)
    tokens, audit_rows = int(1_000_000 * args.scale), int(10_000_000 * args.scale)
    now = args.now or float(int(time.time()))
    if args.reuse:
        bench(args.reuse, tokens, audit_rows, now, args.repeat, fresh=False)
        return 0
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        if kind == "postgresql":
            if not args.pg_url:
                print("postgresql: skipped (no --pg-url or GSPWS_TEST_PG_URL)", file=sys.stderr)
                continue
            admin = make_url(args.pg_url).set(query={}).render_as_string(hide_password=False)
            url = create_pg_database(admin)
        else:
            url = f"sqlite:///{tempfile.mkdtemp(prefix='gspws-console-')}/gspws.db"
        try:
            bench(url, tokens, audit_rows, now, args.repeat, fresh=True)
        finally:
            if args.keep:
                print(f"  kept: --reuse {url} --now {now:.0f}", flush=True)
            elif kind == "postgresql":
                drop_pg_database(admin, url)
            else:
                Path(make_url(url).database or "").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
