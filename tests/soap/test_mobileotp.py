"""MobileOTP.asmx through HTTP: zeep stubs from the served WSDL (SOAP 1.1 and 1.2), the public
caller's hand-written SOAP 1.2 envelope read by substring, the code rules, the outbox row
committed with the code, and racing calls, on SQLite and PostgreSQL."""

import re
import threading

import pytest
import requests
import zeep
from sqlalchemy import select

from gspws.core.access import MOBILE_OTP_FUNCTIONS
from gspws.store.models import OtpCode, OutboxMessage
from gspws.store.oob import OobQueries

from helpers import ACCOUNT, SERVICE_ID, public_caller_send

MOBILE = "0912345678"
HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}


@pytest.fixture
def mobile_demo(store, demo):
    """The demo service granted MobileOTP's operations; wederlin's mobile number verified."""
    with store.unit() as repo:
        for function in MOBILE_OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
        repo.set_destinations(repo.get_account(ACCOUNT), MOBILE, "zoe@gmail.com", True)
    return demo


@pytest.fixture
def otp_url(live_server, mobile_demo) -> str:
    return f"{live_server.base}/gsp2ws/MobileOTP.asmx"


def _stub(url: str, soap12: bool):
    client = zeep.Client(f"{url}?WSDL")
    return client.bind("MobileOTP", "MobileOTPSoap12" if soap12 else "MobileOTPSoap")


def _outbox(store) -> list[OutboxMessage]:
    with store.reading() as repo:
        return list(repo.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _live_codes(store) -> list[OtpCode]:
    with store.reading() as repo:
        return list(
            repo.session.scalars(
                select(OtpCode).where(OtpCode.used_at.is_(None), OtpCode.superseded_at.is_(None))
            )
        )


def test_send_then_verify_once(otp_url, store, soap12):
    service = _stub(otp_url, soap12)
    sent = service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER)
    assert sent.Code == 0 and re.fullmatch(r"\d{6}", sent.Message)
    (message,) = _outbox(store)
    assert (message.channel, message.destination, message.status) == ("sms", MOBILE, "pending")
    assert sent.Message.encode() not in message.body_encrypted
    assert sent.Message in store.secrets.decrypt(message.body_encrypted)
    (code,) = _live_codes(store)
    assert sent.Message not in code.code_hash
    first = service.VerifyOTPCode(account=ACCOUNT, OTPCode=sent.Message, _soapheaders=HEADER)
    again = service.VerifyOTPCode(account=ACCOUNT, OTPCode=sent.Message, _soapheaders=HEADER)
    assert (first.Code, again.Code) == (0, 9999)


def test_public_callers_envelope_read_by_substring(otp_url, store):
    body = public_caller_send(SERVICE_ID, ACCOUNT)
    s = requests.post(
        otp_url,
        data=body,
        timeout=10,
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    ).text
    code = s[s.index("<Message>") + 9 : s.index("</Message>")]
    assert s[s.index("<Code>") + 6 : s.index("</Code>")] == "0"
    assert code in store.secrets.decrypt(_outbox(store)[0].body_encrypted)


def test_destinations_are_masked(otp_url):
    result = _stub(otp_url, False).GetOTPDestinations(account=ACCOUNT, _soapheaders=HEADER)
    assert (
        result.Code,
        result.Result.Mobile,
        result.Result.MobileVerified,
        result.Result.Email,
        result.Result.EmailVerified,
    ) == (0, "0912***678", True, "z**@gmail.com", True)


def test_unknown_account_or_nothing_sent_is_3001(otp_url):
    service = _stub(otp_url, True)
    assert service.SendOTPCode(account="nobody", _soapheaders=HEADER).Code == 3001
    assert (
        service.VerifyOTPCode(account=ACCOUNT, OTPCode="123456", _soapheaders=HEADER).Code == 3001
    )
    assert service.GetOTPDestinations(account="nobody", _soapheaders=HEADER).Code == 3001


def test_channel_choice(otp_url, store):
    service = _stub(otp_url, False)
    assert service.SendOTPCodeTo(account=ACCOUNT, channel="email", _soapheaders=HEADER).Code == 0
    assert [(m.channel, m.destination, m.subject is not None) for m in _outbox(store)] == [
        ("email", "zoe@gmail.com", True)
    ]


def test_resend_too_soon_then_new_code_supersedes(otp_url, store, clock):
    service = _stub(otp_url, False)
    first = service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Message
    assert service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Code == 9999
    clock.advance(60)
    second = service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Message
    assert len(_live_codes(store)) == 1
    if first != second:
        assert (
            service.VerifyOTPCode(account=ACCOUNT, OTPCode=first, _soapheaders=HEADER).Code == 9999
        )
    assert service.VerifyOTPCode(account=ACCOUNT, OTPCode=second, _soapheaders=HEADER).Code == 0


def test_expired_code_and_spent_tries(otp_url, clock):
    service = _stub(otp_url, False)
    code = service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Message
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert (
            service.VerifyOTPCode(account=ACCOUNT, OTPCode=wrong, _soapheaders=HEADER).Code == 9999
        )
    assert service.VerifyOTPCode(account=ACCOUNT, OTPCode=code, _soapheaders=HEADER).Code == 9999
    clock.advance(60)
    code = service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Message
    clock.advance(300)
    assert service.VerifyOTPCode(account=ACCOUNT, OTPCode=code, _soapheaders=HEADER).Code == 9999


def test_masked_message_setting(serve, mobile_demo, store):
    server = serve(otp_message="masked")
    service = _stub(f"{server.base}/gsp2ws/MobileOTP.asmx", False)
    assert service.SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Message == "0912***678"


def test_operations_are_functions_to_grant(live_server, demo):
    """The demo service here is granted VerifyTOTPCode only."""
    url = f"{live_server.base}/gsp2ws/mobileotp.ASMX"
    assert _stub(url, True).SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Code == 8108


def _together(count: int, call) -> list:
    barrier, results = threading.Barrier(count), []

    def run():
        barrier.wait(10)
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _reads_meet(monkeypatch, read: str, parties: int, wait: float) -> threading.Barrier:
    """The first ``parties`` calls of the store's ``read`` (an OobQueries method) wait after
    reading, up to ``wait`` seconds, until all of them have read: so racing calls all read before
    any of them writes, the interleaving the single-use guards exist for (left to chance, the
    calls of a test mostly run one after the other, and the test passed without the guard). A
    call held before its read by a lock (the guard of sends) breaks the barrier; the others go
    on. Later calls do not wait: each waiting call holds a pooled connection."""
    original, barrier = getattr(OobQueries, read), threading.Barrier(parties)
    turns, lock = iter(range(parties)), threading.Lock()

    def read_then_meet(self, *args, **kwargs):
        found = original(self, *args, **kwargs)
        with lock:
            meets = next(turns, None) is not None
        if meets:
            try:
                barrier.wait(wait)
            except threading.BrokenBarrierError:
                pass
        return found

    monkeypatch.setattr(OobQueries, read, read_then_meet)
    return barrier


def test_two_sends_at_once_leave_one_valid_code(serve, mobile_demo, store, monkeypatch):
    """The account's row lock (SQLite: the write lock) decides sends one after the other: the
    second waits for the first's commit and supersedes its code. Without it both would read
    no earlier send and insert a live code each."""
    server = serve(otp_resend=0)
    url = f"{server.base}/gsp2ws/MobileOTP.asmx"
    services = [_stub(url, False) for _ in range(2)]
    _reads_meet(monkeypatch, "sends_since", 2, wait=1.0)
    answers = _together(
        2, lambda: services.pop().SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Code
    )
    assert sorted(answers) == [0, 0]
    assert len(_live_codes(store)) == 1


def test_same_code_sixteen_times_at_once_is_accepted_once(otp_url, monkeypatch):
    """Eight of the sixteen (the connection pools hold ten) read the code unused before any uses
    it (the barrier is not broken): only the conditional UPDATE (``used_at IS NULL``) keeps it
    single-use."""
    code = _stub(otp_url, False).SendOTPCode(account=ACCOUNT, _soapheaders=HEADER).Message
    services = [_stub(otp_url, False) for _ in range(16)]
    met = _reads_meet(monkeypatch, "pending_code", 8, wait=20)
    answers = _together(
        16,
        lambda: (
            services.pop().VerifyOTPCode(account=ACCOUNT, OTPCode=code, _soapheaders=HEADER).Code
        ),
    )
    assert not met.broken, "the eight calls did not all read before writing"
    assert sorted(answers) == [0] + [9999] * 15


def test_wsdl_and_help_pages(otp_url):
    wsdl = requests.get(f"{otp_url}?wsdl", timeout=10)
    assert wsdl.status_code == 200 and f'location="{otp_url}"' in wsdl.text
    assert 'name="CP2ResponseOfOTPDestinations"' in wsdl.text
    page = requests.get(otp_url.replace("MobileOTP.asmx", "mobileotp.aspx"), timeout=10).text
    for name in MOBILE_OTP_FUNCTIONS:
        assert f"?op={name}" in page
        op_page = requests.get(f"{otp_url}?op={name}", timeout=10)
        assert op_page.status_code == 200 and f"<h2>{name}</h2>" in op_page.text
