"""``gspws serve --record DIR``: a WSGI middleware writing each SOAP call to DIR for replay.

It records POSTs to the asmx endpoints' paths (TOTP.asmx, MobileOTP.asmx: SOAP calls), nothing
else: the WSDL and help pages are not exchanges a caller's logic depends on (and embed the server's
own address), and the citizens' web pages are not SOAP. The caller receives exactly what the app
answers; a recording that cannot be written is logged, never turned into an error.

The body is read here once and handed to the app from memory, bounded like the app bounds it
(``GSPWS_MAX_REQUEST_BYTES``). A body whose Content-Length is over the limit is not read at all,
as the app refuses it with 413 from that header alone (reading it would wait for bytes a client
need never send); without a Content-Length, at most the limit plus one byte is read. Either is
marked ``"body_truncated": true`` and keeps its Content-Length; replayed, it is still over the
limit and still refused.

Answers that hand out credentials (a new token's otpauth URI and QR image, a binding link, the
code SendOTPCode answers) are recorded with those values replaced by
:data:`gspws.replay.redact.MARKER`, and so is the code of a VerifyOTPCode that was not accepted
(it may still be live), unless the operator asked to keep them (``--record-secrets``); the
caller always receives them unchanged.
"""

import io
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

from gspws.replay import recording, redact, soapxml
from gspws.replay.messages import HttpRequest, HttpResponse
from gspws.soap.app import CONTENT_TYPES, is_asmx

log = logging.getLogger(__name__)

WARNING = (
    "Recording every SOAP exchange to {directory}. Recordings contain live TOTP codes, "
    "account names and ServiceIDs{kept}: keep the directory private and delete it after "
    "use."
)
REDACTED = " (binding secrets, otpauth URIs, QR images and binding links are redacted)"
SECRETS_KEPT = (
    ", and (--record-secrets) new tokens' secrets, otpauth URIs, QR images and "
    "working binding links"
)


def warning(directory: Path, keep_secrets: bool) -> str:
    return WARNING.format(directory=directory, kept=SECRETS_KEPT if keep_secrets else REDACTED)


#: Header names as callers write them (WSGI keeps only an upper-case form).
_SPELLING = {"Soapaction": "SOAPAction", "X-Request-Id": "X-Request-ID"}


class Recorder:
    def __init__(
        self, app: Callable, directory: Path, max_request_bytes: int, keep_secrets: bool = False
    ) -> None:
        self.app = app
        self._directory = Path(directory)
        self._max_bytes = max_request_bytes
        self._keep_secrets = keep_secrets
        self._numbers = itertools.count(1)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or not is_asmx(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        received = time.time()
        body, truncated = self._read_body(environ)
        environ = {**environ, "wsgi.input": io.BytesIO(body)}
        answer: dict = {}

        def recording_start(status: str, headers: list, exc_info=None):
            answer.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start)
        try:
            chunks = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        try:
            self._save(
                received,
                _request_of(environ, body),
                _response_of(answer, chunks),
                environ.get("REMOTE_ADDR", ""),
                truncated,
            )
        except Exception:  # the caller's answer must not depend on the recording
            log.exception("could not record an exchange in %s", self._directory)
        return chunks

    def _read_body(self, environ: dict) -> tuple[bytes, bool]:
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            declared = -1
        if declared > self._max_bytes:
            return b"", True
        limit = self._max_bytes + 1
        body = environ["wsgi.input"].read(declared if declared >= 0 else limit)
        return body, declared < 0 and len(body) == limit

    def _save(
        self,
        received: float,
        request: HttpRequest,
        response: HttpResponse,
        client: str,
        truncated: bool,
    ) -> None:
        version = CONTENT_TYPES.get(request.mimetype)  # as the server chose it
        code = soapxml.return_code(soapxml.parse(response.body, response.charset))
        record = {
            "time": recording.iso_time(received),
            "client": client,
            "soap_version": version.name if version else None,
            "operation": soapxml.operation(soapxml.parse(request.body, request.charset)),
            "status": response.status,
            "code": code,
            "body_truncated": truncated,
        }
        if not self._keep_secrets:
            response = redact.response(response)
            request = redact.request(request, code)
        name = recording.exchange_name(received, os.getpid(), next(self._numbers))
        recording.write(self._directory, name, request, response, record)


def _request_of(environ: dict, body: bytes) -> HttpRequest:
    target = (
        environ.get("RAW_URI")
        or environ.get("REQUEST_URI")
        or (
            quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
            + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        )
    )
    headers = [
        (name, environ[key])
        for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length"))
        if environ.get(key)
    ]
    for key, value in environ.items():
        # The body is recorded as the app read it, de-chunked: its framing header would lie.
        if key.startswith("HTTP_") and key != "HTTP_TRANSFER_ENCODING":
            name = key[5:].replace("_", "-").title()
            headers.append((_SPELLING.get(name, name), value))
    return HttpRequest(
        tuple(headers),
        body,
        environ["REQUEST_METHOD"],
        target,
        environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
    )


def _response_of(answer: dict, chunks: list[bytes]) -> HttpResponse:
    code, _, reason = answer.get("status", "500 Internal Server Error").partition(" ")
    return HttpResponse(tuple(answer.get("headers", ())), b"".join(chunks), int(code), reason)
