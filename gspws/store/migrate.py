"""Applying the Alembic migrations in ``migrations/`` without an ini file."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _config() -> Config:
    if not (MIGRATIONS / "env.py").exists():
        raise RuntimeError(f"migrations not found at {MIGRATIONS}; run gspws from its checkout")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def pending(engine: Engine) -> bool:
    """True when the database is not at the newest revision."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() != head
