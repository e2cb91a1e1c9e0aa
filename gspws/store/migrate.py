"""Applying the Alembic migrations (``migrations/``, shipped as ``gspws.migrations``) without an
ini file."""

import functools
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from gspws.store.db import READ_ONLY

# A directory on disk in both a wheel and an editable install (the package is never zipped).
MIGRATIONS = files("gspws.migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate through ``engine`` (the store's, as ``gspws db upgrade`` does) in one transaction.

    On PostgreSQL without the store's statement timeout (GSPWS_DB_TIMEOUT, 2 s): it bounds a
    call, while a migration's DDL may rightly take longer (an index over a large table), and on a
    loaded machine a CREATE TABLE took longer than 2 s. The lock timeout stays: a migration that
    would wait behind running calls gives up instead of queueing every later call behind it."""
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def pending(engine: Engine) -> bool:
    """True when the database is not at the newest revision. Only reads: on SQLite it takes no
    write lock, so the readiness probe never queues behind (or holds up) verifications."""
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        return MigrationContext.configure(connection).get_current_revision() != _head()


@functools.cache
def _head() -> str | None:
    """The newest revision: fixed for the life of the process, read from the scripts once (the
    readiness probe asks on every call)."""
    return ScriptDirectory.from_config(_config()).get_current_head()
