"""The TOTP web service as spyne sees it: types, the header, the operation.

Each operation only translates: it builds a :class:`~gspws.core.verify.Caller` from the header and
the transport, asks the core, and wraps the :class:`~gspws.core.codes.ReturnCode` in a
``CP2Response``. The WSDL callers see is the committed ``wsdl/TOTP.wsdl``, not spyne's.
"""

import logging

from spyne import ComplexModel, Integer, ServiceBase, Unicode, rpc

from gspws.core.codes import ReturnCode
from gspws.core.verify import VERIFY_FUNCTION, Caller
from gspws.soap.shape import TNS

log = logging.getLogger(__name__)

CLIENT_ADDRESS_KEY = "gspws.client_address"
"""WSGI environ key under which the front app leaves the caller's address (or None)."""


class ServiceHeader(ComplexModel):
    __namespace__ = TNS
    ServiceID = Unicode


class CP2Response(ComplexModel):
    __namespace__ = TNS
    _type_info = [("Code", Integer), ("Message", Unicode)]

    @classmethod
    def of(cls, outcome: ReturnCode) -> "CP2Response":
        return cls(Code=outcome.code, Message=outcome.message)


def caller_of(ctx, operation: str) -> Caller:
    """The core's view of who calls; notes a SOAPAction that names another operation (accepted,
    as the contract says, since dispatch is on the body element)."""
    header = ctx.in_header
    action = ctx.transport.req_env.get("HTTP_SOAPACTION", "").strip('" ')
    if action and action != f"{TNS}/{operation}":
        # The caller's value is not logged: it is free text that could carry a code.
        log.info("SOAPAction differs from the body's operation %s; accepted", operation)
    return Caller(
        service_id=header.ServiceID if header is not None else None,
        address=ctx.transport.req_env.get(CLIENT_ADDRESS_KEY),
        operation=operation,
    )


class TOTPService(ServiceBase):
    """Operations of ``/gsp2ws/TOTP.asmx``. ``ctx.app.verifier`` is set by the app factory."""

    __in_header__ = ServiceHeader

    @rpc(Unicode, Unicode, _returns=CP2Response, _out_message_name="VerifyTOTPCodeResponse",
         _out_variable_name="VerifyTOTPCodeResult")
    def VerifyTOTPCode(ctx, account, TOTPCode):  # noqa: N802,N803 - names are the contract's
        outcome = ctx.app.verifier.verify(caller_of(ctx, VERIFY_FUNCTION), account, TOTPCode)
        return CP2Response.of(outcome)
