"""HOTP (RFC 4226) counters, and the wider windows in which a drifted token is found (resync).

pyotp's ``OTP.generate_otp(n)`` is RFC 4226's HOTP of counter ``n`` (RFC 6238 feeds it the
time-step), so one constant-time search (:func:`gspws.core.otp.match_in`) serves both kinds; what
differs is *which* moving factors are candidates:

* TOTP: the steps ``±window`` around now's step moved by the token's ``drift``;
* HOTP: the ``window`` counters after the last accepted one (``last_step``; None: from 0). A code
  at or below the stored counter is never a candidate, and the store's conditional UPDATE
  refuses it again if another call got there first.

A code found only in the wider sync window (``GSPWS_SYNC_WINDOW`` steps, ``GSPWS_HOTP_SYNC_WINDOW``
counters) is from the person's token but too far off to pass: OTP.asmx answers 13 (需要同步) and
``Sync`` with two consecutive codes moves the drift (or counter).
"""

from pyotp.utils import strings_equal

from gspws.core.otp import TotpParams, time_window, well_formed

TOTP, HOTP = "totp", "hotp"
KINDS = (TOTP, HOTP)


def counter_window(last: int | None, width: int) -> range:
    """The ``width`` counters after ``last`` (the last accepted one; None: none yet, from 0)."""
    start = 0 if last is None else last + 1
    return range(start, start + width)


def window_of(
    kind: str, params: TotpParams, last: int | None, drift: int, now: float, width: int
) -> range:
    """A token's candidate moving factors: time-steps around now (TOTP) or counters (HOTP)."""
    if kind == HOTP:
        return counter_window(last, width)
    return time_window(params, now, width, drift)


def consecutive(params: TotpParams, first: str, second: str, factors: range) -> int | None:
    """The moving factor ``f`` of ``factors`` whose code is ``first`` while ``f + 1``'s is
    ``second`` (the earliest such), else None; every pair is compared (constant time)."""
    if not (well_formed(first, params.digits) and well_formed(second, params.digits)):
        return None
    otp = params.totp()
    computed = [otp.generate_otp(f) for f in range(factors.start, factors.stop + 1)]
    found = None
    for offset in range(len(factors)):
        pair = strings_equal(computed[offset], first) & strings_equal(computed[offset + 1], second)
        if pair and found is None:
            found = factors.start + offset
    return found
