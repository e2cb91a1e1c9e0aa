"""VerifyTOTPCode as a use case: access → account → tokens → outcome, audited in one transaction.

Lockout is per account: a failed code counts against every usable token of the account, a
success clears them all. A token that reaches the threshold is ``locked`` and answers 9999 until
``gspws token unlock`` or until the cool-down has passed since it locked.
"""

import logging
import time
from dataclasses import dataclass
from typing import Callable, ContextManager, Mapping, Protocol

from gspws.core import codes
from gspws.core.access import FUNCTIONS, IPAddress, ServiceProfile, authorize
from gspws.core.clock import Clock
from gspws.core.codes import ReturnCode
from gspws.core.otp import TotpParams, matching_step

log = logging.getLogger(__name__)

VERIFY_FUNCTION = FUNCTIONS[0]


@dataclass(frozen=True)
class Policy:
    window: int = 1
    lockout_threshold: int = 5
    lockout_cooldown: int = 900  # seconds; 0 = never by itself


@dataclass(frozen=True)
class Caller:
    """Who is calling: what a door knows before the core decides anything."""

    service_id: str | None
    address: IPAddress | None
    operation: str


@dataclass(frozen=True)
class TokenState:
    id: int
    params: TotpParams
    locked: bool
    locked_at: float | None
    last_step: int | None
    failures: int = 0

    def usable(self, now: float, cooldown: int) -> bool:
        if not self.locked:
            return True
        return cooldown > 0 and self.locked_at is not None and now - self.locked_at >= cooldown


class VerifyRepository(Protocol):
    """What verification needs from the store, inside one transaction."""

    def verifiable_tokens(self, account: str) -> list[TokenState]: ...
    def unlock(self, token_ids: list[int]) -> None: ...
    def accept_step(self, token_id: int, step: int) -> bool: ...
    def reset_failures(self, token_ids: list[int]) -> None: ...
    def record_failure(self, token_ids: list[int], threshold: int, now: float) -> None: ...
    def audit(self, caller: Caller, account: str | None, outcome: ReturnCode, at: float,
              duration_ms: float) -> None: ...


UnitOfWork = Callable[[], ContextManager[VerifyRepository]]
"""Opens one transaction: commits when the block ends, rolls back if it raises."""


Services = Callable[[], Mapping[str, ServiceProfile]]
"""Returns the current services by ServiceID (a :class:`~gspws.core.registry.ServiceRegistry`)."""


class Throttle(Protocol):
    """Rate limits (see ``gspws.throttle``); True means the call may proceed."""

    def allow_service(self, service_id: str, address: str) -> bool: ...
    def allow_account(self, account: str) -> bool: ...


class TotpVerifier:
    def __init__(self, unit_of_work: UnitOfWork, services: Services, policy: Policy,
                 clock: Clock, throttle: Throttle) -> None:
        self._unit_of_work = unit_of_work
        self._services = services
        self._policy = policy
        self._clock = clock
        self._throttle = throttle

    def verify(self, caller: Caller, account: str | None, code: str | None) -> ReturnCode:
        started = time.perf_counter()
        now = self._clock()
        try:
            services = self._services()
            with self._unit_of_work() as repo:
                outcome = self._decide(repo, services, caller, account, code, now)
                elapsed_ms = (time.perf_counter() - started) * 1000
                repo.audit(caller, account, outcome, now, elapsed_ms)
        except Exception:
            log.exception("VerifyTOTPCode failed for service %s; answering 3000", caller.service_id)
            return codes.INTERNAL_ERROR
        log.debug("%s service=%s client=%s account=%.64r -> %d in %.1f ms", caller.operation,
                  caller.service_id, caller.address, account, outcome.code, elapsed_ms)
        return outcome

    def _decide(self, repo: VerifyRepository, services: Mapping[str, ServiceProfile],
                caller: Caller, account: str | None, code: str | None, now: float) -> ReturnCode:
        refused = authorize(caller.service_id, caller.address, caller.operation, services.get)
        if refused:
            return refused
        if not self._throttle.allow_service(caller.service_id, str(caller.address)):
            log.warning("service %s from %s is over its rate limit", caller.service_id,
                        caller.address)
            return codes.AUTH_OTHER
        tokens = repo.verifiable_tokens(account) if account else []
        if not tokens:
            return codes.NO_ACTIVE_TOKEN
        if not self._throttle.allow_account(account):
            log.warning("account over its rate limit (service %s)", caller.service_id)
            return codes.REJECTED
        policy = self._policy
        usable = [t for t in tokens if t.usable(now, policy.lockout_cooldown)]
        cooled = [t.id for t in usable if t.locked]
        if cooled:
            repo.unlock(cooled)
        if not usable:
            return codes.REJECTED
        for token in usable:
            step = matching_step(token.params, code or "", now, policy.window)
            if step is None or (token.last_step is not None and step <= token.last_step):
                continue
            if repo.accept_step(token.id, step):
                others_failed = [t.id for t in tokens if t.failures and t.id != token.id]
                if others_failed:
                    repo.reset_failures(others_failed)
                return codes.OK
        repo.record_failure([t.id for t in usable], policy.lockout_threshold, now)
        return codes.REJECTED
