"""Imports that outlive their request: the work runs in a thread of the worker that received
the file, and its progress is a small JSON file that every worker can read.

Why a thread and a file, not a job row in the database:

* The upload (seeds in the clear, and the PSKC key or password) is in the receiving worker;
  running the import there keeps them in that one process, never written anywhere but the
  0600 temporary file the readers need (removed once read).
* The import is one transaction (a file is accepted whole or refused whole). On SQLite that
  transaction holds the database's one write lock until it commits, so a job row could not be
  updated from another connection while it runs: "N of M" could never be seen. A file in
  ``$GSPWS_HOME/imports`` (0700; each status 0600, replaced atomically) can, on SQLite and on
  PostgreSQL alike.
* ``gspws serve --workers N`` forks N processes from one master on one host, sharing
  ``GSPWS_HOME``: the status page answers from any of them. (Several hosts behind a balancer
  would each have their own directory: serve the console from one host, or keep its clients
  sticky.) A worker that stops mid-import (restart, crash) leaves a status naming a process
  that no longer runs: the page says the import was interrupted (its transaction, and the
  audit row written in it, were committed whole or not at all).

A status holds counts and at most :data:`SAMPLE` serials, never a seed, key or password.
"""

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Serials already present that a status lists (the count is whole).
SAMPLE = 20
#: Statuses older than this many seconds are removed when a new import starts.
KEEP = 7 * 24 * 3600
#: Job ids: ``secrets.token_urlsafe(18)``.
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

READING, STORING, DONE, REFUSED, INTERRUPTED = (
    "reading",
    "storing",
    "done",
    "refused",
    "interrupted",
)
RUNNING = (READING, STORING)


@dataclass
class Status:
    """Where an import is: ``done`` of ``total`` records stored (or skipped as present)."""

    admin: str
    dry_run: bool
    started: float
    pid: int = field(default_factory=os.getpid)
    state: str = READING
    done: int = 0
    total: int = 0
    imported: int = 0
    present: int = 0
    present_sample: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state in RUNNING


class Job:
    """One import's status, written to its file as it changes."""

    def __init__(self, path: Path, status: Status) -> None:
        self.path = path
        self.status = status
        self._lock = threading.Lock()
        self.save()

    def advance(self, n: int) -> None:
        """gspws.store.pool.import_tokens's ``progress`` hook (the CLI's bar uses the same)."""
        with self._lock:
            self.status.done += n
        self.save()

    def update(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self.status, name, value)
        self.save()

    def save(self) -> None:
        with self._lock:
            data = json.dumps(asdict(self.status)).encode()
        temporary = self.path.with_suffix(f".{threading.get_ident()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, self.path)


class ImportJobs:
    """The statuses of imports, in ``directory`` (created 0700 on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def start(self, admin: str, dry_run: bool, now: float, work: Callable[[Job], None]) -> str:
        """Run ``work(job)`` in a thread of this process; the job's id, for :meth:`status`.
        ``work`` sets the final state; an exception it lets out ends the job ``refused``."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._forget_old()
        job_id = secrets.token_urlsafe(18)
        job = Job(self._path(job_id), Status(admin, dry_run, now))

        def run() -> None:
            try:
                work(job)
            except Exception as exc:  # (the page must not wait for ever)
                log.exception("the console's token import failed")
                job.update(state=REFUSED, error=type(exc).__name__)

        threading.Thread(target=run, name=f"gspws-import-{job_id[:6]}", daemon=True).start()
        return job_id

    def status(self, job_id: str) -> Status | None:
        """The job's status; None for an unknown id. A running job whose process is gone
        (this host's) is reported interrupted."""
        if not job_id or not set(job_id) <= _ID_CHARS or len(job_id) > 64:
            return None
        try:
            status = Status(**json.loads(self._path(job_id).read_bytes()))
        except (OSError, ValueError, TypeError):
            return None
        if status.running and not _alive(status.pid):
            status.state = INTERRUPTED
        return status

    def _path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.json"

    def _forget_old(self) -> None:
        """(Housekeeping by the file system's clock, not a decision: no injected clock.)"""
        for path in self.directory.glob("*.json"):
            try:
                if path.stat().st_mtime < time.time() - KEEP:
                    path.unlink()
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (someone else's process: not ours, so ours is gone)
        return False
    return True
