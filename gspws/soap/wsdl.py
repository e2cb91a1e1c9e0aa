"""Serve the committed WSDL contract (``wsdl/TOTP.wsdl``) with per-request addresses.

Why this module exists: the WSDL is a fixed contract that existing GSP callers
and stub generators (wsdl.exe, svcutil, Axis, zeep ...) were built against, so
it is committed as a file and never generated from code. The only thing that
may differ when it is served is the two ``location`` attributes of the
``soap:address`` / ``soap12:address`` elements, which must point at the URL the
WSDL was fetched from (as ASP.NET does).

To guarantee "byte-identical except for the addresses" we do not re-serialize
a parsed tree (lxml would normalise quotes, whitespace and namespace
declarations). Instead the raw bytes are split once, at construction, around
the two attribute values; ``render`` only joins the pieces with the escaped
URL. The file is still parsed, with a hardened parser, to prove it is
well-formed and to cross-check that the text splice hits exactly the address
attributes the XML parser sees.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from pathlib import Path

from lxml import etree

__all__ = ["WsdlDocument", "WsdlError", "default_wsdl_path", "load_wsdl"]

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"

# An ``<prefix:address ... location="...">`` start tag. Only used to find byte
# offsets; the result is cross-checked against the parsed tree.
_ADDRESS_ATTR = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?address\b[^>]*?\slocation\s*=\s*(?P<q>[\"'])(?P<value>[^\"'<]*)(?P=q)"
)


class WsdlError(RuntimeError):
    """The WSDL file is missing, malformed, or not in the expected shape."""


def default_wsdl_path() -> Path:
    """Return the committed contract ``wsdl/TOTP.wsdl``, shipped as package ``gspws.wsdl``."""
    return Path(str(files("gspws.wsdl") / "TOTP.wsdl"))


def _hardened_parser() -> etree.XMLParser:
    # The file is ours, but parse it as if it were not: no entity expansion,
    # no DTD or network fetches, no huge-tree tricks.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _escape_attr(value: str, quote: str) -> str:
    """Escape ``value`` for use inside an XML attribute delimited by ``quote``.

    Whitespace other than a space is written as a character reference, since
    attribute-value normalisation would otherwise turn it into a space.
    """
    out = (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )
    return out.replace('"', "&quot;") if quote == '"' else out.replace("'", "&apos;")


class WsdlDocument:
    """The committed WSDL, ready to be served with any service URL.

    Construction reads and validates the file and precomputes the splice
    points; :meth:`render` is then a cheap join of byte strings.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise WsdlError(f"cannot read WSDL {self.path}: {exc}") from exc
        self._raw = raw

        try:
            tree = etree.fromstring(raw, parser=_hardened_parser())
        except etree.XMLSyntaxError as exc:
            raise WsdlError(f"WSDL {self.path} is not well-formed: {exc}") from exc
        self._encoding = tree.getroottree().docinfo.encoding or "utf-8"
        #: The parsed contract (gspws.soap.contract reads the help pages' content from it).
        self.tree = tree

        # The address elements as the XML parser sees them, in document order.
        addresses = tree.xpath(
            "/wsdl:definitions/wsdl:service/wsdl:port/*"
            "[(namespace-uri()=$s11 or namespace-uri()=$s12) and local-name()='address']",
            namespaces={"wsdl": WSDL_NS},
            s11=SOAP11_BINDING_NS,
            s12=SOAP12_BINDING_NS,
        )
        if not addresses:
            raise WsdlError(f"WSDL {self.path} has no soap:address / soap12:address")
        parsed_locations = [a.get("location") for a in addresses]

        matches = list(_ADDRESS_ATTR.finditer(raw))
        text_locations = [m.group("value").decode(self._encoding) for m in matches]
        if text_locations != parsed_locations:
            # Guard against the regex seeing something the parser does not
            # (comments, CDATA, entity-escaped values): refuse rather than
            # splice in the wrong place.
            raise WsdlError(
                f"WSDL {self.path}: address attributes could not be located "
                f"unambiguously ({text_locations!r} vs {parsed_locations!r})"
            )

        #: The location value as committed (the placeholder address).
        self.placeholder_locations: tuple[str, ...] = tuple(parsed_locations)

        # Split the raw bytes around each attribute value: the pieces
        # alternate literal-bytes / value / literal-bytes / value / ...
        pieces: list[bytes] = []
        quotes: list[str] = []
        pos = 0
        for m in matches:
            pieces.append(raw[pos : m.start("value")])
            quotes.append(m.group("q").decode("ascii"))
            pos = m.end("value")
        pieces.append(raw[pos:])
        self._pieces: tuple[bytes, ...] = tuple(pieces)
        self._quotes: tuple[str, ...] = tuple(quotes)

    @property
    def raw(self) -> bytes:
        """The committed file's bytes, untouched."""
        return self._raw

    def render(self, service_url: str) -> bytes:
        """Return the WSDL with every address ``location`` set to ``service_url``.

        Everything else is byte-for-byte the committed file. ``service_url``
        is XML-escaped for the attribute's quote character.
        """
        encoded = {
            q: _escape_attr(service_url, q).encode(self._encoding, "xmlcharrefreplace")
            for q in set(self._quotes)
        }
        pieces = self._pieces
        out = [pieces[0]]
        for quote, piece in zip(self._quotes, pieces[1:], strict=True):
            out.append(encoded[quote])
            out.append(piece)
        return b"".join(out)


@functools.lru_cache(maxsize=8)
def _load_cached(resolved: Path) -> WsdlDocument:
    return WsdlDocument(resolved)


def load_wsdl(path: str | Path | None = None) -> WsdlDocument:
    """Load (once per path, then cached) the WSDL; default: the committed contract.

    ``path`` overrides the location, e.g. for a deployment that is not an
    editable install of the repository.
    """
    target = Path(path) if path is not None else default_wsdl_path()
    return _load_cached(target.resolve())
