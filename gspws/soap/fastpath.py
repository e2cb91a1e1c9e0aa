"""The calls every login makes, without spyne's pipeline: TOTP.asmx's VerifyTOTPCode,
MobileOTP.asmx's SendOTPCode, SendOTPCodeTo and VerifyOTPCode (gspws.soap.mobileotp), and
OTP.asmx's Auth, AuthToken, Sync and SyncToken (gspws.soap.otp).

For each request spyne builds a method context, fires events, deserialises into model objects
and serialises the answer into a tree that is then written out again; for VerifyTOTPCode that
was about a third of a call's CPU time. This path takes the envelope the endpoint has read and
checked (gspws.soap.envelope), reads the plain shape every known caller sends (an optional
Header holding only ``ServiceHeader/ServiceID``, a Body holding only one of the endpoint's
:class:`PlainOperation` elements with its parameters as plain text), asks the same core, and
answers with the bytes of the one writer (gspws.soap.protocol.result_bytes; made once per return
code where the answer depends on nothing else).

Anything else (another operation; attributes such as ``xsi:nil``, except SOAP's own on the
header block; empty, nested or extra elements; a refused envelope) is left to spyne:
:meth:`VerifyFastPath.answer` returns None and spyne answers from the same envelope. spyne stays
the authority on what a request means, and tests/soap/test_fastpath.py checks that both paths answer
the whole request corpus with the same bytes.
"""

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gspws.core.codecheck import TotpVerifier
from gspws.core.verify import VERIFY_FUNCTION, Caller
from gspws.soap.envelope import Envelope, elements
from gspws.soap.protocol import verify_result
from gspws.soap.service import caller
from gspws.soap.shape import TNS, SoapVersion

log = logging.getLogger(__name__)

_SERVICE_HEADER, _SERVICE_ID = f"{{{TNS}}}ServiceHeader", f"{{{TNS}}}ServiceID"

Answer = Callable[[SoapVersion, Caller, dict[str, str]], bytes]


@dataclass(frozen=True)
class PlainOperation:
    """An operation this path reads: its parameters (element name → keyword), and what answers
    them (the answer's bytes, from the version, the caller and the values given)."""

    parameters: Mapping[str, str]
    answer: Answer


def totp_operations(verifier: TotpVerifier) -> dict[str, PlainOperation]:
    """TOTP.asmx's: VerifyTOTPCode."""

    def verify(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        return verify_result(
            version, verifier.verify(who, values.get("account"), values.get("code"))
        )

    return {VERIFY_FUNCTION: PlainOperation({"account": "account", "TOTPCode": "code"}, verify)}


class _NotPlain(Exception):
    """The request is not the plain shape this path reads; spyne takes it."""


class FastPath:
    def __init__(self, operations: Mapping[str, PlainOperation]) -> None:
        """``operations`` by name (an element of the contract's namespace)."""
        self._operations = {
            f"{{{TNS}}}{name}": (
                name,
                {f"{{{TNS}}}{field}": key for field, key in operation.parameters.items()},
                operation.answer,
            )
            for name, operation in operations.items()
        }

    def answer(self, version: SoapVersion, envelope: Envelope, environ: dict) -> bytes | None:
        """The response body for a plain call of one of the operations, else None (not handled
        here)."""
        if envelope.fault is not None:
            return None
        try:
            service_id, operation, values = self._read(version, envelope.root)
        except _NotPlain as exc:
            log.debug("not a plain call (%s): spyne answers", exc)
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
        name, _, answer = self._operations[operation]
        return answer(version, caller(service_id, environ, name), values)

    def _read(self, version: SoapVersion, root) -> tuple[str | None, str, dict[str, str]]:
        """ServiceID (None without a header), the operation and its parameters, by keyword."""
        parts = _children(root)
        if (
            parts[-1].tag != version.qname("Body")
            or len(parts) > 2
            or (len(parts) == 2 and parts[0].tag != version.qname("Header"))
        ):
            raise _NotPlain("envelope")
        service_id = _service_id(version, parts[0]) if len(parts) == 2 else None
        (call,) = _children(parts[-1])
        if call.tag not in self._operations:
            raise _NotPlain("operation")
        parameters = self._operations[call.tag][1]
        values = {}
        for field in _children(call):
            name = parameters.get(field.tag)
            if name is None:
                raise _NotPlain("parameter")
            values[name] = _text(field)
        return service_id, call.tag, values


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
