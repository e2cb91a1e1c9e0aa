"""OCRA challenge–response and signing as use cases (gspws.core.challenge) on a real store,
SQLite and PostgreSQL: every RFC 6287 Appendix C vector a token answers to an issued challenge,
single use, expiry, the caller's and the token's challenges, counters, lockout, signing, and the
same response sent 16 times at once."""

import ipaddress
import threading
from itertools import groupby

import pytest

from gspws.compose import Wiring
from gspws.core import codes, ocra
from gspws.core.access import OTP_FUNCTIONS, ServiceProfile
from gspws.core.challenge import NewChallenge, canonical_amount, canonical_payee, sign_challenge
from gspws.core.verify import Caller
from gspws.store.models import OcraChallenge, Token, TokenStatus

from helpers import SERVICE_ID, T0, audit_rows
from ocra_vectors import ISSUABLE, KEY20, KEY32, KEY64, PIN

OTHER_SERVICE = "APP0000002"
LOCAL = ipaddress.ip_address("127.0.0.1")
PLAIN = "OCRA-1:HOTP-SHA1-6:QN08"
COUNTER = "OCRA-1:HOTP-SHA512-8:C-QN08"


def caller(operation: str, service_id: str = SERVICE_ID) -> Caller:
    return Caller(service_id, LOCAL, operation)


def _services():
    grants = {f: False for f in OTP_FUNCTIONS}
    nets = (ipaddress.ip_network("127.0.0.0/8"),)
    return {s: ServiceProfile(s, True, nets, grants) for s in (SERVICE_ID, OTHER_SERVICE)}


@pytest.fixture
def challenges(settings, store, clock):
    return Wiring(settings, store, clock, services=_services).challenges()


def add_token(store, serial, suite, key, pin=None):
    with store.unit() as repo:
        return repo.add_ocra_token(serial, suite, key, pin=pin)


def issue(store, token_id, question, at, service_id=SERVICE_ID, ttl=120):
    """A challenge row as GetChallenge stores it, with the RFC's question (the vectors')."""
    with store.unit() as repo:
        repo.issue_challenge(NewChallenge(token_id, question, "login", service_id, at, at + ttl))


def verify(challenges, serial, challenge, answer, service_id=SERVICE_ID):
    return challenges.verify_response(
        caller("VerifyResponse", service_id), serial, challenge, answer
    )


def answer_of(suite_text, key, question, counter=None, pin=None, at=T0):
    suite = ocra.parse_suite(suite_text)
    digest = ocra.pin_digest(suite, pin) if pin else None
    step = ocra.time_step_at(suite, at) if suite.time_step else None
    return ocra.response(suite, key, question, counter, digest, time_step=step)


SUITES = [list(group) for _, group in groupby(ISSUABLE, key=lambda v: v.suite)]


@pytest.mark.parametrize("vectors", SUITES, ids=[g[0].suite for g in SUITES])
def test_every_appendix_c_vector_answers_its_issued_challenge(store, challenges, clock, vectors):
    first = vectors[0]
    token_id = add_token(store, "OCRA0001", first.suite, first.key, first.pin)
    for vector in vectors:  # in order: the counter vectors count up from 0
        clock.now = float(vector.time) if vector.time is not None else T0
        issue(store, token_id, vector.question, clock.now)
        assert verify(challenges, "OCRA0001", vector.question, vector.response) == codes.OK
        # ... once
        assert verify(challenges, "OCRA0001", vector.question, vector.response) == codes.REJECTED
        issue(store, token_id, vector.question, clock.now)  # the failure above is cleared now
        expected = codes.REJECTED if vector.counter is not None else codes.OK
        # a counter suite's response is for one counter only: a new challenge needs the next
        assert verify(challenges, "OCRA0001", vector.question, vector.response) == expected
        _clear(store, token_id)
    if first.counter is not None:
        with store.unit() as repo:
            assert repo.session.get(Token, token_id).last_step == vectors[-1].counter


def _clear(store, token_id):
    """Forget the challenges and failures of a token (between the vectors of one suite)."""
    with store.unit() as repo:
        repo.session.query(OcraChallenge).filter_by(token_id=token_id).delete()
        repo.session.get(Token, token_id).failures = 0


def test_get_challenge_then_verify_once(store, challenges, clock):
    add_token(store, "OCRA0001", PLAIN, KEY20)
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001")
    assert issued.code == codes.OK
    assert len(issued.message) == 8 and issued.message.isdigit()
    answer = answer_of(PLAIN, KEY20, issued.message)
    clock.advance(119)
    assert verify(challenges, "OCRA0001", issued.message, answer) == codes.OK
    assert verify(challenges, "OCRA0001", issued.message, answer) == codes.REJECTED
    rows = audit_rows(store)
    assert [(r.operation, r.code, r.account) for r in rows] == [
        ("GetChallenge", 0, "OCRA0001"),
        ("VerifyResponse", 0, "OCRA0001"),
        ("VerifyResponse", 9999, "OCRA0001"),
    ]


def test_an_expired_challenge_is_refused(store, challenges, clock):
    add_token(store, "OCRA0001", PLAIN, KEY20)
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    clock.advance(120)  # GSPWS_CHALLENGE_TTL's default
    answer = answer_of(PLAIN, KEY20, issued)
    assert verify(challenges, "OCRA0001", issued, answer) == codes.REJECTED


def test_only_the_token_and_the_service_it_was_issued_to(store, challenges):
    add_token(store, "OCRA0001", PLAIN, KEY20)
    add_token(store, "OCRA0002", PLAIN, KEY20)  # the same key: only the challenge differs
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    answer = answer_of(PLAIN, KEY20, issued)
    assert verify(challenges, "OCRA0002", issued, answer) == codes.REJECTED
    assert verify(challenges, "OCRA0001", issued, answer, OTHER_SERVICE) == codes.REJECTED
    assert verify(challenges, "OCRA0001", "12345678", answer_of(PLAIN, KEY20, "12345678")) == (
        codes.REJECTED
    )  # never issued
    assert verify(challenges, "OCRA0001", issued, answer) == codes.OK


@pytest.mark.parametrize("serial", ["NOSUCH", "", None, "TOTP0000000001"])
def test_no_ocra_token(store, challenges, serial):
    with store.unit() as repo:
        repo.session.add(
            Token(
                serial="TOTP0000000001",
                secret=repo.secrets.encrypt("JBSWY3DPEHPK3PXP"),
                status=TokenStatus.ACTIVE,
            )
        )
    assert challenges.get_challenge(caller("GetChallenge"), serial).code == codes.NO_ACTIVE_TOKEN
    assert verify(challenges, serial, "12345678", "123456") == codes.NO_ACTIVE_TOKEN


def test_counter_look_ahead_and_no_going_back(store, challenges):
    add_token(store, "OCRA0001", COUNTER, KEY64)
    questions = []
    for _ in range(3):
        questions.append(challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message)
    # the token was used twice elsewhere (counters 0, 1): counter 2 is inside the look-ahead
    assert (
        verify(challenges, "OCRA0001", questions[0], answer_of(COUNTER, KEY64, questions[0], 2))
        == codes.OK
    )
    # counter 1 is behind the last one used now
    assert (
        verify(challenges, "OCRA0001", questions[1], answer_of(COUNTER, KEY64, questions[1], 1))
        == codes.REJECTED
    )
    # 10 ahead of the next (3) is outside the default look-ahead of 10
    assert (
        verify(challenges, "OCRA0001", questions[2], answer_of(COUNTER, KEY64, questions[2], 13))
        == codes.REJECTED
    )


def test_wrong_responses_lock_the_token(store, challenges, settings, clock):
    add_token(store, "OCRA0001", PLAIN, KEY20)
    for _ in range(settings.lockout_threshold):
        issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
        assert verify(challenges, "OCRA0001", issued, "000000") == codes.REJECTED
    with store.unit() as repo:
        assert repo.get_token("OCRA0001").status is TokenStatus.LOCKED
    assert challenges.get_challenge(caller("GetChallenge"), "OCRA0001").code == codes.REJECTED
    clock.advance(settings.lockout_cooldown)
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    assert (
        verify(challenges, "OCRA0001", issued, answer_of(PLAIN, KEY20, issued, at=clock.now))
        == codes.OK
    )
    with store.unit() as repo:
        token = repo.get_token("OCRA0001")
        assert (token.status, token.failures) == (TokenStatus.ACTIVE, 0)


def test_a_pin_suite_without_its_pin_is_refused(store, challenges):
    add_token(store, "OCRA0001", "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", KEY32)
    assert challenges.get_challenge(caller("GetChallenge"), "OCRA0001").code == codes.REJECTED
    with store.unit() as repo:
        assert repo.set_ocra_pin("OCRA0001", PIN)
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    answer = answer_of("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", KEY32, issued, pin=PIN)
    assert verify(challenges, "OCRA0001", issued, answer) == codes.OK


SIGN = "OCRA-1:HOTP-SHA256-8:QA08"


def test_sign_challenge_is_derived_from_the_transaction(store, challenges):
    add_token(store, "OCRA0001", SIGN, KEY32)
    suite = ocra.parse_suite(SIGN)
    get = challenges.get_sign_challenge
    first = get(caller("GetSignChallenge"), "OCRA0001", "1,200.5", "  台北富邦\u3000 銀行 ")
    assert first.code == codes.OK
    assert first.message == sign_challenge(suite, "1200.50", "台北富邦 銀行", 0)
    # the same transaction again: another challenge (the earlier response is no good for it)
    again = get(caller("GetSignChallenge"), "OCRA0001", "1200.50", "台北富邦 銀行")
    assert again.message == sign_challenge(suite, "1200.50", "台北富邦 銀行", 1) != first.message
    answer = answer_of(SIGN, KEY32, again.message)
    assert verify(challenges, "OCRA0001", again.message, answer) == codes.OK
    with store.unit() as repo:
        purposes = [c.purpose for c in repo.session.query(OcraChallenge).order_by(OcraChallenge.id)]
    assert purposes == ["sign", "sign"]


@pytest.mark.parametrize(
    "amount, payee",
    [
        ("", "x"),
        ("-1", "x"),
        ("1e3", "x"),
        ("1.234", "x"),
        ("NaN", "x"),
        ("10", ""),
        ("10", "a\x00b"),
        ("10", "x" * 129),
    ],
    ids=[
        "no-amount",
        "negative",
        "exponent",
        "three-places",
        "nan",
        "no-payee",
        "control",
        "long-payee",
    ],
)
def test_sign_challenge_refuses_what_cannot_be_shown(store, challenges, amount, payee):
    add_token(store, "OCRA0001", SIGN, KEY32)
    got = challenges.get_sign_challenge(caller("GetSignChallenge"), "OCRA0001", amount, payee)
    assert got.code == codes.REJECTED


def test_canonical_forms():
    assert canonical_amount("1,234,567.8") == "1234567.80"
    assert canonical_amount(" 100 ") == "100.00"
    assert canonical_payee("Ａ\u0301 b\t c") == "Ａ\u0301 b c"
    assert canonical_payee("e\u0301") == "\u00e9"


def test_the_same_response_sixteen_times_at_once_is_accepted_once(store, challenges, clock):
    add_token(store, "OCRA0001", COUNTER, KEY64)
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    answer = answer_of(COUNTER, KEY64, issued, 0)
    barrier = threading.Barrier(16)
    results = []

    def call():
        barrier.wait()
        results.append(verify(challenges, "OCRA0001", issued, answer))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.code for r in results) == [0] + [9999] * 15
    with store.unit() as repo:
        assert repo.get_token("OCRA0001").last_step == 0


def test_use_challenge_is_one_conditional_update(store):
    token_id = add_token(store, "OCRA0001", PLAIN, KEY20)
    issue(store, token_id, "12345678", T0)
    with store.unit() as repo:
        issued = repo.issued_challenge(token_id, "12345678", SERVICE_ID)
        assert issued is not None and not issued.used
        assert not repo.use_challenge(issued.id, T0 + 120)  # expired
        assert repo.use_challenge(issued.id, T0 + 1)
        assert not repo.use_challenge(issued.id, T0 + 2)  # used
        assert repo.issued_challenge(token_id, "12345678", SERVICE_ID).used
        assert repo.issued_challenge(token_id, "12345678", OTHER_SERVICE) is None


def test_the_pin_digest_is_encrypted_with_the_key_and_survives_rotation(store, challenges):
    from cryptography.fernet import Fernet

    from gspws.store.challenges import split_secret
    from gspws.store.rotation import reencrypt
    from gspws.store.secrets import SecretBox

    suite = "OCRA-1:HOTP-SHA256-8:QN08-PSHA1"
    add_token(store, "OCRA0001", suite, KEY32, PIN)
    with store.unit() as repo:
        blob = bytes(repo.get_token("OCRA0001").secret)
    assert ocra.pin_digest(ocra.parse_suite(suite), PIN).hex().encode() not in blob
    assert split_secret(store.secrets.decrypt(blob))[1] == ocra.pin_digest(
        ocra.parse_suite(suite), PIN
    )
    new_keys = [Fernet.generate_key(), store.secrets.encryption_key]
    reencrypt(store.engine, new_keys)
    store.secrets = SecretBox(new_keys[:1])  # the old key retired
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    answer = answer_of(suite, KEY32, issued, pin=PIN)
    assert verify(challenges, "OCRA0001", issued, answer) == codes.OK


@pytest.mark.parametrize("status", [TokenStatus.LOST, TokenStatus.DISABLED, TokenStatus.PENDING])
def test_a_token_not_in_use_is_refused_as_authtoken_refuses_it(store, challenges, status):
    token_id = add_token(store, "OCRA0001", PLAIN, KEY20)
    issue(store, token_id, "12345678", T0)
    with store.unit() as repo:
        repo.session.get(Token, token_id).status = status
    assert challenges.get_challenge(caller("GetChallenge"), "OCRA0001").code == codes.REJECTED
    answer = answer_of(PLAIN, KEY20, "12345678")
    assert verify(challenges, "OCRA0001", "12345678", answer) == codes.REJECTED
    with store.unit() as repo:
        assert repo.issued_challenge(token_id, "12345678", SERVICE_ID).used is False


def test_the_account_rate_limit_is_authtokens(settings, store, clock):
    """Keyed by the account the token is bound to (shared with Auth and AuthToken), else by the
    serial; over it, even the right response answers 9999 (and nothing is spent)."""
    from gspws.throttle import Throttle

    throttle = Throttle("memory://", "1000/second", "2/minute", clock=clock)
    challenges = Wiring(settings, store, clock, _services, throttle).challenges()
    with store.unit() as repo:
        account_id = repo.add_account("alice").id
        repo.add_ocra_token("OCRA0001", PLAIN, KEY20, account_id=account_id)
        repo.add_ocra_token("OCRA0002", PLAIN, KEY20)
    assert throttle.allow_account("alice") and throttle.allow_account("alice")  # Auth's calls
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0001").message
    answer = answer_of(PLAIN, KEY20, issued)
    assert verify(challenges, "OCRA0001", issued, answer) == codes.REJECTED
    for _ in range(2):  # the unbound token's own budget, then none
        issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0002").message
        assert verify(challenges, "OCRA0002", issued, "000000") == codes.REJECTED
    issued = challenges.get_challenge(caller("GetChallenge"), "OCRA0002").message
    assert verify(challenges, "OCRA0002", issued, answer_of(PLAIN, KEY20, issued)) == (
        codes.REJECTED
    )
    with store.unit() as repo:
        assert repo.get_token("OCRA0001").failures == 0


def test_no_challenge_is_issued_to_a_token_twice(store, challenges):
    """A QN04 token's 200 challenges are all different (drawn at random from 10,000, two would
    coincide with a probability of about 86 %); a signing challenge that was issued before, as
    a login one, is derived on with the next n."""
    add_token(store, "OCRA0001", "OCRA-1:HOTP-SHA1-6:QN04", KEY20)
    issued = [challenges.get_challenge(caller("GetChallenge"), "OCRA0001") for _ in range(200)]
    assert all(i.code == codes.OK for i in issued)
    assert len({i.message for i in issued}) == 200
    token_id = add_token(store, "OCRA0002", SIGN, KEY32)
    suite = ocra.parse_suite(SIGN)
    issue(store, token_id, sign_challenge(suite, "10.00", "x", 0), T0)
    got = challenges.get_sign_challenge(caller("GetSignChallenge"), "OCRA0002", "10", "x")
    assert got.message == sign_challenge(suite, "10.00", "x", 1)
