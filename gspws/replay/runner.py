"""Send every exchange again, in recorded order, and judge each answer.

Two targets:

* :class:`InProcess` (``--fixtures``): the app from :func:`gspws.wsgi.create_app` over a
  throw-away store built from the fixtures, with a :class:`~gspws.core.clock.FixedClock` set to
  each exchange's recorded instant (shifted to the fixtures' ``at``), and the recorded client
  address as ``REMOTE_ADDR``; so replay protection, lockout and address checks behave as they did.
* :class:`Live` (``--url``): a running server, over HTTP. It uses its own clock and sees the
  replayer's address: a recorded valid code verifies again only on a store where it was not used
  yet, within the TOTP window around the time it was recorded.

Order matters (a replayed code, a lockout), so exchanges are sent one at a time, in name order.
"""

import http.client
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from werkzeug.test import Client

from gspws.core.clock import FixedClock
from gspws.core.digits import whole_number
from gspws.replay import fixtures as fixtures_file
from gspws.replay.compare import differences
from gspws.replay.messages import HttpResponse
from gspws.replay.recording import Exchange

#: Headers that belong to the original connection, or that the sender computes itself.
_NOT_RESENT = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "upgrade",
    "expect",
    "trailer",
}


class UrlError(ValueError):
    """``--url`` is not an http:// or https:// URL."""


class Target(Protocol):
    def send(self, exchange: Exchange) -> HttpResponse: ...


@dataclass(frozen=True)
class Result:
    exchange: Exchange
    actual: HttpResponse | None
    differences: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL``, ``ERROR`` (not sent) or ``sent`` (nothing to compare with)."""
        if self.error:
            return "ERROR"
        if self.exchange.expected is None:
            return "sent"
        return "FAIL" if self.differences else "pass"


def _resent_headers(exchange: Exchange) -> list[tuple[str, str]]:
    return [(k, v) for k, v in exchange.request.headers if k.lower() not in _NOT_RESENT]


def _declared_length(exchange: Exchange) -> int:
    """The Content-Length to send: a body recorded truncated (its declared length was over the
    limit, so it was not read) declares what it declared when recorded, and is refused from that
    header alone as it was then; any other declares its own length."""
    declared = whole_number(exchange.request.header("Content-Length") or "")
    if exchange.body_truncated and declared is not None:
        return declared
    return len(exchange.request.body)


def replay(exchanges: Iterable[Exchange], target: Target) -> Iterator[Result]:
    for exchange in exchanges:
        started = time.perf_counter()
        try:
            actual = target.send(exchange)
        except (OSError, http.client.HTTPException) as exc:
            yield Result(
                exchange, None, error=f"not sent: {exc}", seconds=time.perf_counter() - started
            )
            continue
        found = differences(exchange.expected, actual) if exchange.expected else []
        yield Result(exchange, actual, tuple(found), seconds=time.perf_counter() - started)


class Live:
    """A running server at ``url``: its scheme, host and port; each request keeps its path."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UrlError(f"{url!r} is not an http:// or https:// URL")
        self._connection = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._netloc = parts.netloc.rpartition("@")[2]
        self._timeout = timeout

    def send(self, exchange: Exchange) -> HttpResponse:
        request = exchange.request
        conn = self._connection(self._netloc, timeout=self._timeout)
        try:
            conn.putrequest(request.method, request.target, skip_accept_encoding=True)
            for name, value in _resent_headers(exchange):
                conn.putheader(name, value)
            if request.body or request.method in ("POST", "PUT"):
                conn.putheader("Content-Length", str(_declared_length(exchange)))
            conn.endheaders(request.body or None)
            answer = conn.getresponse()
            body = answer.read()
            version = "HTTP/1.0" if answer.version == 10 else "HTTP/1.1"
            return HttpResponse(
                tuple(answer.getheaders()), body, answer.status, answer.reason, version
            )
        finally:
            conn.close()


class InProcess:
    """The app over a throw-away store from ``fixtures``, on a frozen clock; a context manager."""

    def __init__(self, fixtures: fixtures_file.Fixtures, exchanges: list[Exchange]) -> None:
        from gspws.wsgi import create_app

        times = [e.time for e in exchanges if e.time is not None]
        start = fixtures.at if fixtures.at is not None else (times[0] if times else None)
        if start is None:
            raise fixtures_file.FixturesError(
                "at: needed, since no capture has a recorded time to replay at"
            )
        self._shift = start - times[0] if times else 0.0
        self.clock = FixedClock(start)
        self._home = tempfile.TemporaryDirectory(prefix="gspws-replay-")
        settings, self._store = fixtures_file.build(fixtures, Path(self._home.name))
        self._client = Client(create_app(settings, clock=self.clock, store=self._store))

    def send(self, exchange: Exchange) -> HttpResponse:
        if exchange.time is not None:
            self.clock.now = exchange.time + self._shift
        request = exchange.request
        answer = self._client.open(
            request.target,
            method=request.method,
            data=request.body,
            headers=_resent_headers(exchange),
            environ_base={"REMOTE_ADDR": exchange.client},
            environ_overrides={"CONTENT_LENGTH": str(_declared_length(exchange))},
        )
        return HttpResponse(
            tuple(answer.headers.items()),
            answer.get_data(),
            answer.status_code,
            answer.status.partition(" ")[2],
        )

    def __enter__(self) -> "InProcess":
        return self

    def __exit__(self, *exc) -> None:
        self._store.engine.dispose()
        self._home.cleanup()
