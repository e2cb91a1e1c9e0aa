"""The OTP.asmx sample clients/ocra_challenge.py runs as a real process against a live server
(zeep, SOAP 1.1 and 1.2): GetChallenge, the token's response through VerifyResponse (0, then
1 for its replay), and GetSignChallenge."""

import subprocess
import sys

import pytest

from gspws.core import ocra
from gspws.core.challenge import sign_challenge

from helpers import REPO, SERVICE_ID

SUITE, KEY = ocra.parse_suite("OCRA-1:HOTP-SHA1-6:QN08"), bytes(range(20))


@pytest.fixture
def database_url(sqlite_url):
    """The sample tests the wire, not the store: SQLite only."""
    return sqlite_url


@pytest.fixture
def otp_url(live_server, store) -> str:
    with store.unit() as repo:
        for function in ("GetChallenge", "GetSignChallenge", "VerifyResponse"):
            repo.grant(SERVICE_ID, function)
        repo.add_ocra_token("OC-1", SUITE.text, KEY)
    return f"{live_server.base}/gsp2ws/OTP.asmx"


def _run(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "clients" / "ocra_challenge.py"), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)


@pytest.mark.parametrize("soap12", [[], ["--soap12"]], ids=["soap11", "soap12"])
def test_challenge_response_and_signing(otp_url, soap12):
    base = ["--url", otp_url, "--service-id", SERVICE_ID, "--serial", "OC-1", *soap12]
    issued = _run(*base)
    assert issued.returncode == 0 and issued.stdout.startswith("Code: 0\nMessage: ")
    challenge = issued.stdout.split("Message: ")[1].strip()
    answer = ocra.response(SUITE, KEY, challenge)
    verified = _run(*base, "--challenge", challenge, "--response", answer)
    assert (verified.returncode, verified.stdout) == (0, "Code: 0\nMessage: 動態密碼驗證通過\n")
    assert _run(*base, "--challenge", challenge, "--response", answer).returncode == 1
    signed = _run(*base, "--amount", "1200", "--payee", "ACME Ltd")
    assert signed.returncode == 0
    assert signed.stdout.split("Message: ")[1].strip() != challenge
    assert _run(*base, "--amount", "1200").returncode == 2  # --payee missing: usage


def test_the_sign_challenge_printed_is_the_documented_derivation(otp_url):
    base = ["--url", otp_url, "--service-id", SERVICE_ID, "--serial", "OC-1"]
    signed = _run(*base, "--amount", "1,200.5", "--payee", "ACME  Ltd")
    assert signed.stdout == f"Code: 0\nMessage: {sign_challenge(SUITE, '1200.50', 'ACME Ltd', 0)}\n"
