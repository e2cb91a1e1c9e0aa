"""May this ServiceID, from this address, call this function? The GSP decision order.

The order is the contract's (first match wins): 8102 → 1 → 8101 → 8109 (service disabled) →
8104 → 8108 → 8109 (function suspended). 8100 ("any other authentication failure") is returned
where the address check stands when the caller's address cannot be established at all, e.g. a
trusted proxy forwarded a malformed ``X-Forwarded-For``.
"""

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from gspws.core import codes
from gspws.core.codes import ReturnCode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SERVICE_ID_FORMAT = re.compile(r"APP[0-9]{7}")

#: The functions (SOAP operations) a service can be granted. VerifyTOTPCode comes first: it is
#: what ``gspws service add`` grants unless told otherwise.
TOTP_FUNCTIONS = (
    "VerifyTOTPCode",
    "GetTOTPStatus",
    "BeginTOTPBinding",
    "ConfirmTOTPBinding",
    "DisableTOTP",
    "CreateBindingLink",
)
#: MobileOTP.asmx's (gspws.core.oob).
MOBILE_OTP_FUNCTIONS = ("SendOTPCode", "SendOTPCodeTo", "VerifyOTPCode", "GetOTPDestinations")
#: OTP.asmx's: hardware and event tokens (gspws.core.tokenauth), OCRA challenges, and QR-scan
#: sign-in (gspws.core.assertion).
OTP_FUNCTIONS = (
    "Auth",
    "AuthToken",
    "Sync",
    "SyncToken",
    "GetChallenge",
    "GetSignChallenge",
    "VerifyResponse",
    "GetAssertionId",
    "GetAssertion",
)
FUNCTIONS = TOTP_FUNCTIONS + MOBILE_OTP_FUNCTIONS + OTP_FUNCTIONS


def valid_service_id(service_id: str) -> bool:
    return SERVICE_ID_FORMAT.fullmatch(service_id) is not None


def network_list(values: Iterable[str]) -> list[str]:
    """Allowed client networks as stored: each an IPv4 or IPv6 CIDR (host bits dropped, e.g.
    ``10.1.2.3/24`` → ``10.1.2.0/24``; a bare address is a /32 or /128), duplicates dropped.
    ValueError (its message names the bad one) otherwise. The CLI and the console both use it."""
    return list(dict.fromkeys(str(ipaddress.ip_network(v.strip(), strict=False)) for v in values))


@dataclass(frozen=True)
class ServiceProfile:
    """A snapshot of one service's access rules."""

    service_id: str
    enabled: bool
    networks: tuple[IPNetwork, ...]
    grants: Mapping[str, bool]  # function -> suspended

    def allows(self, address: IPAddress) -> bool:
        address = canonical_address(address)
        return any(address in net for net in self.networks)


def canonical_address(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``, as a dual-stack socket reports IPv4
    peers) as the IPv4 address it is, so IPv4 allowlists and proxy lists match it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def authorize(
    service_id: str | None,
    client: IPAddress | None,
    function: str,
    lookup: Callable[[str], ServiceProfile | None],
) -> ReturnCode | None:
    """None when the call may proceed, else the return code that refuses it."""
    if not service_id:
        return codes.AUTH_INCOMPLETE
    if not valid_service_id(service_id):
        return codes.BAD_SERVICE_ID
    service = lookup(service_id)
    if service is None:
        return codes.AUTH_UNKNOWN_SERVICE
    if not service.enabled:
        return codes.AUTH_FUNCTION_DISABLED
    if client is None:
        return codes.AUTH_OTHER
    if not service.allows(client):
        return codes.AUTH_ADDRESS
    if function not in service.grants:
        return codes.AUTH_FUNCTION_NOT_GRANTED
    if service.grants[function]:
        return codes.AUTH_FUNCTION_DISABLED
    return None
