"""``/metrics`` for Prometheus and ``/healthz`` / ``/readyz`` for load balancers.

``/healthz`` says the process answers; ``/readyz`` that this node can serve calls: the database
answers (within GSPWS_DB_TIMEOUT), its schema is at the newest revision, and the key file is
readable. ``/metrics`` answers only callers in GSPWS_METRICS_ALLOW (the caller as
GSPWS_TRUSTED_PROXIES establishes it): its counts by ServiceID are nobody else's business.
"""

import logging
from collections.abc import Callable, Iterable

from gspws import metrics
from gspws.config import Settings
from gspws.proxies import origin_of
from gspws.store import migrate
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox

log = logging.getLogger(__name__)

PATHS = ("/metrics", "/healthz", "/readyz")
_TEXT = "text/plain; charset=utf-8"


class Probes:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store

    @staticmethod
    def handles(path: str) -> bool:
        return path in PATHS

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _answer(start_response, "200 OK", b"ok\n")
        if path == "/readyz":
            problem = self._unready()
            if problem:
                return _answer(
                    start_response, "503 Service Unavailable", f"not ready: {problem}\n".encode()
                )
            return _answer(start_response, "200 OK", b"ready\n")
        client = origin_of(environ).address
        if client is None or not any(client in net for net in self._settings.metrics_allow):
            return _answer(start_response, "403 Forbidden", b"forbidden\n")
        body, content_type = metrics.exposition(self._locked_tokens)
        return _answer(start_response, "200 OK", body, content_type)

    def _unready(self) -> str | None:
        """What keeps this node from serving, or None."""
        try:
            if migrate.pending(self._store.engine):
                return "the database schema is not current (gspws db upgrade)"
        except Exception as exc:
            log.warning("readiness: database unreachable: %s", type(exc).__name__)
            return "database unreachable"
        try:
            SecretBox.from_settings(self._settings, create=False)
        except Exception as exc:
            log.warning("readiness: key unreadable: %s", type(exc).__name__)
            return "key unreadable"
        return None

    def _locked_tokens(self) -> int | None:
        """None while the database does not answer: the other metrics still matter then."""
        try:
            with self._store.reading() as repo:
                return repo.locked_tokens()
        except Exception as exc:
            log.warning("metrics: locked tokens unknown: %s", type(exc).__name__)
            return None


def _answer(
    start_response: Callable, status: str, body: bytes, content_type: str = _TEXT
) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
