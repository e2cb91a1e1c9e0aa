"""The MobileOTP.asmx part of the replay corpus (``tests/envelopes/mobileotp-*``), written by
``tests/envelope_corpus.py`` with the rest.

Requests are written as the two shapes MobileOTP.asmx callers send: a .NET
``SoapHttpClientProtocol`` stub (SOAP 1.1, one line, ``SOAPAction``) and the public agency caller
of the issue (SOAP 1.2 by hand, no action). Answers are spelled from the contract and the
committed ``wsdl/MobileOTP.wsdl`` (``minOccurs="0"`` strings left out when null), as a recording
made without ``--record-secrets`` holds them: SendOTPCode's code is ``(redacted)`` (replay
compares it as present), and a VerifyOTPCode that was not accepted carries the marker instead of
what was typed (gspws.replay.redact); ``code-used`` keeps the spent code, to replay its single
use. The code VerifyOTPCode accepts is pending in the fixtures (``otp_codes``), sent two minutes
before the replay starts.
"""

from gspws.replay.messages import HttpRequest, HttpResponse
from gspws.replay.redact import MARKER

from helpers import CONTRACT_CODES, SOAP11_NS, SOAP12_NS, TNS

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
PATH = "/gsp2ws/MobileOTP.asmx"
MOBILE, EMAIL, NOWHERE = "mobile.user", "email.user", "nowhere.user"
PENDING = "246810"

ACCOUNTS = [
    {
        "account": MOBILE,
        "mobile": "0912345678",
        "email": "zoe@gmail.com",
        "email_verified": False,
        "otp_codes": [{"code": PENDING, "age": 120}],
    },
    {"account": EMAIL, "email": "mail.user@example.org"},
    {"account": NOWHERE},
]


def cases(main: str, not_granted: str) -> list[tuple]:
    """(what, expected code, SOAP 1.2?, ServiceID, operation, parameters, result), in replay
    order; ``result`` is GetOTPDestinations' Result, or SendOTPCode's Message when not the
    return code's text."""
    shown = {
        "Mobile": "0912***678",
        "MobileVerified": "true",
        "Email": "z**@gmail.com",
        "EmailVerified": "false",
    }
    return [
        ("destinations", 0, False, main, "GetOTPDestinations", {"account": MOBILE}, shown),
        ("wrong-code", 9999, True, main, "VerifyOTPCode", {"account": MOBILE, "OTPCode": MARKER}),
        ("code-accepted", 0, True, main, "VerifyOTPCode", {"account": MOBILE, "OTPCode": PENDING}),
        ("code-used", 9999, False, main, "VerifyOTPCode", {"account": MOBILE, "OTPCode": PENDING}),
        (
            "nothing-pending",
            3001,
            False,
            main,
            "VerifyOTPCode",
            {"account": EMAIL, "OTPCode": MARKER},
        ),
        ("sent", 0, True, main, "SendOTPCode", {"account": MOBILE}, MARKER),
        ("resent-too-soon", 9999, True, main, "SendOTPCode", {"account": MOBILE}),
        (
            "sent-by-email",
            0,
            False,
            main,
            "SendOTPCodeTo",
            {"account": EMAIL, "channel": "email"},
            MARKER,
        ),
        (
            "channel-not-verified",
            3001,
            False,
            main,
            "SendOTPCodeTo",
            {"account": EMAIL, "channel": "sms"},
        ),
        ("no-destination", 3001, True, main, "SendOTPCode", {"account": NOWHERE}),
        ("function-not-granted", 8108, True, not_granted, "SendOTPCode", {"account": MOBILE}),
        ("unknown-account", 3001, False, main, "GetOTPDestinations", {"account": "no.such.user"}),
    ]


def request(soap12: bool, sid: str, operation: str, parameters: dict, host: str) -> HttpRequest:
    """The .NET stub's SOAP 1.1 request, or the public caller's SOAP 1.2 one."""
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in parameters.items())
    header = f'<ServiceHeader xmlns="{TNS}"><ServiceID>{sid}</ServiceID></ServiceHeader>'
    prefix = "soap12" if soap12 else "soap"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><{prefix}:Envelope xmlns:xsi="{XSI}" '
        f'xmlns:xsd="{XSD}" xmlns:{prefix}="{SOAP12_NS if soap12 else SOAP11_NS}">'
        f"<{prefix}:Header>{header}</{prefix}:Header><{prefix}:Body>"
        f'<{operation} xmlns="{TNS}">{fields}</{operation}></{prefix}:Body></{prefix}:Envelope>'
    ).encode()
    if soap12:
        headers = (("Content-Type", "application/soap+xml; charset=utf-8"), ("Host", host))
    else:
        headers = (
            (
                "User-Agent",
                "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol "
                "4.0.30319.42000)",
            ),
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", f'"{TNS}/{operation}"'),
            ("Host", host),
        )
    headers += (("Content-Length", str(len(body))),)
    return HttpRequest(headers, body, "POST", PATH, "HTTP/1.1")


def response(soap12: bool, operation: str, code: int, result=None) -> HttpResponse:
    message = result if isinstance(result, str) else CONTRACT_CODES[code]
    inner = f"<Code>{code}</Code><Message>{message}</Message>"
    if isinstance(result, dict):
        inner += "<Result>" + "".join(f"<{k}>{v}</{k}>" for k, v in result.items()) + "</Result>"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
        f'"{SOAP12_NS if soap12 else SOAP11_NS}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD}"><soap:Body>'
        f'<{operation}Response xmlns="{TNS}"><{operation}Result>{inner}</{operation}Result>'
        f"</{operation}Response></soap:Body></soap:Envelope>"
    ).encode()
    content_type = ("application/soap+xml" if soap12 else "text/xml") + "; charset=utf-8"
    return HttpResponse((("Content-Type", content_type), ("Content-Length", str(len(body)))), body)


def exchanges(main: str, not_granted: str, host: str) -> list[tuple]:
    """(name, request, response, record fields) of every case."""
    found = []
    for number, (what, code, soap12, sid, operation, parameters, *result) in enumerate(
        cases(main, not_granted), 1
    ):
        found.append(
            (
                f"mobileotp-{number:02d}-{code}-{what}",
                request(soap12, sid, operation, parameters, host),
                response(soap12, operation, code, *result),
                {"soap_version": "1.2" if soap12 else "1.1", "operation": operation, "code": code},
            )
        )
    return found
