"""spyne's SOAP 1.1 and 1.2 protocols, writing ASP.NET-shaped bytes and contract faults.

spyne parses the request (with entity resolution and network access off) and dispatches on the
body element; these subclasses only change what goes out, and refuse an envelope of the other
SOAP version with a ``VersionMismatch`` fault instead of a confusing lookup error.
"""

import logging

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
}
_GENERIC_CLIENT_REASON = "The request is not a valid SOAP call of this service."
_SERVER_REASON = "Server was unable to process request."


class _AspNetShaped:
    version: SoapVersion

    def decompose_incoming_envelope(self, ctx, message=Soap11.REQUEST):
        root, _ids = ctx.in_document
        if root.getroottree().docinfo.doctype:
            raise Fault("Client.DTD", "document type declaration")
        if root.tag != self.version.qname("Envelope"):
            raise Fault("Client.VersionMismatch" if root.tag.endswith("}Envelope") else "Client",
                        "not a SOAP envelope of the expected version")
        super().decompose_incoming_envelope(ctx, message)
        _refuse_duplicates(ctx.in_header_doc, ctx.in_body_doc)

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
        return shape.fault(self.version, self.version.server_fault, _SERVER_REASON)


def _refuse_duplicates(header, body) -> None:
    """Refuse a repeated element (two ``account`` s, two ``ServiceHeader`` s or ``ServiceID`` s):
    which one a reader takes differs between parsers, and a caller must not get to choose."""
    parents = [body] if body is not None else []
    if header is not None:
        parents += [header, *header]
    for parent in parents:
        tags = [child.tag for child in parent if isinstance(child.tag, str)]
        if len(tags) != len(set(tags)):
            raise Fault("Client.DuplicateElement", "duplicate element")


class AspNetSoap11(_AspNetShaped, Soap11):
    version = shape.SOAP11


class AspNetSoap12(_AspNetShaped, Soap12):
    version = shape.SOAP12
