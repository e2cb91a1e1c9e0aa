"""Decoding request bodies the way legacy Taiwanese callers send them.

Agency systems post UTF-8, but also Big5 (really Microsoft's cp950) and UTF-16, with or without a
BOM, an XML declaration, or a ``charset`` parameter. The encoding is chosen as RFC 7303 orders it
(BOM, then the Content-Type charset, then the XML declaration, else UTF-8); the body is decoded
strictly and handed on as UTF-8 without a declaration, so the XML parser never guesses.
"""

import codecs
import re

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECLARED = re.compile(rb"\A\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DECLARATION = re.compile(r"\A\s*<\?xml\s[^>]*\?>")
#: Names that mean Big5 in practice are decoded as cp950, which Windows (and so .NET) writes.
_ALIASES = {"big5": "cp950", "big-5": "cp950", "x-x-big5": "cp950", "csbig5": "cp950"}


class UndecodableBody(ValueError):
    """The body is not text in the encoding it claims (or the encoding is unknown)."""


def _encoding_of(body: bytes, charset: str | None) -> tuple[str, int]:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    if charset:
        return charset, 0
    if body[:2] in (b"<\x00", b"\x00<"):  # UTF-16 without a BOM
        return ("utf-16-le" if body[0] == 0x3C else "utf-16-be"), 0
    declared = _DECLARED.match(body[:200])
    return (declared.group(1).decode("ascii") if declared else "utf-8"), 0


def to_utf8(body: bytes, charset: str | None) -> tuple[bytes, str]:
    """``body`` as UTF-8 without BOM or XML declaration, and the encoding it was read in."""
    encoding, skip = _encoding_of(body, charset.strip().lower() if charset else None)
    encoding = _ALIASES.get(encoding.lower(), encoding)
    try:
        text = body[skip:].decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise UndecodableBody(f"The request body cannot be decoded as {encoding}.") from exc
    return _DECLARATION.sub("", text, count=1).encode("utf-8"), encoding
