"""Engines and sessions, tuned for a server on SQLite or PostgreSQL.

SQLite: WAL, a busy timeout, and every transaction opened with ``BEGIN IMMEDIATE``. A verification
always writes (audit row, failure counter or accepted step), so taking the write lock up front
makes concurrent workers queue on the busy timeout instead of failing with SQLITE_BUSY when a read
transaction tries to upgrade. Writers of one process tree also queue on a :class:`WriterQueue`
first, which wakes the next writer when the lock is free instead of letting SQLite's busy
handler poll.

PostgreSQL: a pool per worker with pre-ping, a connect timeout and a statement timeout, so a sick
database turns into a prompt 3000 rather than a hung worker.
"""

import fcntl
import os
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, ContextManager, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from gspws.config import Settings


READ_ONLY = "gspws_read_only"
"""Execution option for transactions that only read: on SQLite they begin without the write lock."""


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    connect_args = {}
    if url.get_backend_name() == "postgresql":
        timeout_ms = settings.db_timeout * 1000
        # Keep libpq options given in the URL (e.g. ?options=-csearch_path%3Dgspws) and add ours.
        given = url.query.get("options", "")
        url = url.difference_update_query(["options"])
        connect_args = {"connect_timeout": settings.db_timeout,
                        "options": f"{given} -c statement_timeout={timeout_ms} "
                                   f"-c lock_timeout={timeout_ms}".strip()}
    return create_engine(url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size,
                         pool_timeout=settings.db_timeout, pool_pre_ping=True,
                         pool_recycle=1800, connect_args=connect_args, hide_parameters=True)


def sqlite_begin(read_only: bool) -> str:
    """How a transaction begins on SQLite (the module docstring says why)."""
    return "BEGIN" if read_only else "BEGIN IMMEDIATE"


def _sqlite_engine(url, settings: Settings) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": settings.db_timeout}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see BEGIN below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={settings.db_timeout * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(sqlite_begin(conn.get_execution_options().get(READ_ONLY, False)))

    @event.listens_for(engine, "handle_error")
    def _discard_read_only(context):
        # SQLite opens an unwritable file read-only without complaint and would keep answering
        # "readonly database" from the pool after the file is writable again; drop such
        # connections so the next call opens a fresh one.
        if "readonly database" in str(context.original_exception):
            context.is_disconnect = True

    return engine


class WriterQueue:
    """Makes the writers to one SQLite file take turns through a kernel lock (``flock``).

    SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5, 10 ... ms
    between tries; with two busy workers half the calls collided and slept far longer than the
    0.2 ms the writer held the lock (idle CPU, 33 ms p99). ``flock`` hands the lock over as soon
    as it is released. Threads of one process queue on a mutex first (``flock`` does not exclude
    holders of the same open file), and each process opens the lock file itself (a descriptor
    inherited across ``fork`` would share the lock with the parent).

    A waiter blocks until its turn: a holder runs one transaction whose statements give up
    after the busy timeout (writers outside the queue, e.g. another tool, still use SQLite's
    own locking), so each turn is bounded, and a worker that dies releases the lock with it.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> "WriterQueue | None":
        """The queue for an engine on a SQLite file; None for other databases."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return cls(Path(f"{database}-writers.lock"))

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._mutex:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int:
        if self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def writer_turns(engine: Engine) -> Callable[[], ContextManager[None]]:
    """What a writing transaction enters first: its :class:`WriterQueue` turn on SQLite."""
    queue = WriterQueue.for_engine(engine)
    return queue.turn if queue else nullcontext
