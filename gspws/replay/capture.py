"""A directory of captures → the exchanges to replay, in order.

A directory may mix:

* gspws recordings: sub-directories holding ``exchange.json`` (see :mod:`.recording`);
* bare XML bodies, ``NAME.xml``: POSTed to ``/gsp2ws/TOTP.asmx`` with the Content-Type of the
  envelope's namespace (``text/xml`` and a SOAPAction for SOAP 1.1, ``application/soap+xml`` for
  SOAP 1.2);
* raw HTTP requests, ``NAME.http`` or ``NAME.txt``: a request line, headers, an empty line and
  the body, e.g. Fiddler's "Save > Request > Entire Request", or a ``curl --trace FILE`` dump
  (which also holds the response; ``--trace-ascii`` is lossy and refused).

A capture without a recorded response is replayed and shown, not judged, unless an expected
answer sits beside it: ``NAME.expected.http`` (a raw HTTP response, e.g. Fiddler's "Save >
Response > Entire Response") or ``NAME.expected.xml`` (a bare body: status 500 if it is a SOAP
Fault, else 200; Content-Type from its envelope namespace). Other files (fixtures, notes) are
ignored. Exchanges are replayed in the order of their names; recordings are named by the time
they arrived.
"""

from pathlib import Path

from gspws.replay import recording, soapxml
from gspws.replay.messages import (
    HttpRequest,
    HttpResponse,
    MessageError,
    from_curl_trace,
    is_curl_trace,
    parse_request,
    parse_response,
)
from gspws.replay.recording import Exchange
from gspws.soap.help import OPERATIONS
from gspws.soap.shape import SOAP11, TNS

REQUEST_SUFFIXES = (".xml", ".http", ".txt")
EXPECTED = ".expected"
DEFAULT_PATH = "/gsp2ws/TOTP.asmx"


class CaptureError(ValueError):
    """A capture cannot be read; the message names the file and says why."""


def load(directory: Path) -> list[Exchange]:
    exchanges = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or EXPECTED in path.suffixes:
            continue
        try:
            if recording.is_recording(path):
                exchanges.append(recording.read(path))
            elif path.is_file() and path.suffix.lower() in REQUEST_SUFFIXES:
                exchanges.append(_foreign(path))
        except (OSError, ValueError) as exc:
            raise CaptureError(f"{path}: {exc}") from None
    return exchanges


def _foreign(path: Path) -> Exchange:
    data = path.read_bytes()
    received = None
    if path.suffix.lower() == ".xml":
        request = _bare_request(data)
    elif is_curl_trace(text := data.decode("latin-1")):
        sent, received = from_curl_trace(text)
        request = parse_request(sent)
    else:
        request = parse_request(data)
    expected = parse_response(received) if received else _expectation(path)
    return Exchange(name=path.name, request=request, expected=expected)


def _bare_request(body: bytes) -> HttpRequest:
    root = soapxml.parse(body)
    version = soapxml.version_of(root)
    if version is None:
        raise MessageError("not a SOAP 1.1 or 1.2 envelope (the Content-Type cannot be inferred)")
    headers = [("Content-Type", version.content_type)]
    if version is SOAP11:
        operation = soapxml.operation(root) or OPERATIONS[0]
        headers.append(("SOAPAction", f'"{TNS}/{operation}"'))
    return HttpRequest(tuple(headers), body, "POST", DEFAULT_PATH)


def _expectation(path: Path) -> HttpResponse | None:
    stem = path.name[: -len(path.suffix)]
    raw, bare = path.with_name(f"{stem}{EXPECTED}.http"), path.with_name(f"{stem}{EXPECTED}.xml")
    if raw.is_file():
        return parse_response(raw.read_bytes())
    if not bare.is_file():
        return None
    body = bare.read_bytes()
    root = soapxml.parse(body)
    version = soapxml.version_of(root)
    if version is None:
        raise MessageError(f"{bare.name} is not a SOAP 1.1 or 1.2 envelope")
    fault = soapxml.fault_code(root) is not None
    return HttpResponse(
        (("Content-Type", version.content_type),),
        body,
        500 if fault else 200,
        "Internal Server Error" if fault else "OK",
    )
