"""The ``cli`` fixture of the CLI tests that run ``gspws`` in-process (test_cli.Cli)."""

import pytest
from test_cli import Cli


@pytest.fixture
def cli(database_url, tmp_path, store) -> Cli:
    """The CLI on conftest's ``store``: migrated once per test process and emptied (a fresh
    migration cost ~0.5 s of DDL per PostgreSQL test), so ``db upgrade`` finds it at the newest
    revision."""
    cli = Cli(database_url, tmp_path)
    cli.ok("db", "upgrade")
    return cli
