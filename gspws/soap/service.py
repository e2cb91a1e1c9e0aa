"""The TOTP web service as spyne sees it: types, the header, the operations.

Each operation only translates: it builds a :class:`~gspws.core.verify.Caller` from the header and
the transport, asks the core, and wraps the :class:`~gspws.core.codes.ReturnCode` in a
``CP2Response``, or, where data comes back, in a ``CP2ResponseOfX`` with a ``Result`` (ASP.NET's
name for the generic ``CP2Response<X>``). The WSDL callers see is the committed
``wsdl/TOTP.wsdl``, not spyne's.
"""

import logging

from spyne import (
    Application,
    Array,
    Boolean,
    ByteArray,
    ComplexModel,
    Integer,
    ServiceBase,
    Unicode,
    rpc,
)

from gspws import qr
from gspws.core.codes import ReturnCode
from gspws.core.enroll import Binding, Outcome, Status
from gspws.core.verify import VERIFY_FUNCTION, Caller
from gspws.proxies import origin_of
from gspws.soap.shape import TNS

log = logging.getLogger(__name__)


class ServiceHeader(ComplexModel):
    __namespace__ = TNS
    ServiceID = Unicode


class CP2Response(ComplexModel):
    __namespace__ = TNS
    _type_info = [("Code", Integer), ("Message", Unicode)]

    @classmethod
    def of(cls, outcome: ReturnCode) -> "CP2Response":
        return cls(Code=outcome.code, Message=outcome.message)


class TOTPDevice(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Serial", Unicode),
        ("DeviceName", Unicode),
        ("Phone", Unicode),
        ("Period", Integer),
        ("Locked", Boolean),
        # added after the contract's first devices: optional, so older stubs ignore it
        ("DriftSeconds", Integer),
    ]


class TOTPStatus(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Enabled", Boolean),
        ("Devices", Array(TOTPDevice, type_name="ArrayOfTOTPDevice")),
    ]

    @classmethod
    def of(cls, status: Status) -> "TOTPStatus":
        return cls(
            Enabled=status.enabled,
            Devices=[
                TOTPDevice(
                    Serial=d.serial,
                    DeviceName=d.name,
                    Phone=d.phone,
                    Period=d.period,
                    Locked=d.locked,
                    DriftSeconds=d.drift_seconds,
                )
                for d in status.devices
            ],
        )


class TOTPBinding(ComplexModel):
    __namespace__ = TNS
    _type_info = [("OtpauthUri", Unicode), ("QrPng", ByteArray), ("Serial", Unicode)]

    @classmethod
    def of(cls, binding: Binding) -> "TOTPBinding":
        return cls(
            OtpauthUri=binding.otpauth_uri,
            QrPng=[qr.png(binding.otpauth_uri)],
            Serial=binding.serial,
        )


def response_of(name: str, result, convert=lambda value: value):
    """``CP2ResponseOf<name>``: ``{Code, Message, Result}``, the Result only when Code is 0."""

    def of(cls, outcome: Outcome):
        value = convert(outcome.value) if outcome.ok else None
        return cls(Code=outcome.code.code, Message=outcome.code.message, Result=value)

    return type(
        f"CP2ResponseOf{name}",
        (ComplexModel,),
        {
            "__namespace__": TNS,
            "_type_info": [("Code", Integer), ("Message", Unicode), ("Result", result)],
            "of": classmethod(of),
        },
    )


CP2ResponseOfTOTPStatus = response_of("TOTPStatus", TOTPStatus, TOTPStatus.of)
CP2ResponseOfTOTPBinding = response_of("TOTPBinding", TOTPBinding, TOTPBinding.of)
CP2ResponseOfString = response_of("String", Unicode)


def operation(*params, returns):
    """``@rpc`` with ASP.NET's names: ``<Name>Response`` wrapping ``<Name>Result``."""

    def decorate(function):
        name = function.__name__
        return rpc(
            *params,
            _returns=returns,
            _out_message_name=f"{name}Response",
            _out_variable_name=f"{name}Result",
        )(function)

    return decorate


#: Where :class:`gspws.soap.app.AsmxEndpoint` puts its use cases in the request's environ: the
#: spyne apps are shared by every endpoint of a process, the use cases are each endpoint's own.
USE_CASES_KEY = "gspws.use_cases"


def use_case(ctx, name: str):
    """The use case ``name`` (``verifier``, ``enrollment``, ``oob``, ...) of the endpoint that
    is answering this call."""
    return ctx.transport.req_env[USE_CASES_KEY][name]


def caller_of(ctx, operation: str) -> Caller:
    header = ctx.in_header
    return caller(
        header.ServiceID if header is not None else None, ctx.transport.req_env, operation
    )


def caller(service_id: str | None, environ: dict, operation: str) -> Caller:
    """The core's view of who calls; notes a SOAPAction that names another operation (accepted,
    as the contract says, since dispatch is on the body element)."""
    action = environ.get("HTTP_SOAPACTION", "").strip('" ')
    if action and action != f"{TNS}/{operation}":
        # The caller's value is not logged: it is free text that could carry a code.
        log.info("SOAPAction differs from the body's operation %s; accepted", operation)
    return Caller(service_id=service_id, address=origin_of(environ).address, operation=operation)


class TOTPService(ServiceBase):
    """Operations of ``/gsp2ws/TOTP.asmx``, on the ``verifier`` and ``enrollment`` use cases.
    Names of operations and parameters are the contract's; each docstring is the operation's
    description on the help pages (zh-TW, then English)."""

    __in_header__ = ServiceHeader

    @operation(Unicode, Unicode, returns=CP2Response)
    def VerifyTOTPCode(ctx, account, TOTPCode):  # noqa: N802,N803
        """驗證使用者帳號之軟體式動態密碼 (TOTP)。 Verifies the time-based one-time password of a
        GSP account."""
        outcome = use_case(ctx, "verifier").verify(
            caller_of(ctx, VERIFY_FUNCTION), account, TOTPCode
        )
        return CP2Response.of(outcome)

    @operation(Unicode, returns=CP2ResponseOfTOTPStatus)
    def GetTOTPStatus(ctx, account):  # noqa: N802
        """查詢帳號是否已啟用軟體式動態密碼及其綁定裝置。 Whether the account has an authenticator,
        and its devices; 3001 for an unknown account (an account without devices answers 0 with
        Enabled false)."""
        outcome = use_case(ctx, "enrollment").status(caller_of(ctx, "GetTOTPStatus"), account)
        return CP2ResponseOfTOTPStatus.of(outcome)

    @operation(Unicode, Unicode, returns=CP2ResponseOfTOTPBinding)
    def BeginTOTPBinding(ctx, account, deviceName):  # noqa: N802,N803
        """開始綁定驗證器：回傳 otpauth URI 與 QR Code (PNG)。 Starts binding an authenticator: the
        otpauth URI and its QR code (PNG, base64); confirm with ConfirmTOTPBinding before it
        lapses. 9999 for a device name over 100 characters or an account with 10 devices."""
        outcome = use_case(ctx, "enrollment").begin(
            caller_of(ctx, "BeginTOTPBinding"), account, deviceName
        )
        return CP2ResponseOfTOTPBinding.of(outcome)

    @operation(Unicode, Unicode, returns=CP2Response)
    def ConfirmTOTPBinding(ctx, account, TOTPCode):  # noqa: N802,N803
        """以驗證器產生的驗證碼完成綁定。 Activates the pending authenticator with a code from it:
        9999 for a wrong code, 3001 when nothing is pending (never begun, or lapsed)."""
        outcome = use_case(ctx, "enrollment").confirm(
            caller_of(ctx, "ConfirmTOTPBinding"), account, TOTPCode
        )
        return CP2Response.of(outcome.code)

    @operation(Unicode, Unicode, returns=CP2Response)
    def DisableTOTP(ctx, account, TOTPCode):  # noqa: N802,N803
        """以該裝置目前的驗證碼停用 (移除) 綁定。 Removes the device whose current code is given:
        9999 for a wrong code, 3001 when the account has no device."""
        outcome = use_case(ctx, "enrollment").disable(
            caller_of(ctx, "DisableTOTP"), account, TOTPCode
        )
        return CP2Response.of(outcome.code)

    @operation(Unicode, returns=CP2ResponseOfString)
    def CreateBindingLink(ctx, account):  # noqa: N802
        """產生一次性的綁定頁面連結，交付使用者自行設定。 A single-use link to the binding page for
        the account's owner, valid a few minutes."""
        outcome = use_case(ctx, "enrollment").create_link(
            caller_of(ctx, "CreateBindingLink"), account
        )
        return CP2ResponseOfString.of(outcome)


SERVICE_NAME = "TOTP"

DEFINITIONS = Application([TOTPService], tns=TNS, name=SERVICE_NAME)
"""The service's definitions with their names and namespaces resolved, as every app built from
them sees them (gspws.soap.app builds one per SOAP version): what the fast path's answers and
the help pages are made from."""
