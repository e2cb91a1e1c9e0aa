"""The VerifyTOTPCode fast path (gspws.soap.fastpath) answers exactly as spyne's full path does.

Two apps on two identically seeded stores, their FixedClocks in step, one with the fast path
and one without, get the same requests in the same order: every case of the bad-input corpus
(tests/corpus) and every caller family's envelope from tests/envelope_corpus.py, on SQLite and
on PostgreSQL. Status, Content-Type and body must be equal byte for byte, and so must what each
store recorded.
Separately: the plain shapes real callers send are taken by the fast path (else the differential
test would compare spyne with itself), and the unusual ones are left to spyne.
"""

import ipaddress
from collections.abc import Callable

import pytest
from sqlalchemy import select
from test_bad_input import CASES, render, seed
from werkzeug.test import Client

from gspws.core.clock import FixedClock
from gspws.core.otp import TotpParams
from gspws.proxies import ORIGIN_KEY, Origin
from gspws.soap import shape
from gspws.soap.envelope import Envelope
from gspws.soap.fastpath import FastPath
from gspws.store import migrate
from gspws.store.models import AuditEvent, Token
from gspws.wsgi import build_store, create_app

from envelope_corpus import FAMILIES
from helpers import (
    ACCOUNT,
    SECRET,
    SERVICE_ID,
    T0,
    TNS,
    code_at,
    envelope,
    make_settings,
    pg_database,
    soap_result,
)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}  # the seeded service's allowed address
TRANSPORT_HEADERS = {"Host", "Content-Length", "Expect", "Connection"}  # the test client's own


def _app(home, database_url: str, fast_path: bool):
    settings = make_settings(home, database_url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed(store)
    return create_app(settings, clock=FixedClock(T0), store=store, fast_path=fast_path)


def _requests(now: Callable[[], float]):
    """(name, HTTP headers, body): the bad-input corpus, then each family's calls as that client
    sends them, with the codes of the step at ``now()`` (taken as each request is made)."""
    for case in CASES:
        yield case["name"], {"Content-Type": case["content_type"]}, render(case, now(), xxe_port=9)
    for family in FAMILIES:
        for account, valid in (
            (ACCOUNT, True),
            (ACCOUNT, True),
            (ACCOUNT, False),
            ("no.such.user", True),
        ):
            code = code_at(TotpParams(SECRET), now()) if valid else "000000"
            headers, body = family.write(SERVICE_ID, account, code)
            yield (
                family.name,
                {name: value for name, value in headers if name not in TRANSPORT_HEADERS},
                body,
            )


def _store_state(app):
    with app.store.engine.connect() as conn:
        audit = conn.execute(
            select(
                AuditEvent.service_id, AuditEvent.operation, AuditEvent.account, AuditEvent.code
            ).order_by(AuditEvent.id)
        ).all()
        tokens = conn.execute(
            select(Token.id, Token.status, Token.failures, Token.last_step).order_by(Token.id)
        ).all()
    return audit, tokens


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request, tmp_path):
    """URLs of two empty stores of one kind."""
    if request.param == "sqlite":
        yield [f"sqlite:///{tmp_path / name}.db" for name in ("fast", "full")]
        return
    fast, full = pg_database(), pg_database()
    yield [next(fast), next(full)]
    for schema in fast, full:
        next(schema, None)  # drops it


def test_both_paths_answer_every_request_alike(tmp_path, two_stores):
    fast, full = (
        _app(tmp_path, url, fast_path)
        for url, fast_path in zip(two_stores, (True, False), strict=True)
    )
    clients = Client(fast), Client(full)
    answered = 0
    for name, headers, body in _requests(fast.clock):
        fast_answer, full_answer = (
            (a.status, a.content_type, a.data)
            for a in (
                client.post("/gsp2ws/TOTP.asmx", data=body, environ_base=LOOPBACK, headers=headers)
                for client in clients
            )
        )
        assert fast_answer == full_answer, name
        answered += fast_answer[0] == "200 OK"
        for app in fast, full:  # a fresh step: no code is refused as replayed or locked out
            app.clock.advance(30)
    # Not a comparison of faults alone: every request the corpus expects a code for got one.
    expected_codes = sum(case["expect"].startswith("code:") for case in CASES)
    assert answered == expected_codes + 4 * len(FAMILIES)
    audit, tokens = _store_state(fast)
    assert (audit, tokens) == _store_state(full)
    assert {0, 9999, 3001} <= {row.code for row in audit}
    assert all(token.last_step for token in tokens)


@pytest.fixture
def fast_path(tmp_path, sqlite_url) -> FastPath:
    return _app(tmp_path, sqlite_url, True).totp._fast


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_caller_family_takes_the_fast_path(fast_path, family):
    version = shape.SOAP12 if family.soap12 else shape.SOAP11
    _, body = family.write(SERVICE_ID, ACCOUNT, code_at(TotpParams(SECRET), T0))
    environ = {ORIGIN_KEY: Origin(None, "http", "http://localhost")}
    answer = fast_path.answer(version, Envelope.read(version, body), environ)
    assert answer is not None
    assert soap_result(answer)[0] == 8100  # no client address in this environ: the core decided


def _call(
    fields: str,
    header: str = f"<ServiceHeader xmlns='{TNS}'><ServiceID>{SERVICE_ID}"
    "</ServiceID></ServiceHeader>",
) -> bytes:
    return (
        f"<soap:Envelope xmlns:soap='{shape.SOAP11.envelope_ns}' xmlns:xsi='{XSI}'>"
        f"<soap:Header>{header}</soap:Header><soap:Body>"
        f"<VerifyTOTPCode xmlns='{TNS}'>{fields}</VerifyTOTPCode></soap:Body>"
        "</soap:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        _call("<account xsi:nil='true'/><TOTPCode>123456</TOTPCode>"),
        _call("<account></account><TOTPCode>123456</TOTPCode>"),
        _call("<account><b>x</b></account><TOTPCode>123456</TOTPCode>"),
        _call("<account>a</account><TOTPCode>1</TOTPCode><Extra>1</Extra>"),
        _call("<account>a</account>", header=f"<ServiceHeader xmlns='{TNS}'/>"),
        _call(
            "<account>a</account>",
            header=f"<ServiceHeader xmlns='{TNS}' Id='x'><ServiceID>"
            f"{SERVICE_ID}</ServiceID></ServiceHeader>",
        ),
        _call(
            "<account>a</account>",
            header=f"<ServiceHeader xmlns='{TNS}'><ServiceID>"
            f"{SERVICE_ID}</ServiceID></ServiceHeader><Other/>",
        ),
        _call("<account>a</account>").replace(b"VerifyTOTPCode", b"GetTOTPStatus"),
        envelope(ACCOUNT, "123456").replace(b"<soap:Body>", b"<soap:Body soap:encodingStyle='x'>"),
        b"<not-xml",
    ],
    ids=[
        "nil",
        "empty",
        "nested",
        "extra",
        "empty-header",
        "header-attribute",
        "two-headers",
        "other-operation",
        "body-attribute",
        "malformed",
    ],
)
def test_unusual_requests_are_left_to_spyne(fast_path, body):
    assert fast_path.answer(shape.SOAP11, Envelope.read(shape.SOAP11, body), {}) is None


def test_a_plain_call_is_decided_by_the_core(fast_path):
    environ = {ORIGIN_KEY: Origin(ipaddress.ip_address("127.0.0.1"), "http", "http://localhost")}
    body = envelope(ACCOUNT, code_at(TotpParams(SECRET), T0))
    for expected in 0, 9999:  # the second is replayed
        answer = fast_path.answer(shape.SOAP11, Envelope.read(shape.SOAP11, body), environ)
        assert soap_result(answer)[0] == expected


def test_a_request_left_to_spyne_is_read_and_checked_once(tmp_path, sqlite_url, monkeypatch):
    """The fast path and spyne read the same envelope: one parse, one structure check (the
    check removes ignored elements from the tree; running it twice would judge a changed
    tree)."""
    from gspws.soap import envelope as reader

    checked = []
    real_check = reader.check_structure
    monkeypatch.setattr(
        reader, "check_structure", lambda *args: checked.append(args) or real_check(*args)
    )
    client = Client(_app(tmp_path, sqlite_url, True))
    body = _call("<account xsi:nil='true'/><TOTPCode>123456</TOTPCode><x:Foo xmlns:x='urn:x'/>")
    answer = client.post(
        "/gsp2ws/TOTP.asmx",
        data=body,
        environ_base=LOOPBACK,
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert answer.status == "200 OK"
    assert len(checked) == 1


def test_a_failure_of_the_fast_path_is_logged_without_its_text(fast_path, monkeypatch, caplog):
    """spyne still answers (None here), and the log says what failed and where, never the
    exception's text, which could quote the request."""
    from gspws.soap import fastpath

    def fail(self, version, root):
        raise ValueError("account wederlin code 123456")

    monkeypatch.setattr(fastpath.FastPath, "_read", fail)
    body = envelope(ACCOUNT, "123456")
    with caplog.at_level("DEBUG", logger="gspws.soap.fastpath"):
        assert fast_path.answer(shape.SOAP11, Envelope.read(shape.SOAP11, body), {}) is None
    assert "ValueError" in caplog.text and "fastpath.py" in caplog.text
    assert "123456" not in caplog.text and "wederlin" not in caplog.text
