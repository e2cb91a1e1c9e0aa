"""Binding an authenticator: pending token → confirm → active; disable with a current code; links.

Two kinds of callers use these cases. Agency systems (:class:`~gspws.core.verify.Caller`, through
SOAP) are authorised exactly like VerifyTOTPCode, with the operation name as the function. People
(:class:`Person`) are the account's holder on the binding page, signed in by a binding link, or an
operator at the command line: the door has already established who they are.

Every call is audited in the transaction that does it, and every outcome is one of the contract's
return codes (the doors show :class:`Problem` to people in their own words):

* unknown or empty account → 3001, for every operation;
* nothing to confirm (no pending token, or it expired), no device to disable → 3001;
* a wrong, malformed, replayed or locked code; a device name, phone or period that is not
  acceptable; more than :data:`MAX_DEVICES` devices → 9999.

A pending token verifies nothing until it is confirmed; it lapses after ``pending_ttl`` seconds,
and ``lockout_threshold`` wrong confirmations discard it. Beginning a binding replaces the
account's earlier pending one. Links are random tokens of which only a SHA-256 is stored: they
cannot be forged, and a copy of the database does not reveal them. Redeeming one is a single
conditional update, so a link works once even when two browsers race.
"""

import enum
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from gspws.core import codes, names, otp
from gspws.core.access import IPAddress
from gspws.core.codes import ReturnCode
from gspws.core.otp import TotpParams, matching_step
from gspws.core.verify import (
    AuditedCalls,
    Caller,
    Calling,
    Policy,
    TokenState,
    VerifyRepository,
    accept_code,
)

#: Devices (active or locked tokens) one account may have: enough for a household of phones,
#: few enough that a stolen session cannot fill the store.
MAX_DEVICES = 10
MAX_NAME_LENGTH = 100
#: Mobile numbers as seed 001 writes them: 09xxxxxxxx or 8869xxxxxxxx.
PHONE_FORMAT = re.compile(r"09[0-9]{8}|8869[0-9]{8}")
_PHONE_SEPARATORS = re.compile(r"[\s-]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Person:
    """A caller that is not an agency system: no ServiceID, no access rules (see module doc)."""

    address: IPAddress | None
    operation: str
    service_id: None = None


AnyCaller = Caller | Person


class Problem(str, enum.Enum):
    """Why a binding step did not succeed; the web page words each one for people."""

    UNKNOWN_ACCOUNT = "unknown_account"
    NO_PENDING = "no_pending"
    NOT_BOUND = "not_bound"
    WRONG_CODE = "wrong_code"
    BAD_NAME = "bad_name"
    BAD_PHONE = "bad_phone"
    BAD_PERIOD = "bad_period"
    TOO_MANY_DEVICES = "too_many_devices"
    LINK_INVALID = "link_invalid"
    #: The portal (gspws.core.portal): a serial and codes that bind nothing (one answer for an
    #: unknown, assigned or lost serial and for wrong codes); an empty pool; too many tries.
    BIND_REFUSED = "bind_refused"
    POOL_EMPTY = "pool_empty"
    TRY_LATER = "try_later"
    #: Not a refusal: the first code showed the device's clock more than CLOCK_WARNING off.
    CLOCK_OFF = "clock_off"


_RETURN_CODES = {
    Problem.UNKNOWN_ACCOUNT: codes.NO_ACTIVE_TOKEN,
    Problem.NO_PENDING: codes.NO_ACTIVE_TOKEN,
    Problem.NOT_BOUND: codes.NO_ACTIVE_TOKEN,
    Problem.LINK_INVALID: codes.NO_ACTIVE_TOKEN,
    Problem.WRONG_CODE: codes.REJECTED,
    Problem.BAD_NAME: codes.REJECTED,
    Problem.BAD_PHONE: codes.REJECTED,
    Problem.BAD_PERIOD: codes.REJECTED,
    Problem.TOO_MANY_DEVICES: codes.REJECTED,
    Problem.BIND_REFUSED: codes.REJECTED,
    Problem.POOL_EMPTY: codes.NO_ACTIVE_TOKEN,
    Problem.TRY_LATER: codes.REJECTED,
}

T = TypeVar("T")


@dataclass(frozen=True)
class Holder:
    """The account a use case acts on: its row, and its name in the one form names take (so a
    rate limit, a URI label or a status names it alike whatever spelling the caller sent)."""

    id: int
    name: str


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A return code, and the value when it is 0 or the problem when the call was refused."""

    code: ReturnCode
    value: T | None = None
    problem: Problem | None = None
    warning: Problem | None = None  # done, but the person should know (Problem.CLOCK_OFF)

    @property
    def ok(self) -> bool:
        return self.code is codes.OK

    @classmethod
    def refused(cls, problem: Problem) -> "Outcome[T]":
        return cls(_RETURN_CODES[problem], problem=problem)


@dataclass(frozen=True)
class Device:
    """An active (or locked) authenticator of an account."""

    serial: str
    name: str | None
    phone: str | None
    period: int
    locked: bool
    #: How far the device's clock is off, as measured by its codes (``tokens.drift`` steps).
    drift_seconds: int = 0
    hardware: bool = False  # imported (gspws token import), not bound on this page


@dataclass(frozen=True)
class PendingToken:
    """A token waiting for its first code, as the store holds it."""

    id: int
    serial: str
    name: str | None
    phone: str | None
    params: TotpParams
    expires_at: float


@dataclass(frozen=True)
class Binding:
    """What a person needs to set up an authenticator: the URI (QR code) and the key."""

    serial: str
    name: str | None
    phone: str | None
    params: TotpParams = field(repr=False)
    otpauth_uri: str = field(repr=False)
    expires_at: float


@dataclass(frozen=True)
class Link:
    """A binding link as the store holds it (by the hash of its token)."""

    account: str
    expires_at: float
    used: bool

    def usable(self, now: float) -> bool:
        return not self.used and now < self.expires_at


@dataclass(frozen=True)
class SignIn:
    """A used link: its account, and the session epoch a session it starts belongs to."""

    account: str
    epoch: int


@dataclass(frozen=True)
class Status:
    devices: tuple[Device, ...]
    binding: Binding | None  # a pending binding, not yet confirmed

    @property
    def enabled(self) -> bool:
        return bool(self.devices)


@dataclass(frozen=True)
class NewPending:
    """A token to add to an account, waiting for its first code until ``expires_at``."""

    account_id: int
    params: TotpParams
    name: str | None
    phone: str | None
    expires_at: float


class EnrollRepository(VerifyRepository, Protocol):
    """What binding needs from the store, inside one transaction."""

    def account_id(self, account: str) -> int | None: ...
    def devices(self, account_id: int) -> list[Device]: ...
    def device_tokens(self, account_id: int) -> list[TokenState]: ...
    def pending_token(self, account_id: int) -> PendingToken | None: ...
    def add_pending(self, pending: NewPending) -> PendingToken: ...
    def drop_pending(self, account_id: int) -> None: ...
    def activate(self, token_id: int, step: int, now: float, drift: int = 0) -> bool: ...
    def fail_pending(self, token_id: int, threshold: int) -> None: ...
    def disable_token(self, token_id: int) -> None: ...
    def add_link(self, account_id: int, token_hash: str, expires_at: float) -> None: ...
    def drop_links(self, account_id: int, only_spent: bool, now: float) -> None: ...
    def link(self, token_hash: str) -> Link | None: ...
    def redeem_link(self, token_hash: str, now: float) -> bool: ...
    def session_epoch(self, account: str) -> int | None: ...
    def end_sessions(self, account_id: int, epoch: int | None = None) -> None: ...


@dataclass(frozen=True)
class EnrollPolicy(Policy):
    """The code rules of verification (a code means the same everywhere), plus binding's."""

    pending_ttl: int
    link_ttl: int
    invite_ttl: int
    issuer: str
    link_prefix: str  # the public URL of the link page; the link's token is appended


#: Seconds a device's clock may be off before the binding page warns (seed 002: 3 minutes).
CLOCK_WARNING = 180


def first_code_step(
    params: TotpParams, code: str, now: float, policy: Policy
) -> tuple[int | None, int]:
    """The step of a new device's first code and the drift it shows: in the normal window,
    drift 0; else anywhere in the sync window (the person has just scanned the secret, so the
    code is theirs, from a phone whose clock is off), the offset becomes the token's drift."""
    step = matching_step(params, code, now, policy.window)
    if step is not None or policy.sync_window <= 0:
        return step, 0
    step = matching_step(params, code, now, policy.sync_window)
    return step, (step - params.step_at(now)) if step is not None else 0


def has_room(repo: EnrollRepository, account_id: int) -> bool:
    """Whether the account may have one more device (:data:`MAX_DEVICES`)."""
    return len(repo.devices(account_id)) < MAX_DEVICES


def link_hash(token: str) -> str:
    """What the store keeps of a link's token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def clean_name(name: str | None) -> str | None:
    """A device name as stored (None when blank); ValueError when too long or unprintable."""
    name = (name or "").strip()
    if len(name) > MAX_NAME_LENGTH or _CONTROL.search(name):
        raise ValueError(name)
    return name or None


def clean_phone(phone: str | None) -> str | None:
    """``09xxxxxxxx`` or ``8869xxxxxxxx`` (spaces and hyphens dropped), None when blank;
    ValueError otherwise."""
    phone = _PHONE_SEPARATORS.sub("", phone or "")
    if phone and not PHONE_FORMAT.fullmatch(phone):
        raise ValueError(phone)
    return phone or None


E = TypeVar("E", bound="EnrollRepository")


class PeopleCalls(AuditedCalls[E]):
    """Use cases people call on the binding page (and operators at the command line): an
    account's holder, already identified by their door, acts on their own account. Shared by
    :class:`Enrollment` and the portal's self-service (gspws.core.portal)."""

    def _for_account(
        self,
        caller: AnyCaller,
        account: str | None,
        action: Callable[[E, Holder, float], Outcome[T]],
    ) -> Outcome[T]:
        """``action`` for an existing account; 3001 for an unknown or empty one, or one no
        account can be called (gspws.core.names)."""
        name = names.lookup(account)

        def with_account(repo: E, now: float) -> Outcome[T]:
            account_id = repo.account_id(name) if name else None
            if account_id is None or name is None:
                return Outcome.refused(Problem.UNKNOWN_ACCOUNT)
            return action(repo, Holder(account_id, name), now)

        return self._run(caller, account, with_account)

    def _run(
        self,
        caller: AnyCaller,
        account: str | None,
        action: Callable[[E, float], Outcome[T]],
    ) -> Outcome[T]:
        return self._audited(
            caller, account, action, code_of=lambda outcome: outcome.code, wrap=Outcome
        )

    def _admit(self, caller: Calling) -> ReturnCode | None:
        """People were identified by their door; agency systems pass the access rules."""
        return None if isinstance(caller, Person) else super()._admit(caller)


class Enrollment(PeopleCalls[EnrollRepository]):
    """The binding use cases. Each returns an :class:`Outcome`; 3000 on any unexpected failure."""

    _policy: EnrollPolicy  # (set by AuditedCalls)

    # -- the use cases ----------------------------------------------------------------------

    def status(self, caller: AnyCaller, account: str | None) -> Outcome[Status]:
        def action(repo: EnrollRepository, holder: Holder, now: float) -> Outcome[Status]:
            return Outcome(codes.OK, self._status(repo, holder.name, holder.id, now))

        return self._for_account(caller, account, action)

    def begin(
        self,
        caller: AnyCaller,
        account: str | None,
        name: str | None,
        phone: str | None = None,
        period: int = otp.DEFAULT_PERIOD,
    ) -> Outcome[Binding]:
        def action(repo: EnrollRepository, holder: Holder, now: float) -> Outcome[Binding]:
            try:
                name_ = clean_name(name)
            except ValueError:
                return Outcome.refused(Problem.BAD_NAME)
            try:
                phone_ = clean_phone(phone)
            except ValueError:
                return Outcome.refused(Problem.BAD_PHONE)
            if period not in otp.PERIODS:
                return Outcome.refused(Problem.BAD_PERIOD)
            if not has_room(repo, holder.id):
                return Outcome.refused(Problem.TOO_MANY_DEVICES)
            repo.drop_pending(holder.id)
            params = TotpParams(otp.new_secret(), period=period)
            expires_at = now + self._policy.pending_ttl
            pending = repo.add_pending(NewPending(holder.id, params, name_, phone_, expires_at))
            return Outcome(codes.OK, self._binding(holder.name, pending))

        return self._for_account(caller, account, action)

    def confirm(self, caller: AnyCaller, account: str | None, code: str | None) -> Outcome[str]:
        """Activates the pending token if ``code`` is its current code; the value is its serial."""

        def action(repo: EnrollRepository, holder: Holder, now: float) -> Outcome[str]:
            pending = repo.pending_token(holder.id)
            if pending is None or pending.expires_at <= now:
                return Outcome.refused(Problem.NO_PENDING)
            if self._over_account_limit(caller, holder.name):
                return Outcome.refused(Problem.WRONG_CODE)
            step, drift = first_code_step(pending.params, code or "", now, self._policy)
            if step is not None and repo.activate(pending.id, step, now, drift):
                off = abs(drift) * pending.params.period > CLOCK_WARNING
                return Outcome(codes.OK, pending.serial, warning=Problem.CLOCK_OFF if off else None)
            repo.fail_pending(pending.id, self._policy.lockout_threshold)
            return Outcome.refused(Problem.WRONG_CODE)

        return self._for_account(caller, account, action)

    def cancel(self, caller: AnyCaller, account: str | None) -> Outcome[None]:
        """Discards the pending binding, if any."""

        def action(repo: EnrollRepository, holder: Holder, _now: float) -> Outcome[None]:
            repo.drop_pending(holder.id)
            return Outcome(codes.OK)

        return self._for_account(caller, account, action)

    def disable(
        self, caller: AnyCaller, account: str | None, code: str | None, serial: str | None = None
    ) -> Outcome[str]:
        """Removes the device whose current code ``code`` is (only device ``serial``, if given);
        the value is the removed device's serial. The code counts like a verification: it is
        used up, and wrong ones count towards the lockout."""

        def action(repo: EnrollRepository, holder: Holder, now: float) -> Outcome[str]:
            tokens = [
                t for t in repo.device_tokens(holder.id) if serial is None or t.serial == serial
            ]
            if not tokens:
                return Outcome.refused(Problem.NOT_BOUND)
            if self._over_account_limit(caller, holder.name):
                return Outcome.refused(Problem.WRONG_CODE)
            token = accept_code(repo, tokens, code, now, self._policy)
            if token is None:
                return Outcome.refused(Problem.WRONG_CODE)
            repo.disable_token(token.id)
            return Outcome(codes.OK, token.serial)

        return self._for_account(caller, account, action)

    def create_link(
        self, caller: AnyCaller, account: str | None, invite: bool = False
    ) -> Outcome[str]:
        """A new single-use binding link (its URL). An invitation (sent by e-mail) lives
        ``invite_ttl`` and invalidates the account's earlier unused links; a plain link lives
        ``link_ttl``. Either ends the account's sessions on the binding page: whoever asked for
        a new link wants the account's holder, and only them, signed in."""

        def action(repo: EnrollRepository, holder: Holder, now: float) -> Outcome[str]:
            repo.drop_links(holder.id, only_spent=not invite, now=now)
            repo.end_sessions(holder.id)
            token = secrets.token_urlsafe(32)
            ttl = self._policy.invite_ttl if invite else self._policy.link_ttl
            repo.add_link(holder.id, link_hash(token), now + ttl)
            return Outcome(codes.OK, self._policy.link_prefix + token)

        return self._for_account(caller, account, action)

    def link_usable(self, token: str) -> bool:
        """Whether the link would work now, without using it up (for the page that offers it)."""
        link = self._link(token)
        return link is not None and link.usable(self._clock())

    def redeem_link(self, caller: Person, token: str) -> Outcome[SignIn]:
        """Uses the link up; the value is its account and current session epoch. Expired, used
        or unknown → refused."""
        link = self._link(token)

        def action(repo: EnrollRepository, _holder: Holder, now: float) -> Outcome[SignIn]:
            assert link is not None  # no link, no account: refused before this action
            if repo.redeem_link(link_hash(token), now):
                epoch = repo.session_epoch(link.account)
                assert epoch is not None  # the link's account exists
                return Outcome(codes.OK, SignIn(link.account, epoch))
            return Outcome.refused(Problem.LINK_INVALID)

        return self._for_account(caller, link.account if link else None, action)

    def sign_out(self, caller: Person, account: str, epoch: int | None) -> Outcome[None]:
        """Ends the account's sessions of ``epoch`` (nothing if a newer epoch began since; all of
        them when None)."""

        def action(repo: EnrollRepository, holder: Holder, _now: float) -> Outcome[None]:
            repo.end_sessions(holder.id, epoch)
            return Outcome(codes.OK)

        return self._for_account(caller, account, action)

    def session_epoch(self, account: str) -> int | None:
        """The account's current session epoch; None when there is no such account."""
        with self._unit_of_work() as repo:
            return repo.session_epoch(account)

    def _link(self, token: str) -> Link | None:
        with self._unit_of_work() as repo:
            return repo.link(link_hash(token))

    # -- shared steps -----------------------------------------------------------------------

    def _status(self, repo: EnrollRepository, account: str, account_id: int, now: float) -> Status:
        pending = repo.pending_token(account_id)
        live = pending is not None and pending.expires_at > now
        return Status(
            tuple(repo.devices(account_id)),
            self._binding(account, pending) if pending is not None and live else None,
        )

    def _binding(self, account: str, pending: PendingToken) -> Binding:
        uri = otp.provisioning_uri(pending.params, account, self._policy.issuer)
        return Binding(
            pending.serial, pending.name, pending.phone, pending.params, uri, pending.expires_at
        )
