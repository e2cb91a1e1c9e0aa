"""Who is the caller, and which URL did they use? Believing ``X-Forwarded-*`` only from proxies.

Headers like ``X-Forwarded-For`` are trivially forged, so they count only when the TCP peer is one
of ``GSPWS_TRUSTED_PROXIES``. The client is the right-most address in ``X-Forwarded-For`` that is
not itself a trusted proxy.
"""

import ipaddress
from typing import Sequence

from gspws.core.access import IPAddress, IPNetwork, canonical_address


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

    def client_address(self, environ: dict) -> IPAddress | None:
        """The caller's address, or None when it cannot be established (answered with 8100)."""
        peer = _parse(environ.get("REMOTE_ADDR", ""))
        if not self._is_trusted(peer):
            return peer
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if not forwarded:
            return peer
        for hop in reversed(forwarded.split(",")):
            address = _parse(hop)
            if address is None:
                return None
            if not self._is_trusted(address):
                return address
        return address

    def base_url(self, environ: dict) -> str:
        """``scheme://host`` as the caller saw it (for WSDL addresses and help pages)."""
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:" \
                                          f"{environ.get('SERVER_PORT', '80')}"
        if self._is_trusted(_parse(environ.get("REMOTE_ADDR", ""))):
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip() or scheme
            host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip() or host
        return f"{scheme}://{host}"
