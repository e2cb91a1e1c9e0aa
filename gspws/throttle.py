"""Rate limits on the SOAP operations, with the ``limits`` library (memory or Redis storage).

Two limits, checked by the core once a caller is authorised:

* per (ServiceID, client address): an agency system that floods the service is answered 8100
  (認證錯誤：其它, "any other authentication failure of the calling agency") without any token
  being looked at;
* per account: guesses at one account beyond the limit are answered 9999, the same as a wrong
  code, without evaluating the code or touching the failure counter.

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
import threading
import time
from collections import Counter

from limits import parse
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from gspws import metrics
from gspws.config import Settings
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
        log.warning("%d refused calls over GSPWS_RATE_LIMIT_REFUSED were counted, not audited "
                    "(by return code: %s)", sum(report.values()),
                    ", ".join(f"{code}: {n}" for code, n in sorted(report.items())))

    def totals(self) -> dict[int, int]:
        with self._lock:
            return dict(self._totals)


_UNAUDITED = RefusalCounter()


def unaudited_refusals() -> dict[int, int]:
    """Refused calls this process counted instead of auditing since it started, by return code
    (for a metrics endpoint: monotonically increasing counters, one set per worker process)."""
    return _UNAUDITED.totals()


class _InlineExpiryMemoryStorage(MemoryStorage):
    """limits' memory storage, minus a thread per call.

    ``MemoryStorage`` arms a 10 ms ``threading.Timer`` to purge expired counters whenever its last
    one has finished, which under steady load means starting a thread on nearly every hit (a few
    per cent of a verification's CPU). Expired counters are already ignored when read, so the
    purge is only housekeeping: here it runs inline, at most once a second.
    """

    def __init__(self, uri: str = "memory://", **options) -> None:
        super().__init__(uri, **options)
        self._last_purge = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces limits' private timer hook
        now = time.monotonic()
        if now - self._last_purge >= 1.0:
            self._last_purge = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]  # limits' private


def _storage(uri: str):
    return _InlineExpiryMemoryStorage() if uri.startswith("memory://") else storage_from_string(uri)


class Throttle:
    def __init__(self, storage_uri: str, per_service: str, per_account: str,
                 per_refused_address: str = "", unaudited: RefusalCounter = _UNAUDITED) -> None:
        try:
            self._limiter = SlidingWindowCounterRateLimiter(_storage(storage_uri))
            self._per_service = parse(per_service) if per_service else None
            self._per_account = parse(per_account) if per_account else None
            self._per_refused = parse(per_refused_address) if per_refused_address else None
        except (ValueError, ConfigurationError) as exc:
            hint = "; install gspws[redis]" if storage_uri.startswith("redis") else ""
            raise ConfigError(f"rate limit settings: {exc}{hint}") from None
        self._unaudited = unaudited

    @classmethod
    def from_settings(cls, settings: Settings) -> "Throttle":
        return cls(settings.rate_limit_storage, settings.rate_limit_service,
                   settings.rate_limit_account, settings.rate_limit_refused)

    def allow_service(self, service_id: str, address: str) -> bool:
        return self._hit(self._per_service, "service", service_id, address)

    def allow_account(self, account: str) -> bool:
        return self._hit(self._per_account, "account", account)

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

    def audit_refusal(self, address: str, code: int) -> bool:
        return True
