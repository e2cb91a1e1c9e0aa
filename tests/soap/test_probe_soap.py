"""What the security probe (issue 17) found at the SOAP door, each through a live server.

Attribute floods, a second ServiceID in another namespace, Python codecs as the request charset,
and the Host header in the WSDL and help pages. Every request goes over HTTP to the app on a
loopback port (conftest's ``live_server`` / ``serve``).
"""

import ipaddress
import re

import pytest
import requests

from helpers import (
    CONTENT_TYPE,
    SERVICE_ID,
    SOAP11_NS,
    SOAP12_NS,
    assert_no_internals,
    envelope,
    post,
    soap_fault,
    soap_result,
)

TNS = "http://cp.gov.tw/gsp2"
ADDRESS = re.compile(r'<soap12?:address location="([^"]+)"')


def _client_fault(answer: requests.Response, soap12: bool) -> str:
    """The fault's reason; asserts an HTTP 500 Client/Sender fault of the request's version."""
    assert answer.status_code == 500, answer.content[:500]
    assert_no_internals(answer.content)
    fault = soap_fault(answer.content)
    ns = SOAP12_NS if soap12 else SOAP11_NS
    assert fault.code == f"{{{ns}}}{'Sender' if soap12 else 'Client'}"
    return fault.reason


# -- attribute floods (item 4) -------------------------------------------------------------------


def _with_attributes(body: bytes, element: bytes, count: int) -> bytes:
    attributes = b" ".join(b'a%d="1"' % i for i in range(count))
    return body.replace(element, element[:-1] + b" " + attributes + b">", 1)


@pytest.mark.parametrize(
    "element", [b"<account>", b"<ServiceID>", b"<VerifyTOTPCode ", b"<soap:Body>"]
)
def test_an_attribute_flood_is_a_fault(live_server, demo, clock, soap12, element):
    body = envelope(demo.account, demo.code(clock()), soap12=soap12)
    if element == b"<VerifyTOTPCode ":  # its start tag carries xmlns: add before that
        body = body.replace(
            element, b"<VerifyTOTPCode " + b" ".join(b'a%d="1"' % i for i in range(6000)) + b" ", 1
        )
    else:
        body = _with_attributes(body, element, 6000)
    assert len(body) < 65536
    reason = _client_fault(post(live_server.url, body, soap12), soap12)
    assert "attributes" in reason


def test_attributes_real_callers_send_are_accepted(live_server, demo, clock):
    """Axis 1.4 puts actor and mustUnderstand on the header block and xsi:type on parameters."""
    body = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP11_NS}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header>'
        f'<ns1:ServiceHeader soapenv:actor="http://schemas.xmlsoap.org/soap/actor/next" '
        f'soapenv:mustUnderstand="0" xmlns:ns1="{TNS}"><ns1:ServiceID>{SERVICE_ID}'
        "</ns1:ServiceID></ns1:ServiceHeader></soapenv:Header><soapenv:Body>"
        f'<VerifyTOTPCode xmlns="{TNS}"><account xsi:type="xsd:string">{demo.account}'
        f'</account><TOTPCode xsi:type="xsd:string">{demo.code(clock())}</TOTPCode>'
        "</VerifyTOTPCode></soapenv:Body></soapenv:Envelope>"
    ).encode()
    answer = post(live_server.url, body)
    assert answer.status_code == 200, answer.content[:500]
    assert soap_result(answer.content)[0] == 0


# -- a second ServiceID (item 5) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    [
        '<ServiceID xmlns="urn:x">APP0000001</ServiceID>',
        '<x:ServiceID xmlns:x="urn:x">APP0000001</x:ServiceID>',
        f"<ServiceID>{SERVICE_ID}</ServiceID>",
    ],
)
def test_a_second_service_id_in_any_namespace_is_a_fault(live_server, demo, clock, soap12, second):
    body = envelope(demo.account, demo.code(clock()), service_id="APP0000003", soap12=soap12)
    body = body.replace(b"</ServiceID>", b"</ServiceID>" + second.encode(), 1)
    reason = _client_fault(post(live_server.url, body, soap12), soap12)
    assert "more than once" in reason


# -- the request charset (item 6) ----------------------------------------------------------------


def _escaped(text: str) -> bytes:
    """``text`` as ``unicode_escape`` reads it back, with no ``<`` byte on the wire."""
    return text.replace("<", "\\x3c").encode("ascii")


def _utf7(text: str) -> bytes:
    """``text`` in UTF-7 with ``<`` written as ``+ADw-`` (Python's encoder leaves it as is)."""
    return text.encode("utf-7").replace(b"<", b"+ADw-")


def _call_text(demo, clock, soap12: bool) -> str:
    return envelope(demo.account, demo.code(clock()), soap12=soap12).decode()


@pytest.mark.parametrize(
    "charset, write",
    [
        ("unicode_escape", _escaped),
        ("raw_unicode_escape", _escaped),
        ("utf-7", _utf7),
        ("UTF7", _utf7),
    ],
)
def test_a_python_codec_as_content_type_charset_is_a_fault(
    live_server, demo, clock, soap12, charset, write
):
    body = write(
        _call_text(demo, clock, soap12).replace('<?xml version="1.0" encoding="utf-8"?>', "")
    )
    assert b"<" not in body
    answer = post(
        live_server.url,
        body,
        soap12,
        **{"Content-Type": CONTENT_TYPE[soap12].replace("utf-8", charset)},
    )
    assert "charset" in _client_fault(answer, soap12)


@pytest.mark.parametrize("charset", ["unicode_escape", "utf-7", "rot13", "hex", "punycode"])
def test_a_python_codec_in_the_xml_declaration_is_a_fault(live_server, demo, clock, charset):
    body = _call_text(demo, clock, False).replace('encoding="utf-8"', f'encoding="{charset}"')
    answer = post(live_server.url, body.encode("ascii"), **{"Content-Type": "text/xml"})
    assert "charset" in _client_fault(answer, False)


@pytest.mark.parametrize("charset", ["us-ascii", "ISO-8859-1", "latin1", "cp950", "utf-16"])
def test_charsets_real_callers_send_are_accepted(live_server, demo, clock, charset):
    text = _call_text(demo, clock, False).replace(' encoding="utf-8"', "")
    answer = post(
        live_server.url, text.encode(charset), **{"Content-Type": f"text/xml; charset={charset}"}
    )
    assert answer.status_code == 200, answer.content[:500]
    assert soap_result(answer.content)[0] == 0


# -- the Host header in the WSDL and help pages (item 10) --------------------------------------


def _get(url: str, **headers) -> requests.Response:
    answer = requests.get(url, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert_no_internals(answer.content)
    return answer


def _wsdl_address(url: str, **headers) -> str:
    (address,) = set(ADDRESS.findall(_get(f"{url}?WSDL", **headers).text))
    return address


def _help_host(url: str, **headers) -> str:
    (host,) = set(re.findall(r"Host: (\S+)", _get(f"{url}?op=VerifyTOTPCode", **headers).text))
    return host


def test_a_foreign_host_header_gets_the_public_url(live_server):
    """GSPWS_PUBLIC_URL is the loopback default: a caller naming another host gets it."""
    assert (
        _wsdl_address(live_server.url, Host="evil.example")
        == "http://127.0.0.1:8000/gsp2ws/TOTP.asmx"
    )
    assert _help_host(live_server.url, Host="evil.example") == "127.0.0.1:8000"
    assert "evil.example" not in _get(live_server.url, Host="evil.example").text


def test_a_loopback_host_keeps_its_own_address(live_server):
    assert _wsdl_address(live_server.url) == live_server.url
    port = live_server.base.rsplit(":", 1)[1]
    assert (
        _wsdl_address(live_server.url, Host=f"localhost:{port}")
        == f"http://localhost:{port}/gsp2ws/TOTP.asmx"
    )


def test_a_configured_public_url_is_the_wsdl_address(serve):
    server = serve(
        public_url="https://otp.example.gov.tw",
        trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    public = "https://otp.example.gov.tw/gsp2ws/TOTP.asmx"
    assert _wsdl_address(server.url) == public
    assert _wsdl_address(server.url, Host="evil.example") == public
    assert _wsdl_address(server.url, **{"X-Forwarded-Host": "evil.example"}) == public
    assert _help_host(server.url, Host="evil.example") == "otp.example.gov.tw"


@pytest.mark.parametrize("proto", ["javascript", "data", "https:evil", "ftp"])
def test_a_trusted_proxys_scheme_must_be_http_or_https(serve, proto):
    server = serve(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    address = _wsdl_address(
        server.url, **{"X-Forwarded-Proto": proto, "X-Forwarded-Host": "otp.example.gov.tw"}
    )
    assert address == "http://otp.example.gov.tw/gsp2ws/TOTP.asmx"


@pytest.mark.parametrize("query", ["?WSDL", "", "?op=VerifyTOTPCode", "?op=NoSuchOperation"])
def test_wsdl_and_help_pages_have_the_pages_headers(live_server, query):
    answer = requests.get(live_server.url + query, timeout=10)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
