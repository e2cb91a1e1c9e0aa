"""VerifyTOTPCode without spyne's pipeline: the call every login makes.

For each request spyne builds a method context, fires events, deserialises into model objects
and serialises the answer into a tree that is then written out again; for VerifyTOTPCode that
was about a third of a call's CPU time. This path takes the envelope the endpoint has read and
checked (gspws.soap.envelope), reads the plain shape every known caller sends (an optional
Header holding only ``ServiceHeader/ServiceID``, a Body holding only ``VerifyTOTPCode`` with
``account`` and ``TOTPCode`` as plain text), asks the same core, and answers with the bytes of
the one writer (gspws.soap.protocol.verify_result), made once per return code.

Anything else (another operation; attributes such as ``xsi:nil``, except SOAP's own on the
header block; empty, nested or extra elements; a refused envelope) is left to spyne:
:meth:`VerifyFastPath.answer` returns None and spyne answers from the same envelope. spyne stays
the authority on what a request means, and tests/soap/test_fastpath.py checks that both paths answer
the whole request corpus with the same bytes.
"""

import logging
import traceback

from gspws.core.codecheck import TotpVerifier
from gspws.core.verify import VERIFY_FUNCTION
from gspws.soap.envelope import Envelope, elements
from gspws.soap.protocol import verify_result
from gspws.soap.service import caller
from gspws.soap.shape import TNS, SoapVersion

log = logging.getLogger(__name__)

_SERVICE_HEADER, _SERVICE_ID = f"{{{TNS}}}ServiceHeader", f"{{{TNS}}}ServiceID"
_OPERATION = f"{{{TNS}}}{VERIFY_FUNCTION}"
_PARAMETERS = {f"{{{TNS}}}account": "account", f"{{{TNS}}}TOTPCode": "code"}


class _NotPlain(Exception):
    """The request is not the plain shape this path reads; spyne takes it."""


class VerifyFastPath:
    def __init__(self, verifier: TotpVerifier) -> None:
        self._verifier = verifier

    def answer(self, version: SoapVersion, envelope: Envelope, environ: dict) -> bytes | None:
        """The response body for a plain VerifyTOTPCode call, else None (not handled here)."""
        if envelope.fault is not None:
            return None
        try:
            service_id, values = _read(version, envelope.root)
        except _NotPlain as exc:
            log.debug("not a plain VerifyTOTPCode call (%s): spyne answers", exc)
            return None
        except Exception as exc:  # a fault of this path: spyne still answers the caller
            where = traceback.extract_tb(exc.__traceback__)[-1]
            # Where and what, never the exception's text: it could quote the request.
            log.error(
                "the fast path failed with %s at %s:%d; spyne answers",
                type(exc).__name__,
                where.filename,
                where.lineno,
            )
            return None
        outcome = self._verifier.verify(
            caller(service_id, environ, VERIFY_FUNCTION), values.get("account"), values.get("code")
        )
        return verify_result(version, outcome)


def _read(version: SoapVersion, root) -> tuple[str | None, dict[str, str]]:
    """ServiceID (None without a header) and the call's parameters, by name."""
    parts = _children(root)
    if (
        parts[-1].tag != version.qname("Body")
        or len(parts) > 2
        or (len(parts) == 2 and parts[0].tag != version.qname("Header"))
    ):
        raise _NotPlain("envelope")
    service_id = _service_id(version, parts[0]) if len(parts) == 2 else None
    (call,) = _children(parts[-1])
    if call.tag != _OPERATION:
        raise _NotPlain("operation")
    values = {}
    for field in _children(call):
        name = _PARAMETERS.get(field.tag)
        if name is None:
            raise _NotPlain("parameter")
        values[name] = _text(field)
    return service_id, values


def _service_id(version: SoapVersion, header) -> str:
    blocks = _children(header)
    if (
        len(blocks) != 1
        or blocks[0].tag != _SERVICE_HEADER
        or any(not name.startswith(f"{{{version.envelope_ns}}}") for name in blocks[0].attrib)
    ):
        raise _NotPlain("header")
    # SOAP's own attributes on a header block (Axis sends actor and mustUnderstand="0") are
    # ignored, as on the spyne path.
    fields = _children(blocks[0], attributes_checked=True)
    if len(fields) != 1 or fields[0].tag != _SERVICE_ID:
        raise _NotPlain("header")
    return _text(fields[0])


def _children(element, attributes_checked: bool = False) -> list:
    """The child elements of an element that has no other kind of child node, nor attributes
    (unless the caller has ``attributes_checked``)."""
    children = elements(element)
    if (element.attrib and not attributes_checked) or len(children) != len(element):
        raise _NotPlain("attributes or other nodes")
    return children


def _text(element) -> str:
    if element.attrib or len(element) or not element.text:
        raise _NotPlain("value")
    return element.text
