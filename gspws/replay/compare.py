"""Do two answers mean the same? HTTP status, Content-Type family, and the body's XML meaning.

Bytes are the wrong measure: the legacy service and gspws may choose other prefixes, declare
namespaces elsewhere, indent, or order attributes differently, and callers never see that. Both
bodies are therefore brought to a normal form, compared, and shown as a unified diff of that form
when they differ:

* names are resolved to their namespaces; each namespace is written with one fixed prefix
  (``soap``, ``soap12``, ``gsp``, ``xsi``, ``xsd``; others ``ns1``, ``ns2``, … in document order),
  declared once on the root;
* whitespace-only text between elements is dropped (text inside a leaf element is kept exactly:
  ``<Code> 0</Code>`` is a different answer for a caller searching for ``<Code>0</Code>``);
* attributes are sorted; comments, processing instructions and the XML declaration are ignored;
* text that is a prefixed name bound in scope (a fault code such as ``soap:Client``) is compared
  as the name it stands for, written ``{namespace}local``;
* credentials a binding answer hands out (new random values on every call, and redacted in
  recordings: :mod:`gspws.replay.redact`) are compared as the marker ``(redacted)``.

Bodies that are not XML are compared as text. Headers other than Content-Type (Date, Server,
X-Request-ID …) differ between any two runs and are not compared.
"""

import difflib
import re

from lxml import etree

from gspws.replay import redact, soapxml
from gspws.replay.messages import HttpResponse
from gspws.soap.shape import SOAP11, SOAP12, TNS, XSD, XSI

_PREFIXES = {
    SOAP11.envelope_ns: "soap",
    SOAP12.envelope_ns: "soap12",
    TNS: "gsp",
    XSI: "xsi",
    XSD: "xsd",
}
_PREFIXED_NAME = re.compile(r"\s*([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)\s*")


def differences(expected: HttpResponse, actual: HttpResponse) -> list[str]:
    """Nothing when the answers mean the same; else lines saying how they differ."""
    found = []
    if expected.status != actual.status:
        found.append(f"HTTP status: recorded {expected.status}, replayed {actual.status}")
    if expected.mimetype != actual.mimetype:
        found.append(
            f"Content-Type: recorded {expected.mimetype or '(none)'}, "
            f"replayed {actual.mimetype or '(none)'}"
        )
    recorded, replayed = normal_form(expected), normal_form(actual)
    if recorded != replayed:
        found.extend(
            difflib.unified_diff(recorded, replayed, "recorded", "replayed", n=2, lineterm="")
        )
    return found


def normal_form(message: HttpResponse) -> list[str]:
    """The body's normal form, one line an element (see the module documentation)."""
    root = soapxml.parse(message.body, message.charset)
    if root is None:
        return message.body.decode(message.charset or "utf-8", "replace").splitlines()
    redact.redact(root)
    namespaces = _namespaces(root)
    copy = etree.Element(root.tag, nsmap={prefix: ns for ns, prefix in namespaces.items()})
    _copy(root, copy)
    return etree.tostring(copy, encoding="unicode", pretty_print=True).splitlines()


def _namespaces(root: etree._Element) -> dict[str, str]:
    """Every namespace used in element and attribute names, with its normal-form prefix."""
    found: dict[str, str] = {}
    others = 0
    for element in root.iter(tag=etree.Element):
        for name in (element.tag, *element.attrib):
            ns = etree.QName(name).namespace
            if ns and ns not in found:
                others += ns not in _PREFIXES
                found[ns] = _PREFIXES.get(ns, f"ns{others}")
    return found


def _copy(source: etree._Element, target: etree._Element) -> None:
    for name in sorted(source.attrib):
        target.set(name, _resolved(source, source.attrib[name]))
    children = [child for child in source if isinstance(child.tag, str)]
    if not children:
        target.text = _resolved(source, source.text) if source.text else None
        return
    if source.text and source.text.strip():
        target.text = source.text
    for child in children:
        copy = etree.SubElement(target, child.tag)
        _copy(child, copy)
        if child.tail and child.tail.strip():
            copy.tail = child.tail


def _resolved(element: etree._Element, value: str) -> str:
    """``value`` as ``{namespace}local`` when it is a prefixed name bound at ``element``."""
    match = _PREFIXED_NAME.fullmatch(value)
    if match and match.group(1) in element.nsmap:
        return f"{{{element.nsmap[match.group(1)]}}}{match.group(2)}"
    return value
