"""The MobileOTP web service as spyne sees it: codes sent by SMS or e-mail (gspws.core.oob).

It shares TOTP.asmx's header, ``CP2Response`` and asmx naming (gspws.soap.service); the WSDL
callers see is the committed ``wsdl/MobileOTP.wsdl``.
"""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from spyne import Application, Boolean, ComplexModel, ServiceBase, Unicode

from gspws.core.codes import ReturnCode
from gspws.core.oob import Destinations, OutOfBandCodes, Sent, mask_email, mask_mobile
from gspws.core.verify import Caller
from gspws.soap.fastpath import PlainOperation
from gspws.soap.protocol import result_bytes
from gspws.soap.service import (
    CP2Response,
    ServiceHeader,
    caller_of,
    operation,
    response_of,
    use_case,
)
from gspws.soap.shape import TNS, SoapVersion


class OTPDestinations(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Mobile", Unicode),
        ("MobileVerified", Boolean),
        ("Email", Unicode),
        ("EmailVerified", Boolean),
    ]

    @classmethod
    def of(cls, found: Destinations) -> "OTPDestinations":
        return cls(
            Mobile=mask_mobile(found.mobile) if found.mobile else None,
            MobileVerified=bool(found.mobile and found.mobile_verified),
            Email=mask_email(found.email) if found.email else None,
            EmailVerified=bool(found.email and found.email_verified),
        )


CP2ResponseOfOTPDestinations = response_of("OTPDestinations", OTPDestinations)


class MobileOTPService(ServiceBase):
    """Operations of ``/gsp2ws/MobileOTP.asmx``; on the ``oob`` use case.
    Each docstring is the operation's description on the help pages (zh-TW, then English)."""

    __in_header__ = ServiceHeader

    @operation(Unicode, returns=CP2Response)
    def SendOTPCode(ctx, account):  # noqa: N802
        """發送一次性驗證碼至帳號已驗證的手機 (否則電子郵件)，Message 為驗證碼。
        Sends a 6-digit code to the account's verified mobile number, else its verified
        e-mail address; Message is the code (or the masked destination). 3001: unknown account
        or no verified destination; 9999: a code was sent less than GSPWS_OTP_RESEND seconds
        ago, or today's cap is reached."""
        return _sent(use_case(ctx, "oob").send_code(caller_of(ctx, "SendOTPCode"), account))

    @operation(Unicode, Unicode, returns=CP2Response)
    def SendOTPCodeTo(ctx, account, channel):  # noqa: N802
        """發送一次性驗證碼至指定管道 (sms 或 email)。
        As SendOTPCode, to the channel the person chose: sms or email (3001 when that one is
        not verified; 9999 for another channel)."""
        return _sent(
            send_to(use_case(ctx, "oob"), caller_of(ctx, "SendOTPCodeTo"), account, channel)
        )

    @operation(Unicode, Unicode, returns=CP2Response)
    def VerifyOTPCode(ctx, account, OTPCode):  # noqa: N802,N803
        """驗證使用者輸入的一次性驗證碼。 0 once for the newest code sent; 9999 for a wrong,
        expired, used or spent code; 3001 when none was sent."""
        outcome = use_case(ctx, "oob").verify_code(
            caller_of(ctx, "VerifyOTPCode"), account, OTPCode
        )
        return CP2Response.of(outcome)

    @operation(Unicode, returns=CP2ResponseOfOTPDestinations)
    def GetOTPDestinations(ctx, account):  # noqa: N802
        """查詢帳號的手機與電子郵件 (遮罩) 及是否已驗證。
        The account's masked mobile number and e-mail address and whether each is verified;
        3001 for an unknown account."""
        code, found = use_case(ctx, "oob").destinations_of(
            caller_of(ctx, "GetOTPDestinations"), account
        )
        return CP2ResponseOfOTPDestinations(
            Code=code.code,
            Message=code.message,
            Result=OTPDestinations.of(found) if found else None,
        )


def _sent(sent: Sent) -> CP2Response:
    return CP2Response(Code=sent.code.code, Message=sent.message)


def send_to(oob: OutOfBandCodes, who: Caller, account: str | None, channel: str | None) -> Sent:
    """SendOTPCodeTo: the channel as the person chose it, any case, spaces ignored."""
    return oob.send_code(who, account, (channel or "").strip().lower())


@dataclass(frozen=True)
class AsmxService:
    name: str
    definitions: Application
    wsdl_file: str

    def wsdl_path(self) -> Path:
        """The committed contract, shipped as package ``gspws.wsdl``."""
        return Path(str(files("gspws.wsdl") / self.wsdl_file))


MOBILE_OTP = AsmxService(
    "MobileOTP", Application([MobileOTPService], tns=TNS, name="MobileOTP"), "MobileOTP.wsdl"
)


def mobile_otp_operations(oob: OutOfBandCodes) -> dict[str, PlainOperation]:
    """The operations gspws.soap.fastpath answers without spyne: the sends and VerifyOTPCode
    (GetOTPDestinations, rarer, stays with spyne). Each calls the core as the method above does
    and writes its answer with the same serialisation."""
    definitions = MOBILE_OTP.definitions

    def send(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        sent = oob.send_code(who, values.get("account"))
        return result_bytes(definitions, "SendOTPCode", version, _sent(sent))

    def send_chosen(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        sent = send_to(oob, who, values.get("account"), values.get("channel"))
        return result_bytes(definitions, "SendOTPCodeTo", version, _sent(sent))

    def verify(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        outcome = oob.verify_code(who, values.get("account"), values.get("code"))
        return _verified(version, outcome)

    account = {"account": "account"}
    return {
        "SendOTPCode": PlainOperation(account, send),
        "SendOTPCodeTo": PlainOperation({**account, "channel": "channel"}, send_chosen),
        "VerifyOTPCode": PlainOperation({**account, "OTPCode": "code"}, verify),
    }


@cache
def _verified(version: SoapVersion, outcome: ReturnCode) -> bytes:
    """VerifyOTPCode's answer, one per return code and version, made once."""
    return result_bytes(MOBILE_OTP.definitions, "VerifyOTPCode", version, CP2Response.of(outcome))
