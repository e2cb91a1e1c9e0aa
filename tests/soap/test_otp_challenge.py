"""OTP.asmx's OCRA operations through HTTP with zeep stubs from the served WSDL, on SQLite and
PostgreSQL: every RFC 6287 Appendix C vector a token answers to an issued challenge through
VerifyResponse, GetChallenge then VerifyResponse once, expiry, another token or service, the
signing variant, lockout, and the same response 16 times at once."""

import threading
from itertools import groupby

import pytest
import requests
import zeep

from gspws.core import ocra
from gspws.core.challenge import NewChallenge, sign_challenge

from helpers import SERVICE_ID, T0, audit_rows
from ocra_vectors import ISSUABLE, KEY20, KEY32, KEY64, PIN

HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}
OPERATIONS = ("GetChallenge", "GetSignChallenge", "VerifyResponse")
PLAIN = "OCRA-1:HOTP-SHA1-6:QN08"
COUNTER = "OCRA-1:HOTP-SHA512-8:C-QN08"


@pytest.fixture
def otp_url(live_server, store, demo) -> str:
    """The demo service granted the OCRA operations."""
    with store.unit() as repo:
        for function in OPERATIONS:
            repo.grant(SERVICE_ID, function)
    return f"{live_server.base}/gsp2ws/OTP.asmx"


def _stub(url: str, soap12: bool = False):
    client = zeep.Client(f"{url}?WSDL")
    return client.bind("OTP", "OTPSoap12" if soap12 else "OTPSoap")


def _token(store, serial, suite, key, pin=None) -> int:
    with store.unit() as repo:
        return repo.add_ocra_token(serial, suite, key, pin=pin)


def _issue(store, token_id, question, at, service_id=SERVICE_ID):
    """The challenge row GetChallenge would store, with the RFC's question (that of a vector)."""
    with store.unit() as repo:
        repo.issue_challenge(NewChallenge(token_id, question, "login", service_id, at, at + 120))


def _answer(suite_text, key, question, counter=None, pin=None, at=T0):
    suite = ocra.parse_suite(suite_text)
    digest = ocra.pin_digest(suite, pin) if pin else None
    step = ocra.time_step_at(suite, at) if suite.time_step else None
    return ocra.response(suite, key, question, counter, digest, time_step=step)


def _verify(service, serial, challenge, response):
    return service.VerifyResponse(
        tokenSN=serial, challenge=challenge, response=response, _soapheaders=HEADER
    ).Code


SUITES = [list(group) for _, group in groupby(ISSUABLE, key=lambda v: v.suite)]


@pytest.mark.parametrize("vectors", SUITES, ids=[g[0].suite for g in SUITES])
def test_every_appendix_c_vector_through_verify_response(otp_url, store, clock, vectors):
    service = _stub(otp_url)
    first = vectors[0]
    token_id = _token(store, "OCRA0001", first.suite, first.key, first.pin)
    for vector in vectors:  # in order: a counter suite's vectors count up from 0
        clock.now = float(vector.time) if vector.time is not None else T0
        _issue(store, token_id, vector.question, clock.now)
        assert _verify(service, "OCRA0001", vector.question, vector.response) == 0, vector.id


def test_get_challenge_then_verify_once(otp_url, store, clock, soap12):
    service = _stub(otp_url, soap12)
    _token(store, "OCRA0001", PLAIN, KEY20)
    issued = service.GetChallenge(tokenSN="OCRA0001", _soapheaders=HEADER)
    assert issued.Code == 0 and len(issued.Message) == 8 and issued.Message.isdigit()
    answer = _answer(PLAIN, KEY20, issued.Message)
    assert _verify(service, "OCRA0001", issued.Message, answer) == 0
    assert _verify(service, "OCRA0001", issued.Message, answer) == 9999  # replay
    rows = [(r.operation, r.code, r.account) for r in audit_rows(store)]
    assert rows == [
        ("GetChallenge", 0, "OCRA0001"),
        ("VerifyResponse", 0, "OCRA0001"),
        ("VerifyResponse", 9999, "OCRA0001"),
    ]


def test_expiry(otp_url, store, clock):
    service = _stub(otp_url)
    _token(store, "OCRA0001", PLAIN, KEY20)
    challenge = service.GetChallenge(tokenSN="OCRA0001", _soapheaders=HEADER).Message
    clock.advance(120)
    assert _verify(service, "OCRA0001", challenge, _answer(PLAIN, KEY20, challenge)) == 9999


def test_wrong_token_and_unknown_token(otp_url, store):
    service = _stub(otp_url)
    _token(store, "OCRA0001", PLAIN, KEY20)
    _token(store, "OCRA0002", PLAIN, KEY20)
    challenge = service.GetChallenge(tokenSN="OCRA0001", _soapheaders=HEADER).Message
    answer = _answer(PLAIN, KEY20, challenge)
    assert _verify(service, "OCRA0002", challenge, answer) == 9999
    assert _verify(service, "NOSUCH", challenge, answer) == 3001
    assert service.GetChallenge(tokenSN="NOSUCH", _soapheaders=HEADER).Code == 3001
    assert _verify(service, "OCRA0001", challenge, answer) == 0


def test_signing(otp_url, store):
    service = _stub(otp_url)
    suite = "OCRA-1:HOTP-SHA256-8:QA08"
    _token(store, "OCRA0001", suite, KEY32)
    got = service.GetSignChallenge(
        tokenSN="OCRA0001", amount="1,500", payee="王小明 00123456", _soapheaders=HEADER
    )
    assert got.Code == 0
    assert got.Message == sign_challenge(ocra.parse_suite(suite), "1500.00", "王小明 00123456", 0)
    assert _verify(service, "OCRA0001", got.Message, _answer(suite, KEY32, got.Message)) == 0
    bad = service.GetSignChallenge(tokenSN="OCRA0001", amount="-5", payee="x", _soapheaders=HEADER)
    assert bad.Code == 9999


def test_pin_suite(otp_url, store):
    service = _stub(otp_url)
    suite = "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1"
    _token(store, "OCRA0001", suite, KEY32, PIN)
    challenge = service.GetChallenge(tokenSN="OCRA0001", _soapheaders=HEADER).Message
    wrong_pin = _answer(suite, KEY32, challenge, 0, "4321")
    assert _verify(service, "OCRA0001", challenge, wrong_pin) == 9999
    challenge = service.GetChallenge(tokenSN="OCRA0001", _soapheaders=HEADER).Message
    assert _verify(service, "OCRA0001", challenge, _answer(suite, KEY32, challenge, 0, PIN)) == 0


def test_the_same_response_sixteen_times_at_once(otp_url, store):
    _token(store, "OCRA0001", COUNTER, KEY64)
    challenge = _stub(otp_url).GetChallenge(tokenSN="OCRA0001", _soapheaders=HEADER).Message
    answer = _answer(COUNTER, KEY64, challenge, 0)
    stubs = [_stub(otp_url) for _ in range(16)]
    barrier = threading.Barrier(16)
    codes = []

    def call(stub):
        barrier.wait()
        codes.append(_verify(stub, "OCRA0001", challenge, answer))

    threads = [threading.Thread(target=call, args=(s,)) for s in stubs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [0] + [9999] * 15


@pytest.mark.parametrize(
    "operation, words",
    [
        ("GetChallenge", "取得 OCRA 挑戰碼"),
        ("GetSignChallenge", "交易簽章"),
        ("VerifyResponse", "驗證 OCRA 載具"),
    ],
)
def test_help_pages_describe_the_operations(otp_url, operation, words):
    page = requests.get(f"{otp_url}?op={operation}", timeout=10)
    assert page.status_code == 200 and words in page.text
