"""VerifyTOTPCode called in-process, one call at a time: ``python -m bench.inprocess [--db
postgresql] [--path success|failure] [--calls 3000] [--profile N]``.

bench/run.py measures gspws as served, but there wrk, the server and PostgreSQL share this
machine's two cores, and the same code's req/s moves by up to 40 % from one run to the next. A
change to what a call does is measured better here: a fresh store seeded as bench/run.py seeds
it, the production app (``gspws.wsgi.create_app``, lockout and rate limits out of reach as in
bench/run.py), and ``--calls`` requests handed to it directly, no server, each for an account of
its own and made just before it is sent (a code of the current step on the success path; the
wrong code 000000 on the failure path, skipping the rare account whose code it is).

It prints gspws's CPU and wall time per call (the calls only, not the making of their bodies),
the calls' latency percentiles, and on PostgreSQL the CPU spent per call by this machine's
processes named ``postgres`` (those running from start to end: an autovacuum worker that comes
and goes is left out; so run it where PostgreSQL is local and serves nothing else) and how each
statement of the verifying connection was planned (``pg_prepared_statements``, PostgreSQL 14 or
later; see gspws.store.db.verification_engine). ``--profile N``: cProfile's top N functions by
own time, from a second round of as many calls. Alternate runs of the code before and after a
change: one run proves little on a busy machine.
"""

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time

from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from bench.bodies import PATH, PERIOD, WRONG_CODE, Accounts, envelope, totp, wrong_throughout
from bench.options import PG_URL
from bench.processes import SERVER_ENV, cpu_by_pid, pids_named
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
        default=PG_URL,
        help="PostgreSQL server where a throw-away database gspws_bench_<hex> is made",
    )
    parser.add_argument("--path", choices=("success", "failure"), default="failure")
    parser.add_argument("--calls", type=int, default=3000, help="measured calls (after 200)")
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="cProfile's top N")
    args = parser.parse_args(argv)
    rounds = 2 if args.profile else 1
    accounts = Accounts(WARM_UP + rounds * args.calls + args.calls // 100 + 10)  # + skipped ones
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
                _measure(Calls(app, accounts, args.path), args)
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


class Calls:
    """Calls of one path, each for the next account not yet called."""

    def __init__(self, app: GspwsApp, accounts: Accounts, path: str) -> None:
        self.app, self._accounts, self._path = app, accounts, path
        self._expected = b"<Code>0</Code>" if path == "success" else b"<Code>9999</Code>"
        self._next = 0

    def run(self, count: int) -> tuple[list[float], float]:
        """Make ``count`` calls; their latencies (seconds) and the CPU they took."""
        latencies, cpu = [], 0.0
        while len(latencies) < count:
            body = self._body()
            if body is None:
                continue
            cpu_started, started = time.process_time(), time.perf_counter()
            _call(self.app, body, self._expected)
            latencies.append(time.perf_counter() - started)
            cpu += time.process_time() - cpu_started
        return latencies, cpu

    def _body(self) -> bytes | None:
        i, step = self._next, int(time.time() // PERIOD)
        self._next += 1
        key, account = self._accounts.keys[i], self._accounts.name(i)
        if self._path == "success":
            return envelope(account, totp(key, step))
        return (
            envelope(account, WRONG_CODE)
            if wrong_throughout(key, range(step - 1, step + 2))
            else None
        )


def _measure(calls: Calls, args: argparse.Namespace) -> None:
    calls.run(WARM_UP)
    postgres = cpu_by_pid(pids_named("postgres")) if args.db == "postgresql" else {}
    latencies, cpu = calls.run(args.calls)
    still = cpu_by_pid(postgres)
    postgres_cpu = sum(still[pid] - postgres[pid] for pid in still)
    latencies.sort()
    n = len(latencies)

    def ms(quantile: float) -> float:
        return 1000 * latencies[round(quantile * (n - 1))]

    print(
        f"{args.db}, {args.path} path, {n:,} calls: gspws CPU {1000 * cpu / n:.3f} ms/call, "
        f"wall {1000 * sum(latencies) / n:.3f} ms/call; latency p50 {ms(0.5):.2f}, "
        f"p99 {ms(0.99):.2f}, p99.9 {ms(0.999):.2f}, max {ms(1):.1f} ms"
    )
    if args.db == "postgresql":
        if still:
            print(f"PostgreSQL's processes: CPU {1000 * postgres_cpu / n:.3f} ms/call")
        else:
            print("PostgreSQL's processes: none found on this machine, CPU not measured")
        for statement, generic, custom in prepared_plans(calls.app.store.verifying):
            opening = " ".join(statement.split())[:60]
            print(f"  plans: {generic:,} generic, {custom:,} custom: {opening}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        calls.run(args.calls)
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


def prepared_plans(engine: Engine) -> list[tuple[str, int, int]]:
    """Each statement prepared on a connection of ``engine``'s pool (the one a caller making one
    call at a time uses), with its generic and custom plans so far (PostgreSQL 14 or later)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement NOT LIKE '%pg_prepared_statements%'"
        )
        return cursor.fetchall()
    finally:
        connection.close()


if __name__ == "__main__":
    main()
