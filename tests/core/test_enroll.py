"""Binding rules (gspws.core.enroll) on a real store, SQLite and PostgreSQL, without HTTP:
pending → confirm → active, expiry, several devices, disabling with a code, single-use links."""

import dataclasses
import ipaddress
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from gspws.compose import Wiring, policy_of
from gspws.core import codes
from gspws.core.codecheck import TotpVerifier
from gspws.core.enroll import MAX_DEVICES, Problem, clean_phone, link_hash
from gspws.core.verify import Caller
from gspws.store.models import BindingLink, Token, TokenStatus
from gspws.throttle import Throttle, Unlimited

from binding import OPERATOR, add_account, code
from helpers import SERVICE_ID, audit_rows, wrong_code

ALICE = "alice"


@pytest.fixture
def enroll(settings, store, clock):
    add_account(store, ALICE)
    return Wiring(settings, store, clock).enrollment()


@pytest.fixture
def verify(settings, store, clock):
    """VerifyTOTPCode as an agency allowed from 127.0.0.1 calls it: account, code -> Code."""
    with store.unit() as repo:
        repo.add_service(SERVICE_ID, "agency", ["127.0.0.1/32"], ["VerifyTOTPCode"])
    verifier = TotpVerifier(
        store.unit, store.service_registry(0).current, policy_of(settings), clock, Unlimited()
    )
    caller = Caller(SERVICE_ID, ipaddress.ip_address("127.0.0.1"), "VerifyTOTPCode")
    return lambda account, totp_code: verifier.verify(caller, account, totp_code).code


def bind(enroll, clock, account=ALICE, **details) -> str:
    """Begin and confirm a binding; the device's key."""
    began = enroll.begin(OPERATOR, account, details.pop("name", "phone"), **details)
    assert began.ok, began
    key = began.value.params.secret
    period = began.value.params.period
    assert enroll.confirm(OPERATOR, account, code(key, clock(), period)).ok
    return key


# -- pending → confirm → active --------------------------------------------------------------


def test_a_pending_token_verifies_nothing_until_confirmed(enroll, clock, verify, settings):
    began = enroll.begin(OPERATOR, ALICE, "my phone", "0912345678")
    assert began.ok and began.code is codes.OK
    key = began.value.params.secret
    assert verify(ALICE, code(key, clock())) == 3001
    status = enroll.status(OPERATOR, ALICE).value
    assert not status.enabled and status.binding.serial == began.value.serial

    wrong = enroll.confirm(
        OPERATOR, ALICE, wrong_code(began.value.params, clock(), settings.sync_window)
    )
    assert (wrong.code.code, wrong.problem) == (9999, Problem.WRONG_CODE)
    assert enroll.status(OPERATOR, ALICE).value.binding is not None  # still pending

    assert enroll.confirm(OPERATOR, ALICE, code(key, clock())).ok
    status = enroll.status(OPERATOR, ALICE).value
    assert status.enabled and status.binding is None
    (device,) = status.devices
    assert (device.name, device.phone, device.period) == ("my phone", "0912345678", 30)
    assert verify(ALICE, code(key, clock())) == 9999  # the confirming code is used up
    clock.advance(30)
    assert verify(ALICE, code(key, clock())) == 0


def test_a_pending_token_lapses(enroll, clock, settings):
    began = enroll.begin(OPERATOR, ALICE, None)
    clock.advance(settings.pending_ttl)
    assert enroll.status(OPERATOR, ALICE).value.binding is None
    lapsed = enroll.confirm(OPERATOR, ALICE, code(began.value.params.secret, clock()))
    assert (lapsed.code.code, lapsed.problem) == (3001, Problem.NO_PENDING)


def test_confirming_without_beginning_is_3001(enroll):
    outcome = enroll.confirm(OPERATOR, ALICE, "123456")
    assert (outcome.code.code, outcome.problem) == (3001, Problem.NO_PENDING)


def test_wrong_confirmations_discard_the_pending_token(enroll, clock, settings):
    began = enroll.begin(OPERATOR, ALICE, None)
    for _ in range(settings.lockout_threshold):
        assert (
            enroll.confirm(
                OPERATOR, ALICE, wrong_code(began.value.params, clock(), settings.sync_window)
            ).code.code
            == 9999
        )
    assert enroll.status(OPERATOR, ALICE).value.binding is None
    assert (
        enroll.confirm(OPERATOR, ALICE, code(began.value.params.secret, clock())).code.code == 3001
    )


def test_the_account_rate_limit_counts_every_spelling_of_a_name_as_one(settings, store, clock):
    """Alice, ALICE and full-width Ａｌｉｃｅ are one account (gspws.core.names): one bucket of the
    per-account limit, or a guesser would multiply their tries by spelling the name anew."""
    add_account(store, ALICE)
    limited = dataclasses.replace(settings, rate_limit_account="2/minute")
    enroll = Wiring(
        limited, store, clock, throttle=Throttle.from_settings(limited, clock)
    ).enrollment()
    params = enroll.begin(OPERATOR, ALICE, "phone").value.params
    wrong = wrong_code(params, clock(), settings.sync_window)
    assert not enroll.confirm(OPERATOR, "Alice", wrong).ok
    assert not enroll.confirm(OPERATOR, "ALICE", wrong).ok
    over = enroll.confirm(OPERATOR, "\uff21\uff4c\uff49\uff43\uff45", code(params.secret, clock()))
    assert not over.ok and over.code is codes.REJECTED  # the good code is not even checked
    assert enroll.status(OPERATOR, ALICE).value.binding is not None  # still pending


def test_beginning_again_replaces_the_pending_token(enroll, clock):
    first = enroll.begin(OPERATOR, ALICE, "first").value
    second = enroll.begin(OPERATOR, ALICE, "second").value
    assert enroll.status(OPERATOR, ALICE).value.binding.serial == second.serial
    assert enroll.confirm(OPERATOR, ALICE, code(first.params.secret, clock())).code.code == 9999


def test_pending_secrets_are_encrypted_at_rest(enroll, store):
    secret = enroll.begin(OPERATOR, ALICE, None).value.params.secret
    with store.unit() as repo:
        stored = repo.session.scalar(
            select(Token.secret).where(Token.status == TokenStatus.PENDING)
        )
    assert secret.encode() not in bytes(stored)


def test_sixty_second_tokens(enroll, clock):
    began = enroll.begin(OPERATOR, ALICE, "eSignTrust style", period=60).value
    query = parse_qs(urlsplit(began.otpauth_uri).query)
    assert query["period"] == ["60"] and query["secret"] == [began.params.secret]
    assert query["issuer"] == ["gspws"]
    assert enroll.confirm(OPERATOR, ALICE, code(began.params.secret, clock(), 60)).ok
    assert enroll.status(OPERATOR, ALICE).value.devices[0].period == 60


def test_thirty_second_uri_is_standard(enroll):
    uri = enroll.begin(OPERATOR, ALICE, None).value.otpauth_uri
    assert uri.startswith("otpauth://totp/gspws:alice?")
    assert "period" not in parse_qs(urlsplit(uri).query)  # 30 s is the default apps assume


# -- several devices, disabling ------------------------------------------------------------


def test_several_devices_each_verify_and_each_is_removed_by_its_own_code(enroll, clock, verify):
    first = bind(enroll, clock, name="phone", phone="0912345678")
    second = bind(enroll, clock, name="tablet", phone="886912345678")
    assert [d.name for d in enroll.status(OPERATOR, ALICE).value.devices] == ["phone", "tablet"]
    clock.advance(30)
    assert verify(ALICE, code(first, clock())) == 0
    clock.advance(30)
    assert verify(ALICE, code(second, clock())) == 0

    clock.advance(30)
    serials = [d.serial for d in enroll.status(OPERATOR, ALICE).value.devices]
    # A code of the first device does not remove the second one.
    refused = enroll.disable(OPERATOR, ALICE, code(first, clock()), serial=serials[1])
    assert (refused.code.code, refused.problem) == (9999, Problem.WRONG_CODE)
    removed = enroll.disable(OPERATOR, ALICE, code(second, clock()))
    assert removed.ok and removed.value == serials[1]
    assert [d.serial for d in enroll.status(OPERATOR, ALICE).value.devices] == serials[:1]

    clock.advance(30)
    assert verify(ALICE, code(second, clock())) == 9999
    assert enroll.disable(OPERATOR, ALICE, code(first, clock())).ok
    status = enroll.status(OPERATOR, ALICE)
    assert status.ok and not status.value.enabled  # an account without devices: 0, not enabled
    clock.advance(30)
    assert verify(ALICE, code(first, clock())) == 3001


def test_disabling_needs_a_device_and_a_fresh_code(enroll, clock):
    nothing = enroll.disable(OPERATOR, ALICE, "123456")
    assert (nothing.code.code, nothing.problem) == (3001, Problem.NOT_BOUND)
    key = bind(enroll, clock)
    used = enroll.disable(OPERATOR, ALICE, code(key, clock()))  # the confirming code, replayed
    assert used.code.code == 9999
    assert enroll.status(OPERATOR, ALICE).value.enabled


def test_device_limit(enroll, clock):
    for _ in range(MAX_DEVICES):
        bind(enroll, clock)
    refused = enroll.begin(OPERATOR, ALICE, None)
    assert (refused.code.code, refused.problem) == (9999, Problem.TOO_MANY_DEVICES)


@pytest.mark.parametrize(
    "phone, stored",
    [
        ("0912345678", "0912345678"),
        ("0912-345-678", "0912345678"),
        (" 0912 345 678 ", "0912345678"),
        ("886912345678", "886912345678"),
        ("", None),
        (None, None),
    ],
)
def test_phone_numbers_of_seed_001(phone, stored):
    assert clean_phone(phone) == stored


@pytest.mark.parametrize(
    "phone",
    [
        "912345678",
        "091234567",
        "09123456789",
        "+886912345678",
        "0212345678",
        "88691234567",
        "09１2345678",
        "abc",
    ],
)
def test_bad_phone_numbers(phone):
    with pytest.raises(ValueError):
        clean_phone(phone)


@pytest.mark.parametrize(
    "name, phone, period, problem",
    [
        ("x" * 101, None, 30, Problem.BAD_NAME),
        ("tab\there", None, 30, Problem.BAD_NAME),
        ("ok", "12345", 30, Problem.BAD_PHONE),
        ("ok", None, 45, Problem.BAD_PERIOD),
    ],
)
def test_bad_device_details_create_nothing(enroll, name, phone, period, problem):
    outcome = enroll.begin(OPERATOR, ALICE, name, phone, period)
    assert (outcome.code.code, outcome.problem) == (9999, problem)
    assert enroll.status(OPERATOR, ALICE).value.binding is None


@pytest.mark.parametrize("account", ["nobody", "", None])
def test_unknown_accounts_are_3001_everywhere(enroll, account):
    for outcome in (
        enroll.status(OPERATOR, account),
        enroll.begin(OPERATOR, account, None),
        enroll.confirm(OPERATOR, account, "123456"),
        enroll.disable(OPERATOR, account, "123456"),
        enroll.create_link(OPERATOR, account),
    ):
        assert (outcome.code.code, outcome.problem) == (3001, Problem.UNKNOWN_ACCOUNT)


# -- links ---------------------------------------------------------------------------------


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_link_works_once(enroll, store):
    url = enroll.create_link(OPERATOR, ALICE).value
    assert url.startswith("http://127.0.0.1:8000/owin/manage/Link/")
    token = token_of(url)
    assert len(token) >= 43  # 256 random bits
    assert enroll.link_usable(token)
    assert enroll.redeem_link(OPERATOR, token).value.account == ALICE
    assert not enroll.link_usable(token)
    again = enroll.redeem_link(OPERATOR, token)
    assert (again.code.code, again.problem) == (3001, Problem.LINK_INVALID)
    with store.unit() as repo:
        stored = list(repo.session.scalars(select(BindingLink.token_hash)))
    assert stored == [link_hash(token)] and token not in stored


def test_a_link_expires_by_the_clock(enroll, clock, settings):
    token = token_of(enroll.create_link(OPERATOR, ALICE).value)
    clock.advance(settings.link_ttl - 1)
    assert enroll.link_usable(token)
    clock.advance(1)
    assert not enroll.link_usable(token)
    assert not enroll.redeem_link(OPERATOR, token).ok


def test_unknown_and_forged_links(enroll):
    assert not enroll.link_usable("x" * 43)
    assert not enroll.redeem_link(OPERATOR, "x" * 43).ok


def test_an_invitation_lives_an_hour_and_invalidates_earlier_links(enroll, clock, settings):
    plain = token_of(enroll.create_link(OPERATOR, ALICE).value)
    other_plain = token_of(enroll.create_link(OPERATOR, ALICE).value)
    assert enroll.link_usable(plain)  # plain links leave each other alone
    first = token_of(enroll.create_link(OPERATOR, ALICE, invite=True).value)
    assert not enroll.link_usable(plain) and not enroll.link_usable(other_plain)
    second = token_of(enroll.create_link(OPERATOR, ALICE, invite=True).value)
    assert not enroll.link_usable(first)
    clock.advance(settings.invite_ttl - 1)
    assert settings.invite_ttl == 3600 and enroll.link_usable(second)
    clock.advance(1)
    assert not enroll.link_usable(second)


def test_racing_redemptions_let_exactly_one_in(enroll):
    token = token_of(enroll.create_link(OPERATOR, ALICE).value)
    results, start = [], threading.Barrier(6)

    def redeem():
        start.wait()
        results.append(enroll.redeem_link(OPERATOR, token).code.code)

    threads = [threading.Thread(target=redeem) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [0] + [3001] * 5


def test_every_use_case_is_audited_without_secrets(enroll, clock, store):
    began = enroll.begin(OPERATOR, ALICE, "phone").value
    enroll.confirm(OPERATOR, ALICE, code(began.params.secret, clock()))
    url = enroll.create_link(OPERATOR, ALICE).value
    rows = audit_rows(store)
    assert [(r.operation, r.account, r.code, r.service_id) for r in rows] == [
        ("test:operator", ALICE, 0, None)
    ] * 3
    dumped = repr([vars(r) for r in rows])
    assert began.params.secret not in dumped and token_of(url) not in dumped
