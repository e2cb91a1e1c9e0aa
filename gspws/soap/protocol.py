"""spyne's SOAP 1.1 and 1.2 protocols, writing ASP.NET-shaped bytes and contract faults.

spyne parses the request (with entity resolution and network access off) and dispatches on the
body element; these subclasses only change what goes out, and refuse an envelope of the other
SOAP version with a ``VersionMismatch`` fault instead of a confusing lookup error.
"""

import logging

from lxml import etree
from spyne import Fault
from spyne.protocol.soap import Soap11, Soap12

from gspws.soap import shape
from gspws.soap.shape import SoapVersion

log = logging.getLogger(__name__)

#: Readable faultstrings for spyne's client fault subcodes; anything else gets the generic one.
_CLIENT_REASONS = {
    "XMLSyntaxError": "The request is not well-formed XML.",
    "ResourceNotFound": "The request body is not an operation of this service.",
    "VersionMismatch": "The envelope namespace does not match the SOAP version of the "
                       "Content-Type.",
    "DTD": "A SOAP message must not contain a document type declaration.",
    "DuplicateElement": "An element that may occur once occurs more than once.",
    "Structure": "The envelope must hold one Body with one operation element, and at most "
                 "one Header.",
}
_GENERIC_CLIENT_REASON = "The request is not a valid SOAP call of this service."
SERVER_FAULT_REASON = "Server was unable to process request."


class _AspNetShaped:
    version: SoapVersion

    def decompose_incoming_envelope(self, ctx, message=Soap11.REQUEST):
        root, _ids = ctx.in_document
        check_structure(self.version, root)
        super().decompose_incoming_envelope(ctx, message)

    def create_out_string(self, ctx, charset=None):
        if ctx.out_error is not None:
            ctx.out_string = [self.fault_bytes(ctx.out_error)]
            return
        body = ctx.out_document.find(self.version.qname("Body"))
        ctx.out_string = [shape.envelope(self.version, shape.unprefixed(body[0]))]

    def fault_bytes(self, error: Exception) -> bytes:
        faultcode = getattr(error, "faultcode", "Server") or "Server"
        kind, _, subcode = faultcode.partition(".")
        if subcode == "VersionMismatch":
            return shape.fault(self.version, "VersionMismatch", _CLIENT_REASONS[subcode])
        if kind == "Client":
            log.info("SOAP %s client fault: %s", self.version.name, faultcode)
            return shape.fault(self.version, self.version.client_fault,
                               _CLIENT_REASONS.get(subcode, _GENERIC_CLIENT_REASON))
        log.error("SOAP %s server fault: %s", self.version.name, faultcode)
        return shape.fault(self.version, self.version.server_fault, SERVER_FAULT_REASON)


def _elements(parent) -> list:
    return [child for child in parent if isinstance(child.tag, str)]


def check_structure(version: SoapVersion, root) -> None:
    """Refuse what is not one plain call before spyne reads it: a DTD (entity tricks), the other
    SOAP version, a missing Body, anything but one operation element in the Body, and repeated
    elements (two Headers, two ``account`` s, two ``ServiceID`` s): which one a reader takes
    differs between parsers, and a caller must not get to choose."""
    if root.getroottree().docinfo.doctype:
        raise Fault("Client.DTD", "document type declaration")
    if root.tag != version.qname("Envelope"):
        raise Fault("Client.VersionMismatch" if root.tag.endswith("}Envelope") else "Client",
                    "not a SOAP envelope of the expected version")
    parts = _elements(root)
    headers = [p for p in parts if p.tag == version.qname("Header")]
    bodies = [p for p in parts if p.tag == version.qname("Body")]
    if len(bodies) != 1 or len(headers) > 1:
        raise Fault("Client.Structure", "one Body and at most one Header")
    calls = _elements(bodies[0])
    if len(calls) != 1 or calls[0].tag == version.qname("Fault"):
        raise Fault("Client.Structure", "one operation element in the Body")
    if etree.QName(calls[0]).namespace != shape.TNS:
        raise Fault("Client.ResourceNotFound", "operation outside the service namespace")
    for field in _elements(calls[0]):
        if etree.QName(field).namespace != shape.TNS:
            # Not one of the operation's (qualified) parameters: ignored, as ASP.NET does,
            # rather than read as one (spyne would take an unqualified <account>).
            calls[0].remove(field)
    for parent in [calls[0], *headers, *(block for h in headers for block in _elements(h))]:
        tags = [child.tag for child in _elements(parent)]
        if len(tags) != len(set(tags)):
            raise Fault("Client.DuplicateElement", "duplicate element")


class AspNetSoap11(_AspNetShaped, Soap11):
    version = shape.SOAP11


class AspNetSoap12(_AspNetShaped, Soap12):
    version = shape.SOAP12
