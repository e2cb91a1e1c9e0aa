"""Reading a request envelope, once per request, for the fast path and spyne alike.

The body (UTF-8 by now, see gspws.soap.charset) is parsed with spyne's own parser settings
(entities and network off, comments and processing instructions dropped) and checked for what
is not one plain call. The result, a checked document or the Fault that refuses it, is what
both readers of a request take: the VerifyTOTPCode fast path, and spyne, which gets it in place
of parsing the body itself (gspws.soap.protocol). So a request is parsed and checked once, and
the check, which removes ignored elements from the tree, never runs on a tree twice.
"""

from dataclasses import dataclass

from lxml import etree
from spyne import Fault
from spyne.protocol.soap import Soap11

from gspws.soap.shape import TNS, SoapVersion

ENVELOPE_KEY = "gspws.envelope"
"""WSGI environ key under which the endpoint hands spyne the :class:`Envelope` it read."""

MAX_ATTRIBUTES = 8
"""Most attributes one element of a request may carry. Real callers send at most two on an
element (Axis 1.4: ``actor`` and ``mustUnderstand`` on the header block, ``xsi:type`` on a
parameter; .NET, PHP and node-soap none: namespace declarations are not attributes). spyne's
reading of an element grows faster than linearly with its attributes (6,000 on ``<account>``,
59 KB: ~95 ms a call against ~1 ms), before any caller is authenticated, so more are refused
first, with one pass over the tree."""

#: spyne's parser settings, so that a value reads the same whoever reads it.
_PARSER = etree.XMLParser(**Soap11().parser_kwargs)
#: The elements lxml's ``XMLID`` (spyne's parse) indexes, for spyne's ``href`` resolution.
_WITH_ID = etree.XPath("//*[string(@id)]")


@dataclass(frozen=True)
class Envelope:
    """A request as read: the checked ``root`` element and the elements with an ``id``, or
    None and the ``fault`` that refuses it."""

    root: etree._Element | None
    ids: dict
    fault: Fault | None

    @classmethod
    def read(cls, version: SoapVersion, body: bytes) -> "Envelope":
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            return cls(None, {}, Fault("Client.XMLSyntaxError", str(exc)))
        # What lxml's XMLID (spyne's own parse) indexes; it matters only to an href, and finding
        # it costs ~13 µs, so a body without one is spared the search.
        ids = {element.get("id"): element for element in _WITH_ID(root)} if b"href" in body else {}
        try:
            check_structure(version, root)
        except Fault as fault:
            return cls(None, {}, fault)
        return cls(root, ids, None)

    @property
    def document(self) -> tuple:
        """``(root, ids)``, as spyne's own parse leaves ``ctx.in_document``."""
        return self.root, self.ids


def elements(parent) -> list:
    """The child elements of ``parent`` (not its comments or processing instructions)."""
    return [child for child in parent if isinstance(child.tag, str)]


def check_structure(version: SoapVersion, root) -> None:
    """Refuse what is not one plain call before anyone reads it: a DTD (entity tricks), the
    other SOAP version, a missing Body, anything but one operation element in the Body, an
    element with more than :data:`MAX_ATTRIBUTES` attributes, and repeated elements (two
    Headers, two ``account`` s, two ``ServiceID`` s, in a header block whatever their
    namespaces): which one a reader takes differs between parsers, and a caller must not get
    to choose. Elements of the operation outside the service
    namespace are removed: ignored, as ASP.NET does, rather than read as parameters (spyne
    would take an unqualified ``<account>``)."""
    if root.getroottree().docinfo.doctype:
        raise Fault("Client.DTD", "document type declaration")
    if any(len(element.attrib) > MAX_ATTRIBUTES for element in root.iter()):
        raise Fault("Client.Attributes", "too many attributes")
    if root.tag != version.qname("Envelope"):
        raise Fault(
            "Client.VersionMismatch" if root.tag.endswith("}Envelope") else "Client",
            "not a SOAP envelope of the expected version",
        )
    parts = elements(root)
    headers = [p for p in parts if p.tag == version.qname("Header")]
    bodies = [p for p in parts if p.tag == version.qname("Body")]
    if len(bodies) != 1 or len(headers) > 1:
        raise Fault("Client.Structure", "one Body and at most one Header")
    calls = elements(bodies[0])
    if len(calls) != 1 or calls[0].tag == version.qname("Fault"):
        raise Fault("Client.Structure", "one operation element in the Body")
    if etree.QName(calls[0]).namespace != TNS:
        raise Fault("Client.ResourceNotFound", "operation outside the service namespace")
    for field in elements(calls[0]):
        if etree.QName(field).namespace != TNS:
            calls[0].remove(field)
    blocks = [block for header in headers for block in elements(header)]
    for parent, name in [
        (calls[0], _tag),
        *((header, _tag) for header in headers),
        *((block, _local_name) for block in blocks),
    ]:
        names = [name(child) for child in elements(parent)]
        if len(names) != len(set(names)):
            raise Fault("Client.DuplicateElement", "duplicate element")


def _tag(element) -> str:
    return element.tag


def _local_name(element) -> str:
    """A header block's fields are told apart by name alone: a second ``ServiceID`` in another
    namespace is still a second ServiceID to some reader."""
    return etree.QName(element).localname
