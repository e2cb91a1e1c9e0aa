"""OTP.asmx's Auth, AuthToken, Sync, SyncToken through HTTP with zeep stubs from the served WSDL
(SOAP 1.1 and 1.2), on SQLite and PostgreSQL: the RFC 4226 and RFC 6238 test vectors, drift and
resync end to end, PINs, lost and unassigned tokens, and the answers beside them (VerifyTOTPCode
on the same tokens, the audit rows)."""

import base64

import pytest
import requests
import zeep

from gspws.core.access import OTP_FUNCTIONS
from gspws.core.otp import TotpParams
from gspws.store.models import TokenStatus

from helpers import (
    ACCOUNT,
    GSPWS,
    SERVICE_ID,
    add_token,
    audit_rows,
    call,
    code_at,
    gspws_env,
    run_gspws,
    zeep_service,
)

HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}

#: RFC 4226 Appendix D: the HOTP values of the secret "12345678901234567890", counters 0-9.
RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = (
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
)

#: RFC 6238 Appendix B: the seeds per algorithm (8 digits, 30-second steps) and the table.
RFC6238_SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238_TABLE = (
    (59, {"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}),
    (1111111109, {"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}),
    (1111111111, {"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}),
    (1234567890, {"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}),
    (2000000000, {"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}),
    (20000000000, {"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}),
)


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode()


HOTP = TotpParams(b32(RFC4226_SECRET))


@pytest.fixture
def otp_url(live_server, store, demo) -> str:
    """The demo service granted OTP.asmx's operations."""
    with store.unit() as repo:
        for function in OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
    return f"{live_server.base}/gsp2ws/OTP.asmx"


def stub(url: str, soap12: bool = False):
    client = zeep.Client(f"{url}?WSDL")
    return client.bind("OTP", "OTPSoap12" if soap12 else "OTPSoap")


def codes_of(*results) -> list[int]:
    return [r.Code for r in results]


def test_rfc4226_vectors_through_auth_token(otp_url, store, soap12):
    serial = add_token(store, None, HOTP, kind="hotp", hardware=True, serial="RFC4226D")
    otp = stub(otp_url, soap12)
    answers = [otp.AuthToken(tokenSN=serial, otp=c, _soapheaders=HEADER) for c in RFC4226_CODES]
    assert [(a.Code, a.Message) for a in answers] == [(0, "動態密碼驗證通過")] * 10
    replay = otp.AuthToken(tokenSN=serial, otp=RFC4226_CODES[9], _soapheaders=HEADER)
    assert (replay.Code, replay.Message) == (9999, "動態密碼驗證不通過")


def test_rfc4226_vectors_through_auth_skipping_within_the_look_ahead(otp_url, store):
    add_token(store, "hotp-user", HOTP, kind="hotp", hardware=True)
    otp = stub(otp_url)
    # counters 0, 3, 9: presses that never reached gspws are skipped; going back is refused
    results = [
        otp.Auth(account="hotp-user", password=RFC4226_CODES[c], _soapheaders=HEADER).Code
        for c in (0, 3, 2, 9, 9)
    ]
    assert results == [0, 0, 9999, 0, 9999]


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
def test_rfc6238_vectors_through_auth(otp_url, store, clock, soap12, algorithm):
    account = f"rfc6238-{algorithm.lower()}"
    params = TotpParams(b32(RFC6238_SEEDS[algorithm]), algorithm, 8, 30)
    add_token(store, account, params, hardware=True)
    otp = stub(otp_url, soap12)
    answers = []
    for at, expected in RFC6238_TABLE:
        clock.now = float(at)
        answers.append(otp.Auth(account=account, password=expected[algorithm], _soapheaders=HEADER))
    assert codes_of(*answers) == [0] * len(RFC6238_TABLE)


def test_totp_drift_needs_sync_then_sync_then_passes(otp_url, live_server, store, clock, soap12):
    params = TotpParams("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")
    add_token(store, "drifter", params, hardware=True)
    otp = stub(otp_url, soap12)
    totp = zeep_service(live_server.url, soap12)
    # the token's clock is 10 minutes ahead: 20 steps, outside ±1, inside the sync window
    ahead = code_at(params, clock.now, 20)
    assert otp.Auth(account="drifter", password=ahead, _soapheaders=HEADER).Code == 13
    assert otp.Auth(account="drifter", password=ahead, _soapheaders=HEADER).Message == "需要同步"
    assert call(totp, "drifter", ahead)[0] == 9999  # VerifyTOTPCode's contract has no 13
    first, second = code_at(params, clock.now, 20), code_at(params, clock.now, 21)
    synced = otp.Sync(account="drifter", otp1=first, otp2=second, _soapheaders=HEADER)
    assert synced.Code == 0
    # single use: the same pair again is refused, as is the second code as a sign-in
    again = otp.Sync(account="drifter", otp1=first, otp2=second, _soapheaders=HEADER)
    assert again.Code == 9999
    assert otp.Auth(account="drifter", password=second, _soapheaders=HEADER).Code == 9999
    # from now on the window is centred on the drift (21 steps), for Auth and VerifyTOTPCode
    clock.advance(30)
    assert (
        otp.Auth(
            account="drifter", password=code_at(params, clock.now, 21), _soapheaders=HEADER
        ).Code
        == 0
    )
    clock.advance(30)
    assert call(totp, "drifter", code_at(params, clock.now, 21))[0] == 0
    # the step now's code would have had without drift is long before the last accepted one
    clock.advance(30)
    undrifted = code_at(params, clock.now)
    assert otp.Auth(account="drifter", password=undrifted, _soapheaders=HEADER).Code == 9999


def test_beyond_the_sync_window_is_refused_and_sync_finds_nothing(otp_url, store, clock):
    params = TotpParams("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")
    add_token(store, "far", params)
    otp = stub(otp_url)
    far = code_at(params, clock.now, 241)
    assert otp.Auth(account="far", password=far, _soapheaders=HEADER).Code == 9999
    pair = code_at(params, clock.now, 241), code_at(params, clock.now, 242)
    assert otp.Sync(account="far", otp1=pair[0], otp2=pair[1], _soapheaders=HEADER).Code == 9999
    # two codes that are not consecutive do not sync
    apart = code_at(params, clock.now, 20), code_at(params, clock.now, 22)
    assert otp.Sync(account="far", otp1=apart[0], otp2=apart[1], _soapheaders=HEADER).Code == 9999


def test_hotp_counter_needs_sync_then_sync_token(otp_url, store, soap12):
    serial = add_token(store, "presser", HOTP, kind="hotp", hardware=True)
    otp = stub(otp_url, soap12)
    hotp = HOTP.totp()
    # pressed 50 times unseen: beyond the look-ahead of 10, inside the 1000 of the sync window
    assert otp.AuthToken(tokenSN=serial, otp=hotp.generate_otp(50), _soapheaders=HEADER).Code == 13
    synced = otp.SyncToken(
        tokenSN=serial, otp1=hotp.generate_otp(50), otp2=hotp.generate_otp(51), _soapheaders=HEADER
    )
    assert synced.Code == 0
    assert (
        otp.Auth(account="presser", password=hotp.generate_otp(51), _soapheaders=HEADER).Code
        == 9999
    )
    assert (
        otp.Auth(account="presser", password=hotp.generate_otp(52), _soapheaders=HEADER).Code == 0
    )
    assert (
        otp.AuthToken(tokenSN=serial, otp=hotp.generate_otp(2000), _soapheaders=HEADER).Code == 9999
    )


def test_pin_before_the_code(otp_url, store):
    add_token(store, "pinned", HOTP, kind="hotp", hardware=True, pin="4711")
    otp = stub(otp_url)
    code = RFC4226_CODES
    assert otp.Auth(account="pinned", password=code[0], _soapheaders=HEADER).Code == 9999
    assert otp.Auth(account="pinned", password="4712" + code[0], _soapheaders=HEADER).Code == 9999
    assert otp.Auth(account="pinned", password="4711" + code[0], _soapheaders=HEADER).Code == 0
    assert otp.Auth(account="pinned", password="4711" + code[0], _soapheaders=HEADER).Code == 9999
    rows = [r for r in audit_rows(store) if r.operation == "Auth"]
    assert [r.code for r in rows] == [9999, 9999, 0, 9999]
    assert all(r.account == "pinned" for r in rows)  # and nothing of the password


def test_lost_disabled_unknown_and_unassigned(otp_url, store):
    otp = stub(otp_url)
    lost = add_token(store, "loser", HOTP, TokenStatus.LOST, kind="hotp", hardware=True)
    disabled = add_token(store, None, HOTP, TokenStatus.DISABLED, kind="hotp", hardware=True)
    pooled = add_token(store, None, HOTP, kind="hotp", hardware=True)
    code = RFC4226_CODES[0]
    assert otp.AuthToken(tokenSN=lost, otp=code, _soapheaders=HEADER).Code == 9999
    assert otp.AuthToken(tokenSN=disabled, otp=code, _soapheaders=HEADER).Code == 9999
    assert otp.Auth(account="loser", password=code, _soapheaders=HEADER).Code == 3001
    assert (
        otp.SyncToken(tokenSN=lost, otp1=code, otp2=RFC4226_CODES[1], _soapheaders=HEADER).Code
        == 9999
    )
    assert otp.AuthToken(tokenSN="NO-SUCH-SN", otp=code, _soapheaders=HEADER).Code == 3001
    assert otp.Auth(account="nobody", password=code, _soapheaders=HEADER).Code == 3001
    assert otp.AuthToken(tokenSN=pooled, otp=code, _soapheaders=HEADER).Code == 0


def test_lockout_counts_needs_sync_and_wrong_codes(otp_url, store, clock):
    serial = add_token(store, "locker", HOTP, kind="hotp")
    otp = stub(otp_url)
    hotp = HOTP.totp()
    wrong = [
        otp.AuthToken(tokenSN=serial, otp="000000", _soapheaders=HEADER).Code for _ in range(4)
    ]
    assert wrong == [9999] * 4
    assert otp.AuthToken(tokenSN=serial, otp=hotp.generate_otp(40), _soapheaders=HEADER).Code == 13
    # five failures lock the token: the right code is refused until the cool-down
    assert otp.AuthToken(tokenSN=serial, otp=RFC4226_CODES[0], _soapheaders=HEADER).Code == 9999
    clock.advance(900)
    assert otp.AuthToken(tokenSN=serial, otp=RFC4226_CODES[0], _soapheaders=HEADER).Code == 0


def test_not_granted_and_unknown_service(otp_url, store):
    otp = stub(otp_url)
    with store.unit() as repo:
        repo.revoke(SERVICE_ID, "Sync")
    assert otp.Sync(account=ACCOUNT, otp1="1", otp2="2", _soapheaders=HEADER).Code == 8108
    other = {"ServiceHeader": {"ServiceID": "APP9999999"}}
    assert otp.Auth(account=ACCOUNT, password="123456", _soapheaders=other).Code == 8101
    assert otp.Auth(account=ACCOUNT, password="123456").Code == 8102


def test_auth_accepts_the_app_token_verify_totp_code_accepts_hardware_totp(
    otp_url, live_server, store, demo, clock
):
    otp = stub(otp_url)
    assert otp.Auth(account=ACCOUNT, password=demo.code(clock.now), _soapheaders=HEADER).Code == 0
    params = TotpParams("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U")
    add_token(store, "hw-user", params, hardware=True)
    assert call(zeep_service(live_server.url), "hw-user", code_at(params, clock.now))[0] == 0


def test_wsdl_help_pages_and_aspx(otp_url, live_server):
    wsdl = requests.get(f"{otp_url}?WSDL", timeout=10)
    assert wsdl.status_code == 200
    assert f'location="{otp_url}"' in wsdl.text
    for operation in OTP_FUNCTIONS:
        assert f'name="{operation}"' in wsdl.text
    page = requests.get(f"{otp_url}?op=Auth", timeout=10)
    assert page.status_code == 200
    assert "PIN" in page.text and "需要同步" in page.text  # described, and in the codes' table
    assert "等待使用者確認登入" in page.text
    aspx = live_server.base + "/gsp2ws/otp.ASPX"
    assert stub(aspx).Auth(account="nobody", password="1", _soapheaders=HEADER).Code == 3001


def test_audit_rows_name_the_operation_and_no_code(otp_url, store):
    serial = add_token(store, None, HOTP, kind="hotp", serial="AUDITED1")
    otp = stub(otp_url)
    otp.AuthToken(tokenSN=serial, otp=RFC4226_CODES[0], _soapheaders=HEADER)
    otp.SyncToken(tokenSN=serial, otp1=RFC4226_CODES[5], otp2=RFC4226_CODES[6], _soapheaders=HEADER)
    rows = [(r.operation, r.account, r.code, r.service_id) for r in audit_rows(store)]
    assert rows[-2:] == [
        ("AuthToken", "AUDITED1", 0, SERVICE_ID),
        ("SyncToken", "AUDITED1", 0, SERVICE_ID),
    ]


def test_a_token_imported_into_the_pool_through_auth_token_lost_found_assigned(
    otp_url, settings, tmp_path
):
    """The import and lifecycle commands (`gspws token …`, run as processes) and OTP.asmx on one
    store: a pooled HOTP token answers AuthToken; lost, 9999; found, 0; assigned, Auth."""
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(
        "serial,secret,type,algorithm,digits,period_or_counter,account\n"
        f"FT-0001,{RFC4226_SECRET.hex()},hotp,SHA1,6,0,\n"
    )
    env = gspws_env(
        tmp_path, settings.secret_key, GSPWS_DATABASE_URL=settings.effective_database_url
    )

    def gspws(*args: str) -> None:
        done = run_gspws([GSPWS, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    gspws("token", "import", str(tokens))
    otp = stub(otp_url)
    assert otp.AuthToken(tokenSN="FT-0001", otp=RFC4226_CODES[0], _soapheaders=HEADER).Code == 0
    gspws("token", "lost", "FT-0001")
    assert otp.AuthToken(tokenSN="FT-0001", otp=RFC4226_CODES[1], _soapheaders=HEADER).Code == 9999
    gspws("token", "found", "FT-0001")
    assert otp.AuthToken(tokenSN="FT-0001", otp=RFC4226_CODES[1], _soapheaders=HEADER).Code == 0
    gspws("token", "assign", "FT-0001", ACCOUNT)
    assert otp.Auth(account=ACCOUNT, password=RFC4226_CODES[2], _soapheaders=HEADER).Code == 0
