"""Offline distribution end to end: `gspws token distribute` prints the sheet; the person types
it on /owin/activate (real HTTP, CSRF) and sees the key once; its codes then verify. Wrong tries
void it, it expires, it works once (then NSTC's message); pool serials; the binding page leaves
distributed tokens alone. SQLite and PostgreSQL."""

import dataclasses
import re
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gspws.cli import main
from gspws.compose import Wiring
from gspws.core import codes
from gspws.core.activation import DAY
from gspws.core.enroll import Person
from gspws.core.otp import TotpParams
from gspws.store.models import ActivationCode, OutboxMessage, Token, TokenStatus

from binding import LINK_INVALID, Visitor, add_account, code
from helpers import SECRET, audit_rows, call, outcome, zeep_service

ACTIVATE = "/owin/activate"
OPERATOR = Person(None, "test:operator")
ERIN = "erin"


def distribute(settings, store, clock, target, account=None, send=False):
    return Wiring(settings, store, clock).activations().distribute(OPERATOR, target, account, send)


def sheet(settings, store, clock, target, account=None):
    out = distribute(settings, store, clock, target, account)
    assert out.ok, out
    return out.value


def activate(live_server, serial, activation_code, password):
    visitor = Visitor(live_server)
    form = visitor.get(ACTIVATE)
    assert form.status_code == 200 and 'id="activate-form"' in form.text
    visitor.post(
        ACTIVATE, serial=serial, activation_code=activation_code, activation_password=password
    )
    return visitor


def test_distribute_to_an_account_on_the_command_line(settings, store, clock, live_server, demo):
    add_account(store, ERIN)
    clock.now = time.time()  # the command runs on the system clock
    env = {
        "GSPWS_HOME": str(settings.home),
        "GSPWS_SECRET_KEY": settings.secret_key,
        "GSPWS_DATABASE_URL": settings.effective_database_url,
    }
    result = CliRunner().invoke(main, ["token", "distribute", ERIN, "--offline"], env=env)
    assert result.exit_code == 0, result.output
    printed = dict(
        re.findall(
            r"^\s+\S+ (serial|activation code|activation password): (\S+)$", result.output, re.M
        )
    )
    assert set(printed) == {"serial", "activation code", "activation password"}, result.output
    with store.reading() as repo:
        (row,) = repo.session.scalars(select(ActivationCode))
        stored = (row.code_hash, row.password_hash)
        token = repo.get_token(printed["serial"])
        assert token.status is TokenStatus.PENDING and token.account.account == ERIN
    assert not any(printed["activation code"].replace("-", "") in s for s in stored)
    assert printed["activation password"] not in stored[1] and stored[1].startswith("$argon2id$")

    page = activate(
        live_server,
        printed["serial"],
        printed["activation code"].lower(),
        printed["activation password"],
    )
    assert page.page.status_code == 200 and page.text("serial") == printed["serial"]
    key = page.key
    assert "<svg" in page.page.text and page.page.headers["Cache-Control"] == "no-store"
    assert call(zeep_service(live_server.url), ERIN, code(key, clock())) == outcome(0)

    again = activate(
        live_server, printed["serial"], printed["activation code"], printed["activation password"]
    )
    assert again.page.status_code == 410 and LINK_INVALID in again.page.text
    assert 'id="secret-key"' not in again.page.text


def test_wrong_tries_void_it(settings, store, clock, live_server):
    add_account(store, ERIN)
    given = sheet(settings, store, clock, ERIN)
    for _ in range(settings.activation_retries - 1):
        wrong = activate(live_server, given.serial, given.activation_code, "wrong")
        assert wrong.page.status_code == 400 and 'id="problem"' in wrong.page.text
    right = activate(live_server, given.serial, given.activation_code, given.activation_password)
    assert right.page.status_code == 200 and right.key  # 4 wrong tries of 5: still valid

    add_account(store, "frank")
    given = sheet(settings, store, clock, "frank")
    for _ in range(settings.activation_retries - 1):
        activate(live_server, given.serial, "AAAA-BBBB-CCCC-DDDD", given.activation_password)
    last = activate(live_server, given.serial, "AAAA", given.activation_password)
    assert last.page.status_code == 410
    voided = activate(live_server, given.serial, given.activation_code, given.activation_password)
    assert voided.page.status_code == 410 and LINK_INVALID in voided.page.text
    again = sheet(settings, store, clock, "frank")  # distributing again replaces it
    assert again.serial != given.serial
    fresh = activate(live_server, again.serial, again.activation_code, again.activation_password)
    assert fresh.page.status_code == 200
    with store.reading() as repo:
        assert repo.session.scalar(select(Token).where(Token.serial == given.serial)) is None


def test_it_expires(settings, store, clock, live_server):
    add_account(store, ERIN)
    given = sheet(settings, store, clock, ERIN)
    clock.advance(settings.activation_days * DAY)
    late = activate(live_server, given.serial, given.activation_code, given.activation_password)
    assert late.page.status_code == 410


def test_a_pool_serial(settings, store, clock, live_server, demo):
    add_account(store, ERIN)
    with store.unit() as repo:  # as `gspws token import` leaves a token: active, unassigned
        row = repo.add_token(None, TotpParams(SECRET), TokenStatus.ACTIVE)
        row.hardware, pooled = True, row.serial
    assert distribute(settings, store, clock, demo.serial).code is codes.REJECTED  # assigned
    assert distribute(settings, store, clock, "TOTP0000000000").code is codes.NO_ACTIVE_TOKEN
    assert distribute(settings, store, clock, pooled, "nobody").code is codes.NO_ACTIVE_TOKEN
    given = sheet(settings, store, clock, pooled, ERIN)
    assert (given.serial, given.account) == (pooled, ERIN)
    done = activate(live_server, pooled, given.activation_code, given.activation_password)
    assert done.key == SECRET
    with store.reading() as repo:
        token = repo.get_token(pooled)
        assert token.status is TokenStatus.ACTIVE and token.account.account == ERIN


def test_the_policy_password(settings, store, clock, live_server):
    add_account(store, ERIN)
    policy = dataclasses.replace(settings, activation_password="agency-2026")
    given = sheet(policy, store, clock, ERIN)
    assert given.activation_password == "agency-2026"
    assert activate(live_server, given.serial, given.activation_code, "agency-2026").key


def test_the_binding_page_leaves_distributed_tokens_alone(settings, store, clock, live_server):
    add_account(store, ERIN)
    given = sheet(settings, store, clock, ERIN)
    enrollment = Wiring(settings, store, clock).enrollment()
    assert enrollment.status(OPERATOR, ERIN).value.binding is None
    assert enrollment.begin(OPERATOR, ERIN, "phone").ok  # replaces its own pending, not ours
    done = activate(live_server, given.serial, given.activation_code, given.activation_password)
    assert done.page.status_code == 200


@pytest.mark.parametrize("field", ["serial", "csrf"])
def test_the_form_needs_every_field(settings, store, clock, live_server, field):
    add_account(store, ERIN)
    given = sheet(settings, store, clock, ERIN)
    visitor = Visitor(live_server)
    visitor.get(ACTIVATE)
    fields = {
        "serial": given.serial,
        "activation_code": given.activation_code,
        "activation_password": given.activation_password,
    }
    if field == "csrf":
        page = visitor.post(ACTIVATE, csrf=None, **fields)
        assert page.status_code == 403
    else:
        page = visitor.post(ACTIVATE, **{**fields, field: ""})
        assert page.status_code == 400


def test_racing_activations_show_the_key_once(settings, store, clock):
    add_account(store, ERIN)
    given = sheet(settings, store, clock, ERIN)
    activations = Wiring(settings, store, clock).activations()
    person = Person(None, "test:phone")
    answers, barrier = [], threading.Barrier(6)

    def activate_now():
        barrier.wait()
        answers.append(
            activations.activate(
                person, given.serial, given.activation_code, given.activation_password
            ).code.code
        )

    threads = [threading.Thread(target=activate_now) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [0] + [3001] * 5


def test_nothing_secret_is_audited(settings, store, clock, live_server):
    add_account(store, ERIN)
    given = sheet(settings, store, clock, ERIN)
    activate(live_server, given.serial, given.activation_code, given.activation_password)
    rows = [vars(row) for row in audit_rows(store)]
    assert {"cli:DistributeToken", "test:operator", "web:ActivateToken"} & {
        row["operation"] for row in rows
    }
    for row in rows:
        for value in row.values():
            text = str(value)
            assert given.activation_code not in text and given.activation_password not in text


def test_the_sheet_sent_through_the_outbox(settings, store, clock, live_server):
    add_account(store, ERIN)
    assert distribute(settings, store, clock, ERIN, send=True).code is codes.REJECTED  # nowhere
    with store.unit() as repo:
        repo.set_destinations(repo.get_account(ERIN), "0912345678", None, True)
    given = distribute(settings, store, clock, ERIN, send=True).value
    assert given.sent_to == "0912***678"
    with store.reading() as repo:
        (message,) = repo.session.scalars(select(OutboxMessage))
        body = store.secrets.decrypt(message.body_encrypted)
    assert (message.channel, message.destination) == ("sms", "0912345678")
    assert given.activation_code in body and given.activation_password in body
    assert given.activation_code.encode() not in message.body_encrypted
    done = activate(live_server, given.serial, given.activation_code, given.activation_password)
    assert done.page.status_code == 200
