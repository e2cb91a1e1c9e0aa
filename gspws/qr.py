"""QR codes of otpauth URIs (segno): inline SVG for the binding page, PNG for SOAP callers.

The URI carries the token's secret, so neither form is ever written to disk or logged.
"""

import io

import segno

#: Medium error correction: readable from a phone at an angle, small enough for long URIs.
_ERROR = "m"


def svg(uri: str, title: str = "") -> str:
    """An ``<svg>`` element to put in a page as it is (no image request, so no URL with the
    secret in it)."""
    return segno.make(uri, error=_ERROR).svg_inline(scale=5, title=title or None)


def png(uri: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(uri, error=_ERROR).save(buffer, kind="png", scale=5)
    return buffer.getvalue()
