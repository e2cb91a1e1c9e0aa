"""Out-of-band codes (MobileOTP.asmx): a 6-digit code sent by SMS or e-mail, typed back once.

The rules: a code comes from ``secrets``; only its keyed HMAC-SHA256 is stored, and it is compared
as hashes with :func:`hmac.compare_digest`; it is valid ``ttl`` seconds; a new send supersedes the
previous code; ``attempts`` wrong tries spend it; it is used by one conditional UPDATE, so of
racing callers exactly one is accepted. Sends are spaced ``resend`` seconds apart and capped at
``daily`` per account in 24 hours (both answered 9999, as a code that cannot be had).

The code and the message carrying it are stored in one transaction (the outbox, delivered by
gspws.delivery). No code is logged or audited; SendOTPCode returns it in ``Message`` only because
GSP's callers read it there (``GSPWS_OTP_MESSAGE=masked`` returns the masked destination).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from gspws.core import codes, names
from gspws.core.codes import ReturnCode
from gspws.core.enroll import Person
from gspws.core.oob_text import fill
from gspws.core.verify import AuditedCalls, Caller, Calling, VerifyRepository

LOGIN = "login"
VERIFY_MOBILE = "verify_mobile"
VERIFY_EMAIL = "verify_email"
SMS = "sms"
EMAIL = "email"
CHANNELS = (SMS, EMAIL)
DAY = 86400

_MOBILE = re.compile(r"(?:09|\+?8869)(\d{8})")


def mobile_number(text: str) -> str:
    """A Taiwanese mobile number as ``09xxxxxxxx``, from that, ``8869xxxxxxxx`` or
    ``+8869xxxxxxxx`` (spaces and dashes ignored); ValueError otherwise."""
    match = _MOBILE.fullmatch(re.sub(r"[\s-]", "", text))
    if match is None:
        raise ValueError("a mobile number is 09xxxxxxxx (or 8869xxxxxxxx, +8869xxxxxxxx)")
    return "09" + match.group(1)


def mask_mobile(mobile: str) -> str:
    """``0912345678`` → ``0912***678``: enough for a person to recognise their number."""
    return f"{mobile[:4]}***{mobile[-3:]}"


def mask_email(email: str) -> str:
    """``zoe@gmail.com`` → ``z**@gmail.com`` (the first letter, then two stars whatever the
    length, so the length is not shown either)."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}**@{domain}"


def mask(channel: str, destination: str) -> str:
    return mask_mobile(destination) if channel == SMS else mask_email(destination)


@dataclass(frozen=True)
class OobPolicy:
    """The code rules, from settings (their defaults live in ``gspws.config.OPTIONS`` only)."""

    ttl: int
    attempts: int
    resend: int
    daily: int
    message: str  # what SendOTPCode answers in Message: "code" or "masked"
    text: str  # the SMS or e-mail text, a checked template (gspws.core.oob_text)
    subject: str  # the e-mail subject, a checked template


@dataclass(frozen=True)
class Destinations:
    """Where an account's codes can go, and whether each place is proven to be theirs."""

    account_id: int
    mobile: str | None
    mobile_verified: bool
    email: str | None
    email_verified: bool

    def verified(self, channel: str | None = None) -> tuple[str, str] | None:
        """``(channel, destination)``: the verified one of ``channel``, or (None) the verified
        mobile number, else the verified e-mail address."""
        found = [(SMS, self.mobile, self.mobile_verified), (EMAIL, self.email, self.email_verified)]
        for kind, where, proven in found:
            if where and proven and channel in (None, kind):
                return kind, where
        return None


@dataclass(frozen=True)
class PendingCode:
    id: int
    code_hash: str
    expires_at: float
    attempts: int
    used: bool
    destination: str


@dataclass(frozen=True)
class Message:
    """An outgoing message for the outbox; ``body`` holds the code (encrypted at rest)."""

    channel: str
    destination: str
    subject: str | None
    body: str
    not_after: float


@dataclass(frozen=True)
class IssuedCode:
    """A new code as stored (only its hash) with the message that carries it, written together."""

    account_id: int
    purpose: str
    channel: str
    destination: str
    code_hash: str
    created_at: float
    expires_at: float
    message: Message


class OobRepository(VerifyRepository, Protocol):
    """What out-of-band codes need from the store, inside one transaction."""

    def destinations(self, account: str, lock: bool = False) -> Destinations | None: ...
    def sends_since(self, account_id: int, since: float) -> list[float]: ...
    def issue_code(self, code: IssuedCode) -> None: ...
    def pending_code(self, account_id: int, purpose: str) -> PendingCode | None: ...
    def use_code(self, code_id: int, now: float, attempts: int) -> bool: ...
    def fail_code(self, code_id: int) -> None: ...
    def verify_destination(self, account_id: int, channel: str, destination: str) -> None: ...


class CodeHasher:
    """Keyed HMAC-SHA256 of codes: the key (from the store's key, gspws.store.oob.code_key)
    never reaches the database, so a copy of it cannot test the 10⁶ candidates offline."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, code: str) -> str:
        return hmac.new(self._key, code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Sent:
    """A send's outcome; ``message`` is what SendOTPCode answers (the code or masked place);
    ``problem`` says why a refused send was refused, for the binding page's words."""

    code: ReturnCode
    message: str
    problem: str | None = None


PURPOSE = {SMS: VERIFY_MOBILE, EMAIL: VERIFY_EMAIL}


class OutOfBandCodes(AuditedCalls[OobRepository]):
    """SendOTPCode, SendOTPCodeTo, VerifyOTPCode, GetOTPDestinations; and the rules the binding
    page's checks of a new destination share (``issue``/``check`` with another purpose).
    """

    def __init__(self, *args: Any, oob: OobPolicy, hasher: CodeHasher, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.oob = oob
        self._hash = hasher

    # -- the SOAP operations ----------------------------------------------------------------

    def send_code(self, caller: Caller, account: str | None, channel: str | None = None) -> Sent:
        def decide(repo: OobRepository, now: float) -> Sent:
            found = repo.destinations(name, lock=True) if name else None
            target = found.verified(channel) if found else None
            if found is None or target is None:
                return Sent(codes.NO_ACTIVE_TOKEN, codes.NO_ACTIVE_TOKEN.message)
            if channel not in (None, *CHANNELS):
                return Sent(codes.REJECTED, codes.REJECTED.message)
            kind, destination = target
            return self.issue(repo, found.account_id, LOGIN, kind, destination, now)

        name = names.lookup(account)
        return self._audited(
            caller, account, decide, code_of=lambda s: s.code, wrap=lambda rc: Sent(rc, rc.message)
        )

    def verify_code(self, caller: Caller, account: str | None, code: str | None) -> ReturnCode:
        """With a separate ``reading`` unit (SQLite), the pending code is read before the writing
        transaction, which holds the database's write lock, as TotpVerifier reads tokens; either
        way the conditional UPDATE in ``use_code`` keeps a code single-use however stale the
        read is when it runs."""
        name = names.lookup(account)
        read: tuple[Destinations | None, PendingCode | None] | None = None

        def read_pending(repo: OobRepository) -> tuple[Destinations | None, PendingCode | None]:
            found = repo.destinations(name) if name else None
            return found, (repo.pending_code(found.account_id, LOGIN) if found else None)

        def prepare() -> None:
            nonlocal read
            assert self._reading is not None  # (only given as ``prepare`` when there is one)
            with self._reading() as repo:
                read = read_pending(repo)

        def decide(repo: OobRepository, now: float) -> ReturnCode:
            found, pending = read if read is not None else read_pending(repo)
            if name is None or found is None:
                return codes.NO_ACTIVE_TOKEN
            if self._over_account_limit(caller, name):
                return codes.REJECTED
            return self.judge(repo, pending, code, now)

        return self._audited(
            caller,
            account,
            decide,
            code_of=_same,
            wrap=_same,
            prepare=prepare if self._reading else None,
        )

    def destinations_of(
        self, caller: Caller, account: str | None
    ) -> tuple[ReturnCode, Destinations | None]:
        name = names.lookup(account)

        def decide(repo: OobRepository, now: float) -> tuple[ReturnCode, Destinations | None]:
            found = repo.destinations(name) if name else None
            return (codes.OK, found) if found else (codes.NO_ACTIVE_TOKEN, None)

        return self._audited(
            caller, account, decide, code_of=lambda r: r[0], wrap=lambda rc: (rc, None)
        )

    # -- the binding page: a person proves a new mobile number or e-mail address is theirs ----

    def send_check(self, person: Person, account: str | None, channel: str, value: str) -> Sent:
        """A code to ``value`` (not yet the account's): typed back, it becomes the account's
        verified ``channel`` destination (:meth:`confirm_check`)."""
        try:
            where = mobile_number(value) if channel == SMS else names.email_address(value)
        except ValueError:
            return Sent(codes.REJECTED, codes.REJECTED.message, "bad_destination")

        def decide(repo: OobRepository, now: float) -> Sent:
            found = repo.destinations(account, lock=True) if account else None
            if found is None or channel not in CHANNELS:
                return Sent(codes.NO_ACTIVE_TOKEN, codes.NO_ACTIVE_TOKEN.message)
            return self.issue(repo, found.account_id, PURPOSE[channel], channel, where, now)

        return self._audited(
            person, account, decide, code_of=lambda s: s.code, wrap=lambda rc: Sent(rc, rc.message)
        )

    def confirm_check(
        self, person: Person, account: str | None, channel: str, code: str | None
    ) -> ReturnCode:
        """0: the destination the code went to is now the account's, verified."""

        def decide(repo: OobRepository, now: float) -> ReturnCode:
            found = repo.destinations(account) if account else None
            if found is None or channel not in CHANNELS:
                return codes.NO_ACTIVE_TOKEN
            pending = repo.pending_code(found.account_id, PURPOSE[channel])
            outcome = self.check(repo, found.account_id, PURPOSE[channel], code, now)
            if outcome is codes.OK and pending is not None:
                repo.verify_destination(found.account_id, channel, pending.destination)
            return outcome

        return self._audited(person, account, decide, code_of=_same, wrap=_same)

    def places(self, account: str | None) -> Destinations | None:
        """The signed-in person's destinations, for the binding page's status view (which is
        audited once, as GetTOTPStatus)."""
        if not account:
            return None
        with self._unit_of_work() as repo:
            return repo.destinations(account)

    def _admit(self, caller: Calling) -> ReturnCode | None:
        """People were identified by their door (the binding page's session); agency systems
        pass the access rules."""
        return None if isinstance(caller, Person) else super()._admit(caller)

    # -- the rules, shared with the binding page ---------------------------------------------

    def issue(
        self,
        repo: OobRepository,
        account_id: int,
        purpose: str,
        channel: str,
        destination: str,
        now: float,
    ) -> Sent:
        """A new code to ``destination`` (also the binding page's check of a new destination),
        superseding the account's earlier ones of
        ``purpose``), unless sends are too close or too many: the caller holds the account's
        row lock (``destinations(lock=True)``), so concurrent sends are decided one by one."""
        sends = repo.sends_since(account_id, now - DAY)
        if len(sends) >= self.oob.daily or (sends and now - max(sends) < self.oob.resend):
            return Sent(codes.REJECTED, codes.REJECTED.message, "too_soon")
        code = f"{secrets.randbelow(10**6):06d}"
        expires_at = now + self.oob.ttl
        message = Message(
            channel,
            destination,
            fill(self.oob.subject, code, self.oob.ttl) if channel == EMAIL else None,
            fill(self.oob.text, code, self.oob.ttl),
            expires_at,
        )
        repo.issue_code(
            IssuedCode(
                account_id,
                purpose,
                channel,
                destination,
                self._hash(code),
                now,
                expires_at,
                message,
            )
        )
        shown = code if self.oob.message == "code" else mask(channel, destination)
        return Sent(codes.OK, shown)

    def check(
        self, repo: OobRepository, account_id: int, purpose: str, code: str | None, now: float
    ) -> ReturnCode:
        """0 once for the newest code of ``purpose``; 9999 wrong, expired, used or spent;
        3001 when none was sent."""
        return self.judge(repo, repo.pending_code(account_id, purpose), code, now)

    def judge(
        self, repo: OobRepository, pending: PendingCode | None, code: str | None, now: float
    ) -> ReturnCode:
        """What :meth:`check` answers for ``pending`` as read (perhaps before this transaction:
        ``use_code`` decides again, in one conditional UPDATE)."""
        if pending is None:
            return codes.NO_ACTIVE_TOKEN
        if pending.used or pending.expires_at <= now or pending.attempts >= self.oob.attempts:
            return codes.REJECTED
        if not hmac.compare_digest(self._hash(code or ""), pending.code_hash):
            repo.fail_code(pending.id)
            return codes.REJECTED
        accepted = repo.use_code(pending.id, now, self.oob.attempts)
        return codes.OK if accepted else codes.REJECTED


def _same(outcome: ReturnCode) -> ReturnCode:
    return outcome
