"""Who is the caller, and which URL did they use? Resolved once per request, at the edge.

Like werkzeug's ``ProxyFix``, the front app (:class:`gspws.wsgi.GspwsApp`) resolves each request
before routing it and leaves the result in the environ, where every door reads it
(:func:`origin_of`); no door looks at ``REMOTE_ADDR`` or ``X-Forwarded-*`` itself.

Headers like ``X-Forwarded-For`` are trivially forged, so they count only when the TCP peer is one
of ``GSPWS_TRUSTED_PROXIES``. The client is the right-most address in ``X-Forwarded-For`` that is
not itself a trusted proxy.

The ``Host`` header is the caller's to write too, and the WSDL's addresses are made from the base
URL: stubs generated from a WSDL naming another host would call there, and a shared cache could
serve such a WSDL to others. So the base URL is ``GSPWS_PUBLIC_URL``; only while that is a
loopback address (the default, a server tried on one machine) does the URL the caller used
count instead, when its host is a loopback name too or a trusted proxy forwarded it. A scheme
is http or https, whatever a proxy says.
"""

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from gspws.core.access import IPAddress, IPNetwork, canonical_address

ORIGIN_KEY = "gspws.origin"
SCHEMES = ("http", "https")
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")
"""WSGI environ key of the request's :class:`Origin`, set by the front app."""


@dataclass(frozen=True)
class Origin:
    """A request's caller and URL, as resolved at the edge."""

    address: IPAddress | None  # None: the address cannot be established (answered with 8100)
    scheme: str  # how the caller reached us (a trusted proxy's word for it)
    base_url: str  # scheme://host for addresses given back (WSDL, help pages)

    @property
    def secure(self) -> bool:
        return self.scheme == "https"


def origin_of(environ: dict) -> Origin:
    """The :class:`Origin` the front app resolved for this request."""
    return environ[ORIGIN_KEY]


def _parse(text: str) -> IPAddress | None:
    try:
        return canonical_address(ipaddress.ip_address(text.strip().split("%", 1)[0]))
    except ValueError:
        return None


@lru_cache(maxsize=256)  # a few hosts in practice; parsing one costs ~9 µs of each request
def _is_loopback(host: str) -> bool:
    """Whether ``host`` (``name[:port]``) names this machine: ``localhost`` or a loopback
    address; False for anything that is not a well-formed host."""
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    name = match.group("name").strip("[]").lower()
    address = _parse(name)
    return name == "localhost" or (address is not None and address.is_loopback)


class ProxyPolicy:
    def __init__(self, trusted: Sequence[IPNetwork], public_url: str) -> None:
        self._trusted = tuple(trusted)
        self._public_url = public_url
        self._public_is_loopback = _is_loopback(public_url.split("://", 1)[1].split("/", 1)[0])

    def _is_trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in net for net in self._trusted)

    def resolve(self, environ: dict) -> Origin:
        """The request's :class:`Origin`."""
        peer = _parse(environ.get("REMOTE_ADDR", ""))
        trusted = self._is_trusted(peer)
        scheme = environ.get("wsgi.url_scheme", "http")
        host = (
            environ.get("HTTP_HOST")
            or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        )
        if trusted:
            forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
            scheme = forwarded if forwarded in SCHEMES else scheme
            host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip() or host
        address = (
            self._client(peer, environ.get("HTTP_X_FORWARDED_FOR"))
            if trusted and peer is not None
            else peer
        )  # (trusted: peer is not None)
        return Origin(address, scheme, self._base_url(scheme, host, trusted))

    def _base_url(self, scheme: str, host: str, forwarded: bool) -> str:
        """The caller's own ``scheme://host`` where it may be given back, else the public URL."""
        if (
            self._public_is_loopback
            and scheme in SCHEMES
            and _HOST.fullmatch(host)
            and (forwarded or _is_loopback(host))
        ):
            return f"{scheme}://{host}"
        return self._public_url

    def _client(self, peer: IPAddress, forwarded: str | None) -> IPAddress | None:
        """The right-most untrusted address that a trusted ``peer`` forwarded for, or None when
        one of the hops is not an address."""
        if not forwarded:
            return peer
        for hop in reversed(forwarded.split(",")):
            address = _parse(hop)
            if address is None:
                return None
            if not self._is_trusted(address):
                return address
        return address
