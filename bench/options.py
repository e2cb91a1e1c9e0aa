"""gspws under load, next to a floor, on this machine: ``make bench`` or ``python bench/run.py``.

One run, all on loopback:

1. a fresh store (SQLite in a temporary GSPWS_HOME, or a throw-away PostgreSQL database
   ``gspws_bench_<hex>`` dropped at the end) migrated to head and bulk-seeded with one service
   (APP0000001, 127.0.0.1/32, VerifyTOTPCode) and ``--tokens`` accounts ``user000001``... each with
   one active SHA1/6/30 TOTP token with its own random secret;
2. gspws served as in production: ``gspws --database-url URL serve --workers N`` (granian, each
   request read whole before the app runs; gspws/serving.py), with a fresh GSPWS_SECRET_KEY,
   GSPWS_LOCKOUT_THRESHOLD set out of reach (so that the failure path measures verification
   rather than locked tokens) and the rate limits set out of reach (one ServiceID from one
   address carries the whole load; the limiter still runs on every call); ``--server-env
   NAME=VALUE`` adds or overrides variables (for gspws and the floor). "First answer" is the time
   from spawning it to its first SOAP answer (a call for an unknown account);
3. the floor (bench/floor.py): the same server set-up (gspws.serving.serve) and worker count
   serving a WSGI app with no database that parses the same envelope with lxml and writes the
   same response bytes (checked at start with one success and one failure on both);
4. the same load on both, with wrk (``--loadgen auto`` uses it when on PATH; ``apt-get install
   wrk``; bench/bodies.lua) or a Python load generator (processes x threads, one http.client
   connection each), for the two paths below; connections are kept alive, on both servers alike.

   * the failure path: wrong codes (``000000``), expected answer 9999;
   * the success path: distinct valid codes, each used once. Codes are computed just before the
     run from the plaintext secrets kept by the seeding. A token accepts a code of its current
     step and of the steps either side, each at most once, so with few tokens a token is used up
     to three times (steps s-1, s, s+1, in that order, the run waiting for a fresh step when it
     would not fit in the current one). When even that is fewer codes than the run would use,
     the success run on gspws is shortened to what the codes cover, and the output says so.

   Errors are non-2xx answers and socket errors, plus, for gspws, the calls its audit table
   (audit_events, read after each run) shows answered other than expected (0 on the success
   path, 9999 on the failure path).

It prints, per path and target: requests/s, p50 and p99 latency, errors, the server's CPU time
per request (server master and workers, from /proc), how busy the machine was and how much of
it went to neither the server nor the load generator (PostgreSQL, other processes: figures
taken on a busy machine are not comparable), and gspws/floor; then the first-answer time,
resident memory per worker (VmRSS after the load), and the goals. ``--json FILE`` writes all the
figures. ``--profile DIR`` also records each gspws worker with py-spy during its success run
(``pip install py-spy``; ``--profile-idle`` for wall-clock time) and prints the top functions
and packages.

Then the slow-client scenario (bench/slow.py; ``--slow-clients N``, 0 to skip): N connections
trickle a request one byte a second while one client calls VerifyTOTPCode every 20 ms; it
prints the calls' p99 and the calls lost. The run exits with status 1 when a call was answered
wrongly or lost, or floor and gspws answer with different bytes.

Examples::

    make bench                      # every load shape of SHAPES (--shapes), one after another
    make bench BENCH_ARGS="--db postgresql"
    .venv/bin/python bench/run.py --tokens 1000000 --workers 2 --connections 16 --duration 10
    .venv/bin/python bench/run.py --loadgen python --json /tmp/bench.json
    .venv/bin/python bench/run.py --profile /tmp/prof --server-env GSPWS_RATE_LIMIT_SERVICE=
    .venv/bin/python bench/run.py --db postgresql --verify-only --server-env GSPWS_THREADS=8

Goals (reported, not asserted), for 2 workers, 16 connections, SQLite: success-path requests/s
at least 0.5 x floor, p99 at most 25 ms, PostgreSQL at least 0.8 x SQLite, requests/s with
1,000,000 tokens within 10 % of 1,000 tokens, resident memory per worker at most 100 MB, first
answer at most 2 s after start; with 200 trickling connections p99 at most 100 ms and no call
lost. The cross-run goals need two runs (compare their --json files).
"""

import argparse

SUCCESS_MAX_DURATION = 25  # a code must stay valid for the whole success run (30-s steps)
OTP_MAX_DURATION = 10  # MobileOTP runs: each account is sent (or checks) one code


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


#: The PostgreSQL server of this machine, where throw-away databases are made (``--pg-url``).
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=PG_URL,
        help="PostgreSQL server (with --db postgresql) where a throw-away "
        "database gspws_bench_<hex> is created and dropped",
    )
    parser.add_argument(
        "--tokens",
        type=int,
        default=10_000,
        help="accounts, one active TOTP token each (1,000 to 1,000,000)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes of each server")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument(
        "--duration",
        type=float,
        default=10,
        help=f"seconds per measurement (success path at most {SUCCESS_MAX_DURATION})",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="gspws on this port, the floor on the next (0: free ports)",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when on PATH, else the Python load generator",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record the gspws workers with py-spy during the success run",
    )
    parser.add_argument(
        "--profile-idle",
        action="store_true",
        help="with --profile: sample waiting threads too (wall-clock profile: lock waits, I/O)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment variable for gspws and the floor (repeatable), "
        "e.g. GSPWS_DB_POOL_SIZE=10; applied after the bench's own",
    )
    parser.add_argument(
        "--slow-clients",
        type=int,
        default=200,
        metavar="N",
        help="connections trickling one byte a second in the slow-client scenario (0: skip it)",
    )
    parser.add_argument(
        "--verify-only",
        action="store_true",
        help="measure VerifyTOTPCode's two paths only (skip MobileOTP.asmx and OCRA): "
        "quicker A/B runs",
    )
    parser.add_argument(
        "--shapes",
        action="store_true",
        help="run every load shape of SHAPES in turn (what `make bench` does): "
        "the options given apply to each, but for its database, workers "
        "and connections; the slow-client scenario runs with the first",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (store, logs, bodies)"
    )
    args = parser.parse_args(argv)
    if not 1_000 <= args.tokens <= 1_000_000:
        parser.error("--tokens must be between 1,000 and 1,000,000")
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be between 1 and 64")
    if any("=" not in pair for pair in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    if args.slow_clients < 0:
        parser.error("--slow-clients must be at least 0")
    if args.connections < 1 or args.duration < 1:
        parser.error("--connections and --duration must be at least 1")
    return args


#: ``make bench``'s load shapes (``--shapes``): (database, workers, connections). The goals'
#: shape first; then four workers behind many connections, and PostgreSQL with two and four
#: workers, so that scaling with workers shows on both databases.
