"""OTP.asmx's code operations (seed 003, FTsafe's ``auth``/``authToken``/``sync``/``syncToken``):
a code of any usable TOTP or HOTP token, app or hardware, by account or by serial.

They are :class:`~gspws.core.codecheck.CodeChecks`, as VerifyTOTPCode is: the same access decision,
account rate limit, lockout (a failure counts against every usable token of the account, or the
one token named by serial), single use by one conditional UPDATE, and audit row. What they add:

* ``password`` = [PIN +] code: a token with a PIN (``tokens.pin_hash``) needs it typed before its
  code (also by serial); a token without one takes the code alone. The PIN's argon2 hash is
  checked before the writing transaction (it takes tens of milliseconds), for every token that
  has one whatever the code, so the time taken does not tell whether the code was right.
* 13 (需要同步) when no token accepts the code but one's sync window holds it: the token is
  the person's but has drifted (a clock) or run ahead (button presses); it counts as a failure.
* ``Sync``: two consecutive codes inside the sync window move a TOTP token's ``drift`` (its
  window is centred there from then on) or an HOTP token's counter, to the second code's step:
  single use as any code. Sync does not sign anyone in and takes no PIN (FTsafe's does not).
* By serial: unassigned tokens too; a lost (掛失), disabled or pending token answers 9999, an
  unknown serial 3001.
"""

from collections.abc import Callable
from typing import Any, Protocol

from gspws.core import codes, names
from gspws.core.codecheck import CodeChecks, Judge
from gspws.core.codes import ReturnCode
from gspws.core.hotp import HOTP, consecutive
from gspws.core.otp import match_in
from gspws.core.pin import Passwords
from gspws.core.verify import (
    Attempt,
    Caller,
    Policy,
    TokenState,
    VerifyRepository,
    attempt_of,
    plan,
)

Reader = Callable[["TokenAuthRepository"], list[TokenState]]


class TokenAuthRepository(VerifyRepository, Protocol):
    def code_tokens(self, account: str) -> list[TokenState]: ...
    def serial_tokens(self, serial: str) -> list[TokenState]: ...


def typed_codes(
    tokens: list[TokenState], password: str | None, passwords: Passwords
) -> dict[int, str | None]:
    """Each token's code in ``password``: the whole of it, or for a token with a PIN what follows
    the PIN (None when the PIN is wrong). Every PIN hash is checked, whatever the password."""
    typed: dict[int, str | None] = {}
    password = password or ""
    for token in tokens:
        if token.pin_hash is None:
            typed[token.id] = password
            continue
        digits = token.params.digits
        pin, code = password[:-digits], password[-digits:]
        # a password too short to hold a PIN is checked against the hash all the same
        right = passwords.matches(token.pin_hash, pin or "-") and len(password) > digits
        typed[token.id] = code if right else None
    return typed


def needs_sync(
    tokens: list[TokenState], typed: dict[int, str | None], now: float, policy: Policy
) -> bool:
    """Whether a usable token's sync window (but not its normal one, which was tried) holds its
    code, later than its last accepted one."""
    found = False
    for token in tokens:
        code = typed.get(token.id)
        if not code or not token.usable(now, policy.lockout_cooldown):
            continue
        latest = token.kind != HOTP
        step = match_in(token.params, code, token.window(now, policy, sync=True), latest)
        if step is not None and (token.last_step is None or step > token.last_step):
            found = True
    return found


class TokenAuth(CodeChecks[TokenAuthRepository]):
    """Auth, AuthToken, Sync, SyncToken (gspws.soap.otp); ``passwords`` checks PINs."""

    def __init__(self, *args: Any, passwords: Passwords, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._passwords = passwords

    def auth(self, caller: Caller, account: str | None, password: str | None) -> ReturnCode:
        name = names.lookup(account)
        return self._authenticate(caller, account, _by_account(name), password)

    def auth_token(self, caller: Caller, serial: str | None, otp: str | None) -> ReturnCode:
        return self._authenticate(caller, serial, _by_serial(serial), otp)

    def sync(
        self, caller: Caller, account: str | None, first: str | None, second: str | None
    ) -> ReturnCode:
        return self._sync(caller, account, _by_account(names.lookup(account)), first, second)

    def sync_token(
        self, caller: Caller, serial: str | None, first: str | None, second: str | None
    ) -> ReturnCode:
        return self._sync(caller, serial, _by_serial(serial), first, second)

    def _authenticate(
        self, caller: Caller, named: str | None, read: Reader, password: str | None
    ) -> ReturnCode:
        typed: dict[int, str | None] = {}

        def check_pins(tokens: list[TokenState]) -> None:
            typed.update(typed_codes(tokens, password, self._passwords))

        def judge(tokens: list[TokenState], now: float) -> tuple[Attempt | None, ReturnCode]:
            if not all(t.in_use for t in tokens):
                return None, codes.REJECTED
            attempt = plan(tokens, typed, now, self._policy)
            if attempt is None or attempt.candidates:
                return attempt, codes.REJECTED
            return attempt, (
                codes.NEEDS_SYNC if needs_sync(tokens, typed, now, self._policy) else codes.REJECTED
            )

        return self._check_code(caller, named, read, judge, _limit_of(named), before=check_pins)

    def _sync(
        self,
        caller: Caller,
        named: str | None,
        read: Reader,
        first: str | None,
        second: str | None,
    ) -> ReturnCode:
        judge = sync_judge(self._policy, first, second)
        return self._check_code(caller, named, read, judge, _limit_of(named))


def sync_judge(policy: Policy, first: str | None, second: str | None) -> Judge:
    """The Sync rule (OTP.asmx Sync, SyncToken; the portal's sync and hardware binding): two
    consecutive codes inside a usable token's sync window, later than its last accepted one,
    move that token to the second code's step (a TOTP token's drift with it)."""

    def judge(tokens: list[TokenState], now: float) -> tuple[Attempt | None, ReturnCode]:
        if not all(t.in_use for t in tokens):
            return None, codes.REJECTED
        usable = [t for t in tokens if t.usable(now, policy.lockout_cooldown)]
        if not usable:
            return None, codes.REJECTED
        found: tuple[TokenState, int] | None = None
        for token in usable:  # every usable token's window is searched
            window = token.window(now, policy, sync=True)
            step = consecutive(token.params, first or "", second or "", window)
            later = step is not None and (token.last_step is None or step > token.last_step)
            if step is not None and later and found is None:
                found = token, step + 1
        if found is None:
            return attempt_of(tokens, usable, [], now, policy), codes.REJECTED
        token, step = found
        drift = None if token.kind == HOTP else step - token.params.step_at(now)
        candidates = [(token.id, step)]
        return attempt_of(tokens, usable, candidates, now, policy, drift), codes.REJECTED

    return judge


def _by_account(name: str | None) -> Reader:
    return lambda repo: repo.code_tokens(name) if name else []


def _by_serial(serial: str | None) -> Reader:
    return lambda repo: repo.serial_tokens(serial) if serial else []


def _limit_of(named: str | None) -> Callable[[list[TokenState]], str | None]:
    """The account rate limit's key: the account the tokens are bound to (so Auth and AuthToken
    share it), else what the caller named (an unassigned token's serial)."""
    return lambda tokens: tokens[0].account or named
