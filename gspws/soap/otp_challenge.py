"""OTP.asmx's OCRA operations (RFC 6287 challenge–response and transaction signing), as spyne
sees them: a ServiceBase of ``OTP_OPERATIONS`` (gspws.soap.otp), on the ``challenges`` use case
(a :class:`~gspws.core.challenge.OcraChallenges`). Each docstring is the operation's description
on the help pages (zh-TW, then English)."""

from spyne import ServiceBase, Unicode

from gspws.soap.service import CP2Response, ServiceHeader, caller_of, operation, use_case


class OTPChallengeService(ServiceBase):
    __in_header__ = ServiceHeader

    @operation(Unicode, returns=CP2Response)
    def GetChallenge(ctx, tokenSN):  # noqa: N802,N803
        """取得 OCRA 挑戰碼，請使用者輸入載具，回應以 VerifyResponse 驗證。
        Issues a challenge for the OCRA token's suite (Message, when Code is 0), good once for
        GSPWS_CHALLENGE_TTL seconds; the person types it into the token and the response goes to
        VerifyResponse. 3001: no OCRA token has that serial; 9999: the token is locked, lost,
        disabled or pending."""
        issued = use_case(ctx, "challenges").get_challenge(caller_of(ctx, "GetChallenge"), tokenSN)
        return CP2Response(Code=issued.code.code, Message=issued.message)

    @operation(Unicode, Unicode, Unicode, returns=CP2Response)
    def GetSignChallenge(ctx, tokenSN, amount, payee):  # noqa: N802,N803
        """交易簽章：由金額與收款人導出挑戰碼，載具的回應即為對該筆交易的簽章。
        Transaction signing: a challenge derived from the amount and the payee (Message), to be
        shown with them; the token's response to it, checked by VerifyResponse, signs that
        transaction. 9999 also for an amount that is not a decimal with at most two places, or
        an empty payee."""
        issued = use_case(ctx, "challenges").get_sign_challenge(
            caller_of(ctx, "GetSignChallenge"), tokenSN, amount, payee
        )
        return CP2Response(Code=issued.code.code, Message=issued.message)

    @operation(Unicode, Unicode, Unicode, returns=CP2Response)
    def VerifyResponse(ctx, tokenSN, challenge, response):  # noqa: N802,N803
        """驗證 OCRA 載具對挑戰碼的回應 (每個挑戰碼僅能使用一次)。
        0 once for the token's response to a challenge gspws issued to it for this service,
        unexpired and unused; 9999 otherwise (a wrong response counts toward the token's lockout);
        3001 when no OCRA token has that serial."""
        outcome = use_case(ctx, "challenges").verify_response(
            caller_of(ctx, "VerifyResponse"), tokenSN, challenge, response
        )
        return CP2Response.of(outcome)
