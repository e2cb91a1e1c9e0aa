"""Contract tests for the committed WSDL, its rendering and the help pages.

Why: ``wsdl/TOTP.wsdl`` is the contract existing GSP callers generated their
stubs from. These tests pin its ASP.NET shape, prove that a real stub
generator (zeep) derives the wrapped signature
``CP2Response VerifyTOTPCode(string account, string TOTPCode)`` with an
``int Code`` from it (and the binding operations' signatures), that the
original one-operation contract (``tests/fixtures/TOTP-v1.wsdl``) is contained
unchanged, that serving it only changes the two addresses, and that the help
pages show the samples integrators copy. No server is needed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
import zeep
from lxml import etree

from gspws.soap.help import OPERATIONS, PARAMETERS, HelpPages
from gspws.soap.wsdl import WsdlDocument, WsdlError, default_wsdl_path, load_wsdl

from helpers import REPO

REPO_ROOT = REPO
WSDL_PATH = REPO_ROOT / "wsdl" / "TOTP.wsdl"
V1_WSDL_PATH = REPO_ROOT / "tests" / "fixtures" / "TOTP-v1.wsdl"
PLACEHOLDER = "http://localhost/gsp2ws/TOTP.asmx"
TNS = "http://cp.gov.tw/gsp2"
NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "s": "http://www.w3.org/2001/XMLSchema",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
    "tns": TNS,
}
XSD_STRING = "{http://www.w3.org/2001/XMLSchema}string"
XSD_INT = "{http://www.w3.org/2001/XMLSchema}int"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"

# The response exactly as the contract (gsp-soap.md) spells it.
CONTRACT_RESPONSE = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    '<soap:Body><VerifyTOTPCodeResponse xmlns="http://cp.gov.tw/gsp2"><VerifyTOTPCodeResult><Code>0</Code>'
    "<Message>動態密碼驗證通過</Message></VerifyTOTPCodeResult></VerifyTOTPCodeResponse></soap:Body></soap:Envelope>"
).encode()


@pytest.fixture(scope="module")
def tree() -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(WSDL_PATH), parser).getroot()


@pytest.fixture(scope="module")
def client() -> zeep.Client:
    return zeep.Client(str(WSDL_PATH))


# --------------------------------------------------------------- file shape


def test_default_path_is_the_committed_file():
    assert default_wsdl_path() == WSDL_PATH
    assert load_wsdl() is load_wsdl(WSDL_PATH)  # loaded once, cached


def test_asp_net_root_and_schema(tree):
    assert tree.tag == f"{{{NS['wsdl']}}}definitions"
    assert tree.get("targetNamespace") == TNS
    assert tree.nsmap == {
        "soap": NS["soap"],
        "tm": "http://microsoft.com/wsdl/mime/textMatching/",
        "soapenc": "http://schemas.xmlsoap.org/soap/encoding/",
        "mime": "http://schemas.xmlsoap.org/wsdl/mime/",
        "tns": TNS,
        "s": NS["s"],
        "soap12": NS["soap12"],
        "http": "http://schemas.xmlsoap.org/wsdl/http/",
        "wsdl": NS["wsdl"],
    }
    (schema,) = tree.xpath("wsdl:types/s:schema", namespaces=NS)
    assert schema.get("elementFormDefault") == "qualified"
    assert schema.get("targetNamespace") == TNS


def _elements(node):
    return [
        (e.get("name"), e.get("type"), e.get("minOccurs"), e.get("maxOccurs"))
        for e in node.xpath("s:sequence/s:element", namespaces=NS)
    ]


def test_schema_types(tree):
    schema = tree.xpath("wsdl:types/s:schema", namespaces=NS)[0]
    (req,) = schema.xpath("s:element[@name='VerifyTOTPCode']/s:complexType", namespaces=NS)
    assert _elements(req) == [
        ("account", "s:string", "0", "1"),
        ("TOTPCode", "s:string", "0", "1"),
    ]
    (resp,) = schema.xpath("s:element[@name='VerifyTOTPCodeResponse']/s:complexType", namespaces=NS)
    assert _elements(resp) == [("VerifyTOTPCodeResult", "tns:CP2Response", "0", "1")]
    (cp2,) = schema.xpath("s:complexType[@name='CP2Response']", namespaces=NS)
    assert _elements(cp2) == [("Code", "s:int", "1", "1"), ("Message", "s:string", "0", "1")]
    (hdr_el,) = schema.xpath("s:element[@name='ServiceHeader']", namespaces=NS)
    assert hdr_el.get("type") == "tns:ServiceHeader"
    (hdr,) = schema.xpath("s:complexType[@name='ServiceHeader']", namespaces=NS)
    assert _elements(hdr) == [("ServiceID", "s:string", "0", "1")]
    assert len(hdr.xpath("s:anyAttribute", namespaces=NS)) == 1


#: Every operation with its parameters and its result type, in the WSDL's order.
SIGNATURES = {
    "VerifyTOTPCode": (("account", "TOTPCode"), "CP2Response"),
    "GetTOTPStatus": (("account",), "CP2ResponseOfTOTPStatus"),
    "BeginTOTPBinding": (("account", "deviceName"), "CP2ResponseOfTOTPBinding"),
    "ConfirmTOTPBinding": (("account", "TOTPCode"), "CP2Response"),
    "DisableTOTP": (("account", "TOTPCode"), "CP2Response"),
    "CreateBindingLink": (("account",), "CP2ResponseOfString"),
}


def test_messages_porttype_bindings_service(tree):
    parts = {
        m.get("name"): [
            (p.get("name"), p.get("element")) for p in m.xpath("wsdl:part", namespaces=NS)
        ]
        for m in tree.xpath("wsdl:message", namespaces=NS)
    }
    expected = {}
    for name in SIGNATURES:  # ASP.NET's three messages per operation, in operation order
        expected[f"{name}SoapIn"] = [("parameters", f"tns:{name}")]
        expected[f"{name}SoapOut"] = [("parameters", f"tns:{name}Response")]
        expected[f"{name}ServiceHeader"] = [("ServiceHeader", "tns:ServiceHeader")]
    assert list(parts.items()) == list(expected.items())
    assert [p.get("name") for p in tree.xpath("wsdl:portType", namespaces=NS)] == ["TOTPSoap"]
    port_ops = tree.xpath("wsdl:portType/wsdl:operation", namespaces=NS)
    assert [
        (
            o.get("name"),
            o.xpath("wsdl:input/@message", namespaces=NS),
            o.xpath("wsdl:output/@message", namespaces=NS),
        )
        for o in port_ops
    ] == [(n, [f"tns:{n}SoapIn"], [f"tns:{n}SoapOut"]) for n in SIGNATURES]

    for name, prefix in (("TOTPSoap", "soap"), ("TOTPSoap12", "soap12")):
        (b,) = tree.xpath("wsdl:binding[@name=$n]", namespaces=NS, n=name)
        assert b.get("type") == "tns:TOTPSoap"
        assert b.xpath(f"{prefix}:binding/@transport", namespaces=NS) == [
            "http://schemas.xmlsoap.org/soap/http"
        ]
        assert b.xpath("wsdl:operation/@name", namespaces=NS) == list(SIGNATURES)
        for operation in SIGNATURES:
            (op,) = b.xpath("wsdl:operation[@name=$o]", namespaces=NS, o=operation)
            (sop,) = op.xpath(f"{prefix}:operation", namespaces=NS)
            assert sop.get("soapAction") == f"http://cp.gov.tw/gsp2/{operation}"
            assert sop.get("style") == "document"
            assert op.xpath(f"wsdl:input/{prefix}:body/@use", namespaces=NS) == ["literal"]
            assert op.xpath(f"wsdl:output/{prefix}:body/@use", namespaces=NS) == ["literal"]
            (h,) = op.xpath(f"wsdl:input/{prefix}:header", namespaces=NS)
            assert dict(h.attrib) == {
                "message": f"tns:{operation}ServiceHeader",
                "part": "ServiceHeader",
                "use": "literal",
            }
            # [SoapHeader] defaults to Direction.In: no header on the output.
            assert op.xpath(f"wsdl:output/{prefix}:header", namespaces=NS) == []

    (svc,) = tree.xpath("wsdl:service", namespaces=NS)
    assert svc.get("name") == "TOTP"
    ports = {p.get("name"): p.get("binding") for p in svc.xpath("wsdl:port", namespaces=NS)}
    assert ports == {"TOTPSoap": "tns:TOTPSoap", "TOTPSoap12": "tns:TOTPSoap12"}
    assert svc.xpath("wsdl:port/soap:address/@location", namespaces=NS) == [PLACEHOLDER]
    assert svc.xpath("wsdl:port/soap12:address/@location", namespaces=NS) == [PLACEHOLDER]


def test_file_starts_like_asp_net_output():
    assert WSDL_PATH.read_bytes().startswith(
        b'<?xml version="1.0" encoding="utf-8"?>\n<wsdl:definitions '
    )


# ------------------------------------------------------------- zeep stubs


def test_zeep_sees_both_bindings(client):
    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding

    bindings = client.wsdl.bindings
    assert set(bindings) == {f"{{{TNS}}}TOTPSoap", f"{{{TNS}}}TOTPSoap12"}
    assert type(bindings[f"{{{TNS}}}TOTPSoap"]) is Soap11Binding
    assert type(bindings[f"{{{TNS}}}TOTPSoap12"]) is Soap12Binding
    ports = client.wsdl.services["TOTP"].ports
    assert set(ports) == {"TOTPSoap", "TOTPSoap12"}
    assert ports["TOTPSoap"].binding_options["address"] == PLACEHOLDER


@pytest.mark.parametrize("binding_name", ["TOTPSoap", "TOTPSoap12"])
def test_zeep_wrapped_signature(client, binding_name):
    binding = client.wsdl.bindings[f"{{{TNS}}}{binding_name}"]
    assert list(binding._operations) == list(SIGNATURES)
    op = binding._operations["VerifyTOTPCode"]
    assert op.soapaction == "http://cp.gov.tw/gsp2/VerifyTOTPCode"
    assert op.style == "document"

    inputs = op.input.body.type.elements
    assert [(n, e.type.qname.text) for n, e in inputs] == [
        ("account", XSD_STRING),
        ("TOTPCode", XSD_STRING),
    ]
    assert [n for n, _ in op.input.header.type.elements] == ["ServiceHeader"]

    ((result_name, result),) = op.output.body.type.elements
    assert result_name == "VerifyTOTPCodeResult"
    assert result.type.qname.text == f"{{{TNS}}}CP2Response"
    fields = {n: (e.type.qname.text, e.min_occurs) for n, e in result.type.elements}
    assert fields == {"Code": (XSD_INT, 1), "Message": (XSD_STRING, 0)}


@pytest.mark.parametrize("operation", list(SIGNATURES)[1:])
def test_zeep_binding_operation_signatures(client, operation):
    params, result_type = SIGNATURES[operation]
    op = client.wsdl.bindings[f"{{{TNS}}}TOTPSoap"]._operations[operation]
    assert op.soapaction == f"http://cp.gov.tw/gsp2/{operation}"
    assert [(n, e.type.qname.text) for n, e in op.input.body.type.elements] == [
        (p, XSD_STRING) for p in params
    ]
    assert [n for n, _ in op.input.header.type.elements] == ["ServiceHeader"]
    ((result_name, result),) = op.output.body.type.elements
    assert (result_name, result.type.qname.text) == (
        f"{operation}Result",
        f"{{{TNS}}}{result_type}",
    )
    fields = [(n, e.min_occurs) for n, e in result.type.elements]
    assert fields[:2] == [("Code", 1), ("Message", 0)]
    assert fields[2:] == ([] if result_type == "CP2Response" else [("Result", 0)])


def test_result_types_follow_asp_net_serialization(client):
    """``bool`` is s:boolean minOccurs=1, ``byte[]`` s:base64Binary, a list ``ArrayOfX``."""

    def fields(name):
        return {
            n: (e.type.qname.text, e.min_occurs, e.max_occurs)
            for n, e in client.get_type(f"{{{TNS}}}{name}").elements
        }

    xsd = "{http://www.w3.org/2001/XMLSchema}"
    assert fields("TOTPStatus") == {
        "Enabled": (f"{xsd}boolean", 1, 1),
        "Devices": (f"{{{TNS}}}ArrayOfTOTPDevice", 0, 1),
    }
    assert fields("ArrayOfTOTPDevice") == {"TOTPDevice": (f"{{{TNS}}}TOTPDevice", 0, "unbounded")}
    assert fields("TOTPDevice") == {
        "Serial": (XSD_STRING, 0, 1),
        "DeviceName": (XSD_STRING, 0, 1),
        "Phone": (XSD_STRING, 0, 1),
        "Period": (XSD_INT, 1, 1),
        "Locked": (f"{xsd}boolean", 1, 1),
        "DriftSeconds": (XSD_INT, 0, 1),  # added later, optional (issue 13)
    }
    assert fields("TOTPBinding") == {
        "OtpauthUri": (XSD_STRING, 0, 1),
        "QrPng": (f"{xsd}base64Binary", 0, 1),
        "Serial": (XSD_STRING, 0, 1),
    }
    assert fields("CP2ResponseOfString")["Result"] == (XSD_STRING, 0, 1)


def test_the_original_contract_is_contained_unchanged():
    """Adding operations breaks nobody: every line of the one-operation WSDL that described
    VerifyTOTPCode, its types and the service is still there, in the same order."""
    old = V1_WSDL_PATH.read_text(encoding="utf-8").splitlines()
    new = WSDL_PATH.read_text(encoding="utf-8").splitlines()
    position = 0
    for number, line in enumerate(old, 1):
        assert line in new[position:], f"TOTP-v1.wsdl line {number} missing or moved: {line!r}"
        position = new.index(line, position) + 1


def test_zeep_request_matches_contract(client):
    """A zeep stub's request has the body and header shape the contract shows."""
    msg = client.create_message(
        client.service,
        "VerifyTOTPCode",
        account="wederlin",
        TOTPCode="123456",
        _soapheaders={"ServiceHeader": {"ServiceID": "APP0001931"}},
    )
    assert msg.tag == f"{{{SOAP11_ENV}}}Envelope"
    (sid,) = msg.xpath(
        "e:Header/t:ServiceHeader/t:ServiceID", namespaces={"e": SOAP11_ENV, "t": TNS}
    )
    assert sid.text == "APP0001931"
    (call,) = msg.xpath("e:Body/t:VerifyTOTPCode", namespaces={"e": SOAP11_ENV, "t": TNS})
    assert [(etree.QName(c).namespace, etree.QName(c).localname, c.text) for c in call] == [
        (TNS, "account", "wederlin"),
        (TNS, "TOTPCode", "123456"),
    ]


def test_zeep_parses_contract_response_with_int_code(client):
    op = client.wsdl.bindings[f"{{{TNS}}}TOTPSoap"]._operations["VerifyTOTPCode"]
    result = op.output.deserialize(etree.fromstring(CONTRACT_RESPONSE))
    assert result.Code == 0 and isinstance(result.Code, int)
    assert result.Message == "動態密碼驗證通過"


# ------------------------------------------------------------------ render


def test_render_replaces_exactly_the_addresses():
    doc = WsdlDocument(WSDL_PATH)
    text = WSDL_PATH.read_text(encoding="utf-8")
    assert text.count(PLACEHOLDER) == 2  # the two address locations, nowhere else
    url = "https://www.cp.gov.tw/gsp2ws/TOTP.asmx"
    assert doc.render(url) == text.replace(PLACEHOLDER, url).encode("utf-8")
    assert doc.render(PLACEHOLDER) == WSDL_PATH.read_bytes()
    assert doc.raw == WSDL_PATH.read_bytes()
    assert doc.placeholder_locations == (PLACEHOLDER, PLACEHOLDER)


def test_render_escapes_the_url():
    doc = WsdlDocument(WSDL_PATH)
    url = 'http://h:8080/gsp2ws/TOTP.asmx?a=1&b="<2>"'
    out = doc.render(url)
    text = WSDL_PATH.read_text(encoding="utf-8")
    escaped = "http://h:8080/gsp2ws/TOTP.asmx?a=1&amp;b=&quot;&lt;2&gt;&quot;"
    assert out == text.replace(PLACEHOLDER, escaped).encode("utf-8")
    root = etree.fromstring(out)
    assert root.xpath("//soap:address/@location | //soap12:address/@location", namespaces=NS) == [
        url,
        url,
    ]


def test_rendered_wsdl_loads_in_zeep_with_new_address(tmp_path):
    url = "https://gsp.example.org:8443/GSP2WS/TOTP.aspx"
    f = tmp_path / "TOTP.wsdl"
    f.write_bytes(WsdlDocument(WSDL_PATH).render(url))
    ports = zeep.Client(str(f)).wsdl.services["TOTP"].ports
    assert ports["TOTPSoap"].binding_options["address"] == url
    assert ports["TOTPSoap12"].binding_options["address"] == url


def test_rejects_ambiguous_or_missing_addresses(tmp_path):
    text = WSDL_PATH.read_text(encoding="utf-8")
    commented = tmp_path / "commented.wsdl"
    commented.write_text(
        text.replace("<wsdl:types>", '<!-- <soap:address location="x" /> --><wsdl:types>', 1),
        encoding="utf-8",
    )
    with pytest.raises(WsdlError):
        WsdlDocument(commented)
    with pytest.raises(WsdlError):
        WsdlDocument(tmp_path / "missing.wsdl")
    broken = tmp_path / "broken.wsdl"
    broken.write_text(text[:-40], encoding="utf-8")
    with pytest.raises(WsdlError):
        WsdlDocument(broken)


@pytest.mark.parametrize(
    "entity, reason",
    [
        # External entities are never fetched: libxml2 refuses them in attributes.
        ('<!ENTITY x SYSTEM "file:///etc/passwd">', "not well-formed"),
        # An internal entity parses, but the raw text no longer equals what the
        # parser sees, so the splice check refuses instead of guessing.
        ('<!ENTITY x "http://evil/">', "could not be located"),
    ],
)
def test_entities_in_addresses_are_refused(tmp_path, entity, reason):
    text = WSDL_PATH.read_text(encoding="utf-8")
    evil = tmp_path / "evil.wsdl"
    evil.write_text(
        text.replace(
            '<?xml version="1.0" encoding="utf-8"?>\n',
            f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE d [{entity}]>\n',
        ).replace(f'location="{PLACEHOLDER}"', 'location="&x;"'),
        encoding="utf-8",
    )
    with pytest.raises(WsdlError, match=reason):
        WsdlDocument(evil)


# -------------------------------------------------------------- help pages


@dataclass(frozen=True)
class _Code:
    code: int
    message: str


STAND_IN_CODES = (
    _Code(0, "動態密碼驗證通過"),
    _Code(8104, "認證錯誤：存取位置未被授權"),
    _Code(1, "<b>x</b>"),
)
SERVICE_URL = "https://www.cp.gov.tw:8443/gsp2ws/TOTP.asmx"


@pytest.fixture(scope="module")
def pages() -> HelpPages:
    return HelpPages(return_codes=STAND_IN_CODES)


def test_service_page(pages):
    page = pages.service_page(SERVICE_URL)
    assert "<title>TOTP Web Service</title>" in page
    assert 'href="TOTP.asmx?WSDL"' in page
    for op in OPERATIONS:
        assert f'href="TOTP.asmx?op={op}"' in page
    assert ">VerifyTOTPCode</a>" in page


def _samples(page: str) -> list[str]:
    """The text of the <pre> sample blocks, as a browser shows them."""
    root = etree.fromstring(page.encode("utf-8"), etree.HTMLParser())
    return [pre.text for pre in root.iter("pre")]


def test_operation_page_samples(pages):
    page = pages.operation_page("VerifyTOTPCode", SERVICE_URL)
    assert page is not None
    assert "<h3>SOAP 1.1</h3>" in page and "<h3>SOAP 1.2</h3>" in page
    req11, resp11, req12, resp12 = _samples(page)

    assert req11.startswith(
        "POST /gsp2ws/TOTP.asmx HTTP/1.1\n"
        "Host: www.cp.gov.tw:8443\n"
        "Content-Type: text/xml; charset=utf-8\n"
        "Content-Length: length\n"
        'SOAPAction: "http://cp.gov.tw/gsp2/VerifyTOTPCode"\n'
        "\n"
        '<?xml version="1.0" encoding="utf-8"?>\n'
    )
    assert (
        "  <soap:Header>\n"
        '    <ServiceHeader xmlns="http://cp.gov.tw/gsp2">\n'
        "      <ServiceID>string</ServiceID>\n"
        "    </ServiceHeader>\n"
        "  </soap:Header>\n"
        "  <soap:Body>\n"
        '    <VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">\n'
        "      <account>string</account>\n"
        "      <TOTPCode>string</TOTPCode>\n"
        "    </VerifyTOTPCode>\n"
        "  </soap:Body>\n"
        "</soap:Envelope>"
    ) in req11
    assert resp11.startswith(
        "HTTP/1.1 200 OK\nContent-Type: text/xml; charset=utf-8\nContent-Length: length\n\n"
    )
    assert (
        "      <VerifyTOTPCodeResult>\n"
        "        <Code>int</Code>\n"
        "        <Message>string</Message>\n"
        "      </VerifyTOTPCodeResult>\n"
    ) in resp11

    assert "Content-Type: application/soap+xml; charset=utf-8\n" in req12
    assert "SOAPAction" not in req12
    assert f'xmlns:soap12="{SOAP12_ENV}"' in req12 and "<soap12:Header>" in req12
    assert "<Code>int</Code>" in resp12

    # Every sample is well-formed XML after its HTTP headers, in the right envelope.
    for sample, env in (
        (req11, SOAP11_ENV),
        (resp11, SOAP11_ENV),
        (req12, SOAP12_ENV),
        (resp12, SOAP12_ENV),
    ):
        body = sample.split("\n\n", 1)[1].encode("utf-8")
        assert etree.fromstring(body).tag == f"{{{env}}}Envelope"


def test_operation_page_return_codes_and_escaping(pages):
    page = pages.operation_page("VerifyTOTPCode", SERVICE_URL)
    assert "<tr><td>0</td><td>動態密碼驗證通過</td></tr>" in page
    assert "<tr><td>8104</td><td>認證錯誤：存取位置未被授權</td></tr>" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_operation_page_uses_real_return_codes():
    codes = pytest.importorskip("gspws.core.codes")
    page = HelpPages().operation_page("VerifyTOTPCode", SERVICE_URL)
    for rc in codes.RETURN_CODES:
        assert f"<tr><td>{rc.code}</td><td>{html.escape(rc.message)}</td></tr>" in page


def test_operation_page_lookup(pages):
    assert pages.operation_page("NoSuchOp", SERVICE_URL) is None
    assert pages.operation_page("", SERVICE_URL) is None
    lower = pages.operation_page("verifytotpcode", SERVICE_URL)
    assert lower is not None and "<h2>VerifyTOTPCode</h2>" in lower


def test_help_pages_escape_the_url(pages):
    url = 'http://evil"><script>x</script>/gsp2ws/TOTP.asmx'
    for page in (pages.service_page(url), pages.operation_page("VerifyTOTPCode", url)):
        assert "<script>" not in page


def test_templates_generic_over_parameters():
    """Each operation's sample lists exactly its PARAMETERS entry."""
    page = HelpPages(return_codes=STAND_IN_CODES).operation_page("VerifyTOTPCode", SERVICE_URL)
    text = html.unescape(page)
    for name in PARAMETERS["VerifyTOTPCode"]:
        assert f"<{name}>string</{name}>" in text


def test_help_pages_are_made_from_the_wsdl(tmp_path):
    """Another service's WSDL gives its own pages: name, operations, SOAPActions, parameters."""
    other = tmp_path / "MobileOTP.wsdl"
    other.write_text(
        WSDL_PATH.read_text(encoding="utf-8")
        .replace('<wsdl:service name="TOTP">', '<wsdl:service name="MobileOTP">')
        .replace("VerifyTOTPCode", "VerifyOTP"),
        encoding="utf-8",
    )
    pages = HelpPages(return_codes=STAND_IN_CODES, wsdl=WsdlDocument(other))
    url = "https://www.cp.gov.tw/gsp2ws/MobileOTP.asmx"
    assert "<title>MobileOTP Web Service</title>" in pages.service_page(url)
    assert 'href="MobileOTP.asmx?op=VerifyOTP"' in pages.service_page(url)
    assert pages.operation_page("VerifyTOTPCode", url) is None
    text = html.unescape(pages.operation_page("VerifyOTP", url))
    assert 'SOAPAction: "http://cp.gov.tw/gsp2/VerifyOTP"' in text
    assert "<TOTPCode>string</TOTPCode>" in text and "<VerifyOTPResult>" in text
