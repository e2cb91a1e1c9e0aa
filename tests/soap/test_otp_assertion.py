"""OTP.asmx GetAssertionId / GetAssertion through HTTP: zeep stubs from the served WSDL (SOAP 1.1
and 1.2), the ticket's shape (a PNG QR of the approval URL), the answers (pending, once only,
another ServiceID, not granted), the approval done by the phone over HTTP; SQLite and
PostgreSQL."""

import base64
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import zeep

from gspws.core.access import OTP_FUNCTIONS

from binding import Visitor
from helpers import ACCOUNT, SERVICE_ID, T0

OTHER = "APP0000002"


def header(service_id: str = SERVICE_ID) -> dict:
    return {"ServiceHeader": {"ServiceID": service_id}}


@pytest.fixture
def otp(live_server, store, demo, soap12):
    """A stub of OTP.asmx for the demo service, granted the operations (another service too)."""
    with store.unit() as repo:
        for function in OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
        repo.add_service(OTHER, "Other agency", ["127.0.0.1/32"], ["GetAssertion"])
    client = zeep.Client(f"{live_server.base}/gsp2ws/OTP.asmx?WSDL")
    return client.bind("OTP", "OTPSoap12" if soap12 else "OTPSoap")


def approve(live_server, ticket, demo, clock) -> None:
    """The phone: open the approval URL, prove with the current code, pick the number."""
    phone = Visitor(live_server)
    path = urlsplit(ticket.ApprovalUrl).path
    assert phone.get(path).status_code == 200
    assert phone.post(path + "/Prove", account=ACCOUNT, code=demo.code(clock())).status_code == 200
    done = phone.post(path + "/Decide", number=ticket.Number, action="approve")
    assert 'data-stage="approved"' in done.text


def test_the_ticket(otp, live_server):
    started = otp.GetAssertionId(_soapheaders=header())
    assert (started.Code, started.Message) == (0, "動態密碼驗證通過")
    ticket = started.Result
    assert len(ticket.Number) == 2 and ticket.Number.isdigit()
    assert ticket.ApprovalUrl.startswith(f"{live_server.base}/owin/approve/")
    assert base64.b64decode(ticket.QRCode).startswith(b"\x89PNG\r\n\x1a\n")
    assert ticket.ExpiresAt == datetime.fromtimestamp(T0 + 120, UTC)
    assert ticket.AssertionId not in ticket.ApprovalUrl


def test_pending_approved_once_then_used(otp, live_server, demo, clock):
    ticket = otp.GetAssertionId(_soapheaders=header()).Result
    pending = otp.GetAssertion(AssertionId=ticket.AssertionId, _soapheaders=header())
    assert (pending.Code, pending.Message) == (12, "等待使用者確認登入")
    approve(live_server, ticket, demo, clock)
    other = otp.GetAssertion(AssertionId=ticket.AssertionId, _soapheaders=header(OTHER))
    assert (other.Code, other.Message) == (9999, "查無此登入請求")
    first = otp.GetAssertion(AssertionId=ticket.AssertionId, _soapheaders=header())
    assert (first.Code, first.Message) == (0, ACCOUNT)
    second = otp.GetAssertion(AssertionId=ticket.AssertionId, _soapheaders=header())
    assert (second.Code, second.Message) == (9999, "此登入請求已使用")


def test_expired_and_unknown(otp, clock, settings):
    ticket = otp.GetAssertionId(_soapheaders=header()).Result
    clock.advance(settings.assertion_ttl)
    late = otp.GetAssertion(AssertionId=ticket.AssertionId, _soapheaders=header())
    assert (late.Code, late.Message) == (9999, "登入請求已超過有效時間")
    unknown = otp.GetAssertion(AssertionId="x", _soapheaders=header())
    assert unknown.Code == 9999


def test_the_access_decision(otp):
    refused = otp.GetAssertionId(_soapheaders=header(OTHER))  # granted GetAssertion only
    assert (refused.Code, refused.Result) == (8108, None)
    assert otp.GetAssertionId(_soapheaders=None).Code == 8102
