"""The operations that check a one-time code against stored tokens, in one shape: VerifyTOTPCode
(:class:`TotpVerifier`) and OTP.asmx's Auth, AuthToken, Sync, SyncToken
(gspws.core.tokenauth). Lockout, the account rate limit, single use and the audit row are the
same for all of them because they are written once, here and in gspws.core.verify.
"""

import time
from collections.abc import Callable

from gspws.core import codes, names
from gspws.core.codes import ReturnCode
from gspws.core.verify import (
    Attempt,
    AuditedCalls,
    AuditEntry,
    Caller,
    Calling,
    R,
    TokenState,
    VerifyRepository,
    plan,
)

Judge = Callable[[list[TokenState], float], tuple[Attempt | None, ReturnCode]]
"""What a code does to the tokens read, now: the attempt to settle (None: nothing usable), and
the code answered when no token accepts it (9999, or 13 where the code needs sync)."""


class CodeChecks(AuditedCalls[R]):
    """The operations that check a one-time code against stored tokens (VerifyTOTPCode, and
    OTP.asmx's Auth, AuthToken, Sync, SyncToken in gspws.core.tokenauth): one shape, so lockout,
    the account rate limit, single use and the audit row are the same for all of them."""

    def _check_code(
        self,
        caller: Calling,
        audited_as: str | None,
        read: Callable[[R], list[TokenState]],
        judge: Judge,
        limit: Callable[[list[TokenState]], str | None],
        before: Callable[[list[TokenState]], None] | None = None,
    ) -> ReturnCode:
        """``read(repo)`` the tokens, ``judge`` the code, settle the attempt and audit it (as
        ``audited_as``) in one go (see VerifyRepository.settle). 3001 when nothing is read; 9999
        unchecked when the account ``limit(tokens)`` names is over its rate limit.

        With a separate ``reading`` unit (SQLite), or ``before`` (slow work such as PIN hashes),
        tokens are read and the code judged (the HMACs of its windows) before the writing
        transaction, which on SQLite holds the database's write lock; elsewhere (PostgreSQL
        locks rows, not the database) one transaction does both. Either way the conditional
        updates keep a code single-use however stale the read is when they run."""
        started = time.perf_counter()
        judged: ReturnCode | tuple[Attempt, ReturnCode] | None = None
        written = False

        def evaluate(
            tokens: list[TokenState], now: float
        ) -> ReturnCode | tuple[Attempt, ReturnCode]:
            """The answer, or the attempt to settle and the answer should no token accept."""
            if not tokens:
                return codes.NO_ACTIVE_TOKEN
            key = limit(tokens)
            if key is not None and self._over_account_limit(caller, key):
                return codes.REJECTED
            attempt, rejected = judge(tokens, now)
            return codes.REJECTED if attempt is None else (attempt, rejected)

        def prepare(now: float) -> None:
            nonlocal judged
            with (self._reading or self._unit_of_work)() as repo:
                tokens = read(repo)
            if before is not None:
                before(tokens)
            judged = evaluate(tokens, now)

        def decide(repo: R, now: float) -> ReturnCode:
            nonlocal written
            outcome = judged if judged is not None else evaluate(read(repo), now)
            if isinstance(outcome, ReturnCode):
                return outcome
            attempt, rejected = outcome
            entry = AuditEntry(
                caller,
                audited_as,
                now,
                (time.perf_counter() - started) * 1000,
                accepted=codes.OK,
                rejected=rejected,
            )
            settled = repo.settle(attempt, entry)
            written = settled.audited
            return codes.OK if settled.accepted is not None else rejected

        return self._audited(
            caller,
            audited_as,
            decide,
            code_of=_same,
            wrap=_same,
            prepare_at=prepare if self._reading or before else None,
            audited=lambda: written,
        )


class TotpVerifier(CodeChecks[VerifyRepository]):
    def verify(self, caller: Caller, account: str | None, code: str | None) -> ReturnCode:
        """Any time-based token of the account (app or hardware), in its drift-centred window;
        a code needing sync is only 9999 here (VerifyTOTPCode's contract has no 13)."""
        name = names.lookup(account)  # None: no account can be called that (3001)

        def judge(tokens: list[TokenState], now: float) -> tuple[Attempt | None, ReturnCode]:
            return plan(tokens, code, now, self._policy), codes.REJECTED

        return self._check_code(
            caller,
            account,
            read=lambda repo: repo.verifiable_tokens(name) if name else [],
            judge=judge,
            limit=lambda tokens: name,
        )


def _same(outcome: ReturnCode) -> ReturnCode:
    return outcome
