"""TOTP (RFC 6238) checks for one token: code shape, window, and the step a code belongs to.

pyotp does the HMAC math. This module adds what a verification service needs on top: it finds
*which* time-step a code matches, so the store can refuse any step at or before the last accepted
one (a code is accepted at most once), and it compares every candidate in constant time.
"""

import hashlib
from dataclasses import dataclass

import pyotp
from pyotp.utils import strings_equal

from gspws.core.digits import ascii_digits

ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
DIGITS = (6, 8)
PERIODS = (30, 60)
DEFAULT_ALGORITHM, DEFAULT_DIGITS, DEFAULT_PERIOD = "SHA1", 6, 30


class _Totp(pyotp.TOTP):
    """pyotp's TOTP, decoding the base32 secret once instead of for every code it computes (a
    verification computes ``2 * window + 1`` of them)."""

    _key: bytes | None = None

    def byte_secret(self) -> bytes:
        if self._key is None:
            self._key = super().byte_secret()
        return self._key


@dataclass(frozen=True)
class TotpParams:
    """What is needed to compute a token's codes. ``secret`` is base32."""

    secret: str
    algorithm: str = DEFAULT_ALGORITHM
    digits: int = DEFAULT_DIGITS
    period: int = DEFAULT_PERIOD

    def totp(self) -> pyotp.TOTP:
        return _Totp(
            self.secret, digits=self.digits, digest=ALGORITHMS[self.algorithm], interval=self.period
        )

    def step_at(self, now: float) -> int:
        """The RFC 6238 time counter T for Unix time ``now``."""
        return int(now // self.period)

    def code_at(self, now: float) -> str:
        return self.totp().at(int(now))


def well_formed(code: str | None, digits: int) -> bool:
    """True when ``code`` is exactly ``digits`` ASCII digits (``str.isdigit`` would admit ``١``)."""
    return code is not None and len(code) == digits and ascii_digits(code)


def matching_step(
    params: TotpParams, code: str, now: float, window: int, drift: int = 0
) -> int | None:
    """The latest time-step within ``±window`` of ``now``'s step moved by ``drift`` (the token's
    measured clock offset, in steps) whose code equals ``code``, else None."""
    return match_in(params, code, time_window(params, now, window, drift), latest=True)


def time_window(params: TotpParams, now: float, width: int, drift: int = 0) -> range:
    """The time-steps ``±width`` around ``now``'s step moved by ``drift``."""
    centre = params.step_at(now) + drift
    return range(centre - width, centre + width + 1)


def match_in(params: TotpParams, code: str, factors: range, latest: bool) -> int | None:
    """The latest (``latest``) or earliest moving factor of ``factors`` (time-steps, or HOTP
    counters: RFC 6238's code of step T is RFC 4226's code of counter T) whose code equals
    ``code``, else None.

    Every candidate is computed and compared, whatever matched earlier, so the time taken does
    not depend on where (or whether) the code matches.
    """
    if not well_formed(code, params.digits):
        return None
    otp = params.totp()
    matched = None
    for factor in factors:
        if strings_equal(otp.generate_otp(factor), code) and (latest or matched is None):
            matched = factor
    return matched


def new_secret() -> str:
    """A fresh random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32()


def valid_secret(secret: str) -> bool:
    """True when pyotp accepts ``secret``: base32 of at least 112 bits."""
    try:
        pyotp.TOTP(secret)
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        return False
    return True


def provisioning_uri(params: TotpParams, account: str, issuer: str) -> str:
    """The standard ``otpauth://totp/...`` URI an authenticator app scans."""
    return params.totp().provisioning_uri(name=account, issuer_name=issuer)
