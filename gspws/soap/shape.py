"""Bytes as ASP.NET writes them: the envelope, the response element, faults.

Real callers read answers with ``indexOf("<Code>")``, so the shape is part of the contract: an
XML declaration in double quotes, ``soap``/``xsi``/``xsd`` declared on the envelope, the response
element declaring the service namespace as default, and no prefix below it.
"""

from dataclasses import dataclass

from lxml import etree

TNS = "http://cp.gov.tw/gsp2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


@dataclass(frozen=True)
class SoapVersion:
    name: str
    envelope_ns: str
    content_type: str
    client_fault: str  # faultcode / Code Value local name for the caller's mistakes
    server_fault: str

    def qname(self, local: str) -> str:
        return f"{{{self.envelope_ns}}}{local}"


SOAP11 = SoapVersion(
    "1.1",
    "http://schemas.xmlsoap.org/soap/envelope/",
    "text/xml; charset=utf-8",
    "Client",
    "Server",
)
SOAP12 = SoapVersion(
    "1.2",
    "http://www.w3.org/2003/05/soap-envelope",
    "application/soap+xml; charset=utf-8",
    "Sender",
    "Receiver",
)


def envelope(version: SoapVersion, payload: etree._Element) -> bytes:
    """``payload`` inside ``soap:Envelope/soap:Body``, serialised as ASP.NET does."""
    env = etree.Element(
        version.qname("Envelope"), nsmap={"soap": version.envelope_ns, "xsi": XSI, "xsd": XSD}
    )
    etree.SubElement(env, version.qname("Body")).append(payload)
    return XML_DECLARATION + etree.tostring(env, encoding="utf-8")


def unprefixed(element: etree._Element) -> etree._Element:
    """A copy of ``element`` that declares its namespace as the default one, so that neither it
    nor its descendants in that namespace carry a prefix."""
    namespace = etree.QName(element).namespace
    copy = etree.Element(element.tag, element.attrib, nsmap={None: namespace})
    _copy_children(element, copy)
    return copy


def _copy_children(source: etree._Element, target: etree._Element) -> None:
    target.text = source.text
    for child in source:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        copy = etree.SubElement(target, child.tag, child.attrib)
        _copy_children(child, copy)
        copy.tail = None


def fault(version: SoapVersion, code: str, reason: str) -> bytes:
    """A SOAP Fault of ``version`` with faultcode ``soap:<code>`` and a readable reason."""
    soap = version.qname
    node = etree.Element(soap("Fault"))
    if version is SOAP11:
        etree.SubElement(node, "faultcode").text = f"soap:{code}"
        etree.SubElement(node, "faultstring").text = reason
        etree.SubElement(node, "detail")
    else:
        value = etree.SubElement(etree.SubElement(node, soap("Code")), soap("Value"))
        value.text = f"soap:{code}"
        text = etree.SubElement(etree.SubElement(node, soap("Reason")), soap("Text"))
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = reason
        etree.SubElement(node, soap("Detail"))
    return envelope(version, node)
