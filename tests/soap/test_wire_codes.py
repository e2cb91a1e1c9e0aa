"""Every GSP return code over the wire, from its documented condition (gsp-soap.md).

Each test talks HTTP to a server on a loopback port through a zeep stub built from the served
WSDL, over SOAP 1.1 on SQLite and over SOAP 1.2 on PostgreSQL (conftest.pytest_generate_tests).
The server's clock is the FixedClock ``clock`` (at ``T0``, 10 s into a 30-second step), so codes
are computed for exact time-steps and no assertion depends on wall-clock time.

Store changes (services, tokens) are all made before a test's first call.
"""

import base64
import ipaddress
import os
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from gspws.core.clock import FixedClock
from gspws.core.otp import TotpParams
from gspws.store.models import TokenStatus
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox
from gspws.wsgi import create_app

from helpers import (
    ACCOUNT,
    SECRET,
    SERVICE_ID,
    T0,
    LiveServer,
    add_token,
    assert_no_internals,
    audit_rows,
    call,
    code_at,
    envelope,
    make_settings,
    outcome,
    post,
    run_gspws,
    soap_result,
    wrong_code,
    zeep_service,
    zeep_service_with_headers,
)

VERIFY = "VerifyTOTPCode"
LOCAL = ["127.0.0.1/32", "::1/128"]  # where the test client calls from
REMOTE = ["10.0.0.0/8"]  # somewhere else
OTHER_SERVICE = "APP0000002"
UNKNOWN_SERVICE = "APP7777777"  # well-formed, never registered
OTHER_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
BAD_XFF = {"X-Forwarded-For": "not-an-ip"}
TRUST_LOOPBACK = {"trusted_proxies": (ipaddress.ip_network("127.0.0.1/32"),)}
GSPWS_CLI = Path(sys.executable).parent / "gspws"


@pytest.fixture
def totp(live_server, soap12):
    """A zeep stub of the live server's SOAP 1.1 or 1.2 port."""
    return zeep_service(live_server.url, soap12)


def add_service(
    store,
    networks=LOCAL,
    functions=(VERIFY,),
    enabled=True,
    suspended=False,
    service_id=OTHER_SERVICE,
) -> str:
    with store.unit() as repo:
        repo.add_service(service_id, "Other agency", list(networks), list(functions))
        if not enabled:
            repo.set_enabled(service_id, False)
        if suspended:
            repo.set_suspended(service_id, VERIFY, True)
    return service_id


def lock(totp, demo, clock, failures=5):
    """Send ``failures`` wrong codes (the default threshold is 5)."""
    wrong = wrong_code(demo.params, clock())
    for _ in range(failures):
        assert call(totp, demo.account, wrong) == outcome(9999)


# -- 0 -----------------------------------------------------------------------------------------


def test_valid_code_is_accepted(totp, demo, clock):
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


# -- 9999 --------------------------------------------------------------------------------------


def test_wrong_code_is_rejected(totp, demo, clock):
    assert call(totp, demo.account, wrong_code(demo.params, clock())) == outcome(9999)


def _arabic_indic(code: str) -> str:
    return code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def _fullwidth(code: str) -> str:
    return code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


# Malformed variants of the *valid* code, so that a lax shape check would let them through.
MALFORMED = {
    "letters": lambda valid: "abcdef",
    "five-digits": lambda valid: valid[:5],
    "seven-digits": lambda valid: valid + "0",
    "empty": lambda valid: "",
    "arabic-indic-digits": _arabic_indic,
    "fullwidth-digits": _fullwidth,
    "fixed-arabic-indic": lambda valid: "١٢٣٤٥٦",
    "padded-with-spaces": lambda valid: f" {valid} ",
    "signed": lambda valid: "+" + valid[1:],
}


@pytest.mark.parametrize("variant", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_code_is_rejected(totp, demo, clock, variant):
    assert call(totp, demo.account, variant(demo.code(clock()))) == outcome(9999)


def test_omitted_code_is_rejected(totp, demo):
    assert call(totp, demo.account, None) == outcome(9999)


def test_second_use_of_a_code_is_rejected(totp, demo, clock):
    code = demo.code(clock())
    assert call(totp, demo.account, code) == outcome(0)
    assert call(totp, demo.account, code) == outcome(9999)


def test_code_of_an_older_step_after_a_newer_one_is_rejected(totp, demo, clock):
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)
    assert call(totp, demo.account, demo.code(clock(), -1)) == outcome(9999)


def test_code_of_a_newer_step_after_an_older_one_is_accepted(totp, demo, clock):
    assert call(totp, demo.account, demo.code(clock(), -1)) == outcome(0)
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


# -- 1 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service_id", ["APP12", "app0001931", "XYZ0001931", "APP00019310", "APP000193", "APP000193x"]
)
def test_malformed_service_id(totp, demo, clock, service_id):
    assert call(totp, demo.account, demo.code(clock()), service_id) == outcome(1)


# -- 8101 --------------------------------------------------------------------------------------


def test_unknown_service_id(totp, demo, clock):
    assert call(totp, demo.account, demo.code(clock()), UNKNOWN_SERVICE) == outcome(8101)


# -- 8102 --------------------------------------------------------------------------------------


def test_no_service_header(totp, demo, clock):
    assert call(totp, demo.account, demo.code(clock()), service_id=None) == outcome(8102)


def test_empty_service_id(totp, demo, clock):
    """Empty is also not ``APP`` + 7 digits, yet 8102 comes first."""
    assert call(totp, demo.account, demo.code(clock()), service_id="") == outcome(8102)


@pytest.mark.parametrize(
    "header",
    [
        '<ServiceHeader xmlns="http://cp.gov.tw/gsp2"/>',
        '<ServiceHeader xmlns="http://cp.gov.tw/gsp2"><ServiceID/></ServiceHeader>',
    ],
    ids=["no-service-id-element", "self-closing-service-id"],
)
def test_service_header_without_service_id(live_server, demo, clock, soap12, header):
    body = envelope(demo.account, demo.code(clock()), service_id=None, soap12=soap12)
    body = body.replace(b"<soap:Body>", f"<soap:Header>{header}</soap:Header><soap:Body>".encode())
    answer = post(live_server.url, body, soap12)
    assert answer.status_code == 200
    assert soap_result(answer.content) == outcome(8102)


# -- 8104 --------------------------------------------------------------------------------------


def test_caller_outside_the_allowed_networks(store, demo, clock, totp):
    service_id = add_service(store, networks=REMOTE)
    assert call(totp, demo.account, demo.code(clock()), service_id) == outcome(8104)


def test_forwarded_address_from_a_trusted_proxy_is_checked(store, demo, clock, serve, soap12):
    server = serve(**TRUST_LOOPBACK)
    stub = zeep_service_with_headers(server.url, {"X-Forwarded-For": "10.1.2.3"}, soap12)
    assert call(stub, demo.account, demo.code(clock())) == outcome(8104)


def test_forwarded_address_from_a_trusted_proxy_is_allowed_by_its_network(
    store, demo, clock, serve, soap12
):
    service_id = add_service(store, networks=REMOTE)
    server = serve(**TRUST_LOOPBACK)
    stub = zeep_service_with_headers(server.url, {"X-Forwarded-For": "10.1.2.3"}, soap12)
    assert call(stub, demo.account, demo.code(clock()), service_id) == outcome(0)


def test_forwarded_address_from_an_untrusted_peer_is_ignored(live_server, demo, clock, soap12):
    stub = zeep_service_with_headers(live_server.url, {"X-Forwarded-For": "10.1.2.3"}, soap12)
    assert call(stub, demo.account, demo.code(clock())) == outcome(0)


# -- 8108 --------------------------------------------------------------------------------------


def test_service_not_granted_the_function(store, demo, clock, totp):
    service_id = add_service(store, functions=[])
    assert call(totp, demo.account, demo.code(clock()), service_id) == outcome(8108)


# -- 8109 --------------------------------------------------------------------------------------


def test_disabled_service(store, demo, clock, totp):
    with store.unit() as repo:
        repo.set_enabled(SERVICE_ID, False)
    assert call(totp, demo.account, demo.code(clock())) == outcome(8109)


def test_suspended_function(store, demo, clock, totp):
    with store.unit() as repo:
        repo.set_suspended(SERVICE_ID, VERIFY, True)
    assert call(totp, demo.account, demo.code(clock())) == outcome(8109)


# -- 8100 --------------------------------------------------------------------------------------


def test_caller_address_cannot_be_established(demo, clock, serve, soap12):
    server = serve(**TRUST_LOOPBACK)
    stub = zeep_service_with_headers(server.url, BAD_XFF, soap12)
    assert call(stub, demo.account, demo.code(clock())) == outcome(8100)


# -- 3000 --------------------------------------------------------------------------------------


def _drop_tokens(store) -> None:
    """The tokens table gone; on PostgreSQL with what refers to it (ocra_challenges' key)."""
    cascade = " CASCADE" if store.engine.dialect.name == "postgresql" else ""
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE tokens{cascade}"))


def test_store_missing_its_tokens_table(store, demo, clock, live_server, soap12):
    _drop_tokens(store)
    assert call(zeep_service(live_server.url, soap12), demo.account, demo.code(clock())) == outcome(
        3000
    )


def test_token_secret_encrypted_under_an_unknown_key(store, demo, clock, live_server, soap12):
    foreign = Store(store.engine, SecretBox([Fernet.generate_key()]))
    params = TotpParams(OTHER_SECRET)
    add_token(foreign, "stranger", params)
    assert call(
        zeep_service(live_server.url, soap12), "stranger", code_at(params, clock())
    ) == outcome(3000)


def test_database_unreachable(tmp_path, soap12):
    # Nothing listens on port 1: every connection attempt is refused at once.
    settings = make_settings(tmp_path, "postgresql+psycopg://gspws@127.0.0.1:1/gspws")
    server = LiveServer(create_app(settings, clock=FixedClock(T0)))
    try:
        stub = zeep_service(server.url, soap12)
        assert call(stub, ACCOUNT, code_at(TotpParams(SECRET), T0)) == outcome(3000)
    finally:
        server.stop()


def test_internal_error_answer_has_no_stack_trace(store, demo, clock, live_server, soap12):
    _drop_tokens(store)
    answer = post(
        live_server.url, envelope(demo.account, demo.code(clock()), soap12=soap12), soap12
    )
    assert answer.status_code == 200
    assert soap_result(answer.content) == outcome(3000)
    assert_no_internals(answer.content)


# -- 3001 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["nobody", "", None], ids=["unknown", "empty", "omitted"])
def test_no_such_account(totp, demo, clock, account):
    assert call(totp, account, demo.code(clock())) == outcome(3001)


@pytest.mark.parametrize("status", [TokenStatus.DISABLED, TokenStatus.PENDING])
def test_account_whose_only_token_is_not_active(store, demo, clock, totp, status):
    params = TotpParams(OTHER_SECRET)
    add_token(store, "holder", params, status)
    assert call(totp, "holder", code_at(params, clock())) == outcome(3001)


def test_account_without_tokens(store, demo, clock, totp):
    with store.unit() as repo:
        repo.add_account("tokenless")
    assert call(totp, "tokenless", demo.code(clock())) == outcome(3001)


# -- decision order ----------------------------------------------------------------------------

# Each case fails several conditions; the answer is the first in the contract's order
# 8102 → 1 → 8101 → 8109 (service disabled) → 8104 → 8108 → 8109 (suspended) → 3001 → 9999/0.
# ``service`` is the keyword arguments of add_service, or a ServiceID sent without registering.
DECISION_ORDER = {
    "malformed-service-id-and-unknown-account": ("APP12", "nobody", "abc", 1),
    "unknown-service-and-unknown-account": (UNKNOWN_SERVICE, "nobody", "abc", 8101),
    "disabled-service-from-disallowed-address": (
        dict(networks=REMOTE, enabled=False),
        ACCOUNT,
        None,
        8109,
    ),
    "disabled-ungranted-service-from-disallowed-address": (
        dict(networks=REMOTE, functions=[], enabled=False),
        ACCOUNT,
        None,
        8109,
    ),
    "ungranted-service-from-disallowed-address": (
        dict(networks=REMOTE, functions=[]),
        ACCOUNT,
        None,
        8104,
    ),
    "suspended-grant-from-disallowed-address": (
        dict(networks=REMOTE, suspended=True),
        ACCOUNT,
        None,
        8104,
    ),
    "ungranted-service-and-unknown-account": (dict(functions=[]), "nobody", None, 8108),
    "suspended-grant-and-unknown-account": (dict(suspended=True), "nobody", None, 8109),
    "good-access-unknown-account-malformed-code": (SERVICE_ID, "nobody", "abc", 3001),
    "good-access-empty-account-empty-code": (SERVICE_ID, "", "", 3001),
}


@pytest.mark.parametrize(
    "service, account, code, expected", DECISION_ORDER.values(), ids=DECISION_ORDER.keys()
)
def test_first_failing_condition_wins(store, demo, clock, totp, service, account, code, expected):
    service_id = add_service(store, **service) if isinstance(service, dict) else service
    code = demo.code(clock()) if code is None else code
    assert call(totp, account, code, service_id) == outcome(expected)


# Behind a trusted proxy that forwards an unusable X-Forwarded-For, the address check answers
# 8100 where it stands in the order: after 8102, 1, 8101 and a disabled service, before grants.
UNKNOWN_ADDRESS_ORDER = {
    "no-header": (None, 8102),
    "malformed-service-id": ("APP12", 1),
    "unknown-service": (UNKNOWN_SERVICE, 8101),
    "disabled-service": (dict(enabled=False), 8109),
    "ungranted-service": (dict(functions=[]), 8100),
    "suspended-grant": (dict(suspended=True), 8100),
}


@pytest.mark.parametrize(
    "service, expected", UNKNOWN_ADDRESS_ORDER.values(), ids=UNKNOWN_ADDRESS_ORDER.keys()
)
def test_unknown_caller_address_in_the_decision_order(
    store, demo, clock, serve, soap12, service, expected
):
    service_id = add_service(store, **service) if isinstance(service, dict) else service
    stub = zeep_service_with_headers(serve(**TRUST_LOOPBACK).url, BAD_XFF, soap12)
    assert call(stub, demo.account, demo.code(clock()), service_id) == outcome(expected)


def test_locked_token_with_wrong_code_is_9999_not_3001(totp, demo, clock):
    lock(totp, demo, clock)
    assert call(totp, demo.account, wrong_code(demo.params, clock())) == outcome(9999)


# -- the time window ---------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_codes_inside_the_default_window_are_accepted(totp, demo, clock, steps):
    assert call(totp, demo.account, demo.code(clock(), steps)) == outcome(0)


@pytest.mark.parametrize("steps", [-2, 2, -3, 3])
def test_codes_outside_the_default_window_are_rejected(totp, demo, clock, steps):
    assert call(totp, demo.account, demo.code(clock(), steps)) == outcome(9999)


@pytest.mark.parametrize("steps, expected", [(-2, 9999), (-1, 0), (0, 0), (1, 0), (2, 9999)])
def test_sixty_second_token_window(store, demo, clock, totp, steps, expected):
    params = TotpParams(OTHER_SECRET, "SHA1", 6, 60)
    add_token(store, "minute", params)
    assert call(totp, "minute", code_at(params, clock(), steps)) == outcome(expected)


def test_sixty_second_token_accepts_a_code_older_than_a_thirty_second_window(
    store, demo, clock, totp
):
    """45 s ago is two 30-second steps back from T0 but only one 60-second step."""
    params = TotpParams(OTHER_SECRET, "SHA1", 6, 60)
    add_token(store, "minute", params)
    assert call(totp, "minute", params.totp().at(int(clock() - 45))) == outcome(0)


def _rfc6238_secret(length: int) -> str:
    """The RFC 6238 appendix B seeds: "1234567890" repeated to ``length`` bytes, in base32."""
    return base64.b32encode(("1234567890" * 7)[:length].encode()).decode()


# RFC 6238 appendix B test vectors (8 digits, 30 s): independent of any TOTP library.
RFC6238 = [
    ("SHA1", 20, 59, "94287082"),
    ("SHA256", 32, 59, "46119246"),
    ("SHA512", 64, 59, "90693936"),
    ("SHA256", 32, 1111111109, "68084774"),
    ("SHA512", 64, 1111111109, "25091201"),
    ("SHA256", 32, 2000000000, "90698825"),
    ("SHA512", 64, 2000000000, "38618901"),
]


@pytest.mark.parametrize(
    "algorithm, seed_length, at, code", RFC6238, ids=[f"{a}-{t}" for a, _, t, _ in RFC6238]
)
def test_rfc6238_vectors_verify(store, demo, clock, totp, algorithm, seed_length, at, code):
    add_token(store, "rfc", TotpParams(_rfc6238_secret(seed_length), algorithm, 8, 30))
    clock.now = at
    assert call(totp, "rfc", code) == outcome(0)


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA512"])
def test_eight_digit_token_rejects_its_six_digit_suffix(store, demo, clock, totp, algorithm):
    params = TotpParams(OTHER_SECRET, algorithm, 8, 30)
    add_token(store, "eight", params)
    assert call(totp, "eight", code_at(params, clock())[2:]) == outcome(9999)


@pytest.mark.parametrize("steps, expected", [(-1, 9999), (1, 9999), (0, 0)])
def test_window_zero_accepts_only_the_current_step(demo, clock, serve, soap12, steps, expected):
    stub = zeep_service(serve(totp_window=0).url, soap12)
    assert call(stub, demo.account, demo.code(clock(), steps)) == outcome(expected)


# -- lockout -----------------------------------------------------------------------------------


def test_five_wrong_codes_lock_out_a_valid_code(totp, demo, clock):
    lock(totp, demo, clock)
    assert call(totp, demo.account, demo.code(clock())) == outcome(9999)


def test_four_wrong_codes_do_not_lock(totp, demo, clock):
    lock(totp, demo, clock, failures=4)
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


def test_cli_unlock_lets_a_valid_code_through(totp, demo, clock, settings, database_url, tmp_path):
    lock(totp, demo, clock)
    assert call(totp, demo.account, demo.code(clock())) == outcome(9999)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")}
    env.update(GSPWS_HOME=str(tmp_path / "cli"), GSPWS_SECRET_KEY=settings.secret_key)
    done = run_gspws(
        [str(GSPWS_CLI), "--database-url", database_url, "token", "unlock", demo.serial],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


def test_lock_holds_until_the_cooldown_has_passed(totp, demo, clock, settings):
    lock(totp, demo, clock)
    clock.advance(settings.lockout_cooldown - 1)
    assert call(totp, demo.account, demo.code(clock())) == outcome(9999)


def test_cooldown_unlocks_by_itself(totp, demo, clock, settings):
    assert settings.lockout_cooldown == 900
    lock(totp, demo, clock)
    clock.advance(settings.lockout_cooldown + 1)
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


def test_success_resets_the_failure_count(totp, demo, clock):
    lock(totp, demo, clock, failures=4)
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)
    lock(totp, demo, clock, failures=4)
    clock.advance(30)
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


def test_success_with_one_token_resets_the_failures_of_the_others(store, demo, clock, totp):
    second = TotpParams(OTHER_SECRET)
    add_token(store, demo.account, second)
    lock(totp, demo, clock, failures=4)
    assert call(totp, demo.account, code_at(second, clock())) == outcome(0)
    lock(totp, demo, clock, failures=4)
    assert call(totp, demo.account, demo.code(clock())) == outcome(0)


# -- several tokens per account ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["first", "second"])
def test_code_of_either_active_token_is_accepted(store, demo, clock, totp, which):
    second = TotpParams(OTHER_SECRET, "SHA256", 8, 60)
    add_token(store, demo.account, second)
    code = demo.code(clock()) if which == "first" else code_at(second, clock())
    assert call(totp, demo.account, code) == outcome(0)


def test_disabled_token_of_an_account_with_an_active_one_is_not_accepted(store, demo, clock, totp):
    disabled = TotpParams(OTHER_SECRET)
    add_token(store, demo.account, disabled, TokenStatus.DISABLED)
    assert call(totp, demo.account, code_at(disabled, clock())) == outcome(9999)


# -- audit -------------------------------------------------------------------------------------


def test_every_call_is_audited_without_its_code(store, demo, clock, totp):
    valid, wrong = demo.code(clock()), wrong_code(demo.params, clock())
    calls = [
        (demo.account, valid, SERVICE_ID, 0),
        (demo.account, wrong, SERVICE_ID, 9999),
        ("nobody", valid, SERVICE_ID, 3001),
        (demo.account, valid, UNKNOWN_SERVICE, 8101),
        (demo.account, valid, None, 8102),
    ]
    for account, code, service_id, expected in calls:
        assert call(totp, account, code, service_id) == outcome(expected)

    rows = audit_rows(store)
    assert [(r.service_id, r.client_addr, r.operation, r.account, r.code) for r in rows] == [
        (service_id, "127.0.0.1", VERIFY, account, expected)
        for account, _code, service_id, expected in calls
    ]
    assert all(r.duration_ms >= 0 for r in rows)
    stored = [str(value) for r in rows for value in vars(r).values()]
    for sent in (valid, wrong):
        assert not [value for value in stored if sent in value]
