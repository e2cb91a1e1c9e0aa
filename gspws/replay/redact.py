"""Credentials in answers: what recordings replace with a marker, and replay does not compare.

These answers hand out something that works by itself: BeginTOTPBinding's ``OtpauthUri`` (it
holds the new token's secret) and ``QrPng`` (the same URI as a picture), CreateBindingLink's
``Result`` (a link that signs its holder in), and a successful SendOTPCode's or SendOTPCodeTo's
``Message`` (the code just sent; MobileOTP.asmx). A recording keeps :data:`MARKER` in their place
(see :mod:`gspws.replay.recorder`). They are also new random values on every call, so replay
compares them as present-or-absent only: in both answers a non-empty value reads as the marker.
(Whatever ``GSPWS_OTP_MESSAGE`` says: a masked destination is compared as present too.)

One request holds a code: VerifyOTPCode's ``OTPCode``. Accepted (Code 0), the code is used up and
is kept, so that replay can accept it again against fixtures holding it (their ``otp_codes``).
Any other answer may have left it live (a call refused before the code was checked), so it is
recorded as the marker, which replays as a wrong code.
"""

import dataclasses
from typing import TypeVar

from lxml import etree

from gspws.replay import soapxml
from gspws.replay.messages import HttpRequest, HttpResponse, _Message
from gspws.soap.shape import TNS

MARKER = "(redacted)"
_M = TypeVar("_M", bound=_Message)
_CREDENTIALS = etree.XPath(
    "//gsp:BeginTOTPBindingResult/gsp:Result/gsp:OtpauthUri"
    " | //gsp:BeginTOTPBindingResult/gsp:Result/gsp:QrPng"
    " | //gsp:CreateBindingLinkResult/gsp:Result"
    " | //gsp:SendOTPCodeResult[gsp:Code='0']/gsp:Message"
    " | //gsp:SendOTPCodeToResult[gsp:Code='0']/gsp:Message",
    namespaces={"gsp": TNS},
)
_TYPED_CODE = etree.XPath("//gsp:VerifyOTPCode/gsp:OTPCode", namespaces={"gsp": TNS})


def redact(root: etree._Element | None) -> bool:
    """Replace every credential's value in ``root`` with the marker; True when there was one."""
    found = [element for element in _CREDENTIALS(root) if element.text] if root is not None else []
    for element in found:
        element.text = MARKER
    return bool(found)


def response(message: HttpResponse) -> HttpResponse:
    """``message`` with its credentials redacted (itself when it holds none)."""
    root = soapxml.parse(message.body, message.charset)
    if not redact(root):
        return message
    assert root is not None  # (redact found credentials in it)
    body = etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8")
    return _with_body(message, body)


def request(message: HttpRequest, code: int | None) -> HttpRequest:
    """``message`` with a VerifyOTPCode's typed code replaced by the marker, unless the answer's
    ``code`` was 0. The bytes are changed in place (the element's text, in the request's
    charset), so the request stays as its caller wrote it otherwise; when the text cannot be
    found so, the body is not recorded at all."""
    if code == 0:
        return message
    root = soapxml.parse(message.body, message.charset)
    typed = {e.text for e in _TYPED_CODE(root) if e.text} if root is not None else set()
    body, charset = message.body, message.charset or "utf-8"
    for value in typed:
        try:
            found, marker = (f">{text}<".encode(charset) for text in (value, MARKER))
        except (LookupError, UnicodeEncodeError):
            found = marker = b""
        if not found or found not in body:  # written some other way (CDATA…): keep no body
            return _with_body(message, b"")
        body = body.replace(found, marker)
    return message if body == message.body else _with_body(message, body)


def _with_body(message: _M, body: bytes) -> _M:
    return dataclasses.replace(message, headers=_length(message.headers, len(body)), body=body)


def _length(headers: tuple, length: int) -> tuple:
    return tuple(
        (name, str(length) if name.lower() == "content-length" else value)
        for name, value in headers
    )
