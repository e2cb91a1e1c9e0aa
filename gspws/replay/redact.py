"""Credentials in answers: what recordings replace with a marker, and replay does not compare.

These answers hand out something that works by itself: BeginTOTPBinding's ``OtpauthUri`` (it
holds the new token's secret) and ``QrPng`` (the same URI as a picture), CreateBindingLink's
``Result`` (a link that signs its holder in), and a successful SendOTPCode's or SendOTPCodeTo's
``Message`` (the code just sent; MobileOTP.asmx). A recording keeps :data:`MARKER` in their place
(see :mod:`gspws.replay.recorder`). They are also new random values on every call, so replay
compares them as present-or-absent only: in both answers a non-empty value reads as the marker.
"""

import dataclasses

from lxml import etree

from gspws.replay import soapxml
from gspws.replay.messages import HttpResponse
from gspws.soap.shape import TNS

MARKER = "(redacted)"
_CREDENTIALS = etree.XPath(
    "//gsp:BeginTOTPBindingResult/gsp:Result/gsp:OtpauthUri"
    " | //gsp:BeginTOTPBindingResult/gsp:Result/gsp:QrPng"
    " | //gsp:CreateBindingLinkResult/gsp:Result"
    " | //gsp:SendOTPCodeResult[gsp:Code='0']/gsp:Message"
    " | //gsp:SendOTPCodeToResult[gsp:Code='0']/gsp:Message",
    namespaces={"gsp": TNS},
)


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
    headers = tuple(
        (name, str(len(body)) if name.lower() == "content-length" else value)
        for name, value in message.headers
    )
    return dataclasses.replace(message, headers=headers, body=body)
