"""The endpoint's bytes and behaviour over HTTP, as legacy callers see them (gsp-soap.md).

Everything here is a raw HTTP exchange with a live server on a loopback port (``requests``), so
what is compared is exactly what a caller receives: the ASP.NET-shaped answer, its Content-Type,
requests written by other SOAP stacks, the paths, the WSDL with its addresses, the help pages and
the faults. Every response body is also checked for leaked internals (stack traces, exception and
library names).
"""

import html
import ipaddress
import re
from urllib.parse import urljoin

import pytest
import requests

from helpers import (
    CONTENT_TYPE,
    REPO,
    SERVICE_ID,
    SOAP11_NS,
    SOAP12_NS,
    assert_no_internals,
    audit_rows,
    envelope,
    envelope_ns,
    parse_xml,
    post,
    soap_fault,
    soap_result,
)

COMMITTED_WSDL = REPO / "wsdl" / "TOTP.wsdl"
SOAP_ACTION = '"http://cp.gov.tw/gsp2/VerifyTOTPCode"'
WSDL_NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
}

# The contract's sample response, byte for byte (gsp-soap.md, "Response: byte shape").
CONTRACT_OK_11 = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    '<soap:Body><VerifyTOTPCodeResponse xmlns="http://cp.gov.tw/gsp2"><VerifyTOTPCodeResult>'
    "<Code>0</Code><Message>動態密碼驗證通過</Message>"
    "</VerifyTOTPCodeResult></VerifyTOTPCodeResponse></soap:Body></soap:Envelope>"
).encode()
CONTRACT_OK_12 = CONTRACT_OK_11.replace(SOAP11_NS.encode(), SOAP12_NS.encode())
CONTRACT_OK = {False: CONTRACT_OK_11, True: CONTRACT_OK_12}


def send(url: str, body: bytes, soap12: bool = False, **headers) -> requests.Response:
    """POST ``body``; whatever comes back must not leak internals."""
    answer = post(url, body, soap12, **headers)
    assert_no_internals(answer.content)
    return answer


def fetch(url: str, **headers) -> requests.Response:
    answer = requests.get(url, headers=headers, timeout=10)
    assert_no_internals(answer.content)
    return answer


def valid_call(demo, clock, soap12: bool) -> bytes:
    return envelope(demo.account, demo.code(clock()), soap12=soap12)


# -- the answer's bytes ------------------------------------------------------------------------


def test_ok_answer_is_the_contract_sample_byte_for_byte(live_server, demo, clock, soap12):
    answer = send(live_server.url, valid_call(demo, clock, soap12), soap12)
    assert answer.status_code == 200
    assert answer.content == CONTRACT_OK[soap12]


def test_answer_content_type_follows_the_request_version(live_server, demo, clock, soap12):
    answer = send(live_server.url, valid_call(demo, clock, soap12), soap12)
    expected = "application/soap+xml; charset=utf-8" if soap12 else "text/xml; charset=utf-8"
    assert answer.headers["Content-Type"] == expected


@pytest.mark.parametrize(
    "code, message", [(0, "動態密碼驗證通過"), (3001, "查無使用者帳號或使用者未啟用動態密碼功能")]
)
def test_fields_are_findable_by_substring(live_server, demo, clock, soap12, code, message):
    account = demo.account if code == 0 else "nobody"
    answer = send(live_server.url, envelope(account, demo.code(clock()), soap12=soap12), soap12)
    assert f"<Code>{code}</Code>".encode() in answer.content
    assert f"<Message>{message}</Message>".encode() in answer.content


# -- requests written by other SOAP stacks -----------------------------------------------------


def _php(soap12: bool, account: str, code: str) -> bytes:
    """PHP SoapClient: ``SOAP-ENV:`` (1.1) or ``env:`` (1.2), service namespace as ``ns1:``."""
    env, ns = ("env", SOAP12_NS) if soap12 else ("SOAP-ENV", SOAP11_NS)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{env}:Envelope xmlns:{env}="{ns}" '
        f'xmlns:ns1="http://cp.gov.tw/gsp2"><{env}:Header><ns1:ServiceHeader>'
        f"<ns1:ServiceID>{SERVICE_ID}</ns1:ServiceID></ns1:ServiceHeader></{env}:Header>"
        f"<{env}:Body><ns1:VerifyTOTPCode><ns1:account>{account}</ns1:account>"
        f"<ns1:TOTPCode>{code}</ns1:TOTPCode></ns1:VerifyTOTPCode></{env}:Body>"
        f"</{env}:Envelope>\n"
    ).encode()


def _axis(soap12: bool, account: str, code: str) -> bytes:
    """Java Axis: ``soapenv:``, the service namespace as ``gsp:`` declared per element, and the
    header marked with actor and mustUnderstand="0"."""
    ns = SOAP12_NS if soap12 else SOAP11_NS
    role = (
        'soapenv:role="http://www.w3.org/2003/05/soap-envelope/role/next"'
        if soap12
        else 'soapenv:actor="http://schemas.xmlsoap.org/soap/actor/next"'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{ns}" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header>'
        f'<gsp:ServiceHeader {role} soapenv:mustUnderstand="0" '
        f'xmlns:gsp="http://cp.gov.tw/gsp2"><gsp:ServiceID>{SERVICE_ID}</gsp:ServiceID>'
        f"</gsp:ServiceHeader></soapenv:Header><soapenv:Body>"
        f'<gsp:VerifyTOTPCode xmlns:gsp="http://cp.gov.tw/gsp2">'
        f'<gsp:account xsi:type="xsd:string">{account}</gsp:account>'
        f'<gsp:TOTPCode xsi:type="xsd:string">{code}</gsp:TOTPCode></gsp:VerifyTOTPCode>'
        f"</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _pretty(soap12: bool, account: str, code: str) -> bytes:
    """The contract's sample request, indented, with ASP.NET help-page prefixes."""
    prefix, ns = ("soap12", SOAP12_NS) if soap12 else ("soap", SOAP11_NS)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<{prefix}:Envelope xmlns:{prefix}="{ns}"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <{prefix}:Header>
    <ServiceHeader xmlns="http://cp.gov.tw/gsp2"><ServiceID>{SERVICE_ID}</ServiceID></ServiceHeader>
  </{prefix}:Header>
  <{prefix}:Body>
    <VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">
      <account>{account}</account>
      <TOTPCode>{code}</TOTPCode>
    </VerifyTOTPCode>
  </{prefix}:Body>
</{prefix}:Envelope>
""".encode()


WRITERS = {"php": _php, "java-axis": _axis, "indented-sample": _pretty}


@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_requests_with_other_prefixes_are_answered(live_server, demo, clock, soap12, writer):
    answer = send(live_server.url, writer(soap12, demo.account, demo.code(clock())), soap12)
    assert answer.status_code == 200
    assert answer.content == CONTRACT_OK[soap12]


def test_soap12_with_action_parameter(live_server, demo, clock):
    content_type = f"application/soap+xml; charset=utf-8; action={SOAP_ACTION}"
    answer = send(
        live_server.url, valid_call(demo, clock, True), True, **{"Content-Type": content_type}
    )
    assert answer.status_code == 200
    assert answer.content == CONTRACT_OK_12


@pytest.mark.parametrize(
    "soap_action",
    [None, '""', '"http://cp.gov.tw/gsp2/Other"', "VerifyTOTPCode"],
    ids=["missing", "empty", "other-operation", "unquoted-bare-name"],
)
def test_soap11_action_does_not_matter(live_server, demo, clock, soap_action):
    headers = {"Content-Type": CONTENT_TYPE[False]}
    if soap_action is not None:
        headers["SOAPAction"] = soap_action
    answer = requests.post(
        live_server.url, data=valid_call(demo, clock, False), headers=headers, timeout=10
    )
    assert_no_internals(answer.content)
    assert answer.status_code == 200
    assert soap_result(answer.content) == (0, "動態密碼驗證通過")


# -- paths -------------------------------------------------------------------------------------

ENDPOINT_PATHS = [
    "/gsp2ws/TOTP.asmx",
    "/GSP2WS/totp.ASMX",
    "/gsp2ws/TOTP.aspx",
    "/GSP2WS/TOTP.ASPX",
]
OTHER_PATHS = [
    "/",
    "/gsp2ws/",
    "/gsp2ws/Other.asmx",
    "/gsp2ws/TOTP.asmx/extra",
    "/gsp2ws/TOTP.asmx.bak",
    "/gsp2/TOTP.asmx",
    "/TOTP.asmx",
]


@pytest.mark.parametrize("path", ENDPOINT_PATHS)
def test_endpoint_paths_answer_calls(live_server, demo, clock, soap12, path):
    answer = send(live_server.base + path, valid_call(demo, clock, soap12), soap12)
    assert answer.status_code == 200
    assert answer.content == CONTRACT_OK[soap12]


def test_other_paths_are_not_found(live_server, demo, clock):
    statuses = {}
    for path in OTHER_PATHS:
        url = live_server.base + path
        statuses[f"POST {path}"] = send(url, valid_call(demo, clock, False)).status_code
        statuses[f"GET {path}?WSDL"] = fetch(f"{url}?WSDL").status_code
    assert statuses == dict.fromkeys(statuses, 404)


def test_call_on_another_path_is_not_verified(live_server, demo, clock, store):
    send(live_server.base + "/gsp2ws/Other.asmx", valid_call(demo, clock, False))
    assert audit_rows(store) == []


# -- WSDL --------------------------------------------------------------------------------------


def expected_wsdl(service_url: str) -> bytes:
    """The committed file with its two address ``location`` values replaced by ``service_url``."""
    committed = COMMITTED_WSDL.read_bytes()
    expected, count = re.subn(
        rb'(<(?:soap|soap12):address location=")[^"]*(")',
        lambda m: m.group(1) + service_url.encode() + m.group(2),
        committed,
    )
    assert count == 2, "the committed WSDL should have exactly two soap addresses"
    return expected


def wsdl_addresses(body: bytes) -> list[str]:
    return parse_xml(body).xpath(
        "//wsdl:port/soap:address/@location | //wsdl:port/soap12:address/@location",
        namespaces=WSDL_NS,
    )


@pytest.mark.parametrize("word", ["WSDL", "wsdl", "Wsdl"])
def test_wsdl_query_word_is_case_insensitive(live_server, word):
    answer = fetch(f"{live_server.url}?{word}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/xml")
    assert answer.content == expected_wsdl(live_server.url)


@pytest.mark.parametrize("path", ENDPOINT_PATHS)
def test_wsdl_addresses_are_the_url_it_was_fetched_from(live_server, path):
    answer = fetch(f"{live_server.base}{path}?WSDL")
    assert answer.content == expected_wsdl(live_server.base + path)
    assert wsdl_addresses(answer.content) == [live_server.base + path] * 2


def test_wsdl_behind_a_trusted_proxy_has_the_public_address(serve):
    server = serve(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    answer = fetch(
        f"{server.url}?WSDL",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "otp.example.gov.tw"},
    )
    public = "https://otp.example.gov.tw/gsp2ws/TOTP.asmx"
    assert answer.content == expected_wsdl(public)


def test_wsdl_ignores_forwarded_headers_from_an_untrusted_peer(live_server):
    answer = fetch(
        f"{live_server.url}?WSDL",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "otp.example.gov.tw"},
    )
    assert answer.content == expected_wsdl(live_server.url)


# -- help pages --------------------------------------------------------------------------------


def test_service_page_lists_the_operation(live_server):
    page = fetch(live_server.url)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "VerifyTOTPCode" in page.text
    links = re.findall(r'href="([^"]*)"', page.text)
    assert [link for link in links if link.endswith("?op=VerifyTOTPCode")]


def test_service_page_links_lead_to_the_operation_page_and_the_wsdl(live_server):
    links = re.findall(r'href="([^"]*)"', fetch(live_server.url).text)
    targets = {html.unescape(link) for link in links}
    op_link = next(t for t in targets if t.endswith("?op=VerifyTOTPCode"))
    wsdl_link = next(t for t in targets if t.lower().endswith("?wsdl"))
    op_page = fetch(urljoin(live_server.url, op_link))
    assert op_page.status_code == 200
    assert "<TOTPCode>string</TOTPCode>" in html.unescape(op_page.text)
    assert fetch(urljoin(live_server.url, wsdl_link)).content == expected_wsdl(live_server.url)


OPERATION_PAGE_SAMPLES = [
    'SOAPAction: "http://cp.gov.tw/gsp2/VerifyTOTPCode"',
    "<TOTPCode>string</TOTPCode>",
    "<account>string</account>",
    "<ServiceID>string</ServiceID>",
    "<Code>int</Code>",
    "<Message>string</Message>",
    "Content-Type: text/xml; charset=utf-8",
    "Content-Type: application/soap+xml; charset=utf-8",
    f'="{SOAP11_NS}"',
    f'="{SOAP12_NS}"',
    "POST /gsp2ws/TOTP.asmx HTTP/1.1",
]


def test_operation_page_shows_soap11_and_soap12_samples(live_server):
    page = fetch(f"{live_server.url}?op=VerifyTOTPCode")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = html.unescape(page.text)
    assert [sample for sample in OPERATION_PAGE_SAMPLES if sample not in text] == []


def test_operation_page_shows_the_host_it_was_requested_at(live_server):
    page = fetch(f"{live_server.url}?op=VerifyTOTPCode")
    assert f"Host: {live_server.base.removeprefix('http://')}" in html.unescape(page.text)


@pytest.mark.parametrize("op", ["DeleteEverything", "", "VerifyTOTPCodeX"])
def test_unknown_operation_page_is_not_found(live_server, op):
    assert fetch(f"{live_server.url}?op={op}").status_code == 404


# -- faults ------------------------------------------------------------------------------------


def _wrap(soap12: bool, body_xml: str, header: bool = True) -> bytes:
    ns = envelope_ns(soap12)
    head = (
        (
            f'<soap:Header><ServiceHeader xmlns="http://cp.gov.tw/gsp2"><ServiceID>{SERVICE_ID}'
            f"</ServiceID></ServiceHeader></soap:Header>"
        )
        if header
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}">{head}'
        f"<soap:Body>{body_xml}</soap:Body></soap:Envelope>"
    ).encode()


CALLER_MISTAKES = {
    "malformed-xml": lambda v: _wrap(v, "<VerifyTOTPCode xmlns='http://cp.gov.tw/gsp2'>")[:-30],
    "not-xml-at-all": lambda v: b"account=wederlin&TOTPCode=123456",
    "unknown-operation": lambda v: _wrap(v, '<DeleteEverything xmlns="http://cp.gov.tw/gsp2"/>'),
    "operation-in-another-namespace": lambda v: _wrap(v, '<VerifyTOTPCode xmlns="urn:other"/>'),
    # {}VerifyTOTPCode is not {http://cp.gov.tw/gsp2}VerifyTOTPCode: "only namespaces matter on
    # input". spyne maps an unqualified body element into the service namespace
    # (spyne/protocol/_base.py, generate_method_contexts), so this is answered as a call today.
    "operation-without-namespace": lambda v: _wrap(
        v, "<VerifyTOTPCode><account>a</account></VerifyTOTPCode>"
    ),
    "non-envelope-root": lambda v: (
        b'<VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">'
        b"<account>wederlin</account></VerifyTOTPCode>"
    ),
    "envelope-without-body": lambda v: (
        f'<soap:Envelope xmlns:soap="{envelope_ns(v)}"></soap:Envelope>'
    ).encode(),
    "doctype-with-external-entity": lambda v: (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + _wrap(
            v,
            '<VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2"><account>&e;</account></VerifyTOTPCode>',
        ).split(b"?>", 1)[1]
    ),
    # The three below made spyne raise (an HTML 500 page instead of a fault) until the
    # endpoint checked the envelope's structure itself.
    "empty-request-body": lambda v: b"",
    "empty-soap-body": lambda v: _wrap(v, ""),
    "fault-as-request-body": lambda v: _wrap(
        v, "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>x</faultstring></soap:Fault>"
    ),
}


def assert_readable_fault(
    answer: requests.Response, soap12: bool, local_code: str, status: int = 500
) -> None:
    """``answer`` is a SOAP fault of the given version with code ``soap:<local_code>`` and a
    short, readable reason that names no internals."""
    ns = envelope_ns(soap12)
    assert answer.status_code == status, answer.content[:500]
    assert answer.headers["Content-Type"] == CONTENT_TYPE[soap12], answer.content[:500]
    fault = soap_fault(answer.content)
    assert (fault.envelope_ns, fault.code) == (ns, f"{{{ns}}}{local_code}")
    assert 0 < len(fault.reason) <= 200
    assert_no_internals(fault.reason)


@pytest.mark.parametrize("mistake", CALLER_MISTAKES.values(), ids=CALLER_MISTAKES.keys())
def test_caller_mistake_is_a_client_fault(live_server, soap12, mistake):
    answer = send(live_server.url, mistake(soap12), soap12)
    assert_readable_fault(answer, soap12, "Sender" if soap12 else "Client")


def test_external_entity_is_never_expanded(live_server, tmp_path):
    """A DOCTYPE naming a local file is refused as the caller's mistake (a Client fault), and the
    file's content appears nowhere in the answer."""
    marker = tmp_path / "entity.txt"
    marker.write_text("marker-4f1d0c")
    body = CALLER_MISTAKES["doctype-with-external-entity"](False).replace(
        b"file:///etc/passwd", marker.as_uri().encode()
    )
    answer = send(live_server.url, body)
    assert b"marker-4f1d0c" not in answer.content
    assert_readable_fault(answer, False, "Client")


def test_soap12_envelope_sent_as_text_xml_is_a_version_mismatch(live_server, demo, clock):
    answer = send(live_server.url, valid_call(demo, clock, True), False)
    assert_readable_fault(answer, False, "VersionMismatch")


def test_soap11_envelope_sent_as_soap12_is_a_soap12_version_mismatch(live_server, demo, clock):
    answer = send(live_server.url, valid_call(demo, clock, False), True)
    assert_readable_fault(answer, True, "VersionMismatch")


def test_unknown_envelope_namespace_is_a_version_mismatch(live_server, demo, clock, soap12):
    body = valid_call(demo, clock, soap12).replace(envelope_ns(soap12).encode(), b"urn:not-soap")
    assert_readable_fault(send(live_server.url, body, soap12), soap12, "VersionMismatch")


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded", None]
)
def test_unsupported_content_type(live_server, demo, clock, content_type):
    headers = {"SOAPAction": SOAP_ACTION}
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = requests.post(
        live_server.url, data=valid_call(demo, clock, False), headers=headers, timeout=10
    )
    assert_no_internals(answer.content)
    assert_readable_fault(answer, False, "Client", status=415)


def padded(body: bytes, size: int) -> bytes:
    """``body`` with whitespace added inside ``soap:Body`` to exactly ``size`` bytes."""
    assert len(body) <= size
    return body.replace(b"<soap:Body>", b"<soap:Body>" + b" " * (size - len(body)), 1)


def _oversized(demo, clock, soap12: bool, limit: int) -> bytes:
    return padded(valid_call(demo, clock, soap12), limit + 1)


def test_body_over_the_limit_is_refused(live_server, settings, demo, clock, soap12):
    body = _oversized(demo, clock, soap12, settings.max_request_bytes)
    assert_readable_fault(
        send(live_server.url, body, soap12), soap12, "Sender" if soap12 else "Client", status=413
    )


def test_body_of_exactly_the_limit_is_answered(live_server, settings, demo, clock, soap12):
    body = padded(valid_call(demo, clock, soap12), settings.max_request_bytes)
    answer = send(live_server.url, body, soap12)
    assert answer.status_code == 200
    assert answer.content == CONTRACT_OK[soap12]


def test_chunked_body_over_the_limit_is_refused(live_server, settings, demo, clock, soap12):
    body = _oversized(demo, clock, soap12, settings.max_request_bytes)
    chunks = (body[i : i + 4096] for i in range(0, len(body), 4096))  # no Content-Length
    answer = requests.post(
        live_server.url, data=chunks, headers={"Content-Type": CONTENT_TYPE[soap12]}, timeout=10
    )
    assert_no_internals(answer.content)
    assert_readable_fault(answer, soap12, "Sender" if soap12 else "Client", status=413)


def test_chunked_call_within_the_limit_is_answered(live_server, demo, clock, soap12):
    body = valid_call(demo, clock, soap12)
    chunks = (body[i : i + 64] for i in range(0, len(body), 64))
    answer = requests.post(
        live_server.url, data=chunks, headers={"Content-Type": CONTENT_TYPE[soap12]}, timeout=10
    )
    assert answer.content == CONTRACT_OK[soap12]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_not_allowed(live_server, demo, clock, method):
    answer = requests.request(
        method,
        live_server.url,
        data=valid_call(demo, clock, False),
        headers={"Content-Type": CONTENT_TYPE[False]},
        timeout=10,
    )
    assert_no_internals(answer.content)
    assert answer.status_code == 405
    assert "POST" in answer.headers.get("Allow", "")


def test_faults_are_not_audited_and_do_not_stop_the_server(
    live_server, store, settings, demo, clock, soap12
):
    for name, mistake in CALLER_MISTAKES.items():
        if name == "operation-without-namespace":
            continue  # answered, so audited, today: test_caller_mistake_is_a_client_fault fails
        requests.post(
            live_server.url,
            data=mistake(soap12),
            headers={"Content-Type": CONTENT_TYPE[soap12]},
            timeout=10,
        )
    send(live_server.url, valid_call(demo, clock, not soap12), soap12)  # version mismatch
    send(live_server.url, _oversized(demo, clock, soap12, settings.max_request_bytes), soap12)
    requests.put(live_server.url, data=b"x", timeout=10)
    assert audit_rows(store) == []

    answer = send(live_server.url, valid_call(demo, clock, soap12), soap12)
    assert answer.content == CONTRACT_OK[soap12]
    assert [row.code for row in audit_rows(store)] == [0]
