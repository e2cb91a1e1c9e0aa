"""Recordings redact the code a successful SendOTPCode or SendOTPCodeTo answers in Message, and
keep the Message of a refusal (a return code's text, no secret)."""

import pytest

from gspws.replay import redact
from gspws.replay.messages import HttpResponse

ANSWER = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
    'xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
    '<{op}Response xmlns="http://cp.gov.tw/gsp2"><{op}Result><Code>{code}</Code>'
    "<Message>{message}</Message></{op}Result></{op}Response></soap:Body></soap:Envelope>"
)


def _answer(op: str, code: int, message: str) -> HttpResponse:
    body = ANSWER.format(op=op, code=code, message=message).encode()
    return HttpResponse(
        headers=(
            ("Content-Type", "application/soap+xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ),
        body=body,
    )


@pytest.mark.parametrize("op", ["SendOTPCode", "SendOTPCodeTo"])
def test_sent_code_is_redacted(op):
    kept = redact.response(_answer(op, 0, "816276"))
    assert b"816276" not in kept.body and b"<Message>(redacted)</Message>" in kept.body
    assert kept.header("Content-Length") == str(len(kept.body))


def test_refusal_message_is_kept():
    refused = _answer("SendOTPCode", 3001, "no")
    assert redact.response(refused) is refused
