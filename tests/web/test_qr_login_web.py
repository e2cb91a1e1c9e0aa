"""QR-scan sign-in without a browser: the approval page over real HTTP (requests: CSRF, the
session that proved the code, the spent code, wrong codes and numbers), and GetAssertion's answers
(once only, also when polls race; pending, denied, expired, another ServiceID), on SQLite and
PostgreSQL. The agency's two calls go to the use case here; tests/soap/test_otp_assertion.py
makes them on the wire."""

import ipaddress
import re
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from gspws.compose import Wiring
from gspws.core import codes
from gspws.core.access import OTP_FUNCTIONS
from gspws.core.verify import Caller
from gspws.store.models import Assertion

from binding import Visitor
from helpers import ACCOUNT, SERVICE_ID, audit_rows, wrong_code

OTHER_SERVICE = "APP0000002"
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def agency(settings, store, clock, demo):
    """The demo service (and another) granted OTP.asmx's operations; their use cases."""
    with store.unit() as repo:
        for function in OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
        repo.add_service(OTHER_SERVICE, "Other agency", ["127.0.0.1/32"], list(OTP_FUNCTIONS))
    registry = store.service_registry(0)
    return Wiring(settings, store, clock, registry.current).assertions()


def caller(operation: str, service_id: str = SERVICE_ID) -> Caller:
    return Caller(service_id, LOOPBACK, operation)


def start(agency, live_server):
    outcome = agency.start(caller("GetAssertionId"), live_server.base + "/owin/approve/")
    assert outcome.ok, outcome
    return outcome.value


def collect(agency, assertion_id, service_id=SERVICE_ID):
    """GetAssertion's answer as ``(code, message)``."""
    outcome = agency.collect(caller("GetAssertion", service_id), assertion_id)
    return outcome.code, outcome.message


def said(rc) -> tuple[int, str]:
    return rc.code, rc.message


def phone(live_server, ticket) -> Visitor:
    """A phone that opened the QR's URL."""
    visitor = Visitor(live_server)
    page = visitor.get(ticket.approval_url)
    assert page.status_code == 200 and 'id="prove-form"' in page.text, page.text
    return visitor


def prove(visitor, ticket, code, account=ACCOUNT):
    return visitor.post(urlsplit(ticket.approval_url).path + "/Prove", account=account, code=code)


def choices(visitor) -> list[str]:
    return re.findall(r'name="number" value="(\d\d)"', visitor.page.text)


def decide(visitor, ticket, number, action="approve", csrf="page"):
    path = urlsplit(ticket.approval_url).path + "/Decide"
    return visitor.post(path, csrf=csrf, number=number, action=action)


def test_approve_then_collect_once(agency, live_server, demo, clock, store):
    ticket = start(agency, live_server)
    assert len(ticket.number) == 2 and ticket.expires_at == clock() + 120
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_PENDING)
    visitor = phone(live_server, ticket)
    page = prove(visitor, ticket, demo.code(clock()))
    assert page.status_code == 200 and page.history[0].status_code == 303
    offered = choices(visitor)
    assert len(offered) == 3 and ticket.number in offered and len(set(offered)) == 3
    assert collect(agency, ticket.assertion_id) == said(
        codes.ASSERTION_PENDING
    )  # proven, undecided
    done = decide(visitor, ticket, ticket.number)
    assert done.status_code == 200 and 'data-stage="approved"' in done.text
    assert collect(agency, ticket.assertion_id) == (0, ACCOUNT)
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_USED)
    with store.reading() as repo:
        (row,) = repo.session.scalars(select(Assertion))
        assert ticket.assertion_id not in (row.id_hash, row.approval_hash)
        assert urlsplit(ticket.approval_url).path.rsplit("/", 1)[1] not in row.approval_hash
    audited = [(r.operation, r.account, r.code) for r in audit_rows(store)]
    assert ("GetAssertion", ACCOUNT, 0) in audited and ("web:ProveSignIn", ACCOUNT, 0) in audited


def test_the_proof_spends_the_code(agency, live_server, demo, clock):
    first, second = start(agency, live_server), start(agency, live_server)
    code = demo.code(clock())
    prove(phone(live_server, first), first, code)
    again = prove(phone(live_server, second), second, code)
    assert again.status_code == 400 and 'id="prove-form"' in again.text


def test_a_wrong_number_denies(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    prove(visitor, ticket, demo.code(clock()))
    wrong = next(n for n in choices(visitor) if n != ticket.number)
    csrf = visitor.csrf
    page = decide(visitor, ticket, wrong)
    assert 'data-stage="denied"' in page.text and "數字不符" in page.text
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_DENIED)
    again = decide(visitor, ticket, ticket.number, csrf=csrf)  # no second try
    assert 'data-stage="denied"' in again.text
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_DENIED)


def test_deny(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    prove(visitor, ticket, demo.code(clock()))
    assert 'data-stage="denied"' in decide(visitor, ticket, "", action="deny").text
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_DENIED)


def test_expiry(agency, live_server, demo, clock, settings):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    clock.advance(settings.assertion_ttl)
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_EXPIRED)
    assert prove(visitor, ticket, demo.code(clock())).status_code == 410
    assert visitor.get(ticket.approval_url).status_code == 410


def test_an_approved_sign_in_is_collectable_for_another_ttl(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    clock.advance(100)
    prove(visitor, ticket, demo.code(clock()))
    decide(visitor, ticket, ticket.number)
    clock.advance(100)  # past the first expiry, within a TTL of the approval
    assert collect(agency, ticket.assertion_id) == (0, ACCOUNT)


def test_another_service_and_unknown_ids(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    prove(visitor, ticket, demo.code(clock()))
    decide(visitor, ticket, ticket.number)
    assert collect(agency, ticket.assertion_id, OTHER_SERVICE) == said(codes.ASSERTION_UNKNOWN)
    assert collect(agency, "A" * 43) == said(codes.ASSERTION_UNKNOWN)
    assert collect(agency, None) == said(codes.ASSERTION_UNKNOWN)
    assert collect(agency, ticket.assertion_id) == (0, ACCOUNT)  # still its own service's


def test_only_the_proving_browser_decides(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    owner = phone(live_server, ticket)
    prove(owner, ticket, demo.code(clock()))
    intruder = phone(live_server, start(agency, live_server))  # a session and its CSRF token
    csrf = intruder.csrf
    assert intruder.get(ticket.approval_url).status_code == 410
    assert decide(intruder, ticket, ticket.number, csrf=csrf).status_code == 410
    page = intruder.post(
        urlsplit(ticket.approval_url).path + "/Prove",
        csrf=csrf,
        account=ACCOUNT,
        code=demo.code(clock(), 1),
    )
    assert page.status_code == 410
    assert decide(owner, ticket, ticket.number).status_code == 200


def test_forms_need_the_csrf_token(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    path = urlsplit(ticket.approval_url).path + "/Prove"
    page = visitor.post(path, csrf=None, account=ACCOUNT, code=demo.code(clock()))
    assert page.status_code == 403
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_PENDING)


def test_wrong_codes_deny_at_the_threshold(agency, live_server, demo, clock, settings):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    for _ in range(settings.lockout_threshold - 1):
        page = prove(visitor, ticket, wrong_code(demo.params, clock()), account="nobody")
        assert page.status_code == 400 and "帳號或驗證碼錯誤" in page.text
    last = prove(visitor, ticket, wrong_code(demo.params, clock()))
    assert "錯誤次數過多" in last.text
    assert collect(agency, ticket.assertion_id) == said(codes.ASSERTION_DENIED)


def test_page_headers_and_english(agency, live_server):
    ticket = start(agency, live_server)
    page = Visitor(live_server).get(ticket.approval_url + "?lang=en")
    assert "Approve a sign-in" in page.text and page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    cookie = page.headers["Set-Cookie"]
    assert "Path=/owin/approve/" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_racing_polls_hand_the_account_over_once(agency, live_server, demo, clock):
    ticket = start(agency, live_server)
    visitor = phone(live_server, ticket)
    prove(visitor, ticket, demo.code(clock()))
    decide(visitor, ticket, ticket.number)
    answers, barrier = [], threading.Barrier(8)

    def poll():
        barrier.wait()
        answers.append(collect(agency, ticket.assertion_id)[0])

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == [0] + [9999] * 7
