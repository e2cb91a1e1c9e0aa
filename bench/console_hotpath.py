"""What a counter kept by the calls themselves would cost each call: ``python -m
bench.console_hotpath [--calls 2000] [--writers 1,4]``.

On a fresh migrated store, ``--writers`` threads each write ``--calls`` audit rows, one
transaction per row as a verification does, first alone and then each followed in the same
transaction by an upsert of its (minute, code) counter row, the design gspws.store.dashboard
rejects; it prints the mean time per call and the difference. Several writers show the
contention on the counter row (all calls of a minute and code update the same one).
"""

import argparse
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench.seed import create_pg_database, drop_pg_database
from gspws.store import migrate

AUDIT = (
    "INSERT INTO audit_events (at, service_id, client_addr, operation, account, code, "
    "duration_ms) VALUES (:at, 'APP0000001', '10.0.0.1', 'VerifyTOTPCode', :account, 0, 1.5)"
)
COUNTER = (
    "INSERT INTO audit_calls_by_code (period, code, calls) VALUES (:minute, 0, 1) "
    "ON CONFLICT (period, code) DO UPDATE SET calls = audit_calls_by_code.calls + 1"
)


def run(engine: Engine, calls: int, writers: int, counter: bool) -> float:
    """Mean ms per call over all writers."""
    times: list[float] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        mine = []
        for i in range(calls):
            now = time.time()
            params = {"at": datetime.fromtimestamp(now, UTC), "account": f"user{n}-{i}"}
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text(AUDIT), params)
                if counter:
                    conn.execute(text(COUNTER), {"minute": int(now // 60) * 60})
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statistics.mean(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--writers", default="1,4")
    parser.add_argument("--pg-url", default=os.environ.get("GSPWS_TEST_PG_URL"))
    args = parser.parse_args()
    urls = [("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='gspws-hot-')}/gspws.db")]
    admin = None
    if args.pg_url:
        admin = make_url(args.pg_url).set(query={}).render_as_string(hide_password=False)
        urls.append(("postgresql", create_pg_database(admin)))
    try:
        for name, url in urls:
            options = {"connect_args": {"timeout": 60}} if name == "sqlite" else {}
            engine = create_engine(url, pool_size=8, **options)
            migrate.upgrade(engine)
            if name == "sqlite":
                with engine.begin() as conn:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            for writers in (int(w) for w in args.writers.split(",")):
                alone = run(engine, args.calls, writers, counter=False)
                counted = run(engine, args.calls, writers, counter=True)
                print(
                    f"{name}, {writers} writer(s): audit row {alone:.3f} ms, with a counter "
                    f"{counted:.3f} ms ({counted - alone:+.3f} ms, {100 * (counted / alone - 1):+.0f} %)",
                    flush=True,
                )
            engine.dispose()
    finally:
        if admin is not None:
            drop_pg_database(admin, urls[-1][1])


if __name__ == "__main__":
    main()
