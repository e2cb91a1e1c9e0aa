"""OTP.asmx as spyne sees it: hardware and event tokens (seed 003's FTsafe-style operations).

The endpoint's spyne application is built from :data:`OTP_OPERATIONS`, one ``ServiceBase`` class
per group of operations: :class:`OTPTokenService` here (Auth, AuthToken, Sync, SyncToken:
gspws.core.tokenauth); OCRA challenges (gspws.soap.otp_challenge) and QR-scan sign-in
(gspws.soap.otp_assertion) add theirs. Each class reaches its use cases (the context given to
gspws.soap.app.otp_endpoint) with ``use_case(ctx, name)`` (gspws.soap.service). The WSDL callers
see is the committed ``wsdl/OTP.wsdl`` (all nine operations); the header, ``CP2Response`` and
asmx naming are TOTP.asmx's (gspws.soap.service).
"""

from functools import cache

from spyne import Application, ServiceBase, Unicode

from gspws.core.codes import ReturnCode
from gspws.core.tokenauth import TokenAuth
from gspws.core.verify import Caller
from gspws.soap.fastpath import PlainOperation
from gspws.soap.mobileotp import AsmxService
from gspws.soap.otp_assertion import OTPAssertionService
from gspws.soap.otp_challenge import OTPChallengeService
from gspws.soap.protocol import result_bytes
from gspws.soap.service import CP2Response, ServiceHeader, caller_of, operation, use_case
from gspws.soap.shape import TNS, SoapVersion


class OTPTokenService(ServiceBase):
    """Auth, AuthToken, Sync, SyncToken; ``use_case(ctx, "tokens")`` is a
    :class:`~gspws.core.tokenauth.TokenAuth`. Each docstring is the operation's description on
    the help pages (zh-TW, then English)."""

    __in_header__ = ServiceHeader

    @operation(Unicode, Unicode, returns=CP2Response)
    def Auth(ctx, account, password):  # noqa: N802
        """以帳號驗證動態密碼 (時間型或事件型，軟體或硬體令牌)；若令牌設有 PIN 碼，password 為
        PIN 碼加動態密碼。 Verifies a code of any usable token of the account (TOTP or HOTP, app
        or hardware); password is the PIN followed by the code when the token has a PIN. 0 passed;
        13 (需要同步) the code is the token's but it has drifted: call Sync; 9999 refused;
        3001 unknown account or no usable token."""
        outcome = use_case(ctx, "tokens").auth(caller_of(ctx, "Auth"), account, password)
        return CP2Response.of(outcome)

    @operation(Unicode, Unicode, returns=CP2Response)
    def AuthToken(ctx, tokenSN, otp):  # noqa: N802,N803
        """以令牌序號驗證動態密碼，未綁定帳號的令牌亦可。 Verifies a code of the token with
        serial tokenSN, bound to an account or not ([PIN +] code as Auth). 0, 13, 9999 as
        Auth (9999 also for a lost, disabled or pending token); 3001 unknown serial."""
        outcome = use_case(ctx, "tokens").auth_token(caller_of(ctx, "AuthToken"), tokenSN, otp)
        return CP2Response.of(outcome)

    @operation(Unicode, Unicode, Unicode, returns=CP2Response)
    def Sync(ctx, account, otp1, otp2):  # noqa: N802
        """以連續兩組動態密碼同步帳號的令牌 (校正時間偏移或事件計數)。 Resynchronises a token of
        the account with two consecutive codes found within the sync window: a time-based
        token's drift, an event token's counter. 0 synchronised (not a sign-in); 9999 not
        found; 3001 unknown account or no usable token."""
        outcome = use_case(ctx, "tokens").sync(caller_of(ctx, "Sync"), account, otp1, otp2)
        return CP2Response.of(outcome)

    @operation(Unicode, Unicode, Unicode, returns=CP2Response)
    def SyncToken(ctx, tokenSN, otp1, otp2):  # noqa: N802,N803
        """以連續兩組動態密碼同步指定序號的令牌。 As Sync, for the token with serial tokenSN
        (bound or not); 9999 also for a lost, disabled or pending token; 3001 unknown serial."""
        outcome = use_case(ctx, "tokens").sync_token(
            caller_of(ctx, "SyncToken"), tokenSN, otp1, otp2
        )
        return CP2Response.of(outcome)


#: The operation classes of OTP.asmx's spyne application (each helper adds its class here).
OTP_OPERATIONS: tuple[type[ServiceBase], ...] = (
    OTPTokenService,
    OTPChallengeService,
    OTPAssertionService,
)

OTP = AsmxService("OTP", Application(list(OTP_OPERATIONS), tns=TNS, name="OTP"), "OTP.wsdl")


def token_operations(tokens: TokenAuth) -> dict[str, PlainOperation]:
    """Auth, AuthToken, Sync and SyncToken for gspws.soap.fastpath (without spyne's pipeline):
    the same core calls as the methods above, the same serialisation, each answer made once per
    operation, return code and version."""

    def auth(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        return _answer("Auth", version, tokens.auth(who, values.get("a"), values.get("p")))

    def auth_token(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        outcome = tokens.auth_token(who, values.get("a"), values.get("p"))
        return _answer("AuthToken", version, outcome)

    def sync(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        outcome = tokens.sync(who, values.get("a"), values.get("1"), values.get("2"))
        return _answer("Sync", version, outcome)

    def sync_token(version: SoapVersion, who: Caller, values: dict[str, str]) -> bytes:
        outcome = tokens.sync_token(who, values.get("a"), values.get("1"), values.get("2"))
        return _answer("SyncToken", version, outcome)

    pair = {"otp1": "1", "otp2": "2"}
    return {
        "Auth": PlainOperation({"account": "a", "password": "p"}, auth),
        "AuthToken": PlainOperation({"tokenSN": "a", "otp": "p"}, auth_token),
        "Sync": PlainOperation({"account": "a", **pair}, sync),
        "SyncToken": PlainOperation({"tokenSN": "a", **pair}, sync_token),
    }


@cache
def _answer(operation: str, version: SoapVersion, outcome: ReturnCode) -> bytes:
    return result_bytes(OTP.definitions, operation, version, CP2Response.of(outcome))
