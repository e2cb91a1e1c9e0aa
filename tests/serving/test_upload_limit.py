"""``gspws serve``'s body limit (gspws.serving.BufferedWsgi): every request body stays within
GSPWS_MAX_REQUEST_BYTES except the console's token import, which may send up to
GSPWS_ADMIN_UPLOAD_BYTES. Driven as an ASGI app, with the body in chunks."""

import asyncio

import pytest

from gspws.admin.imports import IMPORT_PATH
from gspws.serving import BufferedWsgi


def _echo(environ, start_response):
    """A WSGI app answering how many body bytes reached it."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(body)).encode()]


def _send(path: str, size: int, declared: bool) -> bytes:
    app = BufferedWsgi(_echo, 5, 1000, (IMPORT_PATH, 10_000))
    chunks = [b"x" * 500] * (size // 500)
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    headers = [(b"content-length", str(size).encode())] if declared else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))
    return next(m["body"] for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_only_the_import_path_takes_large_bodies(declared):
    assert _send(IMPORT_PATH, 5000, declared) == b"5000"
    # Over the limit: a declared length is not read at all; a chunked body is read one chunk
    # past the limit (the app sees it is too large), never all of it.
    assert _send("/admin/services/add", 5000, declared) == (b"0" if declared else b"1500")
    assert _send(IMPORT_PATH, 20_000, declared) == (b"0" if declared else b"10500")
