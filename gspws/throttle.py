"""Rate limits on the SOAP operations: limits' sliding window counter, counted in this process
(:class:`SlidingWindows`) or in Redis (the ``limits`` library).

Two limits, checked by the core once a caller is authorised:

* per (ServiceID, client address): an agency system that floods the service is answered 8100
  (認證錯誤：其它, "any other authentication failure of the calling agency") without any token
  being looked at;
* per account: guesses at one account beyond the limit are answered 9999, the same as a wrong
  code, without evaluating the code or touching the failure counter.

One on the operator console's sign-in tries per client address (gspws.core.admins), besides
each administrator's lockout.

And one on what a refused caller may write: refusals by the access rules (8102, 1, 8101, 8104 …)
or the per-service limit are audited per client address up to ``GSPWS_RATE_LIMIT_REFUSED``;
beyond it they get the same answer but are only counted (:func:`unaudited_refusals`), so that anyone who can reach the port
cannot fill the audit trail (a probe wrote 2,000 rows in 1.4 s with calls lacking a header).

With memory storage (the default) each worker process counts on its own, so the effective limit
is the configured one times the number of workers; Redis storage (``GSPWS_RATE_LIMIT_STORAGE=
redis://host:6379/0``) shares the counts across workers and nodes. If the storage fails, calls are
let through and the failure is logged: the lockout still bounds guessing.
"""

import logging
import math
import threading
import time
from collections import Counter
from typing import Any

from limits import RateLimitItem, parse
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from gspws import metrics
from gspws.config import Settings
from gspws.core.clock import Clock, system_clock
from gspws.errors import ConfigError

log = logging.getLogger(__name__)

#: Seconds between two log lines about refusals that were counted instead of audited.
REFUSALS_LOG_INTERVAL = 60.0


class RefusalCounter:
    """Refused calls over the per-address audit limit, by return code: counted in this process
    and logged at most once per :data:`REFUSALS_LOG_INTERVAL` (the first at once)."""

    def __init__(self, monotonic=time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._totals: Counter[int] = Counter()
        self._unlogged: Counter[int] = Counter()
        self._logged_at = float("-inf")

    def add(self, code: int) -> None:
        with self._lock:
            self._totals[code] += 1
            self._unlogged[code] += 1
            now = self._monotonic()
            if now - self._logged_at < REFUSALS_LOG_INTERVAL:
                return
            report, self._unlogged, self._logged_at = self._unlogged, Counter(), now
        log.warning(
            "%d refused calls over GSPWS_RATE_LIMIT_REFUSED were counted, not audited "
            "(by return code: %s)",
            sum(report.values()),
            ", ".join(f"{code}: {n}" for code, n in sorted(report.items())),
        )

    def totals(self) -> dict[int, int]:
        with self._lock:
            return dict(self._totals)


_UNAUDITED = RefusalCounter()


def unaudited_refusals() -> dict[int, int]:
    """Refused calls this process counted instead of auditing since it started, by return code
    (for a metrics endpoint: monotonically increasing counters, one set per worker process)."""
    return _UNAUDITED.totals()


class SlidingWindows:
    """limits' sliding window counter, for counts kept in this process (``memory://``).

    Same rule as ``SlidingWindowCounterRateLimiter`` on limits' ``MemoryStorage``: windows of the
    limit's length aligned on the epoch; a hit is allowed while the count of the current window
    plus the previous window's count, weighted by the share of it still inside the sliding window
    and rounded down, stays within the limit. limits spent ~65 µs a check on its storage (keys
    as strings, a lock per key, expiry bookkeeping): two checks were ~0.14 ms of a
    verification's ~1 ms of CPU; this takes ~2 µs. Counters of windows that ended are dropped
    at most once a second.
    """

    def __init__(self, clock: Clock = system_clock) -> None:
        """``clock``: the app's (gspws.core.clock): tests and replay count on their fixed time, so
        a limit's window never turns over in the middle of a test as the wall clock's would."""
        self._clock = clock
        self._lock = threading.Lock()
        # (amount, seconds, identifiers) -> [window number, its count, the previous one's count]
        self._counts: dict[tuple[Any, ...], list[int]] = {}
        self._purged_at = clock()

    def hit(self, limit: RateLimitItem, *identifiers: str) -> bool:
        now = self._clock()
        expiry = limit.get_expiry()
        window = int(now // expiry)
        key = (limit.amount, expiry, identifiers)
        with self._lock:
            if now - self._purged_at >= 1.0:
                self._purge(now)
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = [window, 0, 0]
            elif counts[0] != window:
                previous = counts[1] if counts[0] == window - 1 else 0
                counts[:] = [window, 0, previous]
            weighted = counts[2] * (expiry - now % expiry) / expiry + counts[1]
            if math.floor(weighted) + 1 > limit.amount:
                return False
            counts[1] += 1
            return True

    def _purge(self, now: float) -> None:
        self._purged_at = now
        for key in [
            key for key, counts in self._counts.items() if counts[0] < int(now // key[1]) - 1
        ]:
            del self._counts[key]


def _limiter(uri: str, clock: Clock) -> SlidingWindows | SlidingWindowCounterRateLimiter:
    """Counts in this process on ``clock``; in Redis (or another storage of limits) on limits'
    own time, which the nodes must share anyway."""
    if uri.startswith("memory://"):
        return SlidingWindows(clock)
    return SlidingWindowCounterRateLimiter(storage_from_string(uri))


class Throttle:
    def __init__(
        self,
        storage_uri: str,
        per_service: str,
        per_account: str,
        per_refused_address: str = "",
        unaudited: RefusalCounter = _UNAUDITED,
        per_admin_sign_in_address: str = "",
        clock: Clock = system_clock,
    ) -> None:
        try:
            self._limiter = _limiter(storage_uri, clock)
            self._per_service = parse(per_service) if per_service else None
            self._per_account = parse(per_account) if per_account else None
            self._per_refused = parse(per_refused_address) if per_refused_address else None
            self._per_sign_in = (
                parse(per_admin_sign_in_address) if per_admin_sign_in_address else None
            )
        except (ValueError, ConfigurationError) as exc:
            hint = "; install gspws[redis]" if storage_uri.startswith("redis") else ""
            raise ConfigError(f"rate limit settings: {exc}{hint}") from None
        self._unaudited = unaudited

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = system_clock) -> "Throttle":
        return cls(
            settings.rate_limit_storage,
            settings.rate_limit_service,
            settings.rate_limit_account,
            settings.rate_limit_refused,
            per_admin_sign_in_address=settings.rate_limit_admin_signin,
            clock=clock,
        )

    def allow_service(self, service_id: str, address: str) -> bool:
        return self._hit(self._per_service, "service", service_id, address)

    def allow_account(self, account: str) -> bool:
        return self._hit(self._per_account, "account", account)

    def allow_admin_sign_in(self, address: str) -> bool:
        return self._hit(self._per_sign_in, "admin-signin", address)

    def audit_refusal(self, address: str, code: int) -> bool:
        """Whether a call refused with ``code`` from ``address`` may be audited; when not, it is
        counted (:func:`unaudited_refusals`)."""
        if self._hit(self._per_refused, "refused", address):
            return True
        self._unaudited.add(code)
        return False

    def _hit(self, limit, *key: str) -> bool:
        if limit is None:
            return True
        try:
            allowed = self._limiter.hit(limit, "gspws", *key)
        except Exception:  # storage down: fail open, the lockout still bounds guessing
            log.exception("rate-limit storage failed; letting the call through")
            return True
        if not allowed:
            metrics.rate_limited(key[0])
        return allowed


class Unlimited:
    """No throttling (tests of other behaviour, replay)."""

    def allow_service(self, service_id: str, address: str) -> bool:
        return True

    def allow_account(self, account: str) -> bool:
        return True

    def allow_admin_sign_in(self, address: str) -> bool:
        return True

    def audit_refusal(self, address: str, code: int) -> bool:
        return True
