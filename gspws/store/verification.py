"""What a verification asks of the store, as statements built once at import.

Every SOAP call runs these, so they are plain Core statements with bound parameters, built once
(building them per call was over half of a call's CPU time) and run by a
:class:`~gspws.store.prepared.StatementRunner`.

The two updates that make verification safe with many workers on one database:

* :meth:`VerifyQueries.accept_step` moves ``last_step`` forward only if the new step is later, in a
  single conditional UPDATE; of several workers racing with the same code, exactly one sees
  ``rowcount == 1``. (SQLite serialises writers; PostgreSQL re-checks the WHERE clause after the
  row lock under READ COMMITTED.)
* :meth:`VerifyQueries.record_failure` increments the failure counter and locks in the same
  statement, so concurrent failures are all counted.
"""

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    Update,
    any_,
    bindparam,
    case,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from gspws.core.codes import ReturnCode
from gspws.core.otp import TotpParams
from gspws.core.verify import (
    Attempt,
    AuditEntry,
    Calling,
    Settlement,
    TokenState,
    settle_stepwise,
)
from gspws.store.models import Account, AuditEvent, Token, TokenStatus, TokenType, UTCDateTime
from gspws.store.prepared import AutocommitRunner, Statement, StatementRunner
from gspws.store.secrets import SecretBox

_TOKENS = Token.__table__.c
_ACCOUNTS = Account.__table__.c

#: Tokens that verify codes: active ones, and locked ones (which may cool down).
IN_USE = (TokenStatus.ACTIVE, TokenStatus.LOCKED)


#: The token types checked by code: VerifyTOTPCode's (and the binding's), and OTP.asmx's.
TIME_BASED = (TokenType.TOTP,)
CODE_BASED = (TokenType.TOTP, TokenType.HOTP)


def _token_states(
    which: ColumnElement[bool], types: tuple[TokenType, ...], in_use: bool = True
) -> Select[Any]:
    """Token rows with their account's name; ``in_use=False``: whatever their status (a token
    named by its serial, which may be unassigned: an outer join)."""
    joined = Token.__table__.join(
        Account.__table__, _ACCOUNTS.id == _TOKENS.account_id, isouter=not in_use
    )
    query = (
        select(
            _TOKENS.id,
            _TOKENS.serial,
            _TOKENS.type,
            _TOKENS.secret,
            _TOKENS.algorithm,
            _TOKENS.digits,
            _TOKENS.period,
            _TOKENS.status,
            _TOKENS.locked_at,
            _TOKENS.last_step,
            _TOKENS.failures,
            _TOKENS.drift,
            _TOKENS.pin_hash,
            _ACCOUNTS.account,
        )
        .select_from(joined)
        .where(which, or_(*(_TOKENS.type == kind for kind in types)))
        .order_by(_TOKENS.id)
    )
    if in_use:
        query = query.where(or_(*(_TOKENS.status == status for status in IN_USE)))
    return query


# Statements about several tokens run once per token (``executemany``): an ``IN`` list would be
# rendered anew for each call (see gspws.store.prepared).
_BY_ACCOUNT = _token_states(_ACCOUNTS.account == bindparam("account"), TIME_BASED)
_BY_ACCOUNT_ID = _token_states(_ACCOUNTS.id == bindparam("account_id"), TIME_BASED)
_CODE_TOKENS = _token_states(_ACCOUNTS.account == bindparam("account"), CODE_BASED)
_BY_SERIAL = _token_states(_TOKENS.serial == bindparam("serial"), CODE_BASED, in_use=False)
_TOKEN = _TOKENS.id == bindparam("token_id")

_UNLOCK = (
    update(Token.__table__)
    .where(_TOKEN, _TOKENS.status == TokenStatus.LOCKED)
    .values(status=TokenStatus.ACTIVE, failures=0, locked_at=None)
)


# The three rules below are each written once, for the tokens ``which`` selects: one token per
# statement (run once per token), or on PostgreSQL a list of them inside SETTLE.
def _accept_step(which: ColumnElement[bool]) -> Update:
    return (
        update(Token.__table__)
        .where(
            which,
            _TOKENS.status == TokenStatus.ACTIVE,
            _TOKENS.last_step.is_(None) | (_TOKENS.last_step < bindparam("step")),
        )
        .values(last_step=bindparam("step"), failures=0)
    )


def _reset_failures(which: ColumnElement[bool]) -> Update:
    # A success on one device clears the others' failures, but not a locked device's: binding a
    # new device to a locked account must not lift the lock (issue 17 item 12); only an
    # operator's unlock or the cool-down does.
    return (
        update(Token.__table__)
        .where(which, _TOKENS.failures > 0, _TOKENS.status == TokenStatus.ACTIVE)
        .values(failures=0)
    )


def _record_failure(which: ColumnElement[bool]) -> Update:
    reaches = _TOKENS.failures + 1 >= bindparam("threshold")
    return (
        update(Token.__table__)
        .where(which, _TOKENS.status == TokenStatus.ACTIVE)
        .values(
            failures=_TOKENS.failures + 1,
            status=case((reaches, TokenStatus.LOCKED.value), else_=_TOKENS.status),
            locked_at=case((reaches, bindparam("now", type_=UTCDateTime)), else_=_TOKENS.locked_at),
        )
    )


_ACCEPT_STEP = _accept_step(_TOKEN)
# Sync: the same single-use rule, moving a TOTP token's drift with its step.
_ACCEPT_SYNC = _accept_step(_TOKEN).values(drift=bindparam("drift"))
_RESET_FAILURES = _reset_failures(_TOKEN)
_RECORD_FAILURE = _record_failure(_TOKEN)
_AUDIT_COLUMNS = ("at", "service_id", "client_addr", "operation", "account", "code", "duration_ms")
# inline(): the new row's id is not needed, so PostgreSQL is not asked to return it.
_AUDIT = (
    insert(AuditEvent.__table__)
    .inline()
    .values({column: bindparam(column) for column in _AUDIT_COLUMNS})
)


def _settle_in_one_statement() -> Select[Any]:
    """PostgreSQL: an attempt with at most one candidate and nothing to unlock, and its audit
    row, as one statement (data-modifying CTEs); its one row says whether the code was accepted.

    The candidate's conditional UPDATE runs first; the failure counting runs only when it changed
    no row, and the clearing of the other tokens' failures only when it did (an uncorrelated
    EXISTS: evaluated once). No row is updated twice (``failing`` excludes the candidate), so
    the statement means what the step-by-step form does, and it commits alone (autocommit).
    """

    def listed(name: str) -> ColumnElement[bool]:
        return _TOKENS.id == any_(bindparam(name, type_=postgresql.ARRAY(Integer)))

    accepted = _accept_step(_TOKEN).returning(_TOKENS.id).cte("accepted")
    was_accepted = exists(select(accepted.c.id))
    reset = _reset_failures(listed("failing")).where(was_accepted).cte("reset")
    failed = _record_failure(listed("usable")).where(~was_accepted).cte("failed")
    row: dict[str, ColumnElement[Any]] = {
        column: bindparam(column, type_=AuditEvent.__table__.c[column].type)
        for column in _AUDIT_COLUMNS
    }
    row["code"] = case(
        (was_accepted, bindparam("accepted_code", type_=Integer)),
        else_=bindparam("rejected_code", type_=Integer),
    )
    audit = (
        insert(AuditEvent.__table__)
        .from_select(list(_AUDIT_COLUMNS), select(*(row[c] for c in _AUDIT_COLUMNS)))
        .cte("audit")
    )
    return select(was_accepted.label("accepted")).add_cte(reset, failed, audit)


SETTLE = _settle_in_one_statement()


#: Caller text is stored cut to its column's length: a caller cannot grow a row (a 59 KB account
#: is stored as its first 128 characters).
_SERVICE_ID_LENGTH = cast(String, AuditEvent.__table__.c.service_id.type).length
_ACCOUNT_LENGTH = cast(String, AuditEvent.__table__.c.account.type).length


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class VerifyQueries:
    """The reads and conditional updates of a verification, in one transaction.

    :class:`gspws.store.repo.Repository` inherits them, so the binding operations (DisableTOTP
    checks a code too) run the very same statements inside their ORM session; VerifyTOTPCode runs
    them prepared, on the DBAPI cursor (gspws.store.prepared).
    """

    def __init__(self, run: StatementRunner, secrets: SecretBox) -> None:
        self._run = run
        self.secrets = secrets

    def verifiable_tokens(self, account: str) -> list[TokenState]:
        return self._token_states(_BY_ACCOUNT, {"account": account})

    def device_tokens(self, account_id: int) -> list[TokenState]:
        return self._token_states(_BY_ACCOUNT_ID, {"account_id": account_id})

    def code_tokens(self, account: str) -> list[TokenState]:
        """The account's usable TOTP and HOTP tokens (OTP.asmx Auth, Sync)."""
        return self._token_states(_CODE_TOKENS, {"account": account})

    def serial_tokens(self, serial: str) -> list[TokenState]:
        """The TOTP or HOTP token of ``serial``, assigned or not, whatever its status (OTP.asmx
        AuthToken, SyncToken: a lost or disabled one is refused by the core)."""
        return self._token_states(_BY_SERIAL, {"serial": serial})

    def _token_states(self, statement: Statement, params: dict[str, Any]) -> list[TokenState]:
        return [
            TokenState(
                id=row.id,
                params=self.token_params(row),
                locked=row.status is TokenStatus.LOCKED,
                locked_at=row.locked_at.timestamp() if row.locked_at else None,
                last_step=row.last_step,
                failures=row.failures,
                serial=row.serial,
                kind=row.type.value,
                drift=row.drift,
                pin_hash=row.pin_hash,
                account=row.account,
                in_use=row.status in IN_USE,
            )
            for row in self._run.rows(statement, params)
        ]

    def token_params(self, token: Token | Row[Any]) -> TotpParams:
        """A token's (or token row's) parameters with its secret decrypted."""
        return TotpParams(
            self.secrets.decrypt(token.secret), token.algorithm, token.digits, token.period
        )

    def unlock(self, token_ids: list[int]) -> int:
        """Locked tokens of ``token_ids`` become active with no failures (the one unlocking rule,
        for the cool-down and for ``gspws token unlock``); returns how many were locked."""
        return self._run.count(_UNLOCK, [{"token_id": token_id} for token_id in token_ids])

    def accept_step(self, token_id: int, step: int, drift: int | None = None) -> bool:
        if drift is not None:
            values = {"token_id": token_id, "step": step, "drift": drift}
            return self._run.count(_ACCEPT_SYNC, values) == 1
        return self._run.count(_ACCEPT_STEP, {"token_id": token_id, "step": step}) == 1

    def reset_failures(self, token_ids: list[int]) -> None:
        self._run.count(_RESET_FAILURES, [{"token_id": token_id} for token_id in token_ids])

    def record_failure(self, token_ids: list[int], threshold: int, now: float) -> None:
        at = utc(now)
        self._run.count(
            _RECORD_FAILURE,
            [{"token_id": token_id, "threshold": threshold, "now": at} for token_id in token_ids],
        )

    def settle(self, attempt: Attempt, audit: AuditEntry | None) -> Settlement:
        return Settlement(settle_stepwise(self, attempt), audited=False)

    def audit(
        self,
        caller: Calling,
        account: str | None,
        outcome: ReturnCode,
        at: float,
        duration_ms: float,
    ) -> None:
        """One row per call, written in the call's transaction (on PostgreSQL, in SETTLE).

        Not batched: a batch kept in memory is lost when the worker dies, and a call answered
        without its row breaks "every call is audited". Measured in-process on SQLite, the
        insert costs ~0.1 ms of CPU a call (~940 against ~800 µs, A/B, same process); on
        PostgreSQL it adds no round trip."""
        self._run.count(
            _AUDIT, {**_audit_row(caller, account, at, duration_ms), "code": outcome.code}
        )


def _audit_row(
    caller: Calling, account: str | None, at: float, duration_ms: float
) -> dict[str, object]:
    """An audit row's values but its code."""
    return {
        "at": utc(at),
        "service_id": caller.service_id[:_SERVICE_ID_LENGTH] if caller.service_id else None,
        "client_addr": str(caller.address) if caller.address else None,
        "operation": caller.operation,
        "account": account[:_ACCOUNT_LENGTH] if account else None,
        "duration_ms": round(duration_ms, 3),
    }


class AutocommitQueries(VerifyQueries):
    """VerifyTOTPCode on PostgreSQL with psycopg 3, each statement committed on its own: the
    tokens are read (one round trip), then the attempt and the audit row are one statement
    (:data:`SETTLE`, one round trip) when the attempt has at most one candidate and nothing to
    unlock, which is every call but a code matching two devices at once, a cooled-down lock or a
    Sync (which moves the drift too). Those run step by step in one transaction with their audit
    row. Reading before writing is
    safe as on SQLite: the conditional updates keep a code single-use however stale the read.

    The audit row written by SETTLE holds the call's duration up to that statement, not its
    round trip."""

    def __init__(self, run: AutocommitRunner, secrets: SecretBox) -> None:
        super().__init__(run, secrets)
        self._autocommit = run

    def settle(self, attempt: Attempt, audit: AuditEntry | None) -> Settlement:
        if (
            audit is None
            or attempt.cooled
            or len(attempt.candidates) > 1
            or attempt.drift is not None
        ):
            with self._autocommit.transaction():
                accepted = settle_stepwise(self, attempt)
                if audit is not None:
                    self.audit(
                        audit.caller,
                        audit.account,
                        audit.accepted if accepted is not None else audit.rejected,
                        audit.at,
                        audit.duration_ms,
                    )
            return Settlement(accepted, audited=audit is not None)
        token_id, step = attempt.candidates[0] if attempt.candidates else (None, None)
        (row,) = self._run.rows(
            SETTLE,
            {
                **_audit_row(audit.caller, audit.account, audit.at, audit.duration_ms),
                "token_id": token_id,
                "step": step,
                "failing": [t for t in attempt.failing if t != token_id],
                "usable": list(attempt.usable),
                "threshold": attempt.threshold,
                "now": utc(attempt.now),
                "accepted_code": audit.accepted.code,
                "rejected_code": audit.rejected.code,
            },
        )
        return Settlement(token_id if row.accepted else None, audited=True)
