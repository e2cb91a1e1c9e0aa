"""Prometheus metrics: what is counted, and how the worker processes of `gspws serve` share it.

Each worker counts in its own process; prometheus_client's multiprocess mode has every worker
write its values to files in ``PROMETHEUS_MULTIPROC_DIR``, and a scrape (answered by any worker)
adds them up. :func:`share_between_processes` makes that directory (private, empty) before the
workers start. Only counters and histograms live there (the locked-token gauge is read from the
store at each scrape), so a worker that ends needs no clean-up: its counts rightly stay. Without it (one process: tests, ``gspws.wsgi:application`` under another server) the
values live in memory.

prometheus_client picks file or memory values when it is first imported, so it is imported here
on first use only, after the directory is set (the CLI imports the app before serving).
"""

import atexit
import functools
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from gspws.core.codes import ReturnCode
from gspws.core.verify import Calling, Observer

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

#: Seconds; most calls take a few milliseconds (README, performance), a sick database up to the
#: database timeout and more.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
OTHER_SERVICE = "other"
"""The ServiceID label of calls naming no registered service: callers choose the ServiceID they
send, and each label value is a series kept for ever."""


def share_between_processes() -> None:
    """Called by the serving process before it starts workers."""
    directory = tempfile.mkdtemp(prefix="gspws-metrics-")
    atexit.register(_remove, directory, os.getpid())
    os.environ[MULTIPROCESS_DIR] = directory


def _remove(directory: str, owner: int) -> None:
    """At the serving process's exit; forked workers inherit the atexit hook and must not."""
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class _Instruments:
    calls: Any
    latency: Any
    database_errors: Any
    rate_limited: Any


_MAKING = threading.Lock()


def _instruments() -> _Instruments:
    """The instruments, made once per process: under a lock, as a worker's threads
    (gspws.serving.app_threads) may count their first calls at once, and making them twice
    would register every metric twice (prometheus_client refuses: the call goes uncounted)."""
    with _MAKING:
        return _made()


@functools.cache
def _made() -> _Instruments:
    from prometheus_client import Counter, Histogram

    return _Instruments(
        calls=Counter(
            "gspws_calls",
            "Calls answered, by ServiceID, operation and return code.",
            ["service_id", "operation", "code"],
        ),
        latency=Histogram(
            "gspws_call_duration_seconds",
            "Time to answer a call, by operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
        ),
        database_errors=Counter("gspws_database_errors", "Errors raised by the database driver."),
        rate_limited=Counter(
            "gspws_rate_limited", "Calls refused by a rate limit, by limit.", ["limit"]
        ),
    )


def call_observer(services: Callable[[], Mapping[str, object]]) -> Observer:
    """Counts every answered call (the core's ``observe`` port). ``services`` gives the services
    as last loaded: it must not ask the store, which may be why the call answered 3000."""

    def observe(caller: Calling, outcome: ReturnCode, seconds: float) -> None:
        try:
            known = caller.service_id if caller.service_id in services() else OTHER_SERVICE
            instruments = _instruments()
            instruments.calls.labels(known, caller.operation, str(outcome.code)).inc()
            instruments.latency.labels(caller.operation).observe(seconds)
        except Exception:  # counting must never cost the caller its answer
            log.exception("metrics: a call was not counted")

    return observe


def rate_limited(limit: str) -> None:
    _instruments().rate_limited.labels(limit).inc()


def watch_database(engine) -> None:
    """Count the driver's errors on ``engine`` (failed connections included)."""
    event.listen(engine, "handle_error", lambda _context: _instruments().database_errors.inc())


def exposition(locked_tokens: Callable[[], int | None]) -> tuple[bytes, str]:
    """The scrape's body and Content-Type: every process's values, plus the locked tokens read
    from the store now (a gauge no process keeps; left out when the store cannot say)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    _instruments()  # a process that has counted nothing yet still shows every metric
    counted = REGISTRY
    if os.environ.get(MULTIPROCESS_DIR):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    now = CollectorRegistry()
    locked = locked_tokens()
    if locked is not None:
        now.register(
            _Read(
                GaugeMetricFamily(
                    "gspws_locked_tokens", "Tokens locked by failed codes.", value=locked
                )
            )
        )
    return generate_latest(counted) + generate_latest(now), CONTENT_TYPE_LATEST


class _Read:
    """A collector of metric families already read."""

    def __init__(self, *families) -> None:
        self._families = families

    def collect(self):
        return self._families
