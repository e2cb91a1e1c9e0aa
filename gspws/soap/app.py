"""The asmx endpoints (``/gsp2ws/TOTP.asmx``, ``MobileOTP.asmx``, ``OTP.asmx``): route a request to spyne,
the WSDL or the help pages.

What spyne does not do for us happens here, before any XML is parsed: case-insensitive paths as on
IIS, choosing SOAP 1.1 or 1.2 by Content-Type (both on one URL), refusing oversized bodies from
``Content-Length`` without reading them, and reading the envelope once for the fast path and
spyne. The caller's address and URL come resolved from the front app (gspws.proxies).
"""

import io
import logging
import sys
from collections.abc import Callable, Iterable
from functools import cache
from urllib.parse import parse_qsl

from spyne import Application
from spyne.server.wsgi import WsgiApplication
from werkzeug.http import parse_options_header

from gspws.core import codes
from gspws.core.codecheck import TotpVerifier
from gspws.core.codes import RETURN_CODES
from gspws.core.enroll import Enrollment
from gspws.core.oob import OutOfBandCodes
from gspws.page_headers import PAGE_HEADERS
from gspws.proxies import origin_of
from gspws.soap import shape
from gspws.soap.charset import UndecodableBody, to_utf8
from gspws.soap.envelope import ENVELOPE_KEY, Envelope
from gspws.soap.fastpath import FastPath, totp_operations
from gspws.soap.help import HelpPages
from gspws.soap.mobileotp import MOBILE_OTP, MobileOTPService, mobile_otp_operations
from gspws.soap.otp import OTP, OTP_OPERATIONS, token_operations
from gspws.soap.protocol import SERVER_FAULT_REASON, AspNetSoap11, AspNetSoap12
from gspws.soap.service import DEFINITIONS, SERVICE_NAME, USE_CASES_KEY, TOTPService
from gspws.soap.wsdl import WsdlDocument, load_wsdl

log = logging.getLogger(__name__)

PATHS = ("/gsp2ws/totp.asmx", "/gsp2ws/totp.aspx")
MOBILE_OTP_PATHS = ("/gsp2ws/mobileotp.asmx", "/gsp2ws/mobileotp.aspx")
OTP_PATHS = ("/gsp2ws/otp.asmx", "/gsp2ws/otp.aspx")
_ASMX_PATHS = frozenset(PATHS + MOBILE_OTP_PATHS + OTP_PATHS)
CONTENT_TYPES = {"text/xml": shape.SOAP11, "application/soap+xml": shape.SOAP12}
_PAGE_HEADERS = list(PAGE_HEADERS.items())

StartResponse = Callable[..., object]


def is_asmx(path: str) -> bool:
    """Whether ``path`` is one of the asmx services' (any case, as on IIS)."""
    return path.lower() in _ASMX_PATHS


@cache
def _spyne_app(protocol_cls, services: tuple, name: str) -> WsgiApplication:
    """One SOAP version's spyne app of ``services`` (ServiceBase classes), built once per
    process: it holds no use case (each endpoint passes its own in the request's environ,
    gspws.soap.service.use_case). An app's six took 14 of the 16 ms of building a whole gspws
    app once its routes and contracts were cached, and the test suite builds ~1,500 apps."""
    return WsgiApplication(
        Application(
            list(services),
            tns=shape.TNS,
            name=name,
            in_protocol=protocol_cls(),
            out_protocol=protocol_cls(),
        )
    )


class AsmxEndpoint:
    """WSGI app serving one asmx web service on its legacy paths: SOAP 1.1 and 1.2 on one URL,
    ``?WSDL`` (the committed contract) and the help pages made from it."""

    def __init__(
        self,
        service: type | tuple,
        name: str,
        paths: tuple[str, ...],
        context: dict,
        max_request_bytes: int,
        wsdl: WsdlDocument,
        help_pages: HelpPages,
        fast_path: FastPath | None = None,
    ) -> None:
        self._paths = paths
        self._fast = fast_path
        services = service if isinstance(service, tuple) else (service,)
        self._soap = {
            shape.SOAP11: _spyne_app(AspNetSoap11, services, name),
            shape.SOAP12: _spyne_app(AspNetSoap12, services, name),
        }
        self._context = context
        self._max_bytes = max_request_bytes
        self._wsdl = wsdl
        self._help = help_pages

    def handles(self, path: str) -> bool:
        return path.lower() in self._paths

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method in ("GET", "HEAD"):
            return self._get(environ, start_response)
        if method == "POST":
            return self._post(environ, start_response)
        return _respond(
            start_response,
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            b"Use POST for SOAP calls, GET for the WSDL and help pages.\n",
            [("Allow", "GET, HEAD, POST")],
        )

    # -- GET: WSDL and help pages ---------------------------------------------------------------

    def _get(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        query = _query_words(environ.get("QUERY_STRING", ""))
        service_url = (
            origin_of(environ).base_url
            + environ.get("SCRIPT_NAME", "")
            + environ.get("PATH_INFO", "")
        )
        if "wsdl" in query:
            return _respond(
                start_response,
                "200 OK",
                "text/xml; charset=utf-8",
                self._wsdl.render(service_url),
                _PAGE_HEADERS,
            )
        if "op" in query:
            page = self._help.operation_page(query["op"], service_url)
            if page is None:
                page, status = self._help.service_page(service_url), "404 Not Found"
            else:
                status = "200 OK"
            return _respond(
                start_response, status, "text/html; charset=utf-8", page.encode(), _PAGE_HEADERS
            )
        return _respond(
            start_response,
            "200 OK",
            "text/html; charset=utf-8",
            self._help.service_page(service_url).encode(),
            _PAGE_HEADERS,
        )

    # -- POST: SOAP calls -----------------------------------------------------------------------

    def _post(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        mimetype, params = parse_options_header(environ.get("CONTENT_TYPE", ""))
        version = CONTENT_TYPES.get(mimetype.lower())
        if version is None:
            return _fault(
                start_response,
                "415 Unsupported Media Type",
                shape.SOAP11,
                "Content-Type must be text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2).",
            )
        body = self._read_body(environ)
        if body is None:
            return _fault(
                start_response,
                "413 Request Entity Too Large",
                version,
                f"The request body is larger than {self._max_bytes} bytes.",
            )
        try:
            body, _encoding = to_utf8(body, params.get("charset"))
        except UndecodableBody as exc:
            return _fault(start_response, "500 Internal Server Error", version, str(exc))
        if not body.strip():
            return _fault(
                start_response, "500 Internal Server Error", version, "The request body is empty."
            )
        try:
            envelope = Envelope.read(version, body)
            answer = self._fast.answer(version, envelope, environ) if self._fast else None
            if answer is not None:
                return _respond(start_response, "200 OK", version.content_type, answer)
            # spyne takes the envelope read instead of parsing the body (gspws.soap.protocol)
            return self._soap[version](
                {
                    **environ,
                    ENVELOPE_KEY: envelope,
                    USE_CASES_KEY: self._context,
                    "wsgi.input": io.BytesIO(body),
                    "CONTENT_LENGTH": str(len(body)),
                    "CONTENT_TYPE": mimetype,
                },
                start_response,
            )
        except Exception:  # spyne raised instead of answering: still a SOAP Fault, no internals
            log.exception("SOAP %s request could not be processed", version.name)
            return _respond(
                start_response,
                "500 Internal Server Error",
                version.content_type,
                shape.fault(version, version.server_fault, SERVER_FAULT_REASON),
                exc_info=sys.exc_info(),
            )

    def _read_body(self, environ: dict) -> bytes | None:
        """The body, or None when it exceeds the limit (judged from Content-Length when given)."""
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            declared = -1
        if declared > self._max_bytes:
            return None
        stream = environ["wsgi.input"]
        body = stream.read(declared if declared >= 0 else self._max_bytes + 1)
        return None if len(body) > self._max_bytes else body


def totp_endpoint(
    verifier: TotpVerifier,
    enrollment: Enrollment,
    max_request_bytes: int,
    wsdl: WsdlDocument | None = None,
    help_pages: HelpPages | None = None,
    fast_path: bool = True,
) -> AsmxEndpoint:
    """``/gsp2ws/TOTP.asmx``; ``fast_path=False`` sends VerifyTOTPCode through spyne too (see
    gspws.soap.fastpath)."""
    wsdl = wsdl or load_wsdl()
    return AsmxEndpoint(
        TOTPService,
        SERVICE_NAME,
        PATHS,
        {"verifier": verifier, "enrollment": enrollment},
        max_request_bytes,
        wsdl,
        help_pages or HelpPages(wsdl=wsdl, definitions=DEFINITIONS),
        FastPath(totp_operations(verifier)) if fast_path else None,
    )


def mobile_otp_endpoint(
    oob: OutOfBandCodes, max_request_bytes: int, fast_path: bool = True
) -> AsmxEndpoint:
    """``/gsp2ws/MobileOTP.asmx`` (gspws.soap.mobileotp); ``fast_path=False`` sends every call
    through spyne (see gspws.soap.fastpath)."""
    wsdl = load_wsdl(MOBILE_OTP.wsdl_path())
    return AsmxEndpoint(
        MobileOTPService,
        MOBILE_OTP.name,
        MOBILE_OTP_PATHS,
        {"oob": oob},
        max_request_bytes,
        wsdl,
        HelpPages(wsdl=wsdl, definitions=MOBILE_OTP.definitions),
        FastPath(mobile_otp_operations(oob)) if fast_path else None,
    )


def otp_endpoint(context: dict, max_request_bytes: int, fast_path: bool = True) -> AsmxEndpoint:
    """``/gsp2ws/OTP.asmx`` (gspws.soap.otp): the classes of OTP_OPERATIONS, their use cases in
    ``context`` (``tokens``: gspws.core.tokenauth.TokenAuth, and those the other classes use);
    ``fast_path=False`` sends every call through spyne (see gspws.soap.fastpath)."""
    wsdl = load_wsdl(OTP.wsdl_path())
    return AsmxEndpoint(
        OTP_OPERATIONS,
        OTP.name,
        OTP_PATHS,
        context,
        max_request_bytes,
        wsdl,
        # its pages list the contract's codes and OTP.asmx's own: 13 (需要同步), 12 (pending)
        HelpPages(
            RETURN_CODES + (codes.NEEDS_SYNC, codes.ASSERTION_PENDING),
            wsdl=wsdl,
            definitions=OTP.definitions,
        ),
        FastPath(token_operations(context["tokens"])) if fast_path else None,
    )


def _query_words(query: str) -> dict[str, str]:
    """ASP.NET-style query words, case-insensitive: ``?WSDL``, ``?wsdl``, ``?op=Name``."""
    return {key.lower(): value for key, value in parse_qsl(query, keep_blank_values=True)}


def _fault(
    start_response: StartResponse, status: str, version: shape.SoapVersion, reason: str
) -> Iterable[bytes]:
    return _respond(
        start_response,
        status,
        version.content_type,
        shape.fault(version, version.client_fault, reason),
    )


def _respond(
    start_response: StartResponse,
    status: str,
    content_type: str,
    body: bytes,
    extra: list | None = None,
    exc_info=None,
) -> Iterable[bytes]:
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *(extra or [])],
        exc_info,
    )
    return [body]
