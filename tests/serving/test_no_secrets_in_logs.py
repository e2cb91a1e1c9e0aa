"""Nothing a log or the audit table keeps may let someone log in: no TOTP code (valid or not), no
token secret, no otpauth URI.

The production server runs at DEBUG with its whole output captured; it is sent valid, replayed
and wrong codes, and requests that fail in every way that makes something log (malformed XML,
an unknown operation, a wrong envelope, an oversized body, a mismatched SOAPAction, a token the
server cannot decrypt, which answers 3000 with a traceback). Runs on SQLite and PostgreSQL.
"""

import re
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from gspws.core import otp
from gspws.core.access import OTP_FUNCTIONS
from gspws.core.otp import TotpParams
from gspws.store.models import AuditEvent, TokenStatus
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox

from helpers import (
    GSPWS,
    REPO,
    SECRET,
    SERVICE_ID,
    ServerProcess,
    add_token,
    envelope,
    gspws_env,
    post,
    run_gspws,
)

TNS = "http://cp.gov.tw/gsp2"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def _soap(body: str, ns: str = SOAP11) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}">'
        f'<soap:Header><ServiceHeader xmlns="{TNS}"><ServiceID>{SERVICE_ID}</ServiceID>'
        f"</ServiceHeader></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def _other(code: str) -> str:
    """A wrong code of the same length."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def _occurs(code: str, text: str) -> bool:
    """``code`` as a whole number in ``text`` (not inside a longer run of digits)."""
    return re.search(rf"(?<!\d){code}(?!\d)", text) is not None


def _lines_with(needles, log: str) -> list[str]:
    return [line for line in log.splitlines() if any(_occurs(n, line) for n in needles)]


@pytest.fixture
def tokens(store, demo):
    """Besides ``demo`` (wederlin, SECRET): an 8-digit token, and a token written under a key
    the server does not have (its calls fail with 3000 and a logged traceback)."""
    eight = TotpParams(otp.new_secret(), "SHA256", 8, 30)
    stray = TotpParams(otp.new_secret())
    with store.unit() as repo:
        repo.add_token(repo.add_account("eight"), eight, TokenStatus.ACTIVE)
    with Store(store.engine, SecretBox([Fernet.generate_key()])).unit() as repo:
        repo.add_token(repo.add_account("stray"), stray, TokenStatus.ACTIVE)
    return {"wederlin": demo.params, "eight": eight, "stray": stray}


@pytest.fixture
def debug_server(settings, store, tokens, tmp_path):
    """``gspws serve`` at DEBUG, all output in ``server.log``; a test stops it to read the log."""
    env = gspws_env(tmp_path, settings.secret_key, GSPWS_LOG_LEVEL="DEBUG")
    server = ServerProcess(settings.effective_database_url, env, tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert server.proc.poll() is not None


def _stopped_log(server: ServerProcess) -> str:
    assert server.stop() == 0
    return server.log_path.read_text(errors="replace")


def test_logs_and_audit_hold_no_codes_secrets_or_uris(debug_server, store, tokens):
    server = debug_server
    sent_codes: set[str] = set()
    outcomes = []

    def call(body: bytes, url: str | None = None, **kwargs):
        response = post(url or server.url, body, **kwargs)
        found = re.search(r"<Code>(\d+)</Code>", response.text)
        outcomes.append((response.status_code, int(found.group(1)) if found else None))

    def code_of(account: str, steps: int = 0) -> str:
        params = tokens[account]
        code = params.totp().generate_otp(params.step_at(time.time()) + steps)
        sent_codes.add(code)
        return code

    valid = code_of("wederlin")
    call(envelope("wederlin", valid))  # accepted
    call(envelope("wederlin", valid))  # replayed
    call(envelope("eight", code_of("eight"), soap12=True), soap12=True)
    wrong = _other(code_of("wederlin", 3))
    sent_codes.add(wrong)
    call(envelope("wederlin", wrong))  # wrong code
    call(envelope("nobody", code_of("wederlin", 4)))  # unknown account
    call(envelope("wederlin", code_of("wederlin", 5), service_id="APP9999999"))  # 8101
    call(envelope("stray", code_of("stray")))  # 3000, traceback
    call(envelope("wederlin", code_of("wederlin", 6)), SOAPAction=f'"{TNS}/Other"')
    looking = code_of("wederlin", 8)
    call(
        _soap(
            f'<VerifyTOTPCode xmlns="{TNS}"><account>wederlin</account>'
            f"<TOTPCode>{looking}</TOTPCode><secret>{SECRET}</secret>"
        )
    )  # not well-formed
    call(
        _soap(
            f'<VerifyTOTPCodes xmlns="{TNS}"><account>wederlin</account>'  # unknown operation
            f"<TOTPCode>{code_of('wederlin', 9)}</TOTPCode></VerifyTOTPCodes>"
        )
    )
    call(
        _soap(
            f'<VerifyTOTPCode xmlns="{TNS}"><TOTPCode>{code_of("wederlin", 10)}'
            f"</TOTPCode></VerifyTOTPCode>",
            ns="urn:not-soap",
        )
    )  # wrong envelope
    call(envelope("wederlin", code_of("wederlin", 11)) + b" " * 70_000)  # too large
    call(
        envelope("wederlin", code_of("wederlin", 12)),  # code and secret in the query string
        url=f"{server.url}?TOTPCode={code_of('wederlin', 13)}&secret={SECRET}",
    )
    log = _stopped_log(server)

    assert outcomes == [
        (200, 0),
        (200, 9999),
        (200, 0),
        (200, 9999),
        (200, 3001),
        (200, 8101),
        (200, 3000),
        (200, 9999),
        (500, None),
        (500, None),
        (500, None),
        (413, None),
        (200, 9999),
    ]
    # Control: DEBUG was on (gspws's own per-call lines; granian logs no request lines) and the
    # failure paths did log.
    for expected in (
        " DEBUG [",
        "VerifyTOTPCode service=",
        "answering 3000",
        "Traceback",
        "client fault",
        "SOAPAction",
    ):
        assert expected in log, expected

    assert _lines_with(sent_codes, log) == [], "TOTP codes in the server log"
    for params in tokens.values():
        assert params.secret.lower() not in log.lower()
    assert "otpauth://" not in log

    with store.unit() as repo:
        rows = repo.session.execute(select(AuditEvent.__table__)).all()
    assert len(rows) == 8  # the calls that reached the verifier
    for row in rows:
        stored = " ".join(str(value) for value in row if not hasattr(value, "isoformat"))
        assert not [code for code in sent_codes if _occurs(code, stored)], row
        assert SECRET not in stored


def test_a_soapaction_carrying_a_code_is_not_logged_verbatim(debug_server, tokens):
    """The SOAPAction header is the caller's text: logging a mismatch must not echo it whole
    (a caller that puts the code, or anything else, there would have it in the log)."""
    params = tokens["wederlin"]
    code = params.totp().generate_otp(params.step_at(time.time()) + 6)  # outside the window
    response = post(
        debug_server.url,
        envelope("wederlin", code),
        SOAPAction=f'"{TNS}/VerifyTOTPCode?TOTPCode={code}&key={params.secret}"',
    )
    assert "<Code>9999</Code>" in response.text
    log = _stopped_log(debug_server)
    assert "SOAPAction" in log  # the mismatch was logged
    assert _lines_with([code], log) == []
    assert params.secret not in log


@pytest.mark.parametrize(
    "args, status",
    [
        (["token", "add", "wederlin"], 0),
        (["token", "add", "nobody"], 1),
        (["token", "add", "wederlin", "--secret", "{secret}!"], 2),
    ],
)
def test_cli_keeps_secrets_off_stderr(settings, store, demo, tmp_path, args, status):
    secret = otp.new_secret()
    args = [a.format(secret=secret) for a in args]
    if "--secret" not in args:
        args += ["--secret", secret]
    done = run_gspws(
        [GSPWS, "--database-url", settings.effective_database_url, *args],
        env=gspws_env(tmp_path, settings.secret_key, GSPWS_LOG_LEVEL="DEBUG"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == status, done.stderr
    assert secret not in done.stderr and "otpauth://" not in done.stderr
    if status == 0:  # the URI is printed on stdout on purpose, for the account's owner
        assert f"secret={secret}" in done.stdout
    else:
        assert done.stderr.strip() and "otpauth://" not in done.stdout


@pytest.fixture
def otp_granted(store, demo):
    """OTP.asmx's operations granted before the server starts (its workers load the services
    then); an HOTP token with a PIN on account pinned."""
    params = TotpParams("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    with store.unit() as repo:
        for function in OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
    add_token(store, "pinned", params, kind="hotp", hardware=True, serial="FT-LOG1", pin=PIN)
    return params


PIN = "Zq8xW"


def test_otp_asmx_logs_and_audit_hold_no_codes_or_pins(otp_granted, debug_server, store):
    """Auth (PIN + code), a replay, a wrong PIN, AuthToken needing sync, SyncToken: the PIN, the
    codes and the password they make are in no log line and no audit row."""
    hotp = otp_granted.totp()
    c0, c1, c40, c41 = (hotp.generate_otp(n) for n in (0, 1, 40, 41))
    url = debug_server.url.replace("TOTP.asmx", "OTP.asmx")

    def call(operation: str, **fields: str) -> int:
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
        body = _soap(f'<{operation} xmlns="{TNS}">{inner}</{operation}>')
        answer = post(url, body, SOAPAction=f'"{TNS}/{operation}"').text
        return int(re.search(r"<Code>(\d+)</Code>", answer).group(1))

    answers = [
        call("Auth", account="pinned", password=PIN + c0),
        call("Auth", account="pinned", password=PIN + c0),
        call("Auth", account="pinned", password="Wx8qZ" + c1),
        call("AuthToken", tokenSN="FT-LOG1", otp=PIN + c40),
        call("SyncToken", tokenSN="FT-LOG1", otp1=c40, otp2=c41),
    ]
    log = _stopped_log(debug_server)
    assert answers == [0, 9999, 9999, 13, 0]
    assert "Auth service=" in log and "SyncToken service=" in log  # DEBUG was on
    assert _lines_with([c0, c1, c40, c41], log) == []
    assert PIN not in log
    with store.unit() as repo:
        rows = repo.session.execute(
            select(AuditEvent.__table__).where(AuditEvent.operation.in_(OTP_FUNCTIONS))
        ).all()
    assert len(rows) == 5
    for row in rows:
        stored = " ".join(str(value) for value in row if not hasattr(value, "isoformat"))
        assert not [c for c in (c0, c1, c40, c41) if _occurs(c, stored)] and PIN not in stored


OCRA_PIN = "4826"


@pytest.fixture
def ocra_granted(store, demo):
    """OTP.asmx's OCRA operations granted before the server starts; an OCRA token with a PIN
    suite (OCRA-LOG1): its suite and key."""
    from gspws.core import ocra

    suite, key = ocra.parse_suite("OCRA-1:HOTP-SHA256-8:QN08-PSHA1"), bytes(range(32))
    with store.unit() as repo:
        for function in ("GetChallenge", "GetSignChallenge", "VerifyResponse"):
            repo.grant(SERVICE_ID, function)
        repo.add_ocra_token("OCRA-LOG1", suite.text, key, pin=OCRA_PIN)
    return suite, key


def test_ocra_logs_and_audit_hold_no_challenges_responses_or_pins(
    ocra_granted, debug_server, store
):
    """GetChallenge, a wrong response, the right one, its replay, GetSignChallenge: no challenge,
    response or PIN (nor its digest) in any log line or audit row."""
    from gspws.core import ocra

    suite, key = ocra_granted
    url = debug_server.url.replace("TOTP.asmx", "OTP.asmx")

    def call(operation: str, **fields: str) -> tuple[int, str]:
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
        body = _soap(f'<{operation} xmlns="{TNS}">{inner}</{operation}>')
        answer = post(url, body, SOAPAction=f'"{TNS}/{operation}"').text
        found = re.search(r"<Code>(\d+)</Code><Message>([^<]*)</Message>", answer)
        return int(found.group(1)), found.group(2)

    digest = ocra.pin_digest(suite, OCRA_PIN)
    code, challenge = call("GetChallenge", tokenSN="OCRA-LOG1")
    right = ocra.response(suite, key, challenge, pin=digest)
    answers = [
        code,
        call("VerifyResponse", tokenSN="OCRA-LOG1", challenge=challenge, response=_other(right))[0],
        call("VerifyResponse", tokenSN="OCRA-LOG1", challenge=challenge, response=right)[0],
        call("VerifyResponse", tokenSN="OCRA-LOG1", challenge=challenge, response=right)[0],
    ]
    code, signing = call("GetSignChallenge", tokenSN="OCRA-LOG1", amount="1200", payee="ACME")
    answers.append(code)
    log = _stopped_log(debug_server)
    assert answers == [0, 9999, 0, 9999, 0]
    assert "VerifyResponse service=" in log  # DEBUG was on
    secrets = [challenge, right, _other(right), signing]
    assert _lines_with(secrets, log) == []
    assert OCRA_PIN not in log and digest.hex() not in log
    with store.unit() as repo:
        rows = repo.session.execute(
            select(AuditEvent.__table__).where(AuditEvent.service_id == SERVICE_ID)
        ).all()
    assert len(rows) == 5
    for row in rows:
        stored = " ".join(str(value) for value in row if not hasattr(value, "isoformat"))
        assert not [s for s in secrets if _occurs(s, stored)] and OCRA_PIN not in stored
