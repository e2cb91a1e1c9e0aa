"""Single use across processes: ``gspws serve --workers 4`` and 16 client processes firing the
same valid code at the same instant; exactly one is accepted. SQLite and PostgreSQL.
MobileOTP.asmx VerifyOTPCode (the code from a real SendOTPCode over HTTP) and OTP.asmx
VerifyResponse (an OCRA response to a real GetChallenge)."""

import multiprocessing
import re

import pytest
import requests

from gspws.core import ocra
from gspws.core.access import MOBILE_OTP_FUNCTIONS

from helpers import ACCOUNT, SERVICE_ID, ServerProcess, gspws_env, run_together

CLIENTS = 16
WORKERS = 4
CODE = re.compile(r"<Code>(\d+)</Code>")
MP = multiprocessing.get_context("fork")
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><soap12:Envelope '
    'xmlns:soap12="http://www.w3.org/2003/05/soap-envelope"><soap12:Header>'
    '<ServiceHeader xmlns="http://cp.gov.tw/gsp2"><ServiceID>'
    + SERVICE_ID
    + "</ServiceID></ServiceHeader></soap12:Header><soap12:Body>{body}</soap12:Body>"
    "</soap12:Envelope>"
)
HEADERS = {"Content-Type": "application/soap+xml; charset=utf-8"}


def _call(url: str, body: str) -> str:
    return requests.post(
        url, data=ENVELOPE.format(body=body).encode(), headers=HEADERS, timeout=30
    ).text


def _fire(url: str, body: str, barrier, results, index: int) -> None:
    try:
        barrier.wait(timeout=60)
        found = CODE.search(_call(url, body))
        results.put((index, int(found.group(1)) if found else None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((index, repr(exc)))


@pytest.fixture
def server(settings, store, demo, tmp_path):
    with store.unit() as repo:
        for function in (*MOBILE_OTP_FUNCTIONS, "GetChallenge", "VerifyResponse"):
            repo.grant(SERVICE_ID, function)
        repo.set_destinations(repo.get_account(ACCOUNT), "0912345678", None, True)
    server = ServerProcess(
        settings.effective_database_url,
        gspws_env(tmp_path, settings.secret_key),
        tmp_path / "server.log",
        workers=WORKERS,
    )
    server.start()
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_same_code_from_sixteen_processes_is_accepted_once(server):
    url = server.url.replace("TOTP.asmx", "MobileOTP.asmx")
    sent = _call(
        url,
        f'<SendOTPCode xmlns="http://cp.gov.tw/gsp2"><account>{ACCOUNT}</account></SendOTPCode>',
    )
    code = sent[sent.index("<Message>") + 9 : sent.index("</Message>")]
    body = (
        f'<VerifyOTPCode xmlns="http://cp.gov.tw/gsp2"><account>{ACCOUNT}</account>'
        f"<OTPCode>{code}</OTPCode></VerifyOTPCode>"
    )
    assert _race(url, body) == [0] + [9999] * (CLIENTS - 1)


def _race(url: str, body: str) -> list:
    """The answers of CLIENTS processes posting ``body`` at once, sorted."""
    barrier, results = MP.Barrier(CLIENTS), MP.Queue()
    clients = [
        MP.Process(target=_fire, args=(url, body, barrier, results, i)) for i in range(CLIENTS)
    ]
    return sorted(answer for _index, answer in run_together(clients, results))


def test_same_ocra_response_from_sixteen_processes_is_accepted_once(server, store):
    suite, key = "OCRA-1:HOTP-SHA512-8:C-QN08", bytes(range(64))
    with store.unit() as repo:
        repo.add_ocra_token("OCRA0001", suite, key)
    url = server.url.replace("TOTP.asmx", "OTP.asmx")
    issued = _call(
        url,
        '<GetChallenge xmlns="http://cp.gov.tw/gsp2"><tokenSN>OCRA0001</tokenSN></GetChallenge>',
    )
    challenge = issued[issued.index("<Message>") + 9 : issued.index("</Message>")]
    answer = ocra.response(ocra.parse_suite(suite), key, challenge, counter=0)
    body = (
        '<VerifyResponse xmlns="http://cp.gov.tw/gsp2"><tokenSN>OCRA0001</tokenSN>'
        f"<challenge>{challenge}</challenge><response>{answer}</response></VerifyResponse>"
    )
    assert _race(url, body) == [0] + [9999] * (CLIENTS - 1)
