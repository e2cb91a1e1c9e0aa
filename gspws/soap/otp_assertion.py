"""OTP.asmx's QR-scan sign-in operations (gspws.core.assertion): GetAssertionId, GetAssertion.

A spyne ServiceBase of its own, joined to the endpoint through ``OTP_OPERATIONS``
(gspws.soap.otp); on the ``assertions`` use case. The approval URL starts with
the address the caller used when ``GSPWS_PUBLIC_URL`` is a loopback one (gspws.proxies), as the
WSDL's addresses do.
"""

import base64
from datetime import UTC, datetime

from spyne import ComplexModel, DateTime, ServiceBase, Unicode

from gspws import qr
from gspws.core.assertion import Ticket
from gspws.proxies import origin_of
from gspws.soap.service import (
    CP2Response,
    ServiceHeader,
    caller_of,
    operation,
    response_of,
    use_case,
)
from gspws.soap.shape import TNS
from gspws.web.approve import APPROVE_PATH


class AssertionTicket(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("AssertionId", Unicode),
        ("Number", Unicode),
        ("QRCode", Unicode),
        ("ApprovalUrl", Unicode),
        ("ExpiresAt", DateTime),
    ]

    @classmethod
    def of(cls, ticket: Ticket) -> "AssertionTicket":
        return cls(
            AssertionId=ticket.assertion_id,
            Number=ticket.number,
            QRCode=base64.b64encode(qr.png(ticket.approval_url)).decode("ascii"),
            ApprovalUrl=ticket.approval_url,
            ExpiresAt=datetime.fromtimestamp(ticket.expires_at, UTC),
        )


CP2ResponseOfAssertionTicket = response_of("AssertionTicket", AssertionTicket, AssertionTicket.of)


class OTPAssertionService(ServiceBase):
    """QR-scan sign-in on ``/gsp2ws/OTP.asmx``. Each docstring is the operation's description on
    the help pages (zh-TW, then English)."""

    __in_header__ = ServiceHeader

    @operation(returns=CP2ResponseOfAssertionTicket)
    def GetAssertionId(ctx):  # noqa: N802
        """取得掃碼登入的 QR Code：AssertionId、兩位數字、核准網址的 QR Code (PNG, base64) 及有效期限。
        Starts a QR-scan sign-in: the AssertionId to poll GetAssertion with (keep it to
        yourself), a 2-digit number to show beside the QR, the QR (PNG, base64) of the approval
        URL the person opens on the phone, and when it expires (GSPWS_ASSERTION_TTL)."""
        caller = caller_of(ctx, "GetAssertionId")
        prefix = origin_of(ctx.transport.req_env).base_url + APPROVE_PATH
        return CP2ResponseOfAssertionTicket.of(use_case(ctx, "assertions").start(caller, prefix))

    @operation(Unicode, returns=CP2Response)
    def GetAssertion(ctx, AssertionId):  # noqa: N802,N803
        """查詢掃碼登入是否成功。 0: approved, Message is the account (answered once: a second call
        gets 9999 saying it was used); 12: not decided yet, ask again in a second or two; 9999:
        denied (拒絕, a wrong number, too many wrong codes), expired, used, or unknown to this
        ServiceID."""
        outcome = use_case(ctx, "assertions").collect(caller_of(ctx, "GetAssertion"), AssertionId)
        return CP2Response.of(outcome)
