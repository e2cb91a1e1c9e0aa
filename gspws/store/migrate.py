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
    config = _config()
    with engine.begin() as connection:
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
