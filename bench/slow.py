"""The slow-client scenario: ``tricklers`` connections send a request one byte a second (half
of them stuck in the headers, half in a body whose headers were sent whole; each reconnects
when the server cuts it, as an attacker would) while one client makes VerifyTOTPCode calls, one
every ``interval`` seconds on a kept-alive connection. A call is lost when it gets no 200 with
the expected Code within ``CALL_TIMEOUT``.
"""

import http.client
import socket
import threading
import time
from dataclasses import dataclass

from bench.bodies import PATH
from bench.load import headers

CALL_TIMEOUT = 5.0
_HEAD = (
    b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: text/xml; charset=utf-8\r\n"
)


@dataclass
class SlowClients:
    tricklers: int
    calls: int
    lost: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cuts: int  # trickling connections the server closed (each was opened again)
    seconds: float


class _Trickle:
    """All the trickling connections, fed by one thread: a byte each per second."""

    def __init__(self, port: int, count: int, body: bytes) -> None:
        self.port = port
        body_head = _HEAD + b"Content-Length: %d\r\n\r\n" % (len(body) + 10_000)
        # (request, bytes sent at once): half stuck in the headers, half in the body
        self.requests = [
            (_HEAD + b"X-Slow: " + b"a" * 10_000, 0)
            if i % 2 == 0
            else (body_head + body, len(body_head))
            for i in range(count)
        ]
        self.sockets: list = [None] * count
        self.sent = [0] * count
        self.cuts = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self, i: int) -> None:
        request, at_once = self.requests[i]
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=CALL_TIMEOUT)
        sock.sendall(request[:at_once])
        sock.setblocking(False)
        self.sockets[i], self.sent[i] = sock, at_once

    def _run(self) -> None:
        while not self.stopped.wait(1):
            for i, sock in enumerate(self.sockets):
                try:
                    sock.send(self.requests[i][0][self.sent[i] : self.sent[i] + 1])
                    self.sent[i] += 1
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass  # nothing to read: still open
                except OSError:
                    self.cuts += 1
                    sock.close()
                    self._connect(i)

    def start(self) -> None:
        for i in range(len(self.requests)):
            self._connect(i)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def run(
    port: int,
    bodies: list[bytes],
    expected: bytes,
    tricklers: int,
    duration: float,
    interval: float = 0.02,
) -> SlowClients:
    """Calls with ``bodies`` (cycled) while ``tricklers`` connections trickle; ``expected`` is
    the ``<Code>`` a call must get back."""
    trickle = _Trickle(port, tricklers, bodies[0])
    trickle.start()
    time.sleep(1.5)  # every trickling connection has started its request
    latencies, lost, conn = [], 0, None
    started = time.perf_counter()
    try:
        i = 0
        while time.perf_counter() - started < duration:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=CALL_TIMEOUT)
            t0 = time.perf_counter()
            try:
                conn.request("POST", PATH, bodies[i % len(bodies)], headers())
                response = conn.getresponse()
                answer = response.read()
                if response.status != 200 or b"<Code>" + expected + b"</Code>" not in answer:
                    lost += 1
                else:
                    latencies.append(time.perf_counter() - t0)
            except (OSError, http.client.HTTPException):
                lost += 1
                conn.close()
                conn = None
            i += 1
            time.sleep(max(0.0, interval - (time.perf_counter() - t0)))
    finally:
        seconds = time.perf_counter() - started
        trickle.stop()
        if conn:
            conn.close()
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0
        )

    return SlowClients(
        tricklers=tricklers,
        calls=len(latencies) + lost,
        lost=lost,
        p50_ms=pct(0.5),
        p99_ms=pct(0.99),
        max_ms=pct(1.0),
        cuts=trickle.cuts,
        seconds=seconds,
    )
