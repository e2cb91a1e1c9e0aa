"""``gspws serve``: granian in front, each request read whole before a worker runs the app.

Why this design (issue 17; measured on this 2-core machine, 2 workers, wrk with 16 connections
on the benchmark's floor app unless said, other helpers' jobs running, so ±20 %):

* gunicorn sync workers read requests themselves: 2 connections trickling a byte a second held
  both workers (no other caller answered). gthread waits for the first byte only, then reads in
  its thread. gunicorn's asyncio ``asgi`` worker reads asynchronously but has no header
  deadline (a header trickle was never cut) and ran at 1,750 req/s (p99 107 ms).
* granian (Rust, hyper) cuts a header trickle at ``http1_header_read_timeout``, but its WSGI
  interface streams the body to the app: a stalled body held the worker's thread.
* granian's ASGI interface + :class:`BufferedWsgi` (body gathered on the event loop under a
  deadline): both trickles cut, other callers answered at once. Running the WSGI app through
  asgiref's ``WsgiToAsgi`` (a thread, and three thread hops per request) cost 0.68 ms of server
  CPU per floor request against 0.25 ms for gunicorn sync, and gspws fell from 882 to 693
  req/s (``make bench``, success path); a2wsgi was no better (p99 48 ms, and the server did
  not stop on SIGTERM). Calling the app on the event loop itself, with asgiref's environ and
  ``start_response``: 0.14 ms per floor request (9,500 req/s), gspws 0.90 ms per call.

On SQLite the app runs on the worker's event loop, one request at a time per worker process, as
under sync workers; granian's Rust threads keep accepting and reading other connections
meanwhile, under the deadlines. On PostgreSQL SOAP calls run in a small thread pool per worker
(``GSPWS_THREADS``, :func:`app_threads`): a call spends most of its time waiting for the durable
commit (the WAL's ``fdatasync``, ~2.2 ms alone on this disk), and with one call at a time per
worker at most ``workers`` commits were ever in flight, so PostgreSQL's group commit had nothing
to group (2 workers: ~480 req/s against SQLite's ~730). With 4 threads a worker answered 1.5–2.1
times the successful calls of one thread in every interleaved pair (docs/performance.md).
"""

import asyncio
import io
import logging
import signal
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from asgiref.wsgi import WsgiToAsgiInstance
from sqlalchemy.engine import make_url

from gspws import metrics
from gspws.config import Settings
from gspws.errors import GspwsError
from gspws.logs import configure_logging

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

_TIMEOUT = "408 Request Timeout: the request body did not arrive in time."
_INCOMPLETE = "400 Bad Request: the request body ended before its Content-Length."


class _BodyEnded(Exception):
    """The client ended the request (half-closed) before the whole body arrived."""


class BufferedWsgi:
    """ASGI app: gathers the whole body (at most ``max_body`` + 1 bytes, within ``body_timeout``
    seconds) on the event loop, then hands the request to the WSGI app.

    A body that misses the deadline gets 408, one the client ends early 400, and the connection
    is closed; the app never sees them. A ``Content-Length`` above ``max_body`` is not read at
    all: the app answers it (413) from the header alone."""

    def __init__(
        self,
        app: WsgiApp,
        body_timeout: float,
        max_body: int,
        uploads: tuple[str, int] = ("", 0),
        threads: int = 1,
        concurrent: Callable[[dict], bool] = lambda scope: False,
    ) -> None:
        """``uploads``: (path, limit): requests to that path (the console's token import) may
        send bodies up to ``limit`` bytes instead of ``max_body``. With ``threads`` > 1, the
        requests ``concurrent(scope)`` picks run in a pool of that many threads, the others on
        the event loop, one at a time, as with one thread."""
        self._app = app
        self._body_timeout = body_timeout
        self._max_body = max_body
        self._uploads = uploads
        self._concurrent = concurrent
        self._pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="gspws-app") if threads > 1 else None
        )

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        try:
            async with asyncio.timeout(self._body_timeout):
                body = await self._body(scope, receive)
        except TimeoutError:
            return await _refuse(send, _TIMEOUT)
        except _BodyEnded:
            return await _refuse(send, _INCOMPLETE)
        # asgiref's environ and start_response; the app is called on the event loop, or with
        # one hop to a thread of the pool (asgiref's sync_to_async took 0.5 ms more a request).
        bridge = WsgiToAsgiInstance(self._app)
        bridge.scope = scope
        if self._pool is not None and self._concurrent(scope):
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._pool, self._answer, bridge, scope, body)
        else:
            answer = self._answer(bridge, scope, body)
        await send(bridge.response_start)
        await send({"type": "http.response.body", "body": answer})

    def _answer(self, bridge: WsgiToAsgiInstance, scope: dict, body: bytes) -> bytes:
        """The app's whole answer; its status and headers are left in ``bridge``."""
        result = self._app(bridge.build_environ(scope, io.BytesIO(body)), bridge.start_response)
        try:
            return b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()

    async def _body(self, scope: dict, receive: Callable) -> bytes:
        path, limit = self._uploads
        max_body = limit if path and scope.get("path") == path else self._max_body
        declared = _content_length(scope)
        if declared is not None and declared > max_body:
            return b""
        chunks, size = [], 0
        while size <= max_body:
            message = await receive()
            if message["type"] != "http.request":
                raise _BodyEnded
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body"):
                break
        return b"".join(chunks)


async def _refuse(send: Callable, answer: str) -> None:
    """A plain-text error answer before the app ran; the connection is closed after it."""
    status, _, text = answer.partition(" ")
    body = f"{text}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": int(status),
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: dict) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _worker_app(load: Callable[[], WsgiApp], settings: Settings) -> BufferedWsgi:
    # Runs in each worker process after the fork: its own app, engine and connection pool.
    # Until granian installs the worker's handlers, the master's (inherited) would swallow a
    # SIGTERM sent meanwhile, and the worker would never stop: stop at once instead.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    configure_logging(settings.log_level, settings.log_format)
    from gspws.admin.imports import IMPORT_PATH

    return BufferedWsgi(
        load(),
        settings.body_timeout,
        settings.max_request_bytes,
        (IMPORT_PATH, settings.admin_upload_bytes),
        app_threads(settings),
        soap_call,
    )


#: GSPWS_THREADS=0 on PostgreSQL (or another database server). On a busy machine 2 threads gave
#: most of 4's gain over 1 (1.5-2.1x); on an idle one, where the 2 cores are the limit, 1, 2 and
#: 4 answered alike (351-400 req/s) but 4 tripled the success path's p99 (224-255 against
#: 70-89 ms; more calls queued behind the GIL) and 2 did not (75 ms): docs/performance.md.
SERVER_DATABASE_THREADS = 2


def app_threads(settings: Settings) -> int:
    """Threads per worker answering SOAP calls: ``GSPWS_THREADS``, or when 0, 1 on SQLite (a
    write takes the database's one lock, so calls of one worker could not overlap anyway, and
    the hop to a thread cost the floor 0.25 ms of CPU a request on a busy machine) and
    :data:`SERVER_DATABASE_THREADS` on a database server, but no more than the connections its
    pool may open (``GSPWS_DB_POOL_SIZE`` plus as many overflow; Settings refuses a larger
    ``GSPWS_THREADS``)."""
    if settings.threads:
        return settings.threads
    sqlite = make_url(settings.effective_database_url).get_backend_name() == "sqlite"
    return 1 if sqlite else min(SERVER_DATABASE_THREADS, 2 * settings.db_pool_size)


def soap_call(scope: dict) -> bool:
    """Whether a request may run beside others in the worker's threads: a SOAP call (a POST to
    an asmx path), whether the fast path or spyne answers it. spyne keeps a call's state in its
    method context; what it shares (its memoised class attributes) is filled the same by
    whichever thread comes first. The store's engines and pools, the service registry, the rate
    limiter and the metrics are shared under their own locks; tests/serving/test_threads.py
    hammers one worker from many clients. Everything else (console, pages, probes, WSDL) stays
    on the event loop, one such request at a time, as before."""
    from gspws.soap.app import is_asmx

    return scope.get("method") == "POST" and is_asmx(scope.get("path", ""))


def serve(
    load: Callable[[], WsgiApp], settings: Settings, host: str, port: int, workers: int
) -> None:
    """Serve the WSGI app that ``load()`` builds (called once in each worker process) until
    stopped. The one server set-up of gspws and of the benchmark's floor (bench/floor.py)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    refuse_taken_port(host, port)
    Server(
        "gspws",  # granian's label for the target; the app comes from target_loader
        address=host,
        port=port,
        interface=Interfaces.ASGINL,
        workers=workers,
        # A connection costs a slot, not a worker; slots are what the client ties up.
        backpressure=max(1, settings.max_connections // workers),
        http1_settings=HTTP1Settings(header_read_timeout=round(settings.header_timeout * 1000)),
        log_level=LogLevels(settings.log_level.lower()),
        workers_kill_timeout=10,  # seconds a stopping worker gets to finish its requests
        log_access=False,  # the audit table records every call; no query strings or bodies in logs
        # X-Forwarded-* are judged by gspws alone (GSPWS_TRUSTED_PROXIES): granian passes the
        # socket peer as the client and rewrites nothing unless its proxy-headers wrapper is used.
    ).serve(target_loader=partial(_worker_app, load, settings), wrap_loader=False)


class PortInUse(GspwsError):
    """Something already listens on the address ``gspws serve`` was asked to use."""


def refuse_taken_port(host: str, port: int) -> None:
    """granian listens with SO_REUSEPORT, so a second server on a port already served starts
    without complaint and the kernel splits the connections between the two (seen: a test's calls
    answered by another test's server). Binding the address once without that option first turns
    a taken port into an error. SO_REUSEADDR lets a restart reuse a port whose old connections
    are still in TIME_WAIT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _gspws_app(settings: Settings, record: Path | None, record_secrets: bool = False) -> WsgiApp:
    from gspws.wsgi import create_app

    app = create_app(settings)
    if record is None:
        return app
    from gspws.replay.recorder import Recorder

    return Recorder(app, record, settings.max_request_bytes, keep_secrets=record_secrets)


def run(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    record: Path | None = None,
    record_secrets: bool = False,
) -> None:
    """Serve gspws; with ``record``, every SOAP exchange is written there for replay."""
    configure_logging(settings.log_level, settings.log_format)
    import gspws.wsgi  # noqa: F401  before the fork: workers start with spyne and lxml loaded

    if record is not None:
        from gspws.replay.recorder import warning

        log.warning(warning(record, record_secrets))
    metrics.share_between_processes()
    from gspws.delivery.beside import sender_beside

    with sender_beside(settings):
        serve(partial(_gspws_app, settings, record, record_secrets), settings, host, port, workers)
