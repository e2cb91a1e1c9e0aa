"""gspws under load, next to a floor: ``make bench`` or ``python bench/run.py`` (what a run does,
its options and its figures: ``--help``, in bench/options.py)."""

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
    OCRA_PATH,
    OTP_PATH,
    PATH,
    PERIOD,
    WRONG_CODE,
    Accounts,
    Bodies,
    envelope,
    failure_bodies,
    log,
    ocra_bodies,
    otp_bodies,
    success_bodies,
    totp,
)
from bench.load import ACTION, Load, post, python_load, wrk_load, wrk_threads  # noqa: E402
from bench.options import OTP_MAX_DURATION, SUCCESS_MAX_DURATION, parse_args  # noqa: E402
from bench.processes import (  # noqa: E402
    REPO,
    SERVER_ENV,
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
    seed_ocra,
    seed_otp,
)
from gspws.config import Settings  # noqa: E402
from gspws.core.otp import TotpParams  # noqa: E402
from gspws.store import migrate  # noqa: E402
from gspws.store.db import make_engine  # noqa: E402
from gspws.store.repo import Store  # noqa: E402
from gspws.store.secrets import SecretBox  # noqa: E402

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
        self.otp_profiles: dict[str, dict] = {}

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
        summary["otp_profiles"] = self.otp_profiles
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
        if not args.verify_only:
            self._measure_otp(store, min(args.duration, OTP_MAX_DURATION), profile_dir)
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

    def _measure_otp(self, store: Store, duration: float, profile_dir: Path | None) -> None:
        """MobileOTP.asmx: VerifyOTPCode with seeded codes, one use each, then SendOTPCode, one
        per account (messages stay in the outbox: what the SOAP call costs; the sender's work
        is its own process). With ``profile_dir``, each is recorded as the success run is."""
        codes = seed_otp(store, store.secrets, self.accounts, valid=duration + 60)
        for operation, bodies in (
            ("VerifyOTPCode", otp_bodies(self.accounts, codes)),
            ("SendOTPCode", otp_bodies(self.accounts)),
        ):
            call = (OTP_PATH, operation)
            self.measure("gspws", operation, bodies, duration, store, 0, profile_dir, call)
            if profile_dir:
                files = sorted(profile_dir.glob(f"pyspy-gspws-{operation}-*.txt"))
                self.otp_profiles[operation] = top_frames(files)
        # OTP.asmx VerifyResponse (OCRA): a seeded challenge per token, each answered once
        calls = seed_ocra(store, store.secrets, self.accounts, valid=duration + 60)
        ocra_call = (OCRA_PATH, "VerifyResponse")
        self.measure(
            "gspws",
            "VerifyResponse",
            ocra_bodies(calls),
            duration,
            store,
            0,
            profile_dir,
            ocra_call,
        )


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return ""


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
