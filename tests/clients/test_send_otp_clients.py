"""The MobileOTP samples run as real processes against a live server: clients/send_otp.py (zeep,
SOAP 1.1 and 1.2) sends a code and checks it once; clients/curl/send_otp_soap12.sh reads the
code from Message by substring."""

import re
import shutil
import subprocess
import sys

import pytest

from gspws.core.access import MOBILE_OTP_FUNCTIONS

from helpers import ACCOUNT, REPO, SERVICE_ID

CLIENTS = REPO / "clients"


@pytest.fixture
def database_url(sqlite_url):
    """The samples test the wire, not the store: SQLite only."""
    return sqlite_url


@pytest.fixture
def otp_url(live_server, store) -> str:
    with store.unit() as repo:
        for function in MOBILE_OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
        repo.set_destinations(repo.get_account(ACCOUNT), "0912345678", None, True)
    return f"{live_server.base}/gsp2ws/MobileOTP.asmx"


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)


def _sent_code(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr
    return re.fullmatch(r"Code: 0\nMessage: (\d{6})\n", done.stdout).group(1)


@pytest.mark.parametrize("soap12", [[], ["--soap12"]], ids=["soap11", "soap12"])
def test_zeep_sample_sends_then_verifies_once(otp_url, soap12):
    base = [
        sys.executable,
        str(CLIENTS / "send_otp.py"),
        "--url",
        otp_url,
        "--service-id",
        SERVICE_ID,
        "--account",
        ACCOUNT,
        *soap12,
    ]
    code = _sent_code(_run(*base))
    assert _run(*base, "--verify", code).returncode == 0
    assert _run(*base, "--verify", code).stdout == "Code: 9999\nMessage: 動態密碼驗證不通過\n"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_sample_reads_the_code_by_substring(otp_url):
    code = _sent_code(
        _run(str(CLIENTS / "curl" / "send_otp_soap12.sh"), otp_url, SERVICE_ID, ACCOUNT)
    )
    verify = [
        sys.executable,
        str(CLIENTS / "send_otp.py"),
        "--url",
        otp_url,
        "--service-id",
        SERVICE_ID,
        "--account",
        ACCOUNT,
        "--verify",
        code,
    ]
    assert _run(*verify).returncode == 0
