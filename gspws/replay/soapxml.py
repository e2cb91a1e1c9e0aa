"""What an envelope is: parsed safely, its SOAP version, its operation, its outcome.

Recordings hold whatever callers sent, so every parse here is hardened like the server's own
(no entity expansion, no DTD loading, no network) and decodes bodies as the server does
(:func:`gspws.soap.charset.to_utf8`: BOM, charset parameter, XML declaration).
"""

from lxml import etree

from gspws.soap.charset import UndecodableBody, to_utf8
from gspws.soap.shape import SOAP11, SOAP12, TNS

VERSIONS = {SOAP11.envelope_ns: SOAP11, SOAP12.envelope_ns: SOAP12}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse(body: bytes, charset: str | None = None) -> etree._Element | None:
    """The root element of ``body``, or None when it is not well-formed XML."""
    try:
        text, _encoding = to_utf8(body, charset)
        return etree.fromstring(text, _PARSER)
    except (UndecodableBody, etree.XMLSyntaxError, ValueError):
        return None


def version_of(root: etree._Element | None):
    """The :class:`~gspws.soap.shape.SoapVersion` of a SOAP envelope, else None."""
    if root is None or etree.QName(root).localname != "Envelope":
        return None
    return VERSIONS.get(etree.QName(root).namespace)


def _body_child(root: etree._Element | None) -> etree._Element | None:
    version = version_of(root)
    body = root.find(version.qname("Body")) if version and root is not None else None
    if body is None:
        return None
    return next((child for child in body if isinstance(child.tag, str)), None)


def operation(root: etree._Element | None) -> str | None:
    """The local name of the first element in the Body (``VerifyTOTPCode``), else None."""
    child = _body_child(root)
    return etree.QName(child).localname if child is not None else None


def return_code(root: etree._Element | None) -> int | None:
    """The ``Code`` of a CP2Response, else None."""
    child = _body_child(root)
    text = child.findtext(f".//{{{TNS}}}Code") if child is not None else None
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def fault_code(root: etree._Element | None) -> str | None:
    """The local part of a SOAP Fault's code (``Client``, ``Sender``, ``VersionMismatch``)."""
    child = _body_child(root)
    if child is None or etree.QName(child).localname != "Fault":
        return None
    value = child.findtext("faultcode")
    if value is None:
        value = child.findtext(f"{{{SOAP12.envelope_ns}}}Code/{{{SOAP12.envelope_ns}}}Value")
    return (value or "").rpartition(":")[2].strip() or "?"


def outcome(body: bytes, charset: str | None = None) -> str:
    """A short label for a table: ``code 0``, ``fault Client``, or empty."""
    root = parse(body, charset)
    code = return_code(root)
    if code is not None:
        return f"code {code}"
    fault = fault_code(root)
    return f"fault {fault}" if fault else ""
