""" "Now" as a parameter.

The server always runs on :func:`system_clock`. Tests and envelope replay pass a
:class:`FixedClock` through the app factory so that a recorded or computed TOTP code verifies at a
chosen instant; nothing reachable from ``gspws serve`` can set one.
"""

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""A function returning the current Unix time in seconds."""

system_clock: Clock = time.time


class FixedClock:
    """A settable clock for tests and replay."""

    def __init__(self, now: float) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
