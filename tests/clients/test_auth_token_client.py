"""The OTP.asmx sample clients/auth_token.py runs as a real process against a live server (zeep,
SOAP 1.1 and 1.2; SQLite and PostgreSQL): AuthToken on an HOTP token, 13 and its exit status, SyncToken, then 0."""

import subprocess
import sys

import pytest

from gspws.core.access import OTP_FUNCTIONS
from gspws.core.otp import TotpParams

from helpers import REPO, SERVICE_ID, add_token

HOTP = TotpParams("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")  # RFC 4226's "12345678901234567890"


def _run(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "clients" / "auth_token.py"), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)


@pytest.mark.parametrize("soap12", [[], ["--soap12"]], ids=["soap11", "soap12"])
def test_auth_token_needs_sync_sync_token_then_passes(live_server, store, soap12):
    with store.unit() as repo:
        for function in OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
    otp_url = f"{live_server.base}/gsp2ws/OTP.asmx"
    serial = add_token(store, "tokenholder", HOTP, kind="hotp", hardware=True)
    base = ["--url", otp_url, "--service-id", SERVICE_ID, *soap12]
    hotp = HOTP.totp()
    drifted = _run(*base, "--serial", serial, "--otp", hotp.generate_otp(30))
    assert (drifted.returncode, drifted.stdout) == (3, "Code: 13\nMessage: 需要同步\n")
    pair = hotp.generate_otp(30), hotp.generate_otp(31)
    assert _run(*base, "--serial", serial, "--sync", *pair).returncode == 0
    passed = _run(*base, "--account", "tokenholder", "--otp", hotp.generate_otp(32))
    assert (passed.returncode, passed.stdout) == (0, "Code: 0\nMessage: 動態密碼驗證通過\n")
    again = _run(*base, "--account", "tokenholder", "--otp", hotp.generate_otp(32))
    assert again.returncode == 1
