"""One recorded exchange on disk: a directory with the raw request, the raw response and a record.

    DIR/20270115T080010.123456Z-4242-000001/
        request.http     the request as received: request line, headers, body bytes
        response.http    the response as sent: status line, headers, body bytes
        exchange.json    {"format", "time", "client", "soap_version", "operation", "status",
                          "code", "body_truncated"}

Directory names start with the UTC time the request arrived, so name order is arrival order;
the process id and a per-process counter make them unique across worker processes. An exchange is
written into a hidden ``.NAME.tmp`` directory and renamed into place in one step, so a reader sees
a whole exchange or none. Everything is private to the owner (0700/0600): recordings hold live
codes.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gspws.replay.messages import HttpRequest, HttpResponse, parse_request, parse_response

FORMAT = "gspws-exchange/1"
RECORD, REQUEST, RESPONSE = "exchange.json", "request.http", "response.http"


@dataclass(frozen=True)
class Exchange:
    """A request to send again, and the answer it got when it was captured (None: unknown)."""

    name: str
    request: HttpRequest
    expected: HttpResponse | None
    client: str = "127.0.0.1"  # the peer address it came from (REMOTE_ADDR)
    time: float | None = None  # Unix time it arrived, when known
    #: The body is not all the caller declared (it was over the limit): resend its Content-Length.
    body_truncated: bool = False


def exchange_name(at: float, pid: int, number: int) -> str:
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{pid}-{number:06d}"


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def prepare(directory: Path) -> None:
    """Create ``directory`` (private) if needed; raises OSError when it cannot be written."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{directory} is not writable")


def write(
    directory: Path, name: str, request: HttpRequest, response: HttpResponse, record: dict
) -> Path:
    """Write one exchange atomically (see the module documentation); returns its directory."""
    tmp = directory / f".{name}.tmp"
    tmp.mkdir(mode=0o700)
    try:
        for file, data in (
            (REQUEST, request.to_bytes()),
            (RESPONSE, response.to_bytes()),
            (
                RECORD,
                (
                    json.dumps({"format": FORMAT, **record}, indent=2, ensure_ascii=False) + "\n"
                ).encode(),
            ),
        ):
            fd = os.open(tmp / file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        final = directory / name
        os.rename(tmp, final)
    except BaseException:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()
        raise
    return final


def is_recording(path: Path) -> bool:
    return path.is_dir() and (path / RECORD).is_file()


def read(path: Path) -> Exchange:
    record = json.loads((path / RECORD).read_text(encoding="utf-8"))
    if record.get("format") != FORMAT:
        raise ValueError(f"{path / RECORD}: not a {FORMAT} record")
    response = path / RESPONSE
    at = record.get("time")
    return Exchange(
        name=path.name,
        request=parse_request((path / REQUEST).read_bytes()),
        expected=parse_response(response.read_bytes()) if response.exists() else None,
        client=record.get("client") or "127.0.0.1",
        time=datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() if at else None,
        body_truncated=bool(record.get("body_truncated")),
    )
