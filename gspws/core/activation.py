"""Offline distribution of a token (seed 003): serial + activation code + activation password.

An operator distributes (``gspws token distribute SERIAL|ACCOUNT --offline``): for an ACCOUNT a
new soft TOTP token, pending; for a SERIAL a token of the pool (unassigned, TOTP, not lost or
disabled), made pending and, when an account is named, assigned to it. The operator hands the
printed sheet over; the person opens ``/owin/activate``, types the three and sees the token's QR
and key, once: activation is one conditional UPDATE, after which the token is active and a
second activation gets NSTC's 註冊已超過有效時間或此帳號已被註冊.

Storage: the activation code is random (16 characters of a 32-letter alphabet, 80 bits), so a
keyed HMAC-SHA256 (:class:`~gspws.core.oob.CodeHasher`, its key derived from the store's key and
never in the database) is as good as a slow hash and cheap; the activation password may be the
policy's default (``GSPWS_ACTIVATION_PASSWORD``), chosen by a person and short, so it is hashed
with argon2id (gspws.core.pin). Both are compared on every try (constant time), whichever is
wrong. ``retries`` wrong tries void the activation (distribute again); it lapses after ``days``.
Distributing again replaces the token's (or the account's) earlier unused activation.
"""

import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Any, Protocol

from gspws.core import codes, names, otp
from gspws.core.enroll import Outcome, Person
from gspws.core.oob import EMAIL, CodeHasher, Destinations, Message, mask
from gspws.core.otp import TotpParams
from gspws.core.pin import Passwords
from gspws.core.verify import AuditedCalls, Calling, VerifyRepository

DAY = 86400
#: Letters and digits nobody misreads on paper (no 0/O, 1/I/L).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH, PASSWORD_LENGTH = 16, 8


@dataclass(frozen=True)
class ActivationPolicy:
    days: int
    retries: int
    default_password: str  # empty: a random one per distribution
    issuer: str
    activate_url: str  # the activation page's public URL, for sent sheets


@dataclass(frozen=True)
class PoolToken:
    """A token as distribution sees it."""

    id: int
    serial: str
    account_id: int | None
    status: str
    type: str
    distributed: bool  # it has an activation not yet used


@dataclass(frozen=True)
class ActivationState:
    id: int
    token_id: int
    serial: str
    account: str | None
    code_hash: str
    password_hash: str
    expires_at: float
    failures: int
    used: bool
    params: TotpParams


@dataclass(frozen=True)
class Distribution:
    """The printable sheet: shown once, never stored as such."""

    serial: str
    account: str | None
    activation_code: str
    activation_password: str
    expires_at: float
    sent_to: str | None = None  # the masked destination it was sent to (``send``)


@dataclass(frozen=True)
class NewActivation:
    """A distributed token's activation as stored (only hashes); ``account_id`` None leaves the
    token's account as it is."""

    token_id: int
    account_id: int | None
    code_hash: str
    password_hash: str
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class Activated:
    serial: str
    params: TotpParams
    otpauth_uri: str


class ActivationRepository(VerifyRepository, Protocol):
    def account_id(self, account: str) -> int | None: ...
    def pool_token(self, serial: str) -> PoolToken | None: ...
    def add_distributed_token(self, account_id: int, params: TotpParams) -> PoolToken: ...
    def drop_distributions(self, account_id: int) -> None:
        """Delete the account's pending tokens whose activation is unused (replaced)."""

    def set_activation(self, activation: NewActivation) -> None:
        """The token's only activation (replacing any), the token pending (and assigned)."""

    def activation(self, serial: str) -> ActivationState | None: ...
    def destinations(self, account: str, lock: bool = False) -> Destinations | None: ...
    def queue(self, message: Message, now: float) -> None:
        """Put ``message`` in the outbox, in this transaction (gspws.delivery sends it)."""

    def fail_activation(self, activation_id: int) -> None: ...
    def use_activation(self, activation_id: int, now: float, retries: int) -> bool:
        """Unused, in time, under ``retries`` failures → used; the token pending → active."""


def random_text(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def typed(text: str | None) -> str:
    """A code as people type it: any case, with spaces or hyphens."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t")


def grouped(text: str) -> str:
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


class Activations(AuditedCalls[ActivationRepository]):
    """Distributing (an operator, :class:`Person`) and activating (the person on the page)."""

    def __init__(
        self,
        *args: Any,
        activation: ActivationPolicy,
        hasher: CodeHasher,
        passwords: Passwords,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.activation = activation
        self._hash = hasher
        self._passwords = passwords

    def distribute(
        self, person: Person, target: str, account: str | None = None, send: bool = False
    ) -> Outcome[Distribution]:
        """``target`` is a pool token's serial (assigned to ``account`` when given) or an
        account (a new soft token). 3001: no such serial or account; 9999: the serial is not
        an unassigned TOTP token of the pool, or (``send``) the account has no verified mobile
        number or e-mail address to send the sheet to (through the outbox, as MobileOTP's
        codes: the verified mobile number first)."""
        name = names.lookup(account) if account else None

        def decide(repo: ActivationRepository, now: float) -> Outcome[Distribution]:
            token = repo.pool_token(target)
            owner = repo.account_id(name) if name else None
            if account and owner is None:
                return Outcome(codes.NO_ACTIVE_TOKEN)
            if token is None:
                holder = names.lookup(target)
                owner = repo.account_id(holder) if holder else None
                if owner is None or account:
                    return Outcome(codes.NO_ACTIVE_TOKEN)
                repo.drop_distributions(owner)
                token = repo.add_distributed_token(owner, TotpParams(otp.new_secret()))
                name_ = holder
            else:
                if not _distributable(token):
                    return Outcome(codes.REJECTED)
                name_ = name
            found = repo.destinations(name_) if send and name_ else None
            target_ = found.verified() if found else None
            if send and target_ is None:
                return Outcome(codes.REJECTED)
            code = random_text(CODE_LENGTH)
            password = self.activation.default_password or random_text(PASSWORD_LENGTH)
            expires_at = now + self.activation.days * DAY
            repo.set_activation(
                NewActivation(
                    token.id,
                    owner,
                    self._hash(code),
                    self._passwords.hash(password),
                    now,
                    expires_at,
                )
            )
            sheet = Distribution(token.serial, name_, grouped(code), password, expires_at)
            if target_ is not None:
                repo.queue(self._message(sheet, *target_), now)
                sheet = replace(sheet, sent_to=mask(*target_))
            return Outcome(codes.OK, sheet)

        return self._audited(
            person, account or target, decide, code_of=lambda o: o.code, wrap=Outcome
        )

    def activate(
        self, person: Person, serial: str | None, code: str | None, password: str | None
    ) -> Outcome[Activated]:
        """0 with the token's key once; 9999 for a wrong serial, code or password (counted);
        3001 (NSTC's message on the page) when used, voided by wrong tries or expired."""

        def decide(repo: ActivationRepository, now: float) -> Outcome[Activated]:
            found = repo.activation((serial or "").strip().upper())
            if found is None:
                return Outcome(codes.REJECTED)
            if found.used or found.expires_at <= now or found.failures >= self.activation.retries:
                return Outcome(codes.NO_ACTIVE_TOKEN)
            code_ok = hmac.compare_digest(self._hash(typed(code)), found.code_hash)
            password_ok = self._passwords.matches(found.password_hash, password or "")
            if not (code_ok and password_ok):
                repo.fail_activation(found.id)
                last = found.failures + 1 >= self.activation.retries
                return Outcome(codes.NO_ACTIVE_TOKEN if last else codes.REJECTED)
            if not repo.use_activation(found.id, now, self.activation.retries):
                return Outcome(codes.NO_ACTIVE_TOKEN)
            label = found.account or found.serial
            uri = otp.provisioning_uri(found.params, label, self.activation.issuer)
            return Outcome(codes.OK, Activated(found.serial, found.params, uri))

        return self._audited(person, None, decide, code_of=lambda o: o.code, wrap=Outcome)

    def _message(self, sheet: Distribution, channel: str, destination: str) -> Message:
        text = (
            f"您的動態密碼令牌序號 {sheet.serial}，啟用碼 {sheet.activation_code}，"
            f"啟用密碼 {sheet.activation_password}。請至 {self.activation.activate_url} "
            f"於 {self.activation.days} 天內啟用；請勿告知他人。"
        )
        subject = "動態密碼令牌啟用 (token activation)" if channel == EMAIL else None
        return Message(channel, destination, subject, text, sheet.expires_at)

    def _admit(self, caller: Calling) -> codes.ReturnCode | None:
        """Operators and people on the activation page; no agency system calls these."""
        return None if isinstance(caller, Person) else super()._admit(caller)


def _distributable(token: PoolToken) -> bool:
    """A TOTP token that is usable or waiting: unassigned, or pending an earlier distribution."""
    fresh = token.account_id is None and token.status in ("active", "pending")
    again = token.distributed and token.status == "pending"
    return token.type == "totp" and (fresh or again)
