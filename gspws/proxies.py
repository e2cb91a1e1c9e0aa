"""Who is the caller, and which URL did they use? Resolved once per request, at the edge.

Like werkzeug's ``ProxyFix``, the front app (:class:`gspws.wsgi.GspwsApp`) resolves each request
before routing it and leaves the result in the environ, where every door reads it
(:func:`origin_of`); no door looks at ``REMOTE_ADDR`` or ``X-Forwarded-*`` itself.

Headers like ``X-Forwarded-For`` are trivially forged, so they count only when the TCP peer is one
of ``GSPWS_TRUSTED_PROXIES``. The client is the right-most address in ``X-Forwarded-For`` that is
not itself a trusted proxy.
"""

import ipaddress
from dataclasses import dataclass
from typing import Sequence

from gspws.core.access import IPAddress, IPNetwork, canonical_address

ORIGIN_KEY = "gspws.origin"
"""WSGI environ key of the request's :class:`Origin`, set by the front app."""


@dataclass(frozen=True)
class Origin:
    """A request's caller and URL, as resolved at the edge."""

    address: IPAddress | None  # None: the address cannot be established (answered with 8100)
    scheme: str                # how the caller reached us (a trusted proxy's word for it)
    base_url: str              # scheme://host for addresses given back (WSDL, help pages)

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


class ProxyPolicy:
    def __init__(self, trusted: Sequence[IPNetwork]) -> None:
        self._trusted = tuple(trusted)

    def _is_trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in net for net in self._trusted)

    def resolve(self, environ: dict) -> Origin:
        """The request's :class:`Origin`."""
        peer = _parse(environ.get("REMOTE_ADDR", ""))
        trusted = self._is_trusted(peer)
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:" \
                                          f"{environ.get('SERVER_PORT', '80')}"
        if trusted:
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip() or scheme
            host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip() or host
        address = self._client(peer, environ.get("HTTP_X_FORWARDED_FOR")) if trusted else peer
        return Origin(address, scheme, f"{scheme}://{host}")

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
