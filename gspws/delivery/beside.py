"""The sender ``gspws serve`` runs beside its workers (``GSPWS_DELIVERY_SENDER=serve``).

A child process (``gspws deliver``), not a thread of granian's master: the master forks workers,
and a fork while a sender thread holds a lock (logging, the connection pool) would hand the
worker a lock nobody releases. One per ``gspws serve``, so one per node whatever ``--workers``
says. It stops with the server, and by itself if the server is killed (it watches its parent).
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gspws.config import Settings

_DELIVER = "from gspws.cli import main; main()"


@contextmanager
def sender_beside(settings: Settings) -> Iterator[subprocess.Popen[bytes] | None]:
    if settings.delivery_sender != "serve":
        yield None
        return
    # The store's URL goes by the environment: a command line is visible to every local user.
    env = dict(os.environ, GSPWS_DATABASE_URL=settings.effective_database_url)
    child = subprocess.Popen(
        [sys.executable, "-c", _DELIVER, "deliver", "--parent", str(os.getpid())], env=env
    )
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
