"""Decoding request bodies the way legacy Taiwanese callers send them.

Agency systems post UTF-8, but also Big5 (really Microsoft's cp950) and UTF-16, with or without a
BOM, an XML declaration, or a ``charset`` parameter. The encoding is chosen as RFC 7303 orders it
(BOM, then the Content-Type charset, then the XML declaration, else UTF-8); the body is decoded
strictly and handed on as UTF-8 without a declaration, so the XML parser never guesses.

Only the encodings in :data:`ACCEPTED` are used. Python would decode with any codec it knows
(``unicode_escape``, ``raw_unicode_escape``, ``utf-7``, ...), some of which turn bytes with no
``<`` in them into markup, past any filter in front of gspws.
"""

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(rb"\A\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DECLARATION = re.compile(r"\A\s*<\?xml\s[^>]*\?>")
#: Names that mean Big5 in practice are decoded as cp950, which Windows (and so .NET) writes.
_ALIASES = {"big5": "cp950", "big-5": "cp950", "x-x-big5": "cp950", "csbig5": "cp950"}

ACCEPTED = frozenset(
    {
        "utf-8",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32-le",
        "utf-32-be",
        "cp950",
        "ascii",
        "iso8859-1",
    }
)
"""Python's names (``codecs.lookup(name).name``, so every alias of one counts) of the encodings a
request may be in: UTF-8 and UTF-16 (.NET, Java, PHP, node), UTF-32 only as its BOM says (XML's
own detection), Big5 as cp950 (Taiwanese Windows callers), and US-ASCII and ISO-8859-1, which
older Java and PHP stacks name for plain ASCII requests."""


class UndecodableBody(ValueError):
    """The body is not text in the encoding it claims (or the encoding is unknown or refused)."""


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


def _accepted(encoding: str) -> str:
    """``encoding`` when it is one of :data:`ACCEPTED` (by any of its names), else refused."""
    try:
        known = codecs.lookup(encoding).name
    except LookupError:
        known = None
    if known not in ACCEPTED:
        raise UndecodableBody(
            f"The request charset {encoding} is not accepted: send UTF-8, UTF-16 or Big5."
        )
    return encoding


def to_utf8(body: bytes, charset: str | None) -> tuple[bytes, str]:
    """``body`` as UTF-8 without BOM or XML declaration, and the encoding it was read in."""
    encoding, skip = _encoding_of(body, charset.strip().lower() if charset else None)
    encoding = _accepted(_ALIASES.get(encoding.lower(), encoding))
    try:
        text = body[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise UndecodableBody(f"The request body cannot be decoded as {encoding}.") from exc
    return _DECLARATION.sub("", text, count=1).encode("utf-8"), encoding
