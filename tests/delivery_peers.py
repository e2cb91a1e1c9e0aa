"""Loopback peers of the delivery tests: an HTTP server speaking Mitake's ``SmSend`` (or a
webhook receiver), scripted answer by answer, and an SMTP inbox for aiosmtpd."""

import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from helpers import free_port

HANG = "hang"  # a scripted answer: read the request, then never answer


class Peer:
    """An HTTP peer: each request is recorded, then answered with the next scripted answer
    (``(status, body)`` or HANG; the last one repeats)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list = [(200, "")]
        self.released = threading.Event()
        self.arrived = threading.Condition()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with peer.arrived:
                    peer.requests.append(
                        {
                            "path": self.path,
                            "query": _single(parse_qs(urlsplit(self.path).query)),
                            "headers": dict(self.headers),
                            "body": body,
                        }
                    )
                    answer = peer.script[min(len(peer.requests), len(peer.script)) - 1]
                    peer.arrived.notify_all()
                if answer == HANG:
                    peer.released.wait(120)
                    return
                status, text = answer
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/mtk/SmSend"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def form(self, index: int = -1) -> dict:
        return _single(parse_qs(self.requests[index]["body"].decode("utf-8")))

    def wait_for(self, count: int, timeout: float = 60) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def _single(values: dict) -> dict:
    return {key: value[0] for key, value in values.items()}


class Inbox:
    """An aiosmtpd handler keeping what arrives."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"
