"""The replay corpus in ``tests/envelopes/``: every return code, as each caller family sends it
(VerifyTOTPCode), and MobileOTP.asmx's operations (``envelope_corpus_mobile.py``).

    .venv/bin/python tests/envelope_corpus.py      # rewrites tests/envelopes/ from this file

Each family's requests are written the way that client really writes them (captured from PHP
8.2 ``SoapClient`` and node-soap 1.x; captured from .NET ``SoapHttpClientProtocol`` stubs of
Mono 6.8's ``wsdl`` over SOAP 1.1 and 1.2 and from an Axis 1.4 ``WSDL2Java`` stub, which
``test_real_stubs.py`` runs and compares with what this file writes; a hand-written Java
``HttpURLConnection`` SOAP 1.2 call as the help page's sample reads): prefixes, namespace
declarations, XML declaration, headers, HTTP version and path. The
expected answers are spelled from the contract (``gsp-soap.md``: ASP.NET's byte shape and the
return-code table), not produced by gspws. ``test_envelopes.py`` checks that the committed corpus
is what this file writes, then replays it in-process and against a live server.
"""

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import envelope_corpus_mobile as mobile

from gspws.core.otp import TotpParams
from gspws.replay import recording
from gspws.replay.messages import HttpRequest, HttpResponse

from helpers import CONTRACT_CODES, SOAP11_NS, SOAP12_NS, TNS

CORPUS = Path(__file__).resolve().parent / "envelopes"
AT = "2027-01-15T08:00:10Z"  # 10 s into a 30-second step
HOST = "127.0.0.1:8000"  # where the captures were made (`make run`)
ACTION = f'"{TNS}/VerifyTOTPCode"'
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"

MAIN = "APP0001931"  # registered, allowed from loopback, granted VerifyTOTPCode
OTHER_NETWORK, NOT_GRANTED, SUSPENDED, DISABLED = (
    "APP0000104",
    "APP0000108",
    "APP0000109",
    "APP0001090",
)
LOOPBACK = ["127.0.0.1/32", "::1/128"]
BROKEN, NOBODY = "broken.key", "no.such.user"

FIXTURES = {
    "at": AT,
    # 127.0.0.1 is a trusted proxy, so a malformed X-Forwarded-For is an 8100. The wide TOTP
    # window (±10 minutes) keeps the codes that test_envelopes rewrites for a live server valid
    # for longer than the test may run (its timeout is 300 s), whatever the machine's speed.
    "settings": {"GSPWS_TRUSTED_PROXIES": "127.0.0.1/32", "GSPWS_TOTP_WINDOW": "20"},
    "services": [
        {"service_id": MAIN, "name": "Agency under test", "allow": LOOPBACK},
        {
            "service_id": OTHER_NETWORK,
            "name": "Registered for another network",
            "allow": ["203.0.113.0/24"],
        },
        {"service_id": NOT_GRANTED, "name": "Granted no function", "allow": LOOPBACK, "grants": []},
        {
            "service_id": SUSPENDED,
            "name": "VerifyTOTPCode suspended",
            "allow": LOOPBACK,
            "suspended": ["VerifyTOTPCode"],
        },
        {"service_id": DISABLED, "name": "Disabled", "allow": LOOPBACK, "enabled": False},
    ],
    "accounts": [
        {"account": "dotnet.user", "tokens": [{"secret": "M7WQZ4KJX2TVNB6HDL3RPYE5GCAUFIOS"}]},
        {"account": "dotnet12.user", "tokens": [{"secret": "R4WKZ7MQX2HNBT6JDL3VPYE5GCAUFIOS"}]},
        {"account": "axis.user", "tokens": [{"secret": "Q3LNXH7ZKD2WMVJ6TBYR4PEC5GSAUOFI"}]},
        {"account": "php.user", "tokens": [{"secret": "T6BKRW2MZQ7HJXN3VDLC4YPE5GSAUOIF"}]},
        {
            "account": "nodesoap.user",
            "tokens": [{"secret": "H2VXK7QMZB3NJWT6RDLY4PCE5GSAUOFI", "digits": 8}],
        },
        {
            "account": "java12.user",
            "tokens": [{"secret": "Z5NQW3KXH7MBJV2TRDLC6YPE4GSAUOIF", "algorithm": "SHA256"}],
        },
        # The secret is stored under a key the server does not hold: a real internal failure.
        {
            "account": BROKEN,
            "tokens": [{"secret": "K4MZQ7XWH2NBJV3TRDLC6YPE5GSAUOIF", "unreadable": True}],
        },
        *mobile.ACCOUNTS,  # MobileOTP.asmx (envelope_corpus_mobile.py)
    ],
}

NO_HEADER = None  # no ServiceHeader at all
NO_SERVICE_ID = "(a ServiceHeader without ServiceID)"  # the stub's ServiceID left null


def dotnet(sid, account, code, soap12: bool = False) -> tuple[tuple, bytes]:
    """.NET ``SoapHttpClientProtocol`` (wsdl.exe stub; captured from Mono 6.8, see the module
    doc): one line, ``soap:``, xsi/xsd declared; a ServiceHeader whose ServiceID is null is an
    empty ``<ServiceHeader />``, an empty ServiceID ``<ServiceID />``; ``Expect: 100-continue``
    and ``Host`` last. SOAP 1.2 (``/protocol:SOAP12``): the action in the Content-Type."""
    if sid is NO_HEADER:
        header = ""
    elif sid is NO_SERVICE_ID:
        header = f'<soap:Header><ServiceHeader xmlns="{TNS}" /></soap:Header>'
    else:
        service_id = f"<ServiceID>{sid}</ServiceID>" if sid else "<ServiceID />"
        header = (
            f'<soap:Header><ServiceHeader xmlns="{TNS}">{service_id}</ServiceHeader></soap:Header>'
        )
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
        f'"{SOAP12_NS if soap12 else SOAP11_NS}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD}">{header}'
        f'<soap:Body><VerifyTOTPCode xmlns="{TNS}"><account>{account}</account>'
        f"<TOTPCode>{code}</TOTPCode></VerifyTOTPCode></soap:Body></soap:Envelope>"
    )
    content = (
        (("Content-Type", f"application/soap+xml; charset=utf-8; action={ACTION}"),)
        if soap12
        else (("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", ACTION))
    )
    headers = (
        (
            "User-Agent",
            "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)",
        ),
        *content,
        ("Content-Length", "*"),
        ("Expect", "100-continue"),
        ("Connection", "keep-alive"),
        ("Host", HOST),
    )
    return headers, body.encode()


def dotnet12(sid, account, code) -> tuple[tuple, bytes]:
    return dotnet(sid, account, code, soap12=True)


def axis(sid, account, code) -> tuple[tuple, bytes]:
    """Axis 1.4 (WSDL2Java stub, the header added with ``Stub.setHeader``; captured, see the
    module doc): HTTP/1.0, ``soapenv:``, the header block carrying ``actor`` and
    ``mustUnderstand="0"`` and its own ``ns1``."""
    header_start = (
        f'<soapenv:Header><ns1:ServiceHeader soapenv:actor="http://schemas.xmlsoap.'
        f'org/soap/actor/next" soapenv:mustUnderstand="0" xmlns:ns1="{TNS}"'
    )
    if sid is NO_HEADER:
        header = ""
    elif sid is NO_SERVICE_ID:
        header = f"{header_start}/></soapenv:Header>"
    else:
        header = (
            f"{header_start}><ns1:ServiceID>{sid}</ns1:ServiceID></ns1:ServiceHeader>"
            f"</soapenv:Header>"
        )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP11_NS}" '
        f'xmlns:xsd="{XSD}" xmlns:xsi="{XSI}">{header}<soapenv:Body>'
        f'<VerifyTOTPCode xmlns="{TNS}"><account>{account}</account>'
        f"<TOTPCode>{code}</TOTPCode></VerifyTOTPCode></soapenv:Body></soapenv:Envelope>"
    )
    headers = (
        ("Content-Type", "text/xml; charset=utf-8"),
        ("Accept", "application/soap+xml, application/dime, multipart/related, text/*"),
        ("User-Agent", "Axis/1.4"),
        ("Host", HOST),
        ("Cache-Control", "no-cache"),
        ("Pragma", "no-cache"),
        ("SOAPAction", ACTION),
        ("Content-Length", "*"),
    )
    return headers, body.encode()


def php(sid, account, code) -> tuple[tuple, bytes]:
    """PHP ``SoapClient`` (captured from PHP 8.2): ``SOAP-ENV:`` and ``ns1:`` on every element,
    the declaration on a line of its own, a final newline."""
    header = (
        ""
        if sid is NO_HEADER
        else (
            f"<SOAP-ENV:Header><ns1:ServiceHeader><ns1:ServiceID>{sid}</ns1:ServiceID>"
            f"</ns1:ServiceHeader></SOAP-ENV:Header>"
        )
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV='
        f'"{SOAP11_NS}" xmlns:ns1="{TNS}">{header}<SOAP-ENV:Body><ns1:VerifyTOTPCode>'
        f"<ns1:account>{account}</ns1:account><ns1:TOTPCode>{code}</ns1:TOTPCode>"
        f"</ns1:VerifyTOTPCode></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    )
    headers = (
        ("Host", HOST),
        ("Connection", "Keep-Alive"),
        ("User-Agent", "PHP-SOAP/8.2.35"),
        ("Content-Type", "text/xml; charset=utf-8"),
        ("SOAPAction", ACTION),
        ("Content-Length", "*"),
    )
    return headers, body.encode()


def nodesoap(sid, account, code) -> tuple[tuple, bytes]:
    """node-soap 1.x (captured): ``soap:`` and an unused ``tm``/``tns`` declared after a double
    space, the header as given to ``addSoapHeader``."""
    header = (
        ""
        if sid is NO_HEADER
        else (
            f'<soap:Header><ServiceHeader xmlns="{TNS}"><ServiceID>{sid}</ServiceID>'
            f"</ServiceHeader></soap:Header>"
        )
    )
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11_NS}" '
        f'xmlns:xsi="{XSI}"  xmlns:tm="http://microsoft.com/wsdl/mime/textMatching/" '
        f'xmlns:tns="{TNS}">{header}<soap:Body><VerifyTOTPCode xmlns="{TNS}">'
        f"<account>{account}</account><TOTPCode>{code}</TOTPCode></VerifyTOTPCode>"
        f"</soap:Body></soap:Envelope>"
    )
    headers = (
        ("Accept", "text/html,application/xhtml+xml,application/xml,text/xml;q=0.9,*/*;q=0.8"),
        ("Content-Type", "text/xml; charset=utf-8"),
        ("User-Agent", "node-soap/1.13.0"),
        ("Accept-Encoding", "none"),
        ("Accept-Charset", "utf-8"),
        ("Host", HOST),
        ("Content-Length", "*"),
        ("SOAPAction", ACTION),
        ("Connection", "keep-alive"),
    )
    return headers, body.encode()


def java12(sid, account, code) -> tuple[tuple, bytes]:
    """SOAP 1.2 by hand over Java ``HttpURLConnection``: the help page's sample pasted into a
    string (``soap12:``, indented, LF line ends), Java's default Accept, no action parameter."""
    header = (
        ""
        if sid is NO_HEADER
        else (
            f'  <soap12:Header>\n    <ServiceHeader xmlns="{TNS}">\n      <ServiceID>{sid}'
            f"</ServiceID>\n    </ServiceHeader>\n  </soap12:Header>\n"
        )
    )
    body = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<soap12:Envelope xmlns:xsi="{XSI}" '
        f'xmlns:xsd="{XSD}" xmlns:soap12="{SOAP12_NS}">\n{header}  <soap12:Body>\n'
        f'    <VerifyTOTPCode xmlns="{TNS}">\n      <account>{account}</account>\n'
        f"      <TOTPCode>{code}</TOTPCode>\n    </VerifyTOTPCode>\n  </soap12:Body>\n"
        f"</soap12:Envelope>\n"
    )
    headers = (
        ("Content-Type", "application/soap+xml; charset=utf-8"),
        ("User-Agent", "Java/1.8.0_402"),
        ("Host", HOST),
        ("Accept", "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"),
        ("Connection", "keep-alive"),
        ("Content-Length", "*"),
    )
    return headers, body.encode()


@dataclass(frozen=True)
class Family:
    name: str
    write: Callable
    path: str
    soap12: bool = False
    http: str = "HTTP/1.1"
    missing_id: str | None = NO_HEADER  # how this family sends "no ServiceID" (8102)
    disabled: str = SUSPENDED  # which kind of 8109 it meets


FAMILIES = (
    Family("dotnet", dotnet, "/gsp2ws/TOTP.asmx", missing_id=NO_SERVICE_ID, disabled=DISABLED),
    Family("dotnet12", dotnet12, "/gsp2ws/TOTP.asmx", soap12=True, missing_id=""),
    Family("axis", axis, "/gsp2ws/TOTP.aspx", http="HTTP/1.0"),
    Family("php", php, "/GSP2WS/TOTP.aspx"),
    Family("nodesoap", nodesoap, "/gsp2ws/TOTP.asmx"),
    Family("java12", java12, "/gsp2ws/TOTP.aspx", soap12=True),
)


def _token(account: str) -> dict:
    entry = next(a for a in FIXTURES["accounts"] if a["account"] == account)
    return entry["tokens"][0]


def valid_code(account: str, at: float) -> str:
    token = _token(account)
    return TotpParams(
        token["secret"],
        token.get("algorithm", "SHA1"),
        token.get("digits", 6),
        token.get("period", 30),
    ).code_at(at)


def cases(family: Family, at: float) -> list[tuple[str, int, str | None, str, str, tuple]]:
    """(what, expected code, ServiceID, account, code, extra headers), in replay order."""
    user = f"{family.name}.user"
    code = valid_code(user, at)
    return [
        ("ok", 0, MAIN, user, code, ()),
        ("replayed-code", 9999, MAIN, user, code, ()),
        ("bad-service-id", 1, "APP12345", user, code, ()),
        ("proxy-sent-unknown-address", 8100, MAIN, user, code, (("X-Forwarded-For", "unknown"),)),
        ("unregistered-service", 8101, "APP9999999", user, code, ()),
        ("no-service-id", 8102, family.missing_id, user, code, ()),
        ("address-not-allowed", 8104, OTHER_NETWORK, user, code, ()),
        ("function-not-granted", 8108, NOT_GRANTED, user, code, ()),
        (
            "service-disabled" if family.disabled == DISABLED else "function-suspended",
            8109,
            family.disabled,
            user,
            code,
            (),
        ),
        ("secret-undecryptable", 3000, MAIN, BROKEN, "123456", ()),
        ("unknown-account", 3001, MAIN, NOBODY, "123456", ()),
    ]


def contract_response(code: int, soap12: bool) -> HttpResponse:
    """The answer as the contract spells it (ASP.NET's bytes, the contract's message)."""
    ns = SOAP12_NS if soap12 else SOAP11_NS
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
        f'xmlns:xsi="{XSI}" xmlns:xsd="{XSD}"><soap:Body><VerifyTOTPCodeResponse '
        f'xmlns="{TNS}"><VerifyTOTPCodeResult><Code>{code}</Code><Message>'
        f"{CONTRACT_CODES[code]}</Message></VerifyTOTPCodeResult></VerifyTOTPCodeResponse>"
        f"</soap:Body></soap:Envelope>"
    ).encode()
    content_type = ("application/soap+xml" if soap12 else "text/xml") + "; charset=utf-8"
    return HttpResponse((("Content-Type", content_type), ("Content-Length", str(len(body)))), body)


def version_mismatch_fault() -> HttpResponse:
    """The contract's answer to an envelope of the other SOAP version: HTTP 500 and a SOAP 1.2
    ``VersionMismatch`` fault (the Content-Type said 1.2) with gspws's short reason."""
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12_NS}" '
        f'xmlns:xsi="{XSI}" xmlns:xsd="{XSD}"><soap:Body><soap:Fault><soap:Code><soap:Value>'
        f"soap:VersionMismatch</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="
        f'"en">The envelope namespace does not match the SOAP version of the Content-Type.'
        f"</soap:Text></soap:Reason><soap:Detail/></soap:Fault></soap:Body></soap:Envelope>"
    )
    return HttpResponse(
        (
            ("Content-Type", "application/soap+xml; charset=utf-8"),
            ("Content-Length", str(len(body.encode()))),
        ),
        body.encode(),
        500,
        "Internal Server Error",
    )


def write_corpus(directory: Path) -> None:
    """Replace the exchanges and fixtures in ``directory`` with this file's."""
    at = datetime.fromisoformat(AT.replace("Z", "+00:00")).timestamp()
    for old in directory.iterdir():
        if recording.is_recording(old):
            shutil.rmtree(old)

    def write(
        name: str,
        family: Family,
        headers: tuple,
        body: bytes,
        response: HttpResponse,
        code: int | None,
    ) -> None:
        headers = tuple((k, str(len(body)) if v == "*" else v) for k, v in headers)
        record = {
            "time": recording.iso_time(at),
            "client": "127.0.0.1",
            "soap_version": "1.2" if family.soap12 else "1.1",
            "operation": "VerifyTOTPCode",
            "status": response.status,
            "code": code,
            "body_truncated": False,
        }
        request = HttpRequest(headers, body, "POST", family.path, family.http)
        recording.write(directory, name, request, response, record)

    for family in FAMILIES:
        for number, (what, expected, sid, account, code, extra) in enumerate(cases(family, at), 1):
            headers, body = family.write(sid, account, code)
            write(
                f"{family.name}-{number:02d}-{expected}-{what}",
                family,
                headers + extra,
                body,
                contract_response(expected, family.soap12),
                expected,
            )
    java = FAMILIES[-1]  # a SOAP 1.1 sample pasted into a SOAP 1.2 caller
    write(
        "java12-12-fault-soap11-envelope-sent-as-soap12",
        java,
        java.write(MAIN, "java12.user", "123456")[0],
        dotnet(MAIN, "java12.user", "123456")[1],
        version_mismatch_fault(),
        None,
    )
    for name, request, response, fields in mobile.exchanges(MAIN, NOT_GRANTED, HOST):
        record = {"time": recording.iso_time(at), "client": "127.0.0.1", **fields}
        record |= {"status": response.status, "body_truncated": False}
        recording.write(directory, name, request, response, record)
    (directory / "fixtures.json").write_text(
        json.dumps(FIXTURES, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
