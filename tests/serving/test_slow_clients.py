"""Slow and stalled clients against the real ``gspws serve`` (issue 17 item 1).

A client that trickles its request, or promises a body it never sends, must cost a connection
slot, not a worker: other callers are answered meanwhile, and the header and body deadlines
(``GSPWS_HEADER_TIMEOUT``, ``GSPWS_BODY_TIMEOUT``) cut it. The client timeouts below are
functional bounds (an answer or a cut, far inside the 30 s a stuck worker took), not figures;
bench/slow.py measures latency under 200 trickling connections.
"""

import socket
import subprocess
import threading
import time

import pytest
import requests

from helpers import GSPWS, ServerProcess, envelope, gspws_env, run_gspws, seed_demo, soap_result

WORKERS = 2
TRICKLERS = 2 * WORKERS + 2
HEAD = (
    b"POST /gsp2ws/TOTP.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: text/xml; charset=utf-8\r\n"
)
CLIENT_TIMEOUT = 10  # seconds; a stuck gunicorn sync worker held such a connection for 30


@pytest.fixture
def server(store, settings, database_url, tmp_path, request):
    deadlines = getattr(request, "param", {})
    env = gspws_env(
        tmp_path,
        settings.secret_key,
        GSPWS_REGISTRY_REFRESH="0",
        GSPWS_RATE_LIMIT_SERVICE="",
        GSPWS_RATE_LIMIT_ACCOUNT="",
        **deadlines,
    )
    demo = seed_demo(store)
    with ServerProcess(database_url, env, tmp_path / "server.log", workers=WORKERS) as proc:
        proc.demo = demo
        yield proc


class Trickler(threading.Thread):
    """Sends ``request`` one byte a second on its own connection until stopped or cut."""

    def __init__(self, port: int, request: bytes) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
        self.request = request
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            for byte in self.request:
                self.sock.sendall(bytes([byte]))
                if self.stopped.wait(1):
                    return
        except OSError:
            pass

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        self.sock.close()


def verify_now(server) -> tuple[int, str]:
    """A legitimate VerifyTOTPCode call with the current code, answered within 5 s."""
    body = envelope(server.demo.account, server.demo.code(time.time()))
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
    }
    response = requests.post(server.url, data=body, headers=headers, timeout=5)
    return response.status_code, response.content


def answer_or_cut(sock: socket.socket) -> bytes:
    """What the server sends before closing (b"" when it just closes); raises on timeout."""
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_trickling_clients_do_not_keep_others_waiting(server):
    half = TRICKLERS // 2
    body = envelope("someone", "123456")
    trickling = [Trickler(server.port, HEAD + b"X-Slow: " + b"a" * 100) for _ in range(half)]
    trickling += [
        Trickler(server.port, HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        for _ in range(TRICKLERS - half)
    ]
    for trickler in trickling:
        trickler.start()
    try:
        status, answer = verify_now(server)
        assert status == 200
        assert soap_result(answer)[0] == 0
    finally:
        for trickler in trickling:
            trickler.stop()


@pytest.mark.parametrize("server", [{"GSPWS_BODY_TIMEOUT": "1"}], indirect=True)
def test_a_body_shorter_than_its_content_length_is_cut_at_the_body_deadline(server):
    stalled = []
    for _ in range(TRICKLERS):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT)
        sock.sendall(HEAD + b"Content-Length: 1000\r\n\r\n<?xml")
        stalled.append(sock)
    try:
        status, answer = verify_now(server)  # no worker is held by the stalled bodies
        assert status == 200 and soap_result(answer)[0] == 0
        for sock in stalled:
            cut = answer_or_cut(sock)
            assert cut == b"" or cut.startswith(b"HTTP/1.1 408 "), cut[:200]
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("server", [{"GSPWS_HEADER_TIMEOUT": "1"}], indirect=True)
def test_a_header_trickle_is_cut_at_the_header_deadline(server):
    trickler = Trickler(server.port, HEAD + b"X-Slow: " + b"a" * 100)
    trickler.start()
    try:
        assert answer_or_cut(trickler.sock) == b""
        status, answer = verify_now(server)
        assert status == 200 and soap_result(answer)[0] == 0
    finally:
        trickler.stop()


def test_an_oversized_content_length_is_refused_before_the_body_arrives(server):
    """413 from Content-Length alone, on a connection whose body never comes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(HEAD + b"Content-Length: 1000000000000\r\n\r\n<?xml")
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")


def test_kept_alive_connection_serves_several_calls(server):
    with requests.Session() as session:
        for _ in range(3):
            response = session.post(
                server.url,
                data=envelope("nobody", "123456"),
                headers={
                    "Content-Type": "text/xml; charset=utf-8",
                    "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
                },
                timeout=5,
            )
            assert soap_result(response.content)[0] == 3001
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_a_second_server_on_a_taken_port_refuses_to_start(server, database_url, settings, tmp_path):
    """granian listens with SO_REUSEPORT: without gspws's own check a second server would start
    and take half of the first one's connections."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the port check does not depend on the database")
    env = gspws_env(tmp_path, settings.secret_key)
    second = run_gspws(
        [
            GSPWS,
            "--database-url",
            database_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--workers",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{server.port}: Address already in use"
    ]
    answer = requests.post(
        server.url,
        data=envelope("nobody", "000000"),
        timeout=CLIENT_TIMEOUT,
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert soap_result(answer.content)[0] == 3001  # the first server still serves
