"""Administrators of the operator console (``/admin/``): enrolment, sign-in, lockout, roles.

An administrator is added by ``gspws admin add NAME --role operator|auditor``, which prints a
single-use enrolment link (only its SHA-256 is stored, as for binding links). The enrolment page
shows a new TOTP key (kept encrypted like token secrets); the administrator chooses a password
(:func:`gspws.core.pin.password_problem`) and proves the authenticator with a code. Sign-in then
takes the name, the password and a current code, every time.

A code is single use: the step it matched is accepted by one conditional UPDATE
(``last_step < :step``), so a code seen over a shoulder cannot be replayed in its 30 seconds.
Wrong sign-ins count against the administrator; at ``lockout_threshold`` (the core's token
lockout setting) the account locks, and unlocks by itself ``lockout_cooldown`` seconds later (0:
only ``gspws admin reset``), as tokens do. A locked, disabled or unknown administrator is refused
with the same words as a wrong password, after the same argon2 work.

Guessing is bounded twice: per administrator by the lockout, and per caller address by a rate
limit on sign-in tries (GSPWS_RATE_LIMIT_ADMIN_SIGNIN, gspws.throttle's limiter, checked before
any argon2 work), so one address cannot try many names or lock everyone out quickly.

Roles: ``auditor`` reads; ``operator`` reads and changes. Every use case here and every change the
console makes is audited in ``audit_events`` with the operation ``admin:NAME:Action``.
"""

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from gspws.core import codes, pin
from gspws.core.access import IPAddress
from gspws.core.clock import Clock
from gspws.core.codes import ReturnCode
from gspws.core.otp import TotpParams, matching_step, new_secret

ROLES = ("operator", "auditor")
OPERATOR, AUDITOR = ROLES
_NAME = re.compile(r"[a-z][a-z0-9._-]{0,31}")


def valid_name(name: str) -> bool:
    """1–32 of ``a-z 0-9 . _ -``, starting with a letter: it appears in audit rows as
    ``admin:NAME:…`` and must not be mistaken for anything else there."""
    return _NAME.fullmatch(name) is not None


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AdminPolicy:
    lockout_threshold: int
    lockout_cooldown: int  # seconds; 0 = only `gspws admin reset`
    enrol_ttl: int
    issuer: str
    window: int = 1


@dataclass(frozen=True)
class AdminState:
    """An administrator as the store holds it; ``totp_secret`` decrypted."""

    id: int
    name: str
    role: str
    password_hash: str | None
    totp_secret: str | None
    last_step: int | None
    failures: int
    locked_at: float | None
    disabled: bool
    enrolled: bool
    session_epoch: int
    enrol_expires_at: float | None = None

    def locked(self, now: float, cooldown: int) -> bool:
        if self.locked_at is None:
            return False
        return cooldown == 0 or now - self.locked_at < cooldown


@dataclass(frozen=True)
class Actor:
    """Who does something in the console: the audit row's ``admin:NAME:Action`` and address."""

    name: str | None  # None: not signed in (a sign-in attempt, an enrolment)
    address: IPAddress | None
    action: str
    service_id: str | None = None  # the service acted on, for the audit row

    @property
    def operation(self) -> str:
        return f"admin:{self.name or '?'}:{self.action}"[:64]


class AdminRepository(Protocol):
    """What the administrators' use cases need from the store, inside one transaction."""

    def admin(self, name: str) -> AdminState | None: ...
    def admin_by_link(self, token_hash: str) -> AdminState | None: ...
    def list_admins(self) -> list[AdminState]: ...
    def add_admin(
        self, name: str, role: str, secret: str, token_hash: str, expires_at: float
    ) -> bool: ...
    def reset_admin(self, name: str, secret: str, token_hash: str, expires_at: float) -> bool: ...
    def finish_enrolment(
        self, token_hash: str, password_hash: str, step: int, now: float
    ) -> bool: ...
    def accept_admin_step(self, admin_id: int, step: int, epoch: int) -> bool: ...
    def admin_failed(self, admin_id: int, threshold: int, now: float) -> None: ...
    def admin_signed_in(self, admin_id: int) -> None: ...
    def set_admin_disabled(self, name: str, disabled: bool) -> bool: ...
    def audit(
        self,
        caller: Actor,
        account: str | None,
        outcome: ReturnCode,
        at: float,
        duration_ms: float,
    ) -> None: ...


Unit = Callable[[], AbstractContextManager[AdminRepository]]


@dataclass(frozen=True)
class SignedIn:
    name: str
    role: str
    epoch: int


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: whose link it is, and the key to set up."""

    name: str
    role: str
    params: TotpParams
    otpauth_uri: str


class SignInLimit(Protocol):
    """gspws.throttle.Throttle's part the sign-in uses (a port: the core imports no limiter)."""

    def allow_admin_sign_in(self, address: str) -> bool: ...
    def audit_refusal(self, address: str, code: int) -> bool: ...


class NoSignInLimit:
    """No per-address limit (the CLI, which signs nobody in)."""

    def allow_admin_sign_in(self, address: str) -> bool:
        return True

    def audit_refusal(self, address: str, code: int) -> bool:
        return True


class TooManySignIns(Exception):
    """This caller address tried to sign in more often than GSPWS_RATE_LIMIT_ADMIN_SIGNIN
    allows: nothing was checked; try again later."""


class Administrators:
    def __init__(
        self,
        unit: Unit,
        policy: AdminPolicy,
        clock: Clock,
        reading: Unit,
        passwords: pin.Passwords,
        limit: SignInLimit | None = None,
    ) -> None:
        """``reading``: a transaction that only reads. argon2 runs outside any writing
        transaction (on SQLite that holds the one write lock every SOAP call needs)."""
        self._unit = unit
        self._reading = reading
        self._policy = policy
        self._clock = clock
        self._limit = limit or NoSignInLimit()
        self._passwords = passwords

    # -- the CLI -----------------------------------------------------------------------------

    def add(self, actor: Actor, name: str, role: str) -> str | None:
        """A new administrator; the enrolment link's token (None: the name is taken)."""
        if not valid_name(name) or role not in ROLES:
            raise ValueError("bad name or role")
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._unit() as repo:
            added = repo.add_admin(
                name, role, new_secret(), link_hash(token), now + self._policy.enrol_ttl
            )
            repo.audit(actor, None, codes.OK if added else codes.REJECTED, now, 0.0)
        return token if added else None

    def reset(self, actor: Actor, name: str) -> str | None:
        """A new enrolment link, a new key, no password, unlocked; every session ended.
        None: no such administrator."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._unit() as repo:
            done = repo.reset_admin(
                name, new_secret(), link_hash(token), now + self._policy.enrol_ttl
            )
            repo.audit(actor, None, codes.OK if done else codes.REJECTED, now, 0.0)
        return token if done else None

    def set_disabled(self, actor: Actor, name: str, disabled: bool) -> bool:
        now = self._clock()
        with self._unit() as repo:
            done = repo.set_admin_disabled(name, disabled)
            repo.audit(actor, None, codes.OK if done else codes.REJECTED, now, 0.0)
        return done

    def list(self) -> list[AdminState]:
        with self._reading() as repo:
            return repo.list_admins()

    def state(self, admin: AdminState) -> str:
        """``disabled``, ``locked`` (until the cool-down has passed), ``active`` or
        ``enrolling`` (the enrolment link not used yet)."""
        if admin.disabled:
            return "disabled"
        if admin.locked(self._clock(), self._policy.lockout_cooldown):
            return "locked"
        return "active" if admin.enrolled else "enrolling"

    # -- enrolment ---------------------------------------------------------------------------

    def enrolment(self, token: str) -> Enrolment | None:
        """The enrolment a link opens, while it is unused and in time."""
        with self._reading() as repo:
            state = repo.admin_by_link(link_hash(token))
        if state is None or state.totp_secret is None or state.enrol_expires_at is None:
            return None
        if state.enrol_expires_at <= self._clock():
            return None
        params = TotpParams(state.totp_secret)
        uri = params.totp().provisioning_uri(name=state.name, issuer_name=self._policy.issuer)
        return Enrolment(state.name, state.role, params, uri)

    def enrol(self, actor: Actor, token: str, password: str, code: str) -> str | None:
        """Sets the password and binds the key; the problem (None: done, link used up)."""
        begun = time.monotonic()
        enrolment = self.enrolment(token)
        if enrolment is None:
            return "link_invalid"
        problem = pin.password_problem(password, enrolment.name)
        if problem is not None:
            return f"password_{problem}"
        now = self._clock()
        step = matching_step(enrolment.params, code, now, self._policy.window)
        if step is None:
            return "wrong_code"
        hashed = self._passwords.hash(password)
        actor = Actor(enrolment.name, actor.address, actor.action)
        with self._unit() as repo:
            done = repo.finish_enrolment(link_hash(token), hashed, step, now)
            outcome = codes.OK if done else codes.REJECTED
            repo.audit(actor, None, outcome, now, _ms(begun))
        return None if done else "link_invalid"

    # -- sign-in -----------------------------------------------------------------------------

    def sign_in(
        self, address: IPAddress | None, name: str, password: str, code: str
    ) -> SignedIn | None:
        """Password and a current, unused code, while not locked nor disabled; None otherwise
        (why is not told: the audit row and the failure count know). TooManySignIns when the
        address is over its limit: refused before the password is even hashed, audited within
        GSPWS_RATE_LIMIT_REFUSED (a flood of tries cannot fill the audit trail)."""
        begun = time.monotonic()
        now = self._clock()
        where = str(address) if address is not None else "?"
        if not self._limit.allow_admin_sign_in(where):
            if self._limit.audit_refusal(where, codes.REJECTED.code):
                # (not the typed name: nothing was looked up, and it may be a password)
                self._audit(Actor(None, address, "SignInThrottled"), codes.REJECTED, now, begun)
            raise TooManySignIns()
        with self._reading() as reading:
            state = reading.admin(name) if valid_name(name) else None
        password_ok = self._passwords.password_matches(
            state.password_hash if state else None, password
        )
        actor = Actor(state.name if state else None, address, "SignIn")
        if state is None:
            self._audit(actor, codes.REJECTED, now, begun)
            return None
        usable = (
            state.enrolled
            and not state.disabled
            and not state.locked(now, self._policy.lockout_cooldown)
        )
        step = (
            matching_step(TotpParams(state.totp_secret), code, now, self._policy.window)
            if state.totp_secret
            else None
        )
        with self._unit() as repo:
            if (
                usable
                and password_ok
                and step is not None
                and repo.accept_admin_step(state.id, step, state.session_epoch)
            ):
                repo.admin_signed_in(state.id)
                repo.audit(actor, None, codes.OK, now, _ms(begun))
                return SignedIn(state.name, state.role, state.session_epoch)
            if usable:  # (tries while locked do not extend the lock)
                repo.admin_failed(state.id, self._policy.lockout_threshold, now)
            repo.audit(actor, None, codes.REJECTED, now, _ms(begun))
            return None

    def session_epoch(self, name: str) -> int | None:
        """The current epoch of ``name``'s sessions; None when it has none (unknown, disabled,
        not enrolled): every session of theirs is over. (Read only: on SQLite a page must not wait
        for the write lock a running import holds.)"""
        with self._reading() as repo:
            state = repo.admin(name)
        if state is None or state.disabled or not state.enrolled:
            return None
        return state.session_epoch

    def role(self, name: str) -> str | None:
        with self._reading() as repo:
            state = repo.admin(name)
        return state.role if state else None

    def audit(self, actor: Actor, outcome: ReturnCode, account: str | None = None) -> None:
        """A console action's audit row (the pages call it after each change they make)."""
        with self._unit() as repo:
            repo.audit(actor, account, outcome, self._clock(), 0.0)

    def _audit(self, actor: Actor, outcome: ReturnCode, now: float, begun: float) -> None:
        with self._unit() as repo:
            repo.audit(actor, None, outcome, now, _ms(begun))


def _ms(begun: float) -> float:
    return (time.monotonic() - begun) * 1000
