"""Single use across processes: ``gspws serve --workers 4`` and 16 client processes firing the
same valid code at the same instant; exactly one is accepted. SQLite and PostgreSQL.

VerifyOTPCode's code comes from a real SendOTPCode over HTTP; OTP.asmx's AuthToken (an HOTP
token: its counter moves by one conditional UPDATE) and Auth (a hardware TOTP token) are fired
with their token's next code, VerifyResponse with an OCRA token's response to a real
GetChallenge."""

import pytest

from gspws.core import ocra
from gspws.core.access import MOBILE_OTP_FUNCTIONS, OTP_FUNCTIONS
from gspws.core.otp import TotpParams

from helpers import (
    ACCOUNT,
    RACE_CLIENTS,
    SERVICE_ID,
    ServerProcess,
    add_token,
    fire_at_once,
    gspws_env,
    soap12_call,
)

WORKERS = 4
TNS = 'xmlns="http://cp.gov.tw/gsp2"'
HOTP = TotpParams("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")  # RFC 4226's "12345678901234567890"


@pytest.fixture
def server(settings, store, demo, tmp_path):
    """``gspws serve --workers 4`` on the store, the demo service granted MobileOTP.asmx's and
    OTP.asmx's operations (before it starts: workers load the services then)."""
    with store.unit() as repo:
        for function in MOBILE_OTP_FUNCTIONS + OTP_FUNCTIONS:
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
    sent = soap12_call(url, f"<SendOTPCode {TNS}><account>{ACCOUNT}</account></SendOTPCode>")
    code = sent[sent.index("<Message>") + 9 : sent.index("</Message>")]
    body = f"<VerifyOTPCode {TNS}><account>{ACCOUNT}</account><OTPCode>{code}</OTPCode></VerifyOTPCode>"
    assert fire_at_once(url, body) == [0] + [9999] * (RACE_CLIENTS - 1)


def test_same_hotp_code_from_sixteen_processes_is_accepted_once(server, store):
    serial = add_token(store, None, HOTP, kind="hotp", hardware=True)
    url = server.url.replace("TOTP.asmx", "OTP.asmx")
    body = f"<AuthToken {TNS}><tokenSN>{serial}</tokenSN><otp>755224</otp></AuthToken>"
    assert fire_at_once(url, body) == [0] + [9999] * (RACE_CLIENTS - 1)
    # the counter moved to 0 (the 15 replays count as failures, as VerifyTOTPCode's do)
    with store.reading() as repo:
        assert repo.get_token(serial).last_step == 0


def test_same_totp_code_through_auth_from_sixteen_processes_is_accepted_once(server, store):
    import time

    params = TotpParams("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U")
    add_token(store, "racer", params, hardware=True)
    code = params.code_at(time.time())  # the server runs on the system clock
    url = server.url.replace("TOTP.asmx", "OTP.asmx")
    body = f"<Auth {TNS}><account>racer</account><password>{code}</password></Auth>"
    assert fire_at_once(url, body) == [0] + [9999] * (RACE_CLIENTS - 1)


def test_same_ocra_response_from_sixteen_processes_is_accepted_once(server, store):
    suite, key = "OCRA-1:HOTP-SHA512-8:C-QN08", bytes(range(64))
    with store.unit() as repo:
        repo.add_ocra_token("OCRA0001", suite, key)
    url = server.url.replace("TOTP.asmx", "OTP.asmx")
    issued = soap12_call(url, f"<GetChallenge {TNS}><tokenSN>OCRA0001</tokenSN></GetChallenge>")
    challenge = issued[issued.index("<Message>") + 9 : issued.index("</Message>")]
    answer = ocra.response(ocra.parse_suite(suite), key, challenge, counter=0)
    body = (
        f"<VerifyResponse {TNS}><tokenSN>OCRA0001</tokenSN><challenge>{challenge}</challenge>"
        f"<response>{answer}</response></VerifyResponse>"
    )
    assert fire_at_once(url, body) == [0] + [9999] * (RACE_CLIENTS - 1)
    with store.reading() as repo:
        assert repo.get_token("OCRA0001").last_step == 0
