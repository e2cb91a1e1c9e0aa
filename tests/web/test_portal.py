"""The user portal's self-service on the binding page, over real HTTP on SQLite and PostgreSQL:
binding a hardware token from the pool, 掛失 and found, 令牌認證測試, sync, 申請綁定 (issue 14
part 2). Codes a test leaves unspent are then spent through VerifyTOTPCode with zeep."""

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pyotp
import pytest
from sqlalchemy import select

from gspws.compose import Wiring
from gspws.core.enroll import Person
from gspws.core.otp import TotpParams, new_secret
from gspws.store.models import Token, TokenStatus, TokenType
from gspws.web.i18n import TEXT

from binding import Visitor, add_account, code, new_link
from helpers import audit_rows, call, outcome, wrong_code, zeep_service

STATUS = "/owin/manage/TOTPStatus"
CAROL = "carol"
ZH = TEXT["zh-TW"]
PERSON = Person(None, "test:portal")


@pytest.fixture
def visitor(settings, store, clock, live_server):
    """Carol, signed in on her status page."""
    add_account(store, CAROL)
    visitor = Visitor(live_server)
    assert visitor.sign_in(new_link(settings, store, clock, CAROL)).status_code == 200
    return visitor


def pool_token(store, serial: str, hardware: bool = True, account: str | None = None) -> str:
    """An active TOTP token in the pool (or assigned to ``account``); its key."""
    key = new_secret()
    with store.unit() as repo:
        owner = repo.get_account(account) if account else None
        repo.add_token(owner, TotpParams(key), TokenStatus.ACTIVE, serial=serial, hardware=hardware)
    return key


def token_row(store, serial: str) -> Token:
    with store.unit() as repo:
        token = repo.session.scalar(select(Token).where(Token.serial == serial))
        return token, token.account.account if token.account else None


def enable(visitor: Visitor, clock) -> str:
    """An authenticator app bound the page's usual way: its key."""
    visitor.post(f"{STATUS}/Enable", device_name="phone")
    key = visitor.key
    assert visitor.post(f"{STATUS}/Confirm", code=code(key, clock())).status_code == 200
    clock.advance(30)
    return key


# -- binding a hardware token --------------------------------------------------------------


def test_a_pool_token_is_bound_with_two_codes_and_its_drift_set(visitor, store, clock, live_server):
    key = pool_token(store, "FT-1001")
    ahead = 5  # the token's clock runs 5 steps fast: outside the normal window, inside sync's
    page = visitor.post(
        f"{STATUS}/BindHardware",
        serial="FT-1001",
        code1=code(key, clock(), steps=ahead),
        code2=code(key, clock(), steps=ahead + 1),
    )
    assert page.status_code == 200 and ZH["notice_hardware_bound"] in page.text
    assert "FT-1001" in visitor.serials()
    token, owner = token_row(store, "FT-1001")
    assert owner == CAROL and token.drift == ahead + 1

    clock.advance(30)  # the token's next code signs in, its window centred on the drift
    service = zeep_service(live_server.url)
    assert call(service, CAROL, code(key, clock(), steps=ahead + 1)) == outcome(0)


def test_an_event_token_is_bound_with_its_counter_set(visitor, store, clock):
    """An HOTP (event) pool token whose button was pressed a few times: its counter moves to the
    second code's, so the next press signs in."""
    key = new_secret()
    with store.unit() as repo:
        params = TotpParams(key)
        repo.add_token(
            None, params, TokenStatus.ACTIVE, serial="FT-EV", hardware=True, kind=TokenType.HOTP
        )
    presses = pyotp.HOTP(key)
    page = visitor.post(
        f"{STATUS}/BindHardware", serial="FT-EV", code1=presses.at(3), code2=presses.at(4)
    )
    assert page.status_code == 200 and ZH["notice_hardware_bound"] in page.text
    token, owner = token_row(store, "FT-EV")
    assert owner == CAROL and token.last_step == 4
    assert 'data-event-serial="FT-EV"' in page.text  # listed, to report lost or test
    assert '<option value="FT-EV">' in page.text
    # the same two codes again bind nothing: spent
    page = visitor.post(
        f"{STATUS}/BindHardware", serial="FT-EV", code1=presses.at(3), code2=presses.at(4)
    )
    assert page.status_code == 400 and ZH["problem_bind_refused"] in page.text


@pytest.mark.parametrize("case", ["unknown", "assigned", "lost", "wrong_codes", "not_hardware"])
def test_binding_is_refused_with_one_message(visitor, store, clock, case):
    serial = f"FT-{case}"
    if case != "unknown":
        add_account(store, "dave")
        key = pool_token(
            store,
            serial,
            hardware=case != "not_hardware",
            account="dave" if case == "assigned" else None,
        )
        if case == "lost":
            with store.unit() as repo:
                repo.get_token(serial).status = TokenStatus.LOST
    else:
        key = new_secret()
    first, second = code(key, clock()), code(key, clock(), steps=1)
    if case == "wrong_codes":
        first, second = second, first
    page = visitor.post(f"{STATUS}/BindHardware", serial=serial, code1=first, code2=second)
    assert page.status_code == 400 and ZH["problem_bind_refused"] in page.text
    assert serial not in visitor.serials()
    if case != "unknown":
        assert token_row(store, serial)[1] == ("dave" if case == "assigned" else None)


def test_binding_tries_are_rate_limited(settings, store, clock, serve):
    """Past the account's limit even the right codes bind nothing (GSPWS_RATE_LIMIT_ACCOUNT)."""
    server = serve(rate_limit_account="2/minute")
    add_account(store, CAROL)
    visitor = Visitor(server)
    visitor.sign_in(new_link(settings, store, clock, CAROL))
    key = pool_token(store, "FT-2002")
    for guess in ("FT-0000", "FT-0001"):
        visitor.post(f"{STATUS}/BindHardware", serial=guess, code1="123456", code2="234567")
    page = visitor.post(
        f"{STATUS}/BindHardware",
        serial="FT-2002",
        code1=code(key, clock()),
        code2=code(key, clock(), steps=1),
    )
    assert page.status_code == 400 and ZH["problem_bind_refused"] in page.text
    assert token_row(store, "FT-2002")[1] is None


# -- 掛失 and found --------------------------------------------------------------------------


def test_a_device_reported_lost_and_found(visitor, store, clock, live_server):
    key = enable(visitor, clock)
    (serial,) = visitor.serials()
    service = zeep_service(live_server.url)

    page = visitor.post(f"{STATUS}/ReportLost", serial=serial)
    assert page.status_code == 200 and ZH["notice_reported_lost"] in page.text
    assert f'data-lost-serial="{serial}"' in page.text and visitor.serials() == []
    assert call(service, CAROL, code(key, clock())) != outcome(0)

    page = visitor.post(f"{STATUS}/ReportFound", serial=serial)
    assert page.status_code == 200 and ZH["notice_found"] in page.text
    assert visitor.serials() == [serial]
    clock.advance(30)
    assert call(service, CAROL, code(key, clock())) == outcome(0)


def test_only_ones_own_device_is_reported_lost(visitor, store):
    add_account(store, "dave")
    pool_token(store, "FT-DAVE", account="dave")
    page = visitor.post(f"{STATUS}/ReportLost", serial="FT-DAVE")
    assert page.status_code == 400 and ZH["problem_not_bound"] in page.text
    assert token_row(store, "FT-DAVE")[0].status is TokenStatus.ACTIVE
    page = visitor.post(f"{STATUS}/ReportFound", serial="FT-DAVE")
    assert page.status_code == 400 and ZH["problem_not_bound"] in page.text


# -- 令牌認證測試 -------------------------------------------------------------------------------


def test_a_tested_code_still_signs_in(visitor, store, clock, live_server):
    key = enable(visitor, clock)
    (serial,) = visitor.serials()
    now_code = code(key, clock())
    page = visitor.post(f"{STATUS}/TestCode", serial=serial, code=now_code)
    assert page.status_code == 200 and ZH["notice_code_test_passed"] in page.text
    page = visitor.post(f"{STATUS}/TestCode", code=now_code)  # any device; again: not spent
    assert ZH["notice_code_test_passed"] in page.text
    assert call(zeep_service(live_server.url), CAROL, now_code) == outcome(0)
    assert "web:TestTOTPCode" in [r.operation for r in audit_rows(store)]


def test_a_failed_test_does_not_count_towards_the_lockout(visitor, store, clock):
    key = enable(visitor, clock)
    (serial,) = visitor.serials()
    wrong = wrong_code(TotpParams(key.replace(" ", "")), clock())
    page = visitor.post(f"{STATUS}/TestCode", serial=serial, code=wrong)
    assert page.status_code == 400 and ZH["problem_code_test_failed"] in page.text
    token = token_row(store, serial)[0]
    assert token.failures == 0 and token.status is TokenStatus.ACTIVE


# -- sync --------------------------------------------------------------------------------------


def test_sync_moves_the_drift(visitor, store, clock, live_server):
    key = enable(visitor, clock)
    (serial,) = visitor.serials()
    behind = -4  # the device's clock lost 2 minutes since it was bound
    clock.advance(300)
    page = visitor.post(
        f"{STATUS}/Sync",
        serial=serial,
        code1=code(key, clock(), steps=behind),
        code2=code(key, clock(), steps=behind + 1),
    )
    assert page.status_code == 200 and ZH["notice_synced"] in page.text
    assert token_row(store, serial)[0].drift == behind + 1
    wrong = visitor.post(f"{STATUS}/Sync", serial=serial, code1="000000", code2="000001")
    assert wrong.status_code == 400 and ZH["problem_wrong_code"] in wrong.text


# -- 申請綁定 ----------------------------------------------------------------------------------


def test_a_soft_pool_token_is_shown_once(visitor, store, clock, live_server):
    key = pool_token(store, "SOFT-1", hardware=False)
    pool_token(store, "FT-HARD")  # a hardware one is never handed out this way
    page = visitor.post(f"{STATUS}/RequestToken")
    assert page.status_code == 200 and 'id="qr"' in page.text and "<svg" in page.text
    assert visitor.key == key and 'data-serial="SOFT-1"' in page.text
    assert "no-store" in page.headers["Cache-Control"]
    assert token_row(store, "SOFT-1")[1] == CAROL

    status = visitor.get(STATUS)
    assert "SOFT-1" in visitor.serials() and key not in status.text.replace(" ", "")
    again = visitor.post(f"{STATUS}/RequestToken")
    assert again.status_code == 400 and ZH["problem_pool_empty"] in again.text
    assert token_row(store, "FT-HARD")[1] is None

    clock.advance(30)
    otp = pyotp.TOTP(key).at(clock())
    assert call(zeep_service(live_server.url), CAROL, otp) == outcome(0)


def test_actions_need_the_form_token(visitor):
    for action in ("RequestToken", "ReportLost", "TestCode", "Sync", "BindHardware"):
        page = visitor.post(f"{STATUS}/{action}", csrf="forged")
        assert page.status_code == 403 and ZH["form_expired"] in page.text


def test_code_tests_are_bounded_by_the_accounts_rate_limit(settings, store, clock, serve):
    """A test writes no failure, so the rate limit is what bounds guessing through it."""
    server = serve(rate_limit_account="3/minute")
    add_account(store, CAROL)
    visitor = Visitor(server)
    visitor.sign_in(new_link(settings, store, clock, CAROL))
    key = pool_token(store, "FT-T", account=CAROL)
    right = code(key, clock())
    for guess in ("000000", "000001", "000002"):
        visitor.post(f"{STATUS}/TestCode", code=guess if guess != right else "999999")
    page = visitor.post(f"{STATUS}/TestCode", code=right)
    assert page.status_code == 400 and ZH["problem_try_later"] in page.text
    page = visitor.post(f"{STATUS}/Sync", code1=right, code2=code(key, clock(), steps=1))
    assert page.status_code == 400 and ZH["problem_try_later"] in page.text


def test_the_section_in_english(visitor, clock):
    enable(visitor, clock)
    page = visitor.get(f"{STATUS}?lang=en")
    english = TEXT["en"]
    for key in ("self_service", "code_test", "sync", "report_lost", "bind_hardware"):
        assert english[key] in page.text
    assert english["request_token"] in page.text and ZH["self_service"] not in page.text
    done = visitor.post(f"{STATUS}/ReportLost?lang=en", serial=visitor.serials()[0])
    assert english["notice_reported_lost"] in done.text


# -- races -------------------------------------------------------------------------------------


def race(calls):
    """Runs ``calls`` at once (a barrier before each); their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call_):
        barrier.wait()
        return call_()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_requests_take_one_pool_token_once(settings, store, clock):
    portal = Wiring(settings, store, clock).portal()
    people = [f"racer{i}" for i in range(4)]
    for name in people:
        add_account(store, name)
    pool_token(store, "SOFT-RACE", hardware=False)
    outcomes = race([partial(portal.request_token, PERSON, name) for name in people])
    assert sorted(o.code.code for o in outcomes) == [0, 3001, 3001, 3001]
    (winner,) = [name for name, o in zip(people, outcomes, strict=True) if o.ok]
    assert token_row(store, "SOFT-RACE")[1] == winner


def test_racing_binds_of_one_hardware_token(settings, store, clock):
    portal = Wiring(settings, store, clock).portal()
    people = ["ann", "bob", "cy"]
    for name in people:
        add_account(store, name)
    key = pool_token(store, "FT-RACE")
    first, second = code(key, clock()), code(key, clock(), steps=1)
    outcomes = race(
        [partial(portal.bind_hardware, PERSON, n, "FT-RACE", first, second) for n in people]
    )
    assert [o.ok for o in outcomes].count(True) == 1
    (winner,) = [name for name, o in zip(people, outcomes, strict=True) if o.ok]
    assert token_row(store, "FT-RACE")[1] == winner
