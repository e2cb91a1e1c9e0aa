"""Database faults against the real server: ``gspws serve --workers 2`` (gunicorn) as a process.

The contract: when the database is unreachable or fails mid-request, the caller gets Code 3000 (a
normal 200 CP2Response, no stack trace) within a bounded time, no worker dies, and service resumes
by itself when the database is back. The explicit bound of the hardening issue here is 5 s per
call (``GSPWS_DB_TIMEOUT`` is left at its default, 2 s: pool wait, connect, statement and lock
timeouts).

PostgreSQL: each test runs a private cluster (``initdb``/``pg_ctl`` from
``/usr/lib/postgresql/15/bin``, run as the ``postgres`` OS user) on a spare loopback port with its
socket directory in its own temporary directory, and always stops and removes it. SQLite: the
store file is made really unwritable with ``chattr +i`` (root ignores file modes).

Rate limits are switched off in the server (``GSPWS_RATE_LIMIT_*=""``): these tests call one
account more often than the default per-account limit allows. Codes come from the real clock (the
production server has no other); where a valid code must be unused, the test clears the token's
last accepted step in the store first.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text, update

from gspws.config import Settings
from gspws.core.otp import TotpParams
from gspws.store import migrate
from gspws.store.models import Token, TokenStatus
from gspws.wsgi import build_store

from helpers import (
    ACCOUNT,
    SECRET,
    ServerProcess,
    assert_no_internals,
    code_at,
    envelope,
    free_port,
    gspws_env,
    outcome,
    seed_demo,
    soap_result,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CALL_BOUND = 5.0  # seconds: the explicit bound for a call while the store is sick
RECOVERY_ATTEMPTS = 100  # x 0.1 s between attempts
UNKNOWN = "nobody-here"  # an unknown account: 3001 needs a working store, and changes no token


# -- the server and calls ----------------------------------------------------------------------


def server_env(home, secret_key: str) -> dict:
    return gspws_env(home, secret_key, GSPWS_RATE_LIMIT_SERVICE="", GSPWS_RATE_LIMIT_ACCOUNT="")


def timed_call(url: str, account: str = UNKNOWN, code: str = "000000") -> tuple[int, float]:
    """One VerifyTOTPCode call: its Code (the answer must be a normal 200 CP2Response without
    internals) and how long it took."""
    started = time.monotonic()
    response = requests.post(
        url,
        data=envelope(account, code),
        timeout=30,
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content[:2000]
    assert_no_internals(response.content)
    found, message = soap_result(response.content)
    assert (found, message) == outcome(found)
    return found, elapsed


def valid_call(url: str, store) -> int:
    """A call with wederlin's current code, made unused first (the server runs on real time)."""
    with store.unit() as repo:
        repo.session.execute(
            update(Token).values(last_step=None, failures=0, status=TokenStatus.ACTIVE)
        )
    return timed_call(url, ACCOUNT, code_at(TotpParams(SECRET), time.time()))[0]


def assert_3000_promptly(url: str, calls: int) -> list[float]:
    """``calls`` calls (unknown account and wederlin's valid code in turn) all answer 3000, each
    within CALL_BOUND; returns how long each took (shown with ``pytest -s``)."""
    took = []
    for n in range(calls):
        account, code = (
            (ACCOUNT, code_at(TotpParams(SECRET), time.time())) if n % 2 else (UNKNOWN, "000000")
        )
        found, elapsed = timed_call(url, account, code)
        assert found == 3000, f"call {n}: Code {found}"
        assert elapsed < CALL_BOUND, f"call {n} took {elapsed:.2f} s"
        took.append(round(elapsed, 2))
    print(f"3000 answers took {took} s")
    return took


def wait_until_served(url: str) -> int:
    """Bounded retries until a call is answered from the store again (3001 for UNKNOWN)."""
    found = None
    for _ in range(RECOVERY_ATTEMPTS):
        found, elapsed = timed_call(url)
        assert elapsed < CALL_BOUND
        if found != 3000:
            return found
        time.sleep(0.1)
    raise AssertionError(f"still {found} after {RECOVERY_ATTEMPTS} attempts")


def assert_every_worker_serves(url: str, calls: int = 12) -> None:
    """Once one call is served again, so is every later one, whichever worker takes it (the
    kernel spreads calls over both workers; a worker still stuck shows up as 3000)."""
    answers = [timed_call(url)[0] for _ in range(calls)]
    assert answers == [3001] * calls, f"after recovery: {answers}"


def workers_of(master_pid: int, expected: int = 2) -> set[int]:
    """The gunicorn master's worker PIDs (its children, from /proc), once ``expected`` are up."""
    children: set[int] = set()
    for _ in range(100):
        children = set()
        for task in Path(f"/proc/{master_pid}/task").iterdir():
            children |= {int(pid) for pid in (task / "children").read_text().split()}
        if len(children) == expected:
            return children
        time.sleep(0.1)
    raise AssertionError(f"{len(children)} workers, expected {expected}")


# -- a private PostgreSQL cluster --------------------------------------------------------------


class Cluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<spare port>, owned by the postgres user."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gspws-pgfault-"))  # /tmp: postgres can enter
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
            cwd=self.dir,
        )

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            f"-c full_page_writes=off"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "pg.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )

    def running(self) -> bool:
        return (
            self.data.exists()
            and self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status", check=False
            ).returncode
            == 0
        )

    def url(self, database: str = "gspws") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        try:
            if self.running():
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _cluster_tools_missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (initdb/pg_ctl run as the postgres user through runuser)"
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"no PostgreSQL 15 server binaries in {PG_BIN}"
    if shutil.which("runuser") is None:
        return "no runuser"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres OS user"
    return None


@pytest.fixture
def cluster():
    missing = _cluster_tools_missing()
    if missing:
        pytest.skip(f"private PostgreSQL cluster: {missing}")
    pg = Cluster()
    try:
        pg.init()
        pg.start()
        admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE gspws"))
        admin.dispose()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def pg_server(cluster, tmp_path):
    """Migrated, seeded store on the private cluster, and ``gspws serve --workers 2`` on it."""
    key = Fernet.generate_key().decode()
    settings = Settings.from_env(
        {"GSPWS_SECRET_KEY": key}, home=tmp_path, database_url=cluster.url()
    )
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed_demo(store)
    server = ServerProcess(
        cluster.url(), server_env(tmp_path, key), tmp_path / "server.log", workers=2
    ).start()
    try:
        yield server, store
    finally:
        status = server.stop()
        store.engine.dispose()
    assert status == 0, (tmp_path / "server.log").read_text(errors="replace")[-3000:]


def superuser(cluster):
    return create_engine(cluster.url(), isolation_level="AUTOCOMMIT")


# -- PostgreSQL --------------------------------------------------------------------------------


def test_postgres_down_answers_3000_promptly_and_service_resumes(cluster, pg_server):
    server, store = pg_server
    assert valid_call(server.url, store) == 0
    workers = workers_of(server.proc.pid)

    store.engine.dispose()
    cluster.stop("immediate")
    # Refused: nothing listens on the port any more.
    assert_3000_promptly(server.url, calls=6)

    # Unreachable: something accepts TCP connections on the port but never answers (a hung or
    # black-holed database host), so only the connect timeout ends each attempt.
    with socket.socket() as black_hole:
        black_hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        black_hole.bind(("127.0.0.1", cluster.port))
        black_hole.listen(64)
        assert_3000_promptly(server.url, calls=2)

    assert workers_of(server.proc.pid) == workers, "a worker died"
    cluster.start()
    assert wait_until_served(server.url) == 3001
    assert_every_worker_serves(server.url)
    assert valid_call(server.url, store) == 0
    assert workers_of(server.proc.pid) == workers, "a worker died"


def test_postgres_connections_killed_between_calls_are_replaced(cluster, pg_server):
    """The pool pre-pings on checkout: a connection the database dropped (pg_terminate_backend
    of every gspws connection) is replaced before use, so no call sees the failure."""
    server, store = pg_server
    for _ in range(4):
        assert timed_call(server.url)[0] == 3001
    admin = superuser(cluster)
    try:
        for _round in range(3):
            with admin.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = 'gspws' AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            assert killed >= 1
            for _ in range(4):
                assert timed_call(server.url)[0] == 3001
        assert valid_call(server.url, store) == 0
    finally:
        admin.dispose()


def test_postgres_failing_mid_request_answers_3000(cluster, pg_server):
    """The database fails inside a verification: (1) the audit insert waits on a lock another
    session holds, so PostgreSQL's lock_timeout (GSPWS_DB_TIMEOUT) cancels it; (2) the
    connection serving a call is terminated while the call waits on that lock. Each call answers
    3000 within the bound, no worker dies, and the next call after the lock is gone succeeds."""
    server, store = pg_server
    assert valid_call(server.url, store) == 0
    workers = workers_of(server.proc.pid)
    admin = create_engine(cluster.url())
    try:
        with admin.connect() as locker:
            locker.execute(text("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE"))
            assert_3000_promptly(server.url, calls=2)

            answers = []
            call = threading.Thread(target=lambda: answers.append(timed_call(server.url)))
            call.start()
            killed = 0
            with superuser(cluster).connect() as killer:
                for _ in range(100):
                    killed = killer.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = 'gspws' AND wait_event_type = 'Lock' "
                            "AND pid <> pg_backend_pid()"
                        )
                    ).scalar()
                    if killed:
                        break
                    time.sleep(0.02)
            call.join(30)
            assert not call.is_alive()
            assert killed == 1, "no gspws connection was seen waiting on the lock"
            ((found, elapsed),) = answers
            assert found == 3000 and elapsed < CALL_BOUND, (found, elapsed)
            locker.rollback()
        assert timed_call(server.url)[0] == 3001
        assert valid_call(server.url, store) == 0
    finally:
        admin.dispose()
    assert workers_of(server.proc.pid) == workers, "a worker died"


# -- SQLite ------------------------------------------------------------------------------------


def _chattr(flag: str, paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["chattr", flag, *map(str, paths)], capture_output=True, text=True, timeout=30
    )


def test_sqlite_unwritable_answers_3000_and_service_resumes(tmp_path):
    """The store file (and its WAL and directory) made immutable under a running server: every
    verification answers 3000 within the bound (each writes at least its audit row), no worker
    dies, and once the file is writable again the service resumes by itself.

    ``chattr +i`` is used because root ignores file modes. The ``-shm`` file is left alone: it is
    memory-mapped by every connection, and a write through a mapping of an immutable file is a
    SIGBUS that no program survives - that is a fault of the machine, not of the store."""
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("needs root and chattr to make a file unwritable for root")
    home = tmp_path / "store"
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{home / 'gspws.db'}"
    settings = Settings.from_env({"GSPWS_SECRET_KEY": key}, home=home, database_url=url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed_demo(store)
    locked: list[Path] = []
    with ServerProcess(
        url, server_env(tmp_path, key), tmp_path / "server.log", workers=2
    ) as server:
        try:
            assert valid_call(server.url, store) == 0
            workers = workers_of(server.proc.pid)
            store.engine.dispose()
            locked = [
                p
                for p in (home / "gspws.db", home / "gspws.db-wal", home / "gspws.db-journal", home)
                if p.exists()
            ]
            done = _chattr("+i", locked)
            if done.returncode != 0:
                _chattr("-i", locked)
                locked = []
                pytest.skip(f"chattr +i does not work here: {done.stderr.strip()}")

            assert_3000_promptly(server.url, calls=6)
            assert workers_of(server.proc.pid) == workers, "a worker died"

            assert _chattr("-i", locked).returncode == 0
            locked = []
            assert wait_until_served(server.url) == 3001
            assert_every_worker_serves(server.url)
            assert valid_call(server.url, store) == 0
            assert workers_of(server.proc.pid) == workers, "a worker died"
        finally:
            if locked:
                _chattr("-i", locked)
            store.engine.dispose()
