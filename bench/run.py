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

Goals (reported, not asserted), for 2 workers, 16 connections, SQLite: success-path requests/s
at least 0.5 x floor, p99 at most 25 ms, PostgreSQL at least 0.8 x SQLite, requests/s with
1,000,000 tokens within 10 % of 1,000 tokens, resident memory per worker at most 100 MB, first
answer at most 2 s after start; with 200 trickling connections p99 at most 100 ms and no call
lost. The cross-run goals need two runs (compare their --json files).
"""

import argparse
import base64
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # gspws and bench of this checkout

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import slow  # noqa: E402
from bench.bodies import (  # noqa: E402
    FAILURE_BODIES,
    OTP_PATH,
    PATH,
    PERIOD,
    WRONG_CODE,
    Accounts,
    Bodies,
    envelope,
    failure_bodies,
    log,
    otp_bodies,
    success_bodies,
    totp,
)
from bench.load import ACTION, Load, post, python_load, wrk_load, wrk_threads  # noqa: E402
from bench.processes import (  # noqa: E402
    REPO,
    ServerProcess,
    cpu_seconds,
    free_port,
    gspws_env,
    machine_cpu,
    rss_mb,
)
from bench.profile import py_spy, top_frames  # noqa: E402
from bench.report import report, shapes_report  # noqa: E402
from bench.seed import (  # noqa: E402
    audit_codes,
    audit_watermark,
    create_pg_database,
    drop_pg_database,
    seed,
    seed_otp,
)
from gspws.config import Settings  # noqa: E402
from gspws.core.otp import TotpParams  # noqa: E402
from gspws.store import migrate  # noqa: E402
from gspws.store.db import make_engine  # noqa: E402
from gspws.store.repo import Store  # noqa: E402
from gspws.store.secrets import SecretBox  # noqa: E402

# Out of reach, so that the failure path measures verification, not locked tokens, and the
# load (one ServiceID from one address) is not throttled; the rate limiter still runs per call.
SERVER_ENV = {
    "GSPWS_LOCKOUT_THRESHOLD": "1000000000",
    "GSPWS_RATE_LIMIT_SERVICE": "1000000000/second",
    "GSPWS_RATE_LIMIT_ACCOUNT": "1000000000/minute",
}
SUCCESS_MAX_DURATION = 25  # a code must stay valid for the whole success run (30-s steps)
OTP_MAX_DURATION = 10  # MobileOTP runs: each account is sent (or checks) one code


# -- one run ------------------------------------------------------------------------------------


@dataclass
class Measure:
    target: str
    path: str
    duration: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    socket_errors: int
    non_2xx: int
    replayed: int
    cpu_ms_per_request: float | None  # the server's processes (master and workers)
    machine_busy_pct: float  # all CPUs, load generator included
    rest_pct: float  # of all CPUs, used by neither the server nor the load
    answers: dict = field(default_factory=dict)  # gspws: audit codes of the run's calls
    note: str = ""


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="gspws-bench-"))
        self.loadgen = args.loadgen
        if self.loadgen == "auto":
            self.loadgen = "wrk" if shutil.which("wrk") else "python"
        if self.loadgen == "wrk" and not shutil.which("wrk"):
            raise SystemExit("wrk is not on PATH (apt-get install wrk), or use --loadgen python")
        self.accounts = Accounts(args.tokens)
        self.results: list[Measure] = []
        self.servers: dict[str, ServerProcess] = {}
        self.profile: dict | None = None

    def load(
        self,
        port: int,
        bodies: list[bytes],
        duration: float,
        cycle: bool,
        call: tuple[str, str] = (PATH, ACTION),
    ) -> Load:
        """``call``: the endpoint's path and the bodies' operation."""
        if self.loadgen == "wrk":
            return wrk_load(port, bodies, self.args.connections, duration, self.workdir, *call)
        return python_load(port, bodies, self.args.connections, duration, cycle, *call)

    def measure(
        self,
        target: str,
        path: str,
        bodies: Bodies,
        duration: float,
        store: Store | None = None,
        expected: int | None = None,
        profile_dir: Path | None = None,
        call: tuple[str, str] = (PATH, ACTION),
    ) -> Measure:
        server = self.servers[target]
        workers = server.workers()
        mark = audit_watermark(store) if store else 0
        spies = []
        if profile_dir:
            idle = ["--idle"] if self.args.profile_idle else []
            spies = [
                subprocess.Popen(
                    [
                        py_spy(),
                        "record",
                        "-r",
                        "100",
                        *idle,
                        "-d",
                        str(math.ceil(duration)),
                        "-p",
                        str(pid),
                        "-f",
                        "raw",
                        "-o",
                        str(profile_dir / f"pyspy-{target}-{path}-{pid}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid in workers
            ]
        cpu_before = cpu_seconds(workers + [server.proc.pid])
        machine_before = machine_cpu()
        log(
            f"  {path} path on {target}: {len(bodies.items):,} bodies, {duration:.0f} s, "
            f"{self.args.connections} connections ({self.loadgen})"
        )
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = self.load(
            server.port,
            bodies.items,
            duration,
            cycle=(path == "failure" or target == "floor"),
            call=call,
        )
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        loadgen_cpu = (
            children_after.ru_utime
            + children_after.ru_stime
            - children_before.ru_utime
            - children_before.ru_stime
        )
        time.sleep(0.3)  # let calls in flight when the load stopped finish
        cpu = cpu_seconds(workers + [server.proc.pid]) - cpu_before
        machine = [
            after - before for after, before in zip(machine_cpu(), machine_before, strict=True)
        ]
        for spy in spies:
            spy.wait(timeout=duration + 60)
        answers = audit_codes(store, mark) if store else {}
        wrong = sum(v for code, v in answers.items() if code != expected) if store else 0
        note = bodies.note
        if target == "gspws" and path == "success" and result.replayed:
            note += f"; codes exhausted: {result.replayed:,} requests were replays"
        m = Measure(
            target=target,
            path=path,
            duration=result.seconds,
            requests=result.requests,
            rps=result.rps,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            errors=result.socket_errors + result.non_2xx + wrong,
            socket_errors=result.socket_errors,
            non_2xx=result.non_2xx,
            replayed=result.replayed,
            cpu_ms_per_request=1000 * cpu / result.requests if result.requests else None,
            machine_busy_pct=100 * machine[0] / machine[1] if machine[1] else 0.0,
            rest_pct=(
                100
                * (machine[0] / os.sysconf("SC_CLK_TCK") - cpu - loadgen_cpu)
                / (machine[1] / os.sysconf("SC_CLK_TCK"))
            )
            if machine[1]
            else 0.0,
            answers=answers,
            note=note.strip("; "),
        )
        self.results.append(m)
        log(
            f"    {m.rps:,.0f} req/s, p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, "
            f"errors {m.errors}" + (f", answers {answers}" if store else "")
        )
        return m

    def run(self) -> dict:
        args = self.args
        summary: dict = {
            "config": {k: v for k, v in vars(args).items() if k != "json"},
            "loadgen": self.loadgen,
            "cpus": os.cpu_count(),
        }
        summary["config"]["pg_url"] = make_url(args.pg_url).render_as_string(hide_password=True)
        summary["gspws_commit"] = _git("rev-parse", "--short", "HEAD") + (
            " (with uncommitted changes)" if _git("status", "--porcelain", "--", "gspws") else ""
        )
        before = machine_cpu()
        time.sleep(1)
        busy, total = [a - b for a, b in zip(machine_cpu(), before, strict=True)]
        summary["background_busy_pct"] = 100 * busy / total if total else 0.0
        home = self.workdir / "home"
        home.mkdir()
        key = Fernet.generate_key().decode()
        if args.db == "postgresql":
            database_url = create_pg_database(args.pg_url)
            self._drop = lambda: drop_pg_database(args.pg_url, database_url)
            log(f"store: PostgreSQL database {make_url(database_url).database}")
        else:
            database_url = f"sqlite:///{home / 'gspws.db'}"
            log(f"store: SQLite {home / 'gspws.db'}")
        settings = Settings.from_env(
            {"GSPWS_HOME": str(home), "GSPWS_SECRET_KEY": key}, database_url=database_url
        )
        box = SecretBox.from_settings(settings)
        store = Store(make_engine(settings), box)
        try:
            migrate.upgrade(store.engine)
            summary["seed_seconds"] = seed(store, box, self.accounts)
            log(f"  seeded {args.tokens:,} tokens in {summary['seed_seconds']:.1f} s")
            self._check_codes()
            self._serve(database_url, home, key)
            summary.update(self._measure_all(store))
            summary["first_answer_s"] = {n: s.first_answer for n, s in self.servers.items()}
            summary["rss_mb_per_worker"] = {
                n: [rss_mb(p) for p in s.workers()] for n, s in self.servers.items()
            }
            summary["rss_mb_master"] = {n: rss_mb(s.proc.pid) for n, s in self.servers.items()}
        finally:
            for server in self.servers.values():
                server.stop()
            store.engine.dispose()
            if args.db == "postgresql":
                self._drop()
            if not args.keep:
                shutil.rmtree(self.workdir, ignore_errors=True)
        summary["results"] = [asdict(m) for m in self.results]
        summary["profile"] = self.profile
        summary["server_env"] = SERVER_ENV
        return summary

    def _check_codes(self) -> None:
        """The bench's own TOTP must be gspws's (pyotp) or every success call would fail."""
        secret = base64.b32encode(self.accounts.keys[0]).decode()
        step = int(time.time() // PERIOD)
        if TotpParams(secret).totp().generate_otp(step) != totp(self.accounts.keys[0], step):
            raise SystemExit("bench TOTP differs from gspws.core.otp")

    def _serve(self, database_url: str, home: Path, key: str) -> None:
        args = self.args
        env = gspws_env(
            home, key, **SERVER_ENV, **dict(pair.split("=", 1) for pair in args.server_env)
        )
        ports = (
            [args.port_base, args.port_base + 1] if args.port_base else [free_port(), free_port()]
        )
        probe = envelope("bench-probe", "123456")  # no such account: a full call, answered 3001

        def answers(server: ServerProcess) -> bool:
            status, body = post(server.port, probe, timeout=5)
            return status == 200 and b"<Code>" in body

        log(f"gspws: {args.workers} worker(s) on 127.0.0.1:{ports[0]}")
        self.servers["gspws"] = ServerProcess(
            database_url, env, self.workdir / "gspws.log", args.workers, ports[0]
        ).start(answers)
        log(f"  first answer {self.servers['gspws'].first_answer:.2f} s after spawn")
        log(f"floor: {args.workers} worker(s) on 127.0.0.1:{ports[1]}")
        # The floor gets gspws's environment too: the server's settings (deadlines, connections)
        self.servers["floor"] = ServerProcess(
            None,
            env,
            self.workdir / "floor.log",
            port=ports[1],
            command=lambda port: [
                sys.executable,
                str(REPO / "bench" / "floor.py"),
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
        ).start(answers)
        # Same response bytes: a real success and a real failure on gspws (account 0, which the
        # success path leaves out) against the floor's answers to them.
        self.same_bytes = True
        for code, expected in (
            (totp(self.accounts.keys[0], int(time.time() // PERIOD)), b"0"),
            (WRONG_CODE, b"9999"),
        ):
            body = envelope(self.accounts.name(0), code)
            g, f = (post(ports[0], body)[1], post(ports[1], body)[1])
            if g != f or b"<Code>" + expected + b"</Code>" not in g:
                self.same_bytes = False
                log(f"  WARNING: floor and gspws answer differently:\n  {g}\n  {f}")

    def _measure_all(self, store: Store) -> dict:
        args = self.args
        failure = failure_bodies(self.accounts)
        self.measure("floor", "failure", failure, args.duration)
        gspws_failure = self.measure("gspws", "failure", failure, args.duration, store, 9999)
        # Success: the floor reuses bodies freely; gspws needs one valid unused code per request.
        self.measure(
            "floor",
            "success",
            success_bodies(
                self.accounts, min(self.accounts.count - 1, FAILURE_BODIES), args.duration
            ),
            args.duration,
        )
        duration = min(args.duration, SUCCESS_MAX_DURATION)
        # Codes for 3 x the failure path's rate (cheap to compute, and a success is rarely that
        # much faster); the run is shortened only when fewer than 1.5 x that rate exist.
        estimate = max(gspws_failure.rps, 50.0) * 1.5
        senders = wrk_threads(args.connections) if self.loadgen == "wrk" else args.connections
        bodies = success_bodies(
            self.accounts, math.ceil(2 * estimate * duration), duration, senders
        )
        note = ""
        if duration < args.duration:
            note = f"success run capped at {SUCCESS_MAX_DURATION} s (codes change every 30 s)"
        if len(bodies.items) < estimate * duration:
            duration = max(1, math.floor(len(bodies.items) / estimate))
            note = (
                f"success run on gspws shortened to {duration} s: {args.tokens:,} tokens "
                f"give {len(bodies.items):,} distinct valid codes"
            )
            log(f"  {note}")
        bodies.note = "; ".join(x for x in (bodies.note, note) if x)
        profile_dir = None
        if args.profile:
            profile_dir = Path(args.profile)
            profile_dir.mkdir(parents=True, exist_ok=True)
            if not py_spy():
                raise SystemExit("--profile needs py-spy (pip install py-spy)")
        self.measure("gspws", "success", bodies, duration, store, 0, profile_dir)
        if profile_dir:
            files = sorted(profile_dir.glob("pyspy-gspws-success-*.txt"))
            self.profile = top_frames(files)
            self.profile["files"] = [str(f) for f in files]
        result = {"same_response_bytes": self.same_bytes}
        self._measure_otp(store, min(args.duration, OTP_MAX_DURATION))
        if args.slow_clients:
            log(
                f"  slow clients on gspws: {args.slow_clients} trickling connections, "
                f"{args.duration:.0f} s"
            )
            mark = audit_watermark(store)
            measured = slow.run(
                self.servers["gspws"].port,
                failure.items[:1000],
                b"9999",
                args.slow_clients,
                args.duration,
            )
            log(
                f"    p99 {measured.p99_ms:.1f} ms, {measured.lost} of {measured.calls} lost, "
                f"audit {audit_codes(store, mark)}"
            )
            result["slow_clients"] = asdict(measured)
        return result

    def _measure_otp(self, store: Store, duration: float) -> None:
        """MobileOTP.asmx: VerifyOTPCode with seeded codes, one use each, then SendOTPCode, one
        per account (messages stay in the outbox: what the SOAP call costs; the sender's work
        is its own process)."""
        codes = seed_otp(store, store.secrets, self.accounts, valid=duration + 60)
        self.measure(
            "gspws",
            "VerifyOTPCode",
            otp_bodies(self.accounts, codes),
            duration,
            store,
            0,
            call=(OTP_PATH, "VerifyOTPCode"),
        )
        self.measure(
            "gspws",
            "SendOTPCode",
            otp_bodies(self.accounts),
            duration,
            store,
            0,
            call=(OTP_PATH, "SendOTPCode"),
        )


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return ""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
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
SHAPES = (("sqlite", 2, 16), ("postgresql", 2, 16), ("sqlite", 4, 64), ("postgresql", 4, 16))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = [args]
    if args.shapes:
        runs = [
            argparse.Namespace(
                **{
                    **vars(args),
                    "db": db,
                    "workers": workers,
                    "connections": connections,
                    "slow_clients": args.slow_clients if n == 0 else 0,
                }
            )
            for n, (db, workers, connections) in enumerate(SHAPES)
        ]
    summaries = []
    for run in runs:
        summaries.append(Bench(run).run())
        print(report(summaries[-1]), flush=True)
    if args.shapes:
        print(shapes_report(summaries))
    if args.json:
        figures = summaries if args.shapes else summaries[0]
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0 if all(succeeded(summary) for summary in summaries) else 1


def succeeded(summary: dict) -> bool:
    """A run fails when a call was answered wrongly or not at all, or the floor's bytes differ."""
    failed = [
        f"{m['target']} {m['path']}: {m['errors']} errors"
        for m in summary["results"]
        if m["errors"]
    ]
    if not summary.get("same_response_bytes"):
        failed.append("floor and gspws answer with different bytes")
    if summary.get("slow_clients", {}).get("lost"):
        failed.append(f"slow clients: {summary['slow_clients']['lost']} calls lost")
    for reason in failed:
        log(f"FAILED: {reason}")
    return not failed


if __name__ == "__main__":
    sys.exit(main())
