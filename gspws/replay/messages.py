"""HTTP requests and responses as bytes: the text an HTTP/1.1 connection carries.

One format for recordings and foreign captures alike: a start line, header lines, an empty line,
the body. It is what Fiddler saves ("Save > Request > Entire Request"), what a person can read and
edit, and what curl's ``--trace`` dump holds once its hex columns are read back
(:func:`from_curl_trace`). Reading is lenient where editors and tools differ: LF or CRLF line
ends, a final newline beyond ``Content-Length``, a hand-edited body whose ``Content-Length`` was
not updated, chunked bodies, absolute-form request targets (``POST http://host/path HTTP/1.1``,
as a proxy like Fiddler sees them).
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from werkzeug.http import parse_options_header

from gspws.core.digits import whole_number

Headers = tuple[tuple[str, str], ...]


class MessageError(ValueError):
    """The bytes are not an HTTP message of the expected kind; the text says why, for a person."""


@dataclass(frozen=True)
class _Message:
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def mimetype(self) -> str:
        return parse_options_header(self.header("Content-Type") or "")[0].lower()

    @property
    def charset(self) -> str | None:
        return parse_options_header(self.header("Content-Type") or "")[1].get("charset")


@dataclass(frozen=True)
class HttpRequest(_Message):
    method: str = "POST"
    target: str = "/"  # origin form: path and query, as the caller sent them
    version: str = "HTTP/1.1"

    def to_bytes(self) -> bytes:
        return _serialise(f"{self.method} {self.target} {self.version}", self.headers, self.body)


@dataclass(frozen=True)
class HttpResponse(_Message):
    status: int = 200
    reason: str = "OK"
    version: str = "HTTP/1.1"

    def to_bytes(self) -> bytes:
        return _serialise(f"{self.version} {self.status} {self.reason}", self.headers, self.body)


def _serialise(start: str, headers: Headers, body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"{start}\r\n{head}\r\n".encode("latin-1") + body


_REQUEST_LINE = re.compile(r"([A-Z]+) +(\S+) +(HTTP/\d(?:\.\d)?)$")
_STATUS_LINE = re.compile(r"(HTTP/\d(?:\.\d)?) +(\d{3})(?: +(.*))?$")


def parse_request(data: bytes) -> HttpRequest:
    start, headers, body = _split(data)
    match = _REQUEST_LINE.match(start)
    if not match:
        raise MessageError(f"not an HTTP request line: {start[:80]!r}")
    method, target, version = match.groups()
    if "://" in target:  # absolute form, as a proxy (Fiddler) records it
        parts = urlsplit(target)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return HttpRequest(headers, _body(headers, body), method, target, version)


def parse_response(data: bytes) -> HttpResponse:
    """The final response in ``data`` (interim ``100 Continue`` responses are skipped)."""
    while True:
        start, headers, body = _split(data)
        match = _STATUS_LINE.match(start)
        if not match:
            raise MessageError(f"not an HTTP status line: {start[:80]!r}")
        version, status, reason = match.groups()
        if not 100 <= int(status) < 200 or not body:
            return HttpResponse(headers, _body(headers, body), int(status), reason or "", version)
        data = body


def _split(data: bytes) -> tuple[str, Headers, bytes]:
    data = data.lstrip(b"\r\n")
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
    if ends:
        at, width = min(ends)
        head, body = data[:at], data[at + width :]
    else:
        head, body = data, b""
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers.pop()
            headers.append((name, f"{value} {line.strip()}"))
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        elif line.strip():
            raise MessageError(f"not an HTTP header line: {line[:80]!r}")
    return lines[0].strip(), tuple(headers), body


def _body(headers: Headers, body: bytes) -> bytes:
    fields = {name.lower(): value for name, value in headers}
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return _dechunk(body)
    length = whole_number(fields.get("content-length", ""))
    if length is not None and not body[length:].strip():
        return body[:length]  # without the final newline an editor may have added
    return body  # the file is the truth: a hand-edited body need not match Content-Length


def _dechunk(data: bytes) -> bytes:
    out, rest = bytearray(), data
    while rest:
        size_line, sep, rest = rest.partition(b"\n")
        try:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            raise MessageError("malformed chunked body") from None
        if size == 0 or not sep:
            break
        out += rest[:size]
        rest = rest[size:].lstrip(b"\r\n")
    return bytes(out)


_TRACE_BLOCK = re.compile(r"^(=>|<=) (Send|Recv) (header|data), \d+ bytes", re.M)
_DUMP_LINE = re.compile(r"[0-9a-f]{4,}: ")
_HEX_COLUMNS = 16 * 3  # curl --trace prints 16 bytes a line as "xx " before the ASCII column


def is_curl_trace(text: str) -> bool:
    return text.startswith("== Info:") or _TRACE_BLOCK.search(text[:4096]) is not None


def from_curl_trace(text: str) -> tuple[bytes, bytes]:
    """The bytes sent and received in a ``curl --trace FILE`` dump (hex columns, lossless).

    ``--trace-ascii`` dumps are refused: they print every byte outside printable ASCII (Chinese
    text, bare LF) as ``.``, so the request cannot be rebuilt from them.
    """
    sent, received = bytearray(), bytearray()
    blocks = list(_TRACE_BLOCK.finditer(text))
    for block, following in zip(blocks, [*blocks[1:], None], strict=True):
        chunk = text[block.end() : following.start() if following else len(text)]
        for line in chunk.splitlines()[1:]:
            prefix = _DUMP_LINE.match(line)
            if not prefix:
                continue
            try:
                data = bytes.fromhex(line[prefix.end() : prefix.end() + _HEX_COLUMNS])
            except ValueError:
                raise MessageError(
                    "this is a curl --trace-ascii dump, which replaces "
                    "non-ASCII bytes with '.'; capture with curl --trace FILE "
                    "instead"
                ) from None
            (sent if block.group(2) == "Send" else received).extend(data)
    if not sent:
        raise MessageError("the curl trace holds no request (no '=> Send header' block)")
    return bytes(sent), bytes(received)
