"""MobileOTP.asmx's fast path (gspws.soap.fastpath, mobile_otp_operations) answers as spyne does.

Two apps on two stores built from the corpus fixtures (tests/envelopes/fixtures.json), their
FixedClocks at the same instant, one with the fast path and one without, get the same requests in
the same order: the corpus's MobileOTP.asmx envelopes and a few unusual shapes. Status,
Content-Type and body must be equal byte for byte, and so must what each store recorded. With
``GSPWS_OTP_MESSAGE=code`` the codes sent differ (random), so there the Message of a successful
send is compared as six digits; ``masked`` makes the answers comparable byte for byte.
"""

import dataclasses
import re

import envelope_corpus_mobile as mobile
import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from gspws.core.clock import FixedClock
from gspws.proxies import ORIGIN_KEY, Origin
from gspws.replay import fixtures as fixtures_file
from gspws.soap import shape
from gspws.soap.envelope import Envelope
from gspws.store.models import AuditEvent, OtpCode, OutboxMessage
from gspws.wsgi import create_app

from envelope_corpus import CORPUS, HOST, MAIN, NOT_GRANTED
from helpers import public_caller_send

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
SKIPPED = {"Host", "Content-Length"}  # the test client's own
NOWHERE = {ORIGIN_KEY: Origin(None, "http", "http://localhost")}  # no address: the core says 8100


def _app(home, fast_path: bool, message: str):
    home.mkdir()
    fixtures = fixtures_file.load(CORPUS / "fixtures.json")
    settings, store = fixtures_file.build(fixtures, home)
    settings = dataclasses.replace(settings, otp_message=message)
    return create_app(settings, clock=FixedClock(fixtures.at), store=store, fast_path=fast_path)


def _odd(operation: str, fields: str, soap12: bool = False) -> tuple[dict, bytes]:
    request = mobile.request(soap12, MAIN, operation, {}, HOST)
    body = request.body.replace(f"></{operation}>".encode(), f">{fields}</{operation}>".encode())
    return dict(request.headers), body


def _requests():
    for name, request, _, _ in mobile.exchanges(MAIN, NOT_GRANTED, HOST):
        yield name, dict(request.headers), request.body
    yield (
        "public-caller",
        {"Content-Type": "application/soap+xml"},
        public_caller_send(MAIN, mobile.EMAIL),
    )
    xsi = "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'"
    yield "nil-account", *_odd("SendOTPCode", f"<account {xsi} xsi:nil='true'/>")
    yield "empty-code", *_odd("VerifyOTPCode", f"<account>{mobile.MOBILE}</account><OTPCode/>")
    yield (
        "channel-spaced",
        *_odd("SendOTPCodeTo", f"<account>{mobile.MOBILE}</account><channel> SMS </channel>", True),
    )
    yield "no-account", *_odd("VerifyOTPCode", "<OTPCode>123456</OTPCode>")


def _state(app):
    with app.store.engine.connect() as conn:
        audit = conn.execute(
            select(
                AuditEvent.service_id, AuditEvent.operation, AuditEvent.account, AuditEvent.code
            ).order_by(AuditEvent.id)
        ).all()
        codes = conn.execute(
            select(
                OtpCode.account_id,
                OtpCode.purpose,
                OtpCode.attempts,
                OtpCode.used_at,
                OtpCode.superseded_at,
            ).order_by(OtpCode.id)
        ).all()
        outbox = conn.scalar(select(func.count()).select_from(OutboxMessage))
    return audit, codes, outbox


_SENT = re.compile(rb"(<(Send\w+)Result><Code>0</Code><Message>)\d{6}(</Message>)")


@pytest.mark.parametrize("message", ["masked", "code"])
def test_both_paths_answer_every_request_alike(tmp_path, message):
    fast, full = (_app(tmp_path / n, n == "fast", message) for n in ("fast", "full"))
    clients = Client(fast), Client(full)
    sent = 0
    for name, headers, body in _requests():
        answers = [
            client.post(
                "/gsp2ws/MobileOTP.asmx",
                data=body,
                environ_base=LOOPBACK,
                headers={k: v for k, v in headers.items() if k not in SKIPPED},
            )
            for client in clients
        ]
        fast_answer, full_answer = ((a.status, a.content_type, a.data) for a in answers)
        if message == "code":
            sent += len(_SENT.findall(fast_answer[2]))
            fast_answer, full_answer = (
                (status, kind, _SENT.sub(rb"\1XXXXXX\3", data))
                for status, kind, data in (fast_answer, full_answer)
            )
        assert fast_answer == full_answer, name
    assert sent == (2 if message == "code" else 0)
    assert _state(fast) == _state(full)
    assert {0, 9999, 3001, 8108} <= {row.code for row in _state(fast)[0]}


def test_the_plain_calls_take_the_fast_path(tmp_path):
    app = _app(tmp_path / "app", True, "code")
    taken = {}
    for _name, headers, body in _requests():
        version = shape.SOAP12 if "soap+xml" in headers["Content-Type"] else shape.SOAP11
        operation = re.search(rb":Body><(\w+) xmlns=", body).group(1).decode()
        answer = app.mobile_otp._fast.answer(version, Envelope.read(version, body), NOWHERE)
        taken.setdefault(operation, set()).add(answer is not None)
    assert taken == {
        "GetOTPDestinations": {False},  # left to spyne
        "SendOTPCode": {True, False},  # (the nil account is not plain)
        "SendOTPCodeTo": {True},
        "VerifyOTPCode": {True, False},  # (the empty OTPCode is not plain)
    }
