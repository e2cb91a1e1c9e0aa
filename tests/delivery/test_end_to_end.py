"""A legacy caller's SendOTPCode over SOAP, then the outbox sender: the SMS at the loopback Mitake
peer (or the e-mail at the loopback SMTP server) carries the code the caller read in Message, and
VerifyOTPCode accepts it once. SQLite and PostgreSQL."""

import dataclasses
import random

import pytest
import requests
import zeep

from gspws.core.access import MOBILE_OTP_FUNCTIONS
from gspws.core.clock import FixedClock
from gspws.delivery.gateways import by_channel
from gspws.delivery.sender import Sender
from gspws.store.outbox import Outbox

from helpers import ACCOUNT, SERVICE_ID, T0, public_caller_send

HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}
ACCEPTED = "[1]\r\nmsgid=0355319484\r\nstatuscode=1\r\nAccountPoint=98\r\n"


@pytest.fixture
def otp_url(live_server, store, demo) -> str:
    with store.unit() as repo:
        for function in MOBILE_OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
        repo.set_destinations(repo.get_account(ACCOUNT), "0912345678", "zoe@example.org", True)
    return f"{live_server.base}/gsp2ws/MobileOTP.asmx"


def deliver(store, settings, at: float = T0 + 1) -> None:
    """One pass of the real sender, at ``at``, through the gateways ``settings`` name."""
    sender = Sender(
        Outbox(store.engine, store.secrets),
        by_channel(settings),
        FixedClock(at),
        5.0,
        random.Random(1),
    )
    assert sender.run_once() == 1


def verify(url: str, code: str) -> tuple[int, int]:
    service = zeep.Client(f"{url}?WSDL").bind("MobileOTP", "MobileOTPSoap12")
    first = service.VerifyOTPCode(account=ACCOUNT, OTPCode=code, _soapheaders=HEADER)
    again = service.VerifyOTPCode(account=ACCOUNT, OTPCode=code, _soapheaders=HEADER)
    return first.Code, again.Code


def test_the_sms_carries_the_code_the_caller_read_in_message(otp_url, store, settings, peer):
    peer.script = [(200, ACCEPTED)]
    body = public_caller_send(SERVICE_ID, ACCOUNT)
    s = requests.post(
        otp_url,
        data=body,
        timeout=10,
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    ).text
    assert s[s.index("<Code>") + 6 : s.index("</Code>")] == "0"
    code = s[s.index("<Message>") + 9 : s.index("</Message>")]
    deliver(store, dataclasses.replace(settings, sms_gateway=f"mitake:{peer.url}"))
    (form,) = [peer.form(i) for i in range(len(peer.requests))]
    assert form["dstaddr"] == "0912345678" and code in form["smbody"]
    assert verify(otp_url, code) == (0, 9999)


def test_the_email_carries_the_code(otp_url, store, settings, inbox):
    service = zeep.Client(f"{otp_url}?WSDL").bind("MobileOTP", "MobileOTPSoap")
    sent = service.SendOTPCodeTo(account=ACCOUNT, channel="email", _soapheaders=HEADER)
    assert sent.Code == 0
    deliver(store, dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=inbox.port))
    ((rcpt, message),) = inbox.messages
    assert rcpt == ["zoe@example.org"] and sent.Message in message.get_content()
    assert verify(otp_url, sent.Message) == (0, 9999)
