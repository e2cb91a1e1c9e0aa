"""What the operator console's dashboard shows, and the port that reads it from the store.

The dashboard answers "how is the service doing" from the audit trail: calls per minute by return
code (the last 24 hours in 10-minute bars, the last 7 days in 1-hour bars), p50/p99 latency, the
busiest services and those failing most, locked tokens and deliveries waiting.

Latency quantiles come from a histogram with fixed bucket bounds (:data:`LATENCY_BOUNDS`, about
25 % apart) rather than from the sorted durations: the store keeps per-period histograms, so a
quantile over 7 days costs one small GROUP BY instead of sorting every duration (1.4 million a day
at 1,000 calls a minute). A quantile is reported as the upper bound of the bucket holding the
nearest-rank observation: "p99 ≤ 25 ms" is exact about that, and never more than one bucket
(25 %) above the true value.

``now`` is always a parameter (time is injected: gspws.core.clock).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: Return codes that are normal answers, not failures: 0, and 12 (a QR sign-in still pending).
SUCCESS_CODES = frozenset({0, 12})

#: Upper bounds (ms, inclusive) of the latency buckets: 1-1.2-1.5-2-2.5-3-4-5-6-8 per decade from
#: 1 ms to 100 s; one more bucket holds everything slower (reported as ``math.inf``).
LATENCY_BOUNDS: tuple[float, ...] = tuple(
    round(mantissa * 10**exponent, 6)
    for exponent in range(0, 5)
    for mantissa in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
) + (100_000.0,)

#: How many services the busiest and failing lists name.
TOP_SERVICES = 5
#: How many locked tokens the dashboard names (the count is of all of them).
LOCKED_SHOWN = 10


@dataclass(frozen=True)
class Window:
    """A time span the dashboard summarises, drawn in bars of ``bar`` seconds."""

    name: str
    seconds: int
    bar: int

    def first_bar(self, now: float) -> int:
        """Start (Unix seconds) of the window's first bar: the window is the ``seconds // bar``
        whole bars ending with the one that holds ``now``."""
        current = int(now // self.bar) * self.bar
        return current - self.seconds + self.bar

    def bar_starts(self, now: float) -> list[int]:
        first = self.first_bar(now)
        return list(range(first, first + self.seconds, self.bar))


DAY = Window("24h", 24 * 3600, 600)
WEEK = Window("7d", 7 * 24 * 3600, 3600)
WINDOWS = (DAY, WEEK)


def latency_bucket(duration_ms: float) -> int:
    """Index of the bucket a duration falls in (the first bound it does not exceed)."""
    for index, bound in enumerate(LATENCY_BOUNDS):
        if duration_ms <= bound:
            return index
    return len(LATENCY_BOUNDS)


def quantile(histogram: Mapping[int, int], q: float) -> float | None:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of a latency histogram (bucket → calls), as
    its bucket's upper bound; ``math.inf`` beyond the last bound, None without calls."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return LATENCY_BOUNDS[index] if index < len(LATENCY_BOUNDS) else math.inf
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass(frozen=True)
class CallSeries:
    """Calls per bar by return code over one window. ``calls[code][i]`` is the count in the bar
    starting at ``starts[i]``; :meth:`per_minute` turns it into the charted rate."""

    window: Window
    starts: tuple[int, ...]
    calls: Mapping[int, tuple[int, ...]]

    def per_minute(self, code: int) -> tuple[float, ...]:
        minutes = self.window.bar / 60
        return tuple(count / minutes for count in self.calls.get(code, ()))

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.calls.values())


def call_series(window: Window, now: float, rows: Iterable[tuple[int, int, int]]) -> CallSeries:
    """Shapes ``(Unix time, code, calls)`` rows into a :class:`CallSeries`: each row counts in
    the bar holding its time (a 10-minute period's start, say, in its hour's bar); rows outside
    the window are ignored."""
    starts = window.bar_starts(now)
    position = {start: i for i, start in enumerate(starts)}
    by_code: dict[int, list[int]] = {}
    for at, code, calls in rows:
        i = position.get(int(at) // window.bar * window.bar)
        if i is not None:
            counts = by_code.get(code)
            if counts is None:
                counts = by_code[code] = [0] * len(starts)
            counts[i] += calls
    return CallSeries(
        window, tuple(starts), {code: tuple(by_code[code]) for code in sorted(by_code)}
    )


@dataclass(frozen=True)
class ServiceCalls:
    service_id: str  # "" for calls that named no (valid) ServiceID
    calls: int
    failures: int

    @property
    def failure_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0


def busiest(rows: Sequence[ServiceCalls], top: int = TOP_SERVICES) -> list[ServiceCalls]:
    return sorted(rows, key=lambda s: (-s.calls, s.service_id))[:top]


def failing(rows: Sequence[ServiceCalls], top: int = TOP_SERVICES) -> list[ServiceCalls]:
    return sorted((s for s in rows if s.failures), key=lambda s: (-s.failures, s.service_id))[:top]


@dataclass(frozen=True)
class Latency:
    calls: int
    p50_ms: float | None
    p99_ms: float | None


def latency(histogram: Mapping[int, int]) -> Latency:
    return Latency(sum(histogram.values()), quantile(histogram, 0.5), quantile(histogram, 0.99))


@dataclass(frozen=True)
class LockedToken:
    serial: str
    account: str | None
    locked_at: float | None  # Unix seconds


@dataclass(frozen=True)
class WindowSummary:
    series: CallSeries
    latency: Latency
    busiest: list[ServiceCalls]
    failing: list[ServiceCalls]


@dataclass(frozen=True)
class Overview:
    now: float
    windows: dict[str, WindowSummary]
    locked_count: int
    locked: list[LockedToken] = field(default_factory=list)
    deliveries_waiting: int = 0
    #: 10-minute periods of the last 7 days not summarised yet, so not counted: the store
    #: summarises the audit trail a little at each view (gspws.store.dashboard).
    uncounted: int = 0


class DashboardSource(Protocol):
    """The store's side of the dashboard (gspws.store.dashboard)."""

    def overview(self, now: float) -> Overview: ...
