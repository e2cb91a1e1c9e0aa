"""Engines and sessions, tuned for a server on SQLite or PostgreSQL.

SQLite: WAL, a busy timeout, and every transaction opened with ``BEGIN IMMEDIATE``. A verification
always writes (audit row, failure counter or accepted step), so taking the write lock up front
makes concurrent workers queue on the busy timeout instead of failing with SQLITE_BUSY when a read
transaction tries to upgrade.

PostgreSQL: a pool per worker with pre-ping, a connect timeout and a statement timeout, so a sick
database turns into a prompt 3000 rather than a hung worker.
"""

from pathlib import Path

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
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "handle_error")
    def _discard_read_only(context):
        # SQLite opens an unwritable file read-only without complaint and would keep answering
        # "readonly database" from the pool after the file is writable again; drop such
        # connections so the next call opens a fresh one.
        if "readonly database" in str(context.original_exception):
            context.is_disconnect = True

    return engine
