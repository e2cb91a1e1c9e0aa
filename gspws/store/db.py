"""Engines and sessions, tuned for a server on SQLite or PostgreSQL.

SQLite: WAL, a busy timeout, and every transaction opened with ``BEGIN IMMEDIATE``. A verification
always writes (audit row, failure counter or accepted step), so taking the write lock up front
makes concurrent workers queue on the busy timeout instead of failing with SQLITE_BUSY when a read
transaction tries to upgrade. Writers also queue on a :class:`WriterQueue` first, which lets the
next writer in much sooner after the lock is free than SQLite's busy handler does.

PostgreSQL: a pool per worker with pre-ping, a connect timeout and a statement timeout, so a sick
database turns into a prompt 3000 rather than a hung worker. VerifyTOTPCode, which every login
calls, has a pool of its own (:func:`verification_engine`): autocommit, no pre-ping, statements
prepared on the server at first use; a dead connection is replaced when its first statement
fails (gspws.store.prepared.AutocommitRunner).
"""

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from gspws.config import Settings
from gspws.errors import ConfigError, GspwsError

log = logging.getLogger(__name__)


READ_ONLY = "gspws_read_only"
"""Execution option for transactions that only read: on SQLite they begin without the write lock."""

_WRITER_QUEUE_TIMEOUT = "gspws_writer_queue_timeout"
"""Engine execution option of SQLite engines: how long a writer waits for its turn (seconds)."""


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    return _server_engine(settings, pool_pre_ping=True)


def verification_engine(settings: Settings, engine: Engine) -> Engine:
    """The engine the code checks run on (VerifyTOTPCode, and OTP.asmx's Auth, AuthToken, Sync and
    SyncToken: gspws.compose ``code_checks``): ``engine`` itself, except with psycopg 3 a second
    pool whose connections are in autocommit (a verification is a read, then one statement that
    writes and commits: gspws.store.verification.SETTLE), are not pinged before each use (a round
    trip per call; a connection found dead is replaced instead, see
    gspws.store.prepared.AutocommitRunner), prepare each statement on the server the first time it
    runs (``prepare_threshold=0``; psycopg's default waits for the fifth) and plan it once.

    ``plan_cache_mode=force_generic_plan``: PostgreSQL plans a prepared statement afresh for its
    parameters until a generic plan looks no costlier, and SETTLE's never did (its token lists
    are estimated at 10 ids, a call sends 0 or 1), so every call paid a planning of its four
    CTEs: 3,200 custom plans in 3,200 calls. The generic plan is the same index scans (primary
    key, account name). Measured in-process (``python -m bench.inprocess --db postgresql``, 3,000
    calls on the failure path, eight alternating pairs): PostgreSQL's CPU per call 0.48-0.70 ms
    before, 0.27-0.44 ms after; wall time per call 1.32-2.08 ms before, 0.97-1.62 ms after. Only
    this pool: its few statements are all keyed lookups, while the console's searches may gain
    from plans made for their values."""
    if engine.dialect.driver != "psycopg":
        return engine
    return _server_engine(
        settings,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        connect_args={"prepare_threshold": 0},
        server_settings={"plan_cache_mode": "force_generic_plan"},
    )


def _server_engine(
    settings: Settings,
    pool_pre_ping: bool,
    connect_args: dict[str, Any] | None = None,
    server_settings: dict[str, str] | None = None,
    **options: Any,
) -> Engine:
    """An engine on a database server (PostgreSQL, or what else the URL names); on PostgreSQL
    its sessions also get ``server_settings`` (name: value, the value without spaces or
    backslashes: they go into libpq's ``options`` as ``-c name=value``)."""
    url = make_url(settings.effective_database_url)
    connect_args = dict(connect_args or {})
    if url.get_backend_name() == "postgresql":
        timeout_ms = settings.db_timeout * 1000
        ours: dict[str, object] = {
            "statement_timeout": timeout_ms,
            "lock_timeout": timeout_ms,
            **(server_settings or {}),
        }
        # Keep libpq options given in the URL (e.g. ?options=-csearch_path%3Dgspws) and add ours.
        given = url.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given  # ?options=…&options=…
        url = url.difference_update_query(["options"])
        connect_args |= {
            "connect_timeout": settings.db_timeout,
            "options": " ".join(
                [given, *(f"-c {name}={value}" for name, value in ours.items())]
            ).strip(),
        }
    try:
        return create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_timeout=settings.db_timeout,
            pool_pre_ping=pool_pre_ping,
            pool_recycle=1800,
            connect_args=connect_args,
            hide_parameters=True,
            **options,
        )
    except ModuleNotFoundError as missing:  # the driver is an extra (setup.cfg)
        remedy = "gspws[postgresql]" if url.get_backend_name() == "postgresql" else missing.name
        raise ConfigError(
            f"{url.drivername} needs the {missing.name} module: install {remedy}"
        ) from None


def opened_read_only(error: BaseException) -> bool:
    """SQLite opens an unwritable file read-only without complaint and would keep answering
    "readonly database" from the pool after the file is writable again: such a connection is to
    be dropped, so that the next call opens a fresh one."""
    return "readonly database" in str(error)


def sqlite_begin(read_only: bool) -> str:
    """How a transaction begins on SQLite (the module docstring says why)."""
    return "BEGIN" if read_only else "BEGIN IMMEDIATE"


class DatabaseUnavailable(GspwsError):
    """The store cannot be opened at all (say its SQLite directory cannot be created)."""


def _create_private(database: Path) -> None:
    """Create the database's directory (0700) and file (0600) if missing, whatever the umask:
    they hold e-mail addresses, phone numbers and the audit trail. SQLite gives the ``-wal`` and
    ``-shm`` files it creates the database file's permissions, so they are private too. Existing
    ones keep the permissions their operator gave them."""
    try:
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot create {database.parent}: {exc.strerror}") from None
    try:
        os.close(os.open(database, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    except OSError:
        pass  # an unusable file is reported by SQLite when connecting, as before


def _sqlite_engine(url: URL, settings: Settings) -> Engine:
    if url.database and url.database != ":memory:":
        _create_private(Path(url.database))
    engine = create_engine(
        url,
        connect_args={"timeout": settings.db_timeout},
        hide_parameters=True,
        execution_options={_WRITER_QUEUE_TIMEOUT: settings.db_timeout},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see BEGIN below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={settings.db_timeout * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(sqlite_begin(conn.get_execution_options().get(READ_ONLY, False)))

    @event.listens_for(engine, "handle_error")
    def _discard_read_only(context: ExceptionContext) -> None:
        if opened_read_only(context.original_exception):
            context.is_disconnect = True

    return engine


class WriterQueueTimeout(GspwsError):
    """No turn to write came within the busy timeout (answered like any store failure)."""


class WriterQueue:
    """Makes the writers to one SQLite file take turns through a kernel lock (``flock``).

    SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5, 10 ... ms
    between tries; with two busy workers half the calls collided and slept far longer than the
    0.2 ms the writer held the lock (idle CPU, 33 ms p99). Here a waiter retries after 50 µs,
    doubling up to 1 ms, so it starts soon after the holder finishes, and gives up after the
    same busy timeout SQLite would (a long CLI transaction cannot hold a verification beyond it).

    Every process using the file takes part (the workers and the CLI); each opens the lock file
    itself (a descriptor inherited across ``fork`` would share the lock with the parent), and its
    threads queue on a mutex first (``flock`` does not exclude holders of the same open file).
    Turns do not nest. Writers that do not use the queue still meet SQLite's own locking. When
    the lock file cannot be opened (say an operator created it as root), writers fall back to
    SQLite's locking alone, with a warning.
    """

    FIRST_PAUSE, LONGEST_PAUSE = 0.00005, 0.001

    def __init__(self, path: Path, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> "WriterQueue | None":
        """The queue for an engine made by :func:`make_engine` on a SQLite file, else None."""
        timeout = engine.get_execution_options().get(_WRITER_QUEUE_TIMEOUT)
        if timeout is None or not engine.url.database or engine.url.database == ":memory:":
            return None
        return cls(Path(f"{engine.url.database}-writers.lock"), timeout)

    @contextmanager
    def turn(self) -> Iterator[None]:
        deadline = time.monotonic() + self._timeout
        if not self._mutex.acquire(timeout=self._timeout):
            raise WriterQueueTimeout(f"no turn to write within {self._timeout} s")
        try:
            fd = self._descriptor()
            if fd is None:
                yield
                return
            self._lock(fd, deadline)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._mutex.release()

    def _lock(self, fd: int, deadline: float) -> None:
        pause = self.FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriterQueueTimeout(f"no turn to write within {self._timeout} s") from None
                time.sleep(pause)
                pause = min(pause * 2, self.LONGEST_PAUSE)

    def _descriptor(self) -> int | None:
        if self._pid != os.getpid():
            if self._fd is not None:
                os.close(self._fd)  # inherited from the parent: its lock stays the parent's
            self._pid = os.getpid()
            try:
                # flock needs no write access: whoever created the file, all can read it.
                self._fd = os.open(self._path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                log.warning(
                    "cannot open %s (%s): SQLite writers take turns without it",
                    self._path,
                    error.strerror,
                )
                self._fd = None
        return self._fd


def writer_turns(engine: Engine) -> Callable[[], AbstractContextManager[None]]:
    """What a writing transaction enters first: its :class:`WriterQueue` turn on SQLite."""
    queue = WriterQueue.for_engine(engine)
    return queue.turn if queue else nullcontext
