"""VerifyTOTPCode called in-process, one call at a time: ``python -m bench.inprocess [--db
postgresql] [--path success|failure] [--calls 3000] [--profile N]``.

bench/run.py measures gspws as served, but there wrk, the server and PostgreSQL share this
machine's two cores, and the same code's req/s moves by up to 40 % from one run to the next. A
change to what a call does is measured better here: a fresh store seeded as bench/run.py seeds
it, the production app (``gspws.wsgi.create_app``, lockout and rate limits out of reach as in
bench/run.py), and ``--calls`` requests handed to it directly, no server. It prints gspws's CPU
and wall time per call, the calls' latency percentiles, on PostgreSQL the CPU its server
processes spent per call (read from /proc: run it where PostgreSQL is local) and how each
statement of the verifying connection was planned (generic or custom plans, see
gspws.store.db.verification_engine); ``--profile N``: cProfile's top N functions by own time,
from a second round of the same calls. Alternate runs of the code before and after a change.
"""

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench.bodies import PATH, PERIOD, WRONG_CODE, Accounts, envelope, totp
from bench.processes import cpu_seconds
from bench.run import SERVER_ENV
from bench.seed import create_pg_database, drop_pg_database, seed
from gspws.config import Settings
from gspws.store import migrate
from gspws.store.db import make_engine
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox
from gspws.wsgi import GspwsApp, create_app

WARM_UP = 200


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="PostgreSQL server where a throw-away database gspws_bench_<hex> is made",
    )
    parser.add_argument("--path", choices=("success", "failure"), default="failure")
    parser.add_argument("--calls", type=int, default=3000, help="measured calls (after 200)")
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="cProfile's top N")
    args = parser.parse_args(argv)
    accounts = Accounts(WARM_UP + 2 * args.calls)  # distinct accounts: each code used once
    with tempfile.TemporaryDirectory(prefix="gspws-inprocess-") as home:
        database_url = create_pg_database(args.pg_url) if args.db == "postgresql" else None
        try:
            settings = Settings.from_env(
                {"GSPWS_HOME": home, "GSPWS_SECRET_KEY": Fernet.generate_key().decode()}
                | SERVER_ENV,
                **({"database_url": database_url} if database_url else {}),
            )
            _seed(settings, accounts)
            app = create_app(settings)
            try:
                _measure(app, accounts, args)
            finally:
                app.store.verifying.dispose()
                app.store.engine.dispose()
        finally:
            if database_url:
                drop_pg_database(args.pg_url, database_url)


def _seed(settings: Settings, accounts: Accounts) -> None:
    box = SecretBox.from_settings(settings)
    store = Store(make_engine(settings), box)
    migrate.upgrade(store.engine)
    seed(store, box, accounts)
    store.engine.dispose()


def _bodies(accounts: Accounts, path: str, first: int, count: int) -> list[bytes]:
    step = int(time.time() // PERIOD)
    return [
        envelope(
            accounts.name(i), totp(accounts.keys[i], step) if path == "success" else WRONG_CODE
        )
        for i in range(first, first + count)
    ]


def _measure(app: GspwsApp, accounts: Accounts, args: argparse.Namespace) -> None:
    expected = b"<Code>0</Code>" if args.path == "success" else b"<Code>9999</Code>"
    for body in _bodies(accounts, args.path, 0, WARM_UP):
        _call(app, body, expected)
    bodies = _bodies(accounts, args.path, WARM_UP, args.calls)
    server = _postgres_pids() if args.db == "postgresql" else []
    server_cpu, cpu, wall = cpu_seconds(server), time.process_time(), time.perf_counter()
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        _call(app, body, expected)
        latencies.append(time.perf_counter() - started)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_cpu = cpu_seconds(server) - server_cpu
    latencies.sort()
    at = lambda q: 1000 * latencies[int(q * (len(latencies) - 1))]  # noqa: E731
    n = len(bodies)
    print(
        f"{args.db}, {args.path} path, {n:,} calls: gspws CPU {1000 * cpu / n:.3f} ms/call, "
        f"wall {1000 * wall / n:.3f} ms/call; latency p50 {at(0.5):.2f}, p99 {at(0.99):.2f}, "
        f"p99.9 {at(0.999):.2f}, max {1000 * latencies[-1]:.1f} ms"
    )
    if args.db == "postgresql":
        print(f"PostgreSQL's processes: CPU {1000 * server_cpu / n:.3f} ms/call")
        for statement, generic, custom in _plans(app):
            print(f"  plans: {generic:,} generic, {custom:,} custom: {statement}")
    if args.profile:
        more = _bodies(accounts, args.path, WARM_UP + args.calls, args.calls)
        profile = cProfile.Profile()
        profile.enable()
        for body in more:
            _call(app, body, expected)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())


def _call(app: GspwsApp, body: bytes, expected: bytes) -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PATH,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SOAPACTION": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    answer = b"".join(app(environ, lambda status, headers, exc_info=None: None))
    if expected not in answer:
        raise SystemExit(f"unexpected answer: {answer[:300]!r}")


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _plans(app: GspwsApp) -> list[tuple[str, int, int]]:
    """The verifying pool's prepared statements (one call at a time: its one connection)."""
    connection = app.store.verifying.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement NOT LIKE '%pg_prepared_statements%'"
        )
        return [(" ".join(s.split())[:60], g, c) for s, g, c in cursor.fetchall()]
    finally:
        connection.close()


if __name__ == "__main__":
    main()
