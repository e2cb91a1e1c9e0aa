"""OCRA challenge–response (RFC 6287) and transaction signing: GetChallenge, GetSignChallenge,
VerifyResponse of OTP.asmx, as use cases on :class:`~gspws.core.verify.AuditedCalls` (the access
decision, the rate limits, the audit row in the call's transaction).

The rules:

* gspws issues every challenge (random, of the suite's format and length, from :mod:`secrets`)
  and stores it for the token and the calling ServiceID; it is good for ``ttl`` seconds
  (``GSPWS_CHALLENGE_TTL``) and once. VerifyResponse answers 0 only for a challenge issued to that
  token for that service, unexpired and unused, and spends it with one conditional UPDATE of
  ``used_at``: of racing callers exactly one is accepted.
* A counter suite (``C``) looks for the response at the counters after the last one used (a
  look-ahead of ``GSPWS_HOTP_WINDOW``) and moves ``tokens.last_step`` forward by the conditional
  UPDATE TOTP steps use; a time suite (``T1M``...) computes T from the injected clock, ``±window``
  steps (``GSPWS_TOTP_WINDOW``).
* A ``P`` suite's PIN digest is provisioned with the token and kept encrypted with its key
  (gspws.store.challenges): an argon2id hash cannot give back what the suite's HMAC needs.
* Anything but an acceptance (a wrong response, a challenge not issued, expired, used, or lost to
  a concurrent call) counts a failure against the token, and the threshold locks it, with the
  same statements as VerifyTOTPCode's lockout; a success clears its failures.

Transaction signing (GetSignChallenge): the challenge is derived from the transaction, so the
response signs it. ``amount`` is canonicalised to a decimal with two places (``1,200.5`` →
``1200.50``), ``payee`` to NFC with whitespace collapsed; the challenge is the SHA-256 of
``gspws-ocra-sign-v1 NUL amount NUL payee NUL n`` read as a number, modulo 10^length of the
suite's Q (decimal digits suit N, A and H challenges alike), where ``n`` is how many signing
challenges the token was issued before (counted on while the result was ever issued to it): an
identical transaction repeated gets a new challenge, so an earlier response cannot be replayed
for it. No challenge is ever issued to a token twice (random ones are drawn again). The agency shows amount, payee and challenge
together; the person types the challenge into the token.
"""

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import count, islice
from typing import Any, Protocol

from gspws.core import codes, ocra
from gspws.core.codes import ReturnCode
from gspws.core.verify import AuditedCalls, Caller, TokenState, VerifyRepository

log = logging.getLogger(__name__)

LOGIN = "login"
SIGN = "sign"
_AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,2})?")
_PAYEE_LENGTH = 128
_TRIES = 20


@dataclass(frozen=True)
class ChallengePolicy:
    """From settings (defaults in ``gspws.config.OPTIONS`` only)."""

    ttl: int


@dataclass(frozen=True)
class OcraToken:
    """An OCRA token as VerifyResponse needs it: its state (lockout, counter, account, in use),
    suite, key and PIN digest."""

    state: TokenState
    suite: str
    key: bytes
    pin: bytes | None = None


@dataclass(frozen=True)
class NewChallenge:
    """A challenge as GetChallenge or GetSignChallenge stores it, for one token and caller."""

    token_id: int
    challenge: str
    purpose: str
    service_id: str | None
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class IssuedChallenge:
    id: int
    expires_at: float
    used: bool


@dataclass(frozen=True)
class Issued:
    """GetChallenge's and GetSignChallenge's answer: ``message`` is the challenge when 0."""

    code: ReturnCode
    message: str


class ChallengeRepository(VerifyRepository, Protocol):
    """What the challenges need from the store, inside one transaction."""

    def ocra_token(self, serial: str, lock: bool = False) -> OcraToken | None:
        """The OCRA token ``serial``, whatever its status; ``lock`` takes its row lock."""

    def issue_challenge(self, issued: NewChallenge) -> None: ...
    def sign_challenges_issued(self, token_id: int) -> int: ...
    def challenge_known(self, token_id: int, challenge: str) -> bool:
        """Whether ``challenge`` was ever issued to the token (used, expired or not)."""

    def issued_challenge(
        self, token_id: int, challenge: str, service_id: str | None
    ) -> IssuedChallenge | None:
        """The newest challenge ``challenge`` issued to the token for the service."""

    def use_challenge(self, challenge_id: int, now: float) -> bool:
        """Spend it: one conditional UPDATE (unused and unexpired); True for the one winner."""


def canonical_amount(amount: str | None) -> str | None:
    """``amount`` as ``digits.dd`` (thousands commas and spaces dropped), else None."""
    text = re.sub(r"[\s,]", "", amount or "")
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return str(Decimal(text).quantize(Decimal("0.01")))
    except InvalidOperation:  # (the pattern admits none; kept for safety)
        return None


def canonical_payee(payee: str | None) -> str | None:
    """``payee`` in NFC with runs of whitespace made one space and trimmed, else None."""
    text = " ".join(unicodedata.normalize("NFC", payee or "").split())
    return text if 0 < len(text) <= _PAYEE_LENGTH and text.isprintable() else None


def sign_challenge(suite: ocra.Suite, amount: str, payee: str, issued_before: int) -> str:
    """The signing challenge of a canonical transaction (see the module documentation)."""
    length = suite.question[1]
    data = "\0".join(("gspws-ocra-sign-v1", amount, payee, str(issued_before)))
    number = int.from_bytes(hashlib.sha256(data.encode("utf-8")).digest(), "big")
    return str(number % 10**length).zfill(length)


class OcraChallenges(AuditedCalls[ChallengeRepository]):
    """GetChallenge, GetSignChallenge and VerifyResponse. The audit row's account is the
    tokenSN the caller sent (the token may be bound to nobody)."""

    def __init__(self, *args: Any, challenge: ChallengePolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.challenge = challenge

    def get_challenge(self, caller: Caller, serial: str | None) -> Issued:
        def decide(repo: ChallengeRepository, now: float) -> Issued:
            found = self._usable(repo, serial, now, lock=True)
            if isinstance(found, ReturnCode):
                return Issued(found, found.message)
            token, suite = found
            fresh = (ocra.new_challenge(suite) for _ in count())
            return self._issue(repo, caller, token, fresh, LOGIN, now)

        return self._audited(caller, serial, decide, code_of=_code, wrap=_issued)

    def get_sign_challenge(
        self, caller: Caller, serial: str | None, amount: str | None, payee: str | None
    ) -> Issued:
        amount_text, payee_text = canonical_amount(amount), canonical_payee(payee)

        def decide(repo: ChallengeRepository, now: float) -> Issued:
            found = self._usable(repo, serial, now, lock=True)
            if isinstance(found, ReturnCode):
                return Issued(found, found.message)
            if amount_text is None or payee_text is None:
                return Issued(codes.REJECTED, codes.REJECTED.message)
            token, suite = found
            before = repo.sign_challenges_issued(token.state.id)
            derived = (sign_challenge(suite, amount_text, payee_text, n) for n in count(before))
            return self._issue(repo, caller, token, derived, SIGN, now)

        return self._audited(caller, serial, decide, code_of=_code, wrap=_issued)

    def verify_response(
        self, caller: Caller, serial: str | None, challenge: str | None, answer: str | None
    ) -> ReturnCode:
        def decide(repo: ChallengeRepository, now: float) -> ReturnCode:
            found = self._usable(repo, serial, now, lock=False)
            if isinstance(found, ReturnCode):
                return found
            token, suite = found
            assert serial is not None  # (a token was found by it)
            # keyed as AuthToken's: the account the token is bound to, else its serial
            if self._over_account_limit(caller, token.state.account or serial):
                return codes.REJECTED
            state = token.state
            if state.locked:  # usable: its cool-down has passed
                repo.unlock([state.id])
            accepted = self._accept(repo, caller, token, suite, challenge or "", answer or "", now)
            if accepted:
                if state.failures and not suite.counter:  # (accept_step cleared them)
                    repo.reset_failures([state.id])
                return codes.OK
            policy = self._policy
            repo.record_failure([state.id], policy.lockout_threshold, now)
            return codes.REJECTED

        return self._audited(caller, serial, decide, code_of=_same, wrap=_same)

    # -- the rules ---------------------------------------------------------------------------

    def _usable(
        self, repo: ChallengeRepository, serial: str | None, now: float, lock: bool
    ) -> tuple[OcraToken, ocra.Suite] | ReturnCode:
        """The token and its suite, or the answer: 3001 no OCRA token of that serial; 9999 lost,
        disabled, pending or locked (as AuthToken answers), or a suite gspws cannot serve
        (session information ``S``, or ``P`` without a provisioned PIN)."""
        token = repo.ocra_token(serial, lock=lock) if serial else None
        if token is None:
            return codes.NO_ACTIVE_TOKEN
        if not token.state.in_use:
            return codes.REJECTED
        try:
            suite = ocra.parse_suite(token.suite)
        except ValueError:
            log.warning("token %s has an unsupported OCRA suite", token.state.serial)
            return codes.REJECTED
        if suite.session is not None or (suite.pin is not None and token.pin is None):
            log.warning("token %s: its suite needs an input gspws does not hold", serial)
            return codes.REJECTED
        if not token.state.usable(now, self._policy.lockout_cooldown):
            return codes.REJECTED
        return token, suite

    def _issue(
        self,
        repo: ChallengeRepository,
        caller: Caller,
        token: OcraToken,
        candidates: Iterator[str],
        purpose: str,
        now: float,
    ) -> Issued:
        """Stores the first of ``candidates`` never issued to the token before (a response to an
        earlier challenge is then never the response to a new one); the caller holds the token's
        row lock, so concurrent issues are decided in turn. 9999 when ``_TRIES`` candidates were
        all taken (a short challenge format, worn out)."""
        for challenge in islice(candidates, _TRIES):
            if not repo.challenge_known(token.state.id, challenge):
                expires_at = now + self.challenge.ttl
                repo.issue_challenge(
                    NewChallenge(
                        token.state.id, challenge, purpose, caller.service_id, now, expires_at
                    )
                )
                return Issued(codes.OK, challenge)
        log.warning("token %s: no fresh challenge in %d tries", token.state.serial, _TRIES)
        return Issued(codes.REJECTED, codes.REJECTED.message)

    def _accept(
        self,
        repo: ChallengeRepository,
        caller: Caller,
        token: OcraToken,
        suite: ocra.Suite,
        challenge: str,
        answer: str,
        now: float,
    ) -> bool:
        """Whether ``answer`` answers ``challenge``, issued to this token for this caller, and
        this call is the one that spends it."""
        state = token.state
        issued = repo.issued_challenge(state.id, challenge, caller.service_id)
        if issued is None or issued.used or issued.expires_at <= now:
            return False
        next_counter = 0 if state.last_step is None else state.last_step + 1
        factor = ocra.matching_factor(
            suite,
            token.key,
            challenge,
            answer,
            pin=token.pin,
            next_counter=next_counter,
            counter_window=self._policy.hotp_window,
            now=now,
            time_window=self._policy.window,
        )
        if factor is None or not repo.use_challenge(issued.id, now):
            return False
        return not suite.counter or repo.accept_step(state.id, factor)


def _same(outcome: ReturnCode) -> ReturnCode:
    return outcome


def _code(issued: Issued) -> ReturnCode:
    return issued.code


def _issued(code: ReturnCode) -> Issued:
    return Issued(code, code.message)
