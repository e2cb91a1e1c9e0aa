"""gspws under load, next to a floor, on this machine: ``make bench`` or ``python bench/run.py``.

One run, all on loopback:

1. a fresh store (SQLite in a temporary GSPWS_HOME, or a throw-away PostgreSQL database
   ``gspws_bench_<hex>`` dropped at the end) migrated to head and bulk-seeded with one service
   (APP0000001, 127.0.0.1/32, VerifyTOTPCode) and ``--tokens`` accounts ``user000001``... each with
   one active SHA1/6/30 TOTP token with its own random secret;
2. gspws served as in production: ``gspws --database-url URL serve --workers N`` (gunicorn, sync
   workers), with a fresh GSPWS_SECRET_KEY, GSPWS_LOCKOUT_THRESHOLD set out of reach (so that
   the failure path measures verification rather than locked tokens) and the rate limits set
   out of reach (one ServiceID from one address carries the whole load; the limiter still runs
   on every call); ``--server-env NAME=VALUE`` adds or overrides variables. "First answer" is
   the time from spawning it to its first SOAP answer (a call for an unknown account);
3. the floor (bench/floor.py): the same gunicorn and worker count serving a WSGI app with no
   database that parses the same envelope with lxml and writes the same response bytes (checked
   at start with one success and one failure on both);
4. the same load on both, with wrk (``--loadgen auto`` uses it when on PATH; ``apt-get install
   wrk``; bench/bodies.lua) or a Python load generator (processes x threads, one http.client
   connection each), for the two paths below. gunicorn's sync workers close the connection
   after each response, so every request opens a connection, on both servers alike.

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
per request (gunicorn master and workers, from /proc), how busy the machine was and how much of
it went to neither the server nor the load generator (PostgreSQL, other processes: figures
taken on a busy machine are not comparable), and gspws/floor; then the first-answer time,
resident memory per worker (VmRSS after the load), and the goals. ``--json FILE`` writes all the
figures. ``--profile DIR`` also records each gspws worker with py-spy during its success run
(``pip install py-spy``; ``--profile-idle`` for wall-clock time) and prints the top functions
and packages.

Examples::

    make bench
    make bench BENCH_ARGS="--db postgresql"
    .venv/bin/python bench/run.py --tokens 1000000 --workers 2 --connections 16 --duration 10
    .venv/bin/python bench/run.py --loadgen python --json /tmp/bench.json
    .venv/bin/python bench/run.py --profile /tmp/prof --server-env GSPWS_RATE_LIMIT_SERVICE=

Goals (reported, not asserted), for 2 workers, 16 connections, SQLite: success-path requests/s
at least 0.5 x floor, p99 at most 25 ms, PostgreSQL at least 0.8 x SQLite, requests/s with
1,000,000 tokens within 10 % of 1,000 tokens, resident memory per worker at most 100 MB, first
answer at most 2 s after start. The cross-run goals need two runs (compare their --json files).
"""

import argparse
import base64
import collections
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import re
import resource
import secrets as random_secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gspws.config import Settings  # noqa: E402
from gspws.core.otp import TotpParams  # noqa: E402
from gspws.store import migrate  # noqa: E402
from gspws.store.db import make_engine  # noqa: E402
from gspws.store.models import Account, AuditEvent, Token, TokenStatus, TokenType  # noqa: E402
from gspws.store.repo import Store  # noqa: E402
from gspws.store.secrets import SecretBox  # noqa: E402

SERVICE_ID = "APP0000001"
PATH = "/gsp2ws/TOTP.asmx"
PERIOD = 30
WRONG_CODE = "000000"  # bench/floor.py answers it with the 9999 bytes
# Out of reach, so that the failure path measures verification, not locked tokens, and the
# load (one ServiceID from one address) is not throttled; the rate limiter still runs per call.
LOCKOUT_THRESHOLD = 1_000_000_000
RATE_LIMIT_SERVICE = "1000000000/second"
RATE_LIMIT_ACCOUNT = "1000000000/minute"
HEADERS = {"Content-Type": "text/xml; charset=utf-8",
           "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"'}
SEED_BATCH = 10_000
FAILURE_BODIES = 20_000
SUCCESS_MAX_DURATION = 25  # a code must stay valid for the whole success run (30-s steps)
GOALS = {"ratio": 0.5, "p99_ms": 25.0, "rss_mb": 100.0, "first_answer_s": 2.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- request bodies -----------------------------------------------------------------------------

# As a .NET caller writes a SOAP 1.1 call (the shape of tests/helpers.py's envelope()).
_BODY_HEAD = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
              'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Header>'
              '<ServiceHeader xmlns="http://cp.gov.tw/gsp2">'
              f'<ServiceID>{SERVICE_ID}</ServiceID></ServiceHeader></soap:Header><soap:Body>'
              '<VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2"><account>')


def envelope(account: str, code: str) -> bytes:
    return (f"{_BODY_HEAD}{account}</account><TOTPCode>{code}</TOTPCode></VerifyTOTPCode>"
            "</soap:Body></soap:Envelope>").encode()


def totp(key: bytes, step: int) -> str:
    """RFC 6238 SHA1/6 code of ``step`` (checked against gspws.core.otp at start)."""
    mac = hmac.new(key, step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


class Accounts:
    """The seeded accounts: names and the plaintext secrets (raw keys), index i = account i+1."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.width = max(6, len(str(count)))
        self.keys: list[bytes] = []

    def name(self, index: int) -> str:
        return f"user{index + 1:0{self.width}d}"


@dataclass
class Bodies:
    items: list[bytes]
    uses_per_token: int = 1
    note: str = ""


def success_bodies(accounts: Accounts, needed: int, duration: float) -> Bodies:
    """Distinct valid codes, one use each, valid for ``duration`` seconds from now."""
    k = accounts.count
    uses = min(3, max(1, math.ceil(needed / (k - 1))))
    if uses == 3:
        left = PERIOD - time.time() % PERIOD
        if left < duration + 3:
            log(f"  waiting {left:.1f} s for a fresh 30-s step (3 codes per token)")
            time.sleep(left + 0.05)
    step = int(time.time() // PERIOD)
    steps = {1: [step], 2: [step, step + 1], 3: [step - 1, step, step + 1]}[uses]
    # Account 0 is left out: bench/run.py checks the response bytes with it.
    order = random.sample(range(1, k), min(k - 1, needed) if uses == 1 else k - 1)
    items = [envelope(accounts.name(i), totp(accounts.keys[i], s)) for s in steps for i in order]
    note = f"{uses} code(s) per token (steps {', '.join(f'{s - step:+d}' for s in steps)})"
    return Bodies(items, uses, note)


def failure_bodies(accounts: Accounts) -> Bodies:
    step = int(time.time() // PERIOD)
    items = []
    for i in random.sample(range(accounts.count), min(accounts.count, FAILURE_BODIES)):
        if all(totp(accounts.keys[i], s) != WRONG_CODE for s in range(step - 1, step + 3)):
            items.append(envelope(accounts.name(i), WRONG_CODE))
    return Bodies(items)


# -- the store ----------------------------------------------------------------------------------

def create_pg_database(admin_url: str) -> str:
    name = f"gspws_bench_{random_secrets.token_hex(4)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def seed(store: Store, box: SecretBox, accounts: Accounts) -> float:
    """Bulk insert (Core executemany, SEED_BATCH rows a transaction); returns the seconds taken."""
    with store.unit() as repo:
        repo.add_service(SERVICE_ID, "Benchmark agency", ["127.0.0.1/32"], ["VerifyTOTPCode"])
    accounts_table, tokens_table = Account.__table__, Token.__table__
    now = datetime.now(timezone.utc)
    k = accounts.count
    started = time.perf_counter()
    for first in range(0, k, SEED_BATCH):
        last = min(k, first + SEED_BATCH)
        keys = [os.urandom(20) for _ in range(first, last)]
        accounts.keys.extend(keys)
        account_rows = [{"id": i + 1, "account": accounts.name(i), "created_at": now}
                        for i in range(first, last)]
        token_rows = [{"id": i + 1, "serial": f"TOTP{i + 1:010d}", "account_id": i + 1,
                       "type": TokenType.TOTP, "algorithm": "SHA1", "digits": 6, "period": PERIOD,
                       "secret": box.encrypt(base64.b32encode(key).decode()),
                       "status": TokenStatus.ACTIVE, "failures": 0, "created_at": now}
                      for i, key in zip(range(first, last), keys)]
        with store.engine.begin() as conn:
            conn.execute(insert(accounts_table), account_rows)
            conn.execute(insert(tokens_table), token_rows)
        elapsed = time.perf_counter() - started
        print(f"\r  seeding: {last:,}/{k:,} tokens ({100 * last // k}%) {elapsed:.1f} s  ",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            for table in ("accounts", "tokens"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {k})"))
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does soon after a bulk load
    return time.perf_counter() - started


def audit_watermark(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.max(AuditEvent.id))) or 0


def audit_codes(store: Store, after: int) -> dict[int, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.code, func.count()).where(AuditEvent.id > after)
                            .group_by(AuditEvent.code))
        return {code: count for code, count in rows}


# -- processes ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, body: bytes, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", PATH, body, HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A gunicorn master we spawned; ``first_answer`` is spawn-to-first-SOAP-answer time."""

    def __init__(self, name: str, args: list[str], env: dict, port: int, log_path: Path) -> None:
        self.name, self.port, self.log_path = name, port, log_path
        self._log = open(log_path, "ab")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.first_answer: float | None = None
        self.first_body = b""

    def wait_answer(self, probe: bytes, limit: float = 60.0) -> "Server":
        while time.perf_counter() - self.started < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                status, body = post(self.port, probe, timeout=5)
                if status == 200 and b"<Code>" in body:
                    self.first_answer = time.perf_counter() - self.started
                    self.first_body = body
                    return self
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not answer within {limit:.0f} s "
                           f"(log: {self.log_path})")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


# -- load generators ----------------------------------------------------------------------------

@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int
    replayed: int  # requests sent after their slice of bodies was used up

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_load(port: int, bodies: list[bytes], connections: int, duration: float,
             workdir: Path) -> Load:
    path = workdir / "bodies.txt"
    path.write_bytes(b"\n".join(bodies) + b"\n")
    threads = max(1, min(connections, os.cpu_count() or 1))
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", "10s", "-s", str(REPO / "bench" / "bodies.lua"),
            f"http://127.0.0.1:{port}{PATH}", "--", str(path), str(threads)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 120)
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    r = json.loads(match.group(1))
    return Load(requests=r["requests"], seconds=r["duration_us"] / 1e6,
                p50_ms=r["p50_us"] / 1000, p99_ms=r["p99_us"] / 1000,
                socket_errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
                non_2xx=r["status"], replayed=r["replayed"])


def _py_connection(port: int, bodies: list[bytes], cycle: bool, start_at: float, end_at: float,
                   out: dict) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies, errors, non_2xx, replayed, i = [], 0, 0, 0, 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < end_at:
        if i == len(bodies):
            if not cycle or not bodies:
                break
            i, replayed = 0, replayed + len(bodies)
        body, i = bodies[i], i + 1
        t0 = time.perf_counter()
        try:
            conn.request("POST", PATH, body, HEADERS)
            response = conn.getresponse()
            response.read()
            if not 200 <= response.status < 300:
                non_2xx += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            continue
        latencies.append(time.perf_counter() - t0)
    conn.close()
    out["latencies"] = latencies
    out["errors"], out["non_2xx"], out["replayed"] = errors, non_2xx, replayed
    out["ended"] = time.time()


def _py_process(port, slices, cycle, start_at, end_at):
    outs = [{} for _ in slices]
    threads = [threading.Thread(target=_py_connection, args=(port, s, cycle, start_at, end_at, o))
               for s, o in zip(slices, outs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outs


def python_load(port: int, bodies: list[bytes], connections: int, duration: float,
                cycle: bool) -> Load:
    """Processes (up to the core count x 2) x threads, one keep-alive connection per thread;
    connection j sends bodies j, j+C, j+2C, ...; stops at ``duration`` or, when not ``cycle``,
    when its bodies are used up."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    processes = max(1, min(connections, 2 * (os.cpu_count() or 1)))
    slices = [bodies[j::connections] for j in range(connections)]
    per_process = [slices[p::processes] for p in range(processes)]
    start_at = time.time() + 0.5
    end_at = start_at + duration
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        results = [r for part in pool.map(_py_process, [port] * processes, per_process,
                                          [cycle] * processes, [start_at] * processes,
                                          [end_at] * processes) for r in part]
    latencies = sorted(x for r in results for x in r["latencies"])
    ended = max(r["ended"] for r in results)

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Load(requests=len(latencies), seconds=max(0.001, ended - start_at), p50_ms=pct(0.50),
                p99_ms=pct(0.99), socket_errors=sum(r["errors"] for r in results),
                non_2xx=sum(r["non_2xx"] for r in results),
                replayed=sum(r["replayed"] for r in results))


# -- profiling ----------------------------------------------------------------------------------

def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


_PACKAGES = (("gc.collect (spyne MethodContext.close)", ("MethodContext.close (spyne/context.py",)),
             ("gunicorn", ("gunicorn/",)), ("spyne", ("spyne/",)), ("lxml", ("lxml",)),
             ("SQLAlchemy", ("sqlalchemy/",)), ("DB driver", ("sqlite3", "psycopg")),
             ("cryptography (Fernet)", ("cryptography/",)), ("pyotp / hmac", ("pyotp/", "hmac.py")),
             ("limits (rate limiter)", ("limits/",)), ("logging", ("logging/", "gspws/logs.py")),
             ("gspws", ("gspws/",)))


def _package(frames: list[str]) -> str:
    """The package of the innermost frame that belongs to a known one (the standard library's
    frames count for their caller: threading under limits is the rate limiter's)."""
    for frame in reversed(frames):
        for name, needles in _PACKAGES:
            if any(n in frame for n in needles):
                return name
    return "other"


def top_frames(raw_files: list[Path], n: int = 15) -> dict:
    """From py-spy's raw (collapsed) output, the workers' main threads (other threads, such as
    the limits library's timers, are counted apart in "other_threads", relative to the main
    threads' samples): the share of samples per function (self), per function within the
    request (inclusive, frames below gunicorn's handle_request), and per package."""
    own, inclusive, packages, total, others = (collections.Counter(), collections.Counter(),
                                               collections.Counter(), 0, collections.Counter())
    for path in raw_files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if f]
            count = int(count)
            if not any(f.startswith("SyncWorker.run ") for f in frames):
                # py-spy counts a thread in a timed wait as active: the limits library's timers
                idle = frames[-1].startswith(("Condition.wait ", "Event.wait "))
                others["timed wait (not CPU)" if idle else _package(frames)] += count
                continue
            total += count
            own[frames[-1]] += count
            packages[_package(frames)] += count
            inside = [i for i, f in enumerate(frames) if f.startswith("SyncWorker.handle_request ")]
            for frame in set(frames[inside[0] + 1:] if inside else []):
                inclusive[frame] += count
    share = lambda c, k: [(f, 100 * v / total) for f, v in c.most_common(k)]  # noqa: E731
    return {"samples": total, "self": share(own, n), "inclusive": share(inclusive, n),
            "packages": share(packages, n), "other_threads": share(others, n)}


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
    machine_busy_pct: float            # all CPUs, load generator included
    rest_pct: float                    # of all CPUs, used by neither the server nor the load
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
        self.servers: dict[str, Server] = {}
        self.profile: dict | None = None

    def load(self, port: int, bodies: list[bytes], duration: float, cycle: bool) -> Load:
        if self.loadgen == "wrk":
            return wrk_load(port, bodies, self.args.connections, duration, self.workdir)
        return python_load(port, bodies, self.args.connections, duration, cycle)

    def measure(self, target: str, path: str, bodies: Bodies, duration: float,
                store: Store | None = None, expected: int | None = None,
                profile_dir: Path | None = None) -> Measure:
        server = self.servers[target]
        workers = server.workers()
        mark = audit_watermark(store) if store else 0
        spies = []
        if profile_dir:
            idle = ["--idle"] if self.args.profile_idle else []
            spies = [subprocess.Popen([py_spy(), "record", "-r", "100", *idle,
                                       "-d", str(math.ceil(duration)), "-p", str(pid), "-f", "raw",
                                       "-o", str(profile_dir / f"pyspy-{target}-{path}-{pid}.txt")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for pid in workers]
        cpu_before = cpu_seconds(workers + [server.proc.pid])
        machine_before = machine_cpu()
        log(f"  {path} path on {target}: {len(bodies.items):,} bodies, {duration:.0f} s, "
            f"{self.args.connections} connections ({self.loadgen})")
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = self.load(server.port, bodies.items, duration, cycle=(path == "failure"
                                                                      or target == "floor"))
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        loadgen_cpu = (children_after.ru_utime + children_after.ru_stime
                       - children_before.ru_utime - children_before.ru_stime)
        time.sleep(0.3)  # let calls in flight when the load stopped finish
        cpu = cpu_seconds(workers + [server.proc.pid]) - cpu_before
        machine = [after - before for after, before in zip(machine_cpu(), machine_before)]
        for spy in spies:
            spy.wait(timeout=duration + 60)
        answers = audit_codes(store, mark) if store else {}
        wrong = sum(v for code, v in answers.items() if code != expected) if store else 0
        note = bodies.note
        if target == "gspws" and path == "success" and result.replayed:
            note += f"; codes exhausted: {result.replayed:,} requests were replays"
        m = Measure(target=target, path=path, duration=result.seconds, requests=result.requests,
                    rps=result.rps, p50_ms=result.p50_ms, p99_ms=result.p99_ms,
                    errors=result.socket_errors + result.non_2xx + wrong,
                    socket_errors=result.socket_errors, non_2xx=result.non_2xx,
                    replayed=result.replayed,
                    cpu_ms_per_request=1000 * cpu / result.requests if result.requests else None,
                    machine_busy_pct=100 * machine[0] / machine[1] if machine[1] else 0.0,
                    rest_pct=(100 * (machine[0] / os.sysconf("SC_CLK_TCK") - cpu - loadgen_cpu)
                              / (machine[1] / os.sysconf("SC_CLK_TCK"))) if machine[1] else 0.0,
                    answers=answers, note=note.strip("; "))
        self.results.append(m)
        log(f"    {m.rps:,.0f} req/s, p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, "
            f"errors {m.errors}" + (f", answers {answers}" if store else ""))
        return m

    def run(self) -> dict:
        args = self.args
        summary: dict = {"config": {k: v for k, v in vars(args).items() if k != "json"},
                         "loadgen": self.loadgen, "cpus": os.cpu_count()}
        summary["config"]["pg_url"] = make_url(args.pg_url).render_as_string(hide_password=True)
        summary["gspws_commit"] = _git("rev-parse", "--short", "HEAD") + (
            " (with uncommitted changes)" if _git("status", "--porcelain", "--", "gspws") else "")
        before = machine_cpu()
        time.sleep(1)
        busy, total = [a - b for a, b in zip(machine_cpu(), before)]
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
        settings = Settings.from_env({"GSPWS_HOME": str(home), "GSPWS_SECRET_KEY": key},
                                     database_url=database_url)
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
            summary["rss_mb_per_worker"] = {n: [rss_mb(p) for p in s.workers()]
                                            for n, s in self.servers.items()}
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
        return summary

    def _check_codes(self) -> None:
        """The bench's own TOTP must be gspws's (pyotp) or every success call would fail."""
        secret = base64.b32encode(self.accounts.keys[0]).decode()
        step = int(time.time() // PERIOD)
        if TotpParams(secret).totp().generate_otp(step) != totp(self.accounts.keys[0], step):
            raise SystemExit("bench TOTP differs from gspws.core.otp")

    def _serve(self, database_url: str, home: Path, key: str) -> None:
        args = self.args
        env = {k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")}
        env.update(GSPWS_HOME=str(home), GSPWS_SECRET_KEY=key,
                   GSPWS_LOCKOUT_THRESHOLD=str(LOCKOUT_THRESHOLD),
                   GSPWS_RATE_LIMIT_SERVICE=RATE_LIMIT_SERVICE,
                   GSPWS_RATE_LIMIT_ACCOUNT=RATE_LIMIT_ACCOUNT)
        gspws_env = dict(env, **dict(pair.split("=", 1) for pair in args.server_env))
        ports = ([args.port_base, args.port_base + 1] if args.port_base
                 else [free_port(), free_port()])
        gspws_bin = str(Path(sys.executable).parent / "gspws")
        probe = envelope("bench-probe", "123456")  # no such account: a full call, answered 3001
        log(f"gspws: {args.workers} worker(s) on 127.0.0.1:{ports[0]}")
        self.servers["gspws"] = Server(
            "gspws", [gspws_bin, "--database-url", database_url, "serve", "--host", "127.0.0.1",
                      "--port", str(ports[0]), "--workers", str(args.workers)],
            gspws_env, ports[0], self.workdir / "gspws.log").wait_answer(probe)
        log(f"  first answer {self.servers['gspws'].first_answer:.2f} s after spawn")
        log(f"floor: {args.workers} worker(s) on 127.0.0.1:{ports[1]}")
        self.servers["floor"] = Server(
            "floor", [sys.executable, str(REPO / "bench" / "floor.py"), "--bind",
                      f"127.0.0.1:{ports[1]}", "--workers", str(args.workers)],
            env, ports[1], self.workdir / "floor.log").wait_answer(probe)
        # Same response bytes: a real success and a real failure on gspws (account 0, which the
        # success path leaves out) against the floor's answers to them.
        self.same_bytes = True
        for code, expected in ((totp(self.accounts.keys[0], int(time.time() // PERIOD)), b"0"),
                               (WRONG_CODE, b"9999")):
            body = envelope(self.accounts.name(0), code)
            g, f = post(ports[0], body), post(ports[1], body)
            if g != f or b"<Code>" + expected + b"</Code>" not in g[1]:
                self.same_bytes = False
                log(f"  WARNING: floor and gspws answer differently:\n  {g}\n  {f}")

    def _measure_all(self, store: Store) -> dict:
        args = self.args
        failure = failure_bodies(self.accounts)
        self.measure("floor", "failure", failure, args.duration)
        gspws_failure = self.measure("gspws", "failure", failure, args.duration, store, 9999)
        # Success: the floor reuses bodies freely; gspws needs one valid unused code per request.
        self.measure("floor", "success",
                     success_bodies(self.accounts, min(self.accounts.count - 1, FAILURE_BODIES),
                                    args.duration), args.duration)
        duration = min(args.duration, SUCCESS_MAX_DURATION)
        # Codes for 3 x the failure path's rate (cheap to compute, and a success is rarely that
        # much faster); the run is shortened only when fewer than 1.5 x that rate exist.
        estimate = max(gspws_failure.rps, 50.0) * 1.5
        bodies = success_bodies(self.accounts, math.ceil(2 * estimate * duration), duration)
        note = ""
        if duration < args.duration:
            note = f"success run capped at {SUCCESS_MAX_DURATION} s (codes change every 30 s)"
        if len(bodies.items) < estimate * duration:
            duration = max(1, math.floor(len(bodies.items) / estimate))
            note = (f"success run on gspws shortened to {duration} s: {args.tokens:,} tokens "
                    f"give {len(bodies.items):,} distinct valid codes")
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
        return {"same_response_bytes": self.same_bytes}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except OSError:
        return ""


# -- output -------------------------------------------------------------------------------------

def report(summary: dict) -> str:
    lines = []
    config = summary["config"]
    lines.append(
        f"gspws benchmark: {config['db']}, {config['tokens']:,} tokens, {config['workers']} "
        f"worker(s), {config['connections']} connections, {config['duration']} s per run, "
        f"load by {summary['loadgen']}, {summary['cpus']} CPU(s) shared by the load generator "
        f"and the servers; gspws {summary['gspws_commit'] or '(commit unknown)'}")
    lines.append(f"CPU busy before the run (other processes): "
                 f"{summary['background_busy_pct']:.0f}%; 'cpu ms/req' counts the gunicorn "
                 "processes only (not wrk, not PostgreSQL); 'cpu busy' is the whole machine; "
                 "'rest' is the share of the machine used by neither the server nor the load "
                 "generator (PostgreSQL, other processes)")
    lines.append(f"seeding: {summary['seed_seconds']:.1f} s; GSPWS_LOCKOUT_THRESHOLD="
                 f"{LOCKOUT_THRESHOLD} so the failure path measures verification, not lockout; "
                 f"rate limits {RATE_LIMIT_SERVICE} per service, {RATE_LIMIT_ACCOUNT} per account "
                 "(checked on every call, never reached)")
    if config.get("server_env"):
        lines.append("gspws environment overrides: " + " ".join(config["server_env"]))
    lines.append("floor and gspws answer with the same bytes: "
                 + ("yes" if summary.get("same_response_bytes") else "NO"))
    by = {(m["target"], m["path"]): m for m in summary["results"]}
    titles = {"success": "success path (distinct valid codes, one use each; expected Code 0)",
              "failure": "failure path (wrong code 000000; expected Code 9999)"}
    for path in ("success", "failure"):
        lines.append("")
        lines.append(titles[path])
        lines.append(f"  {'target':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
                     f"{'cpu ms/req':>12}{'cpu busy':>10}{'rest':>6}{'requests':>10}"
                     f"{'seconds':>9}")
        for target in ("floor", "gspws"):
            m = by.get((target, path))
            if not m:
                continue
            cpu = f"{m['cpu_ms_per_request']:.2f}" if m["cpu_ms_per_request"] else "-"
            lines.append(f"  {target:<12}{m['rps']:>10,.0f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}"
                         f"{m['errors']:>8}{cpu:>12}{m['machine_busy_pct']:>9.0f}%"
                         f"{m['rest_pct']:>5.0f}%"
                         f"{m['requests']:>10,}{m['duration']:>9.1f}")
        if (("floor", path) in by) and (("gspws", path) in by) and by[("floor", path)]["rps"]:
            ratio = by[("gspws", path)]["rps"] / by[("floor", path)]["rps"]
            lines.append(f"  gspws/floor {ratio:>10.2f}")
        g = by.get(("gspws", path))
        if g:
            answers = ", ".join(f"{code}: {n:,}" for code, n in sorted(g["answers"].items()))
            lines.append(f"  gspws answers (audit_events): {answers or '-'}")
            if g["note"]:
                lines.append(f"  note: {g['note']}")
    lines.append("")
    for name in ("gspws", "floor"):
        rss = ", ".join(f"{r:.1f}" for r in summary["rss_mb_per_worker"][name] if r is not None)
        lines.append(f"{name}: first answer {summary['first_answer_s'][name]:.2f} s after spawn; "
                     f"RSS per worker after the load: {rss} MB (master "
                     f"{summary['rss_mb_master'][name]:.1f} MB)")
    success_g, success_f = by.get(("gspws", "success")), by.get(("floor", "success"))
    lines.append("")
    lines.append("goals (for 2 workers, 16 connections, SQLite; reported, not asserted):")
    if success_g and success_f and success_f["rps"]:
        ratio = success_g["rps"] / success_f["rps"]
        lines.append(_goal(f"success req/s >= {GOALS['ratio']} x floor", f"{ratio:.2f} x",
                           ratio >= GOALS["ratio"]))
    if success_g:
        lines.append(_goal(f"success p99 <= {GOALS['p99_ms']:.0f} ms",
                           f"{success_g['p99_ms']:.1f} ms", success_g["p99_ms"] <= GOALS["p99_ms"]))
    rss = [r for r in summary["rss_mb_per_worker"]["gspws"] if r is not None]
    if rss:
        lines.append(_goal(f"RSS per worker <= {GOALS['rss_mb']:.0f} MB", f"{max(rss):.1f} MB",
                           max(rss) <= GOALS["rss_mb"]))
    first = summary["first_answer_s"]["gspws"]
    lines.append(_goal(f"first answer <= {GOALS['first_answer_s']:.0f} s", f"{first:.2f} s",
                       first <= GOALS["first_answer_s"]))
    lines.append("  PostgreSQL >= 0.8 x SQLite and 1,000,000 vs 1,000 tokens within 10 %: compare "
                 "the success req/s of two runs (--db, --tokens; --json)")
    if summary.get("profile"):
        p = summary["profile"]
        lines.append("")
        kind = "wall clock, waiting included" if summary["config"].get("profile_idle") else \
            "on CPU"
        lines.append(f"py-spy ({kind}), gspws workers' main threads during the success run "
                     f"({p['samples']:,} samples at 100 Hz; % of samples):")
        for kind in ("packages", "self", "inclusive", "other_threads"):
            lines.append(f"  top {kind}:")
            for frame, share in p[kind]:
                lines.append(f"    {share:5.1f}%  {frame}")
    return "\n".join(lines)


def _goal(what: str, value: str, met: bool) -> str:
    return f"  [{'met' if met else 'MISSED'}] {what}: {value}"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server (with --db postgresql) where a throw-away "
                             "database gspws_bench_<hex> is created and dropped")
    parser.add_argument("--tokens", type=int, default=10_000,
                        help="accounts, one active TOTP token each (1,000 to 1,000,000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10,
                        help=f"seconds per measurement (success path at most "
                             f"{SUCCESS_MAX_DURATION})")
    parser.add_argument("--port-base", type=int, default=0,
                        help="gspws on this port, the floor on the next (0: free ports)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when on PATH, else the Python load generator")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--profile", metavar="DIR",
                        help="record the gspws workers with py-spy during the success run")
    parser.add_argument("--profile-idle", action="store_true",
                        help="with --profile: sample waiting threads too (wall-clock profile: "
                             "lock waits, I/O)")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment variable for gspws (repeatable), e.g. "
                             "GSPWS_DB_POOL_SIZE=10; applied after the bench's own")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (store, logs, bodies)")
    args = parser.parse_args(argv)
    if not 1_000 <= args.tokens <= 1_000_000:
        parser.error("--tokens must be between 1,000 and 1,000,000")
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be between 1 and 64")
    if any("=" not in pair for pair in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    if args.connections < 1 or args.duration < 1:
        parser.error("--connections and --duration must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = Bench(args).run()
    print(report(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
