"""What every use case shares (:class:`AuditedCalls`: access → work → outcome, audited in one
transaction) and the code rules of VerifyTOTPCode and OTP.asmx (windows, single use, lockout;
the operations themselves are in gspws.core.codecheck and gspws.core.tokenauth).

Lockout is per account: a failed code counts against every usable token of the account, a
success clears them all. A token that reaches the threshold is ``locked`` and answers 9999 until
``gspws token unlock`` or until the cool-down has passed since it locked.
"""

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gspws.core import codes
from gspws.core.access import FUNCTIONS, IPAddress, ServiceProfile, authorize
from gspws.core.clock import Clock
from gspws.core.codes import ReturnCode
from gspws.core.hotp import HOTP, TOTP, window_of
from gspws.core.otp import TotpParams, match_in

log = logging.getLogger(__name__)

VERIFY_FUNCTION = FUNCTIONS[0]


@dataclass(frozen=True)
class Policy:
    """The code rules, from settings (their defaults live in ``gspws.config.OPTIONS`` only)."""

    window: int  # TOTP: steps either side of now (moved by the token's drift)
    lockout_threshold: int
    lockout_cooldown: int  # seconds; 0 = never by itself
    hotp_window: int  # HOTP: counters looked ahead of the last accepted one
    sync_window: int  # TOTP: steps either side in which a code needs sync (13) or Sync finds it
    hotp_sync_window: int  # HOTP: counters looked ahead for the same


@dataclass(frozen=True)
class Caller:
    """Who is calling: what a door knows before the core decides anything."""

    service_id: str | None
    address: IPAddress | None
    operation: str


class Calling(Protocol):
    """Anyone a use case answers: an agency system (:class:`Caller`) or a person on the binding
    page (``gspws.core.enroll.Person``, who has no ServiceID)."""

    @property
    def service_id(self) -> str | None: ...
    @property
    def address(self) -> IPAddress | None: ...
    @property
    def operation(self) -> str: ...


@dataclass(frozen=True)
class TokenState:
    id: int
    params: TotpParams
    locked: bool
    locked_at: float | None
    last_step: int | None
    failures: int = 0
    serial: str | None = None
    kind: str = TOTP  # or HOTP (gspws.core.hotp)
    drift: int = 0  # TOTP: the measured clock offset in steps; the window is centred on it
    pin_hash: str | None = None  # OTP.asmx Auth: a static PIN typed before the code
    account: str | None = None  # the account it is bound to (None: unassigned, in the pool)
    in_use: bool = True  # False: lost, disabled or pending (read by serial only), refused

    def usable(self, now: float, cooldown: int) -> bool:
        if not self.locked:
            return True
        return cooldown > 0 and self.locked_at is not None and now - self.locked_at >= cooldown

    def window(self, now: float, policy: Policy, sync: bool = False) -> range:
        """The moving factors a code of this token may have now: the normal window, or
        (``sync``) the wider one where a code needs sync."""
        if self.kind == HOTP:
            width = policy.hotp_sync_window if sync else policy.hotp_window
        else:
            width = policy.sync_window if sync else policy.window
        return window_of(self.kind, self.params, self.last_step, self.drift, now, width)

    def match(self, code: str, now: float, policy: Policy) -> int | None:
        """The step (TOTP: the latest) or counter (HOTP: the earliest) of the normal window whose
        code is ``code``, later than the last accepted one; else None."""
        found = match_in(self.params, code, self.window(now, policy), latest=self.kind != HOTP)
        if found is None or (self.last_step is not None and found <= self.last_step):
            return None
        return found


@dataclass(frozen=True)
class Attempt:
    """What a code does to one account's tokens, decided before anything is written; the store
    carries it out (:func:`settle_stepwise`, or on PostgreSQL in one statement)."""

    cooled: tuple[int, ...]  # locked, cool-down passed: unlocked first
    candidates: tuple[tuple[int, int], ...]  # (token id, step) the code matches, tried in order
    failing: tuple[int, ...]  # tokens with failures: cleared when one accepts
    usable: tuple[int, ...]  # each charged a failure when none accepts
    threshold: int
    now: float
    #: Sync: the accepting (TOTP) token's drift becomes this, with its step (None: unchanged).
    drift: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    """A call's audit row but its outcome: the store may write it with the outcome of
    :meth:`VerifyRepository.settle` in the same statement."""

    caller: Calling
    account: str | None
    at: float
    duration_ms: float
    accepted: ReturnCode
    rejected: ReturnCode


@dataclass(frozen=True)
class Settlement:
    accepted: int | None  # the id of the token that accepted the code
    audited: bool  # whether the AuditEntry given was written


class VerifyRepository(Protocol):
    """What verification needs from the store, inside one transaction."""

    def verifiable_tokens(self, account: str) -> list[TokenState]: ...
    def unlock(self, token_ids: list[int]) -> int: ...
    def accept_step(self, token_id: int, step: int, drift: int | None = None) -> bool: ...
    def reset_failures(self, token_ids: list[int]) -> None: ...
    def record_failure(self, token_ids: list[int], threshold: int, now: float) -> None: ...
    def settle(self, attempt: Attempt, audit: AuditEntry | None) -> Settlement:
        """Carries ``attempt`` out (as :func:`settle_stepwise` does); with ``audit``, may also
        write the audit row in the same statement (then ``audited``)."""

    def audit(
        self,
        caller: Calling,
        account: str | None,
        outcome: ReturnCode,
        at: float,
        duration_ms: float,
    ) -> None: ...


R = TypeVar("R", bound=VerifyRepository)

UnitOfWork = Callable[[], AbstractContextManager[R]]
"""Opens one transaction: commits when the block ends, rolls back if it raises."""


Services = Callable[[], Mapping[str, ServiceProfile]]
"""Returns the current services by ServiceID (a :class:`~gspws.core.registry.ServiceRegistry`)."""


class Throttle(Protocol):
    """Rate limits (see ``gspws.throttle``); True means the call may proceed."""

    def allow_service(self, service_id: str, address: str) -> bool: ...
    def allow_account(self, account: str) -> bool: ...
    def audit_refusal(self, address: str, code: int) -> bool: ...


Observer = Callable[[Calling, ReturnCode, float], None]
"""Told every answered call's outcome and its duration in seconds (gspws.metrics)."""


def unobserved(caller: Calling, outcome: ReturnCode, seconds: float) -> None:
    """The observer of use cases nobody measures (the CLI's, tests')."""


T = TypeVar("T")


class AuditedCalls(Generic[R]):
    """What the use case of every operation shares: the access decision for agency callers, one
    transaction holding the work and its audit row, and 3000 for any unexpected failure."""

    def __init__(
        self,
        unit_of_work: UnitOfWork[R],
        services: Services,
        policy: Policy,
        clock: Clock,
        throttle: Throttle,
        reading: UnitOfWork[R] | None = None,
        observe: Observer = unobserved,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._observe = observe
        self._reading = reading
        self._services = services
        self._policy = policy
        self._clock = clock
        self._throttle = throttle

    def _audited(
        self,
        caller: Calling,
        account: str | None,
        decide: Callable[[R, float], T],
        code_of: Callable[[T], ReturnCode],
        wrap: Callable[[ReturnCode], T],
        prepare: Callable[[], None] | None = None,
        audited: Callable[[], bool] = lambda: False,
        prepare_at: Callable[[float], None] | None = None,
    ) -> T:
        """``decide(repo, now)`` for an admitted caller, else ``wrap(refusal)``; audited, unless
        ``audited()`` says the decision wrote its audit row itself (VerifyRepository.settle).

        ``prepare()``, when given, runs for an admitted caller before the transaction: reads
        that need no lock (on SQLite the transaction holds the database's write lock);
        ``prepare_at(now)`` likewise, for work that needs the call's instant (judging a code)."""
        started = time.perf_counter()
        now = self._clock()
        try:
            refused = self._admit(caller)  # before the transaction: the registry reads the store
            if refused and not self._throttle.audit_refusal(str(caller.address), refused.code):
                # beyond the refusals audited per address: counted, never written
                self._observe(caller, refused, time.perf_counter() - started)
                return wrap(refused)
            if prepare is not None and not refused:
                prepare()
            if prepare_at is not None and not refused:
                prepare_at(now)
            with self._unit_of_work() as repo:
                result = wrap(refused) if refused else decide(repo, now)
                elapsed_ms = (time.perf_counter() - started) * 1000
                if not audited():
                    repo.audit(caller, account, code_of(result), now, elapsed_ms)
        except Exception:
            log.exception(
                "%s failed for service %s; answering 3000", caller.operation, caller.service_id
            )
            self._observe(caller, codes.INTERNAL_ERROR, time.perf_counter() - started)
            return wrap(codes.INTERNAL_ERROR)
        self._observe(caller, code_of(result), elapsed_ms / 1000)
        log.debug(
            "%s service=%s client=%s account=%.64r -> %d in %.1f ms",
            caller.operation,
            caller.service_id,
            caller.address,
            account,
            code_of(result).code,
            elapsed_ms,
        )
        return result

    def _admit(self, caller: Calling) -> ReturnCode | None:
        """None when the caller may proceed: the access rules, then the per-service rate limit."""
        refused = authorize(
            caller.service_id, caller.address, caller.operation, self._services().get
        )
        if refused:
            return refused
        assert caller.service_id is not None  # authorize refuses a call without one (8102)
        if not self._throttle.allow_service(caller.service_id, str(caller.address)):
            log.warning(
                "service %s from %s is over its rate limit", caller.service_id, caller.address
            )
            return codes.AUTH_OTHER
        return None

    def _over_account_limit(self, caller: Calling, account: str) -> bool:
        """Whether a code for ``account`` is refused unchecked (answered 9999 by every operation
        that checks a code): the per-account rate limit is spent."""
        if self._throttle.allow_account(account):
            return False
        log.warning(
            "account over its rate limit (%s, service %s)", caller.operation, caller.service_id
        )
        return True


def accept_code(
    repo: VerifyRepository, tokens: list[TokenState], code: str | None, now: float, policy: Policy
) -> TokenState | None:
    """The token of ``tokens`` (one account's) that accepts ``code`` now, else None.

    Shared by VerifyTOTPCode and DisableTOTP so a code means the same everywhere: inside the
    window, later than the last accepted step (stored atomically: of racing callers one wins),
    not on a locked token. A failure counts against every usable token; a success clears them.
    """
    attempt = plan(tokens, code, now, policy)
    if attempt is None:
        return None
    accepted = repo.settle(attempt, None).accepted
    return next((t for t in tokens if t.id == accepted), None)


def plan(
    tokens: list[TokenState],
    code: str | None | Mapping[int, str | None],
    now: float,
    policy: Policy,
) -> Attempt | None:
    """What ``code`` does to ``tokens`` (one account's); None when no token is usable (nothing
    to write). ``code`` may differ per token (a mapping by token id: OTP.asmx Auth's password
    less each token's PIN; a token missing from it matches nothing). Every usable token's window
    is computed, matching or not."""
    usable = [t for t in tokens if t.usable(now, policy.lockout_cooldown)]
    if not usable:
        return None
    candidates = []
    for token in usable:
        typed = code.get(token.id) if isinstance(code, Mapping) else code
        step = token.match(typed or "", now, policy)
        if step is not None:
            candidates.append((token.id, step))
    return attempt_of(tokens, usable, candidates, now, policy)


def attempt_of(
    tokens: list[TokenState],
    usable: list[TokenState],
    candidates: list[tuple[int, int]],
    now: float,
    policy: Policy,
    drift: int | None = None,
) -> Attempt:
    """The attempt of ``candidates`` ((token id, step), tried in order) among ``tokens``, of
    which ``usable`` may accept: what failing or succeeding does to the others."""
    return Attempt(
        cooled=tuple(t.id for t in usable if t.locked),
        candidates=tuple(candidates),
        failing=tuple(t.id for t in tokens if t.failures),
        usable=tuple(t.id for t in usable),
        threshold=policy.lockout_threshold,
        now=now,
        drift=drift,
    )


def settle_stepwise(repo: VerifyRepository, attempt: Attempt) -> int | None:
    """Carries ``attempt`` out one conditional statement at a time (in the caller's transaction);
    the id of the token that accepted the code, else None."""
    if attempt.cooled:
        repo.unlock(list(attempt.cooled))
    for token_id, step in attempt.candidates:
        if repo.accept_step(token_id, step, attempt.drift):
            others_failed = [t for t in attempt.failing if t != token_id]
            if others_failed:
                repo.reset_failures(others_failed)
            return token_id
    repo.record_failure(list(attempt.usable), attempt.threshold, attempt.now)
    return None
