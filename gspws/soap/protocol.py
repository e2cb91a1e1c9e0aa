"""spyne's SOAP 1.1 and 1.2 protocols, writing ASP.NET-shaped bytes and contract faults.

spyne parses the request (with entity resolution and network access off) and dispatches on the
body element; these subclasses only change what goes out, and refuse an envelope of the other
SOAP version with a ``VersionMismatch`` fault instead of a confusing lookup error.
"""

import logging
from functools import cache

from lxml import etree
from spyne import Application
from spyne.model.complex import ComplexModelBase
from spyne.protocol.soap import Soap11, Soap12
from spyne.util.xml import get_object_as_xml

from gspws.core.codes import ReturnCode
from gspws.core.verify import VERIFY_FUNCTION
from gspws.soap import shape
from gspws.soap.envelope import ENVELOPE_KEY, MAX_ATTRIBUTES
from gspws.soap.service import DEFINITIONS, CP2Response
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
    "Attributes": f"An element carries more than {MAX_ATTRIBUTES} attributes.",
    "Structure": "The envelope must hold one Body with one operation element, and at most "
    "one Header.",
}
_GENERIC_CLIENT_REASON = "The request is not a valid SOAP call of this service."
SERVER_FAULT_REASON = "Server was unable to process request."


class _AspNetShaped:
    version: SoapVersion

    def create_in_document(self, ctx, charset=None):
        """The envelope the endpoint has read and checked (gspws.soap.envelope), instead of
        parsing the body again."""
        envelope = ctx.transport.req_env[ENVELOPE_KEY]
        if envelope.fault is not None:
            raise envelope.fault
        ctx.in_document = envelope.document

    def create_out_string(self, ctx, charset=None):
        if ctx.out_error is not None:
            ctx.out_string = [self.fault_bytes(ctx.out_error)]
            return
        body = ctx.out_document.find(self.version.qname("Body"))
        ctx.out_string = [answer_bytes(self.version, body[0])]

    def fault_bytes(self, error: Exception) -> bytes:
        faultcode = getattr(error, "faultcode", "Server") or "Server"
        kind, _, subcode = faultcode.partition(".")
        if subcode == "VersionMismatch":
            return shape.fault(self.version, "VersionMismatch", _CLIENT_REASONS[subcode])
        if kind == "Client":
            log.info("SOAP %s client fault: %s", self.version.name, faultcode)
            return shape.fault(
                self.version,
                self.version.client_fault,
                _CLIENT_REASONS.get(subcode, _GENERIC_CLIENT_REASON),
            )
        log.error("SOAP %s server fault: %s", self.version.name, faultcode)
        return shape.fault(self.version, self.version.server_fault, SERVER_FAULT_REASON)


def answer_bytes(version: SoapVersion, response: etree._Element) -> bytes:
    """An operation's answer (its ``<Name>Response`` element, as spyne serialises the result)
    in the bytes ASP.NET writes: the one writer of answers, for spyne and the fast path."""
    return shape.envelope(version, shape.unprefixed(response))


def result_bytes(
    definitions: Application, operation: str, version: SoapVersion, result: ComplexModelBase
) -> bytes:
    """The answer to a call of ``operation`` carrying ``result``: spyne's serialisation of the
    service's own out message written by :func:`answer_bytes`, as on the spyne path (for the
    fast path, gspws.soap.fastpath)."""
    message = definitions.interface.service_method_map[f"{{{shape.TNS}}}{operation}"][0].out_message
    return answer_bytes(
        version, get_object_as_xml(message(**{f"{operation}Result": result}), message)
    )


@cache
def verify_result(version: SoapVersion, outcome: ReturnCode) -> bytes:
    """The answer to a VerifyTOTPCode call with ``outcome``; one per return code and version,
    made once (for the fast path and the benchmark's floor)."""
    return result_bytes(DEFINITIONS, VERIFY_FUNCTION, version, CP2Response.of(outcome))


class AspNetSoap11(_AspNetShaped, Soap11):
    version = shape.SOAP11


class AspNetSoap12(_AspNetShaped, Soap12):
    version = shape.SOAP12
