"""Alembic environment: the database URL comes from gspws settings, never from an ini file."""

from alembic import context

from gspws.config import Settings
from gspws.store.db import make_engine
from gspws.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # gspws db upgrade hands us its connection
        _run(connection)
        return
    engine = make_engine(Settings.from_env())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `gspws db upgrade`")
run_migrations_online()
