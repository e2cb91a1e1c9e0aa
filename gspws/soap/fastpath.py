"""VerifyTOTPCode without spyne's pipeline: the call every login makes.

For each request spyne builds a method context, fires events, deserialises into model objects
and serialises the answer into a tree that is then written out again; for VerifyTOTPCode that
was about a third of a call's CPU time. This path reads the plain shape every known caller sends
(an optional Header holding only ``ServiceHeader/ServiceID``, a Body holding only
``VerifyTOTPCode`` with ``account`` and ``TOTPCode`` as plain text), asks the same core, and answers
with the bytes the spyne path writes, built once per return code.

Anything else (another operation; attributes such as ``xsi:nil``, except SOAP's own on the
header block; empty, nested or extra elements; a parse error or a structural fault) is left to
spyne: :meth:`VerifyFastPath.answer` returns None and the request takes the full path. spyne
stays the authority on what a request means, and tests/test_fastpath.py checks that both paths
answer the whole request corpus with the same bytes.
"""

from lxml import etree

from gspws.core.verify import VERIFY_FUNCTION, TotpVerifier
from gspws.soap import shape
from gspws.soap.protocol import AspNetSoap11, check_structure
from gspws.soap.service import caller
from gspws.soap.shape import TNS, SoapVersion

#: spyne's own parser settings (entities and network off, comments dropped), so that a value
#: reads the same on both paths.
_PARSER = etree.XMLParser(**AspNetSoap11().parser_kwargs)
_SERVICE_HEADER, _SERVICE_ID = f"{{{TNS}}}ServiceHeader", f"{{{TNS}}}ServiceID"
_OPERATION = f"{{{TNS}}}{VERIFY_FUNCTION}"
_PARAMETERS = {f"{{{TNS}}}account": "account", f"{{{TNS}}}TOTPCode": "code"}


class _NotPlain(Exception):
    """The request is not the plain shape this path reads; spyne takes it."""


class VerifyFastPath:
    def __init__(self, verifier: TotpVerifier) -> None:
        self._verifier = verifier

    def answer(self, version: SoapVersion, body: bytes, environ: dict) -> bytes | None:
        """The response body for a plain VerifyTOTPCode call, else None (not handled here)."""
        try:
            service_id, values = _read(version, body)
        except Exception:  # _NotPlain, the structure Fault, a parse error, anything unforeseen:
            return None    # spyne reads it again and answers, with a Fault if it must
        outcome = self._verifier.verify(caller(service_id, environ, VERIFY_FUNCTION),
                                        values.get("account"), values.get("code"))
        return shape.verify_result(version, outcome)


def _read(version: SoapVersion, body: bytes) -> tuple[str | None, dict[str, str]]:
    """ServiceID (None without a header) and the call's parameters, by name."""
    root = etree.fromstring(body, _PARSER)
    check_structure(version, root)  # raises the Fault spyne would answer with
    parts = _children(root)
    if parts[-1].tag != version.qname("Body") or len(parts) > 2 or (
            len(parts) == 2 and parts[0].tag != version.qname("Header")):
        raise _NotPlain
    service_id = _service_id(version, parts[0]) if len(parts) == 2 else None
    (call,) = _children(parts[-1])
    if call.tag != _OPERATION:
        raise _NotPlain
    values = {}
    for field in _children(call):
        name = _PARAMETERS.get(field.tag)
        if name is None:
            raise _NotPlain
        values[name] = _text(field)
    return service_id, values


def _service_id(version: SoapVersion, header) -> str:
    (block,) = _children(header)
    if block.tag != _SERVICE_HEADER or any(
            not name.startswith(f"{{{version.envelope_ns}}}") for name in block.attrib):
        raise _NotPlain
    # SOAP's own attributes on a header block (Axis sends actor and mustUnderstand="0") are
    # ignored, as on the spyne path.
    (field,) = _children(block, attributes_checked=True)
    if field.tag != _SERVICE_ID:
        raise _NotPlain
    return _text(field)


def _children(element, attributes_checked: bool = False) -> list:
    """The child elements of an element that has no other kind of child node, nor attributes
    (unless the caller has ``attributes_checked``)."""
    children = list(element)
    if (element.attrib and not attributes_checked) or not all(
            isinstance(child.tag, str) for child in children):
        raise _NotPlain
    return children


def _text(element) -> str:
    if element.attrib or len(element) or not element.text:
        raise _NotPlain
    return element.text
