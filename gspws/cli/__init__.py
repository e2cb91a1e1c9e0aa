"""``gspws``: the operator's command line. Thin: parses, validates, calls the store, prints.

Every listing takes ``--json``. Bad input is a one-line message on stderr and exit status 2
(click's usage errors) or 1 (an object that does not exist or already exists).
"""

# Importing the command modules registers their commands on ``main``.
from gspws.cli import (  # noqa: F401
    accounts,
    admin,
    audit,
    db,
    distribute,
    keys,
    outbox,
    services,
    serving,
    tokens,
)
from gspws.cli.base import main

__all__ = ["main"]
