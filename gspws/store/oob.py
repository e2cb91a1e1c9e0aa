"""Out-of-band codes and their outgoing messages (MobileOTP.asmx, the binding page's checks of a
new mobile number or e-mail address): the statements, next to the tables they touch.

A code and the message that carries it are written in the caller's one transaction (the outbox
pattern): both are committed or neither is, so a worker killed after the commit loses nothing
(the sender, gspws.delivery, finds the message) and a rolled-back code is never sent.

The statements are Core, built once at import and run by a
:class:`~gspws.store.prepared.StatementRunner`, as VerifyTOTPCode's are (gspws.store.verification):
inside an ORM session for the CLI (:class:`~gspws.store.repo.Repository`), and compiled once and
sent on the DBAPI cursor for the SOAP calls (:class:`OobStatements`, ``Store.oob``), where
building and executing them through SQLAlchemy was most of a call's CPU time.
"""

from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from gspws.core.oob import Destinations, IssuedCode, Message, PendingCode
from gspws.store.models import Account, OtpCode, OutboxMessage
from gspws.store.prepared import StatementRunner
from gspws.store.secrets import SecretBox
from gspws.store.verification import VerifyQueries, utc

_ACCOUNTS = Account.__table__.c
_CODES = OtpCode.__table__
_OUTBOX = OutboxMessage.__table__


def _outbox_row(
    secrets: SecretBox,
    *,
    channel: str,
    destination: str,
    subject: str | None,
    body: str,
    not_after: float,
    now: float,
) -> dict[str, Any]:
    """A pending message's row. The body is encrypted (it holds the code); nothing is delivered
    after ``not_after`` (the code's expiry)."""
    return {
        "channel": channel,
        "destination": destination,
        "subject": subject,
        "body_encrypted": secrets.encrypt(body),
        "created_at": utc(now),
        "not_after": utc(not_after),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": utc(now),
    }


def queue_message(session: Session, secrets: SecretBox, **message: Any) -> int:
    """Add a pending message to the outbox inside ``session``'s transaction; its id."""
    row = _outbox_row(secrets, **message)
    return session.execute(
        insert(OutboxMessage).values(row).returning(OutboxMessage.id)
    ).scalar_one()


_HKDF_INFO = b"gspws out-of-band codes v1"


def code_key(encryption_key: bytes) -> bytes:
    """The key codes are hashed with (gspws.core.oob.CodeHasher): HKDF-SHA256 from the store's
    first encryption key, as the binding page's session key is, under its own label."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        encryption_key
    )


def _binds(*columns: str) -> dict[str, Any]:
    return {column: bindparam(column) for column in columns}


_DESTINATIONS = select(
    _ACCOUNTS.id,
    _ACCOUNTS.mobile,
    _ACCOUNTS.mobile_verified,
    _ACCOUNTS.email,
    _ACCOUNTS.email_verified,
).where(_ACCOUNTS.account == bindparam("account"))
_DESTINATIONS_LOCKED = _DESTINATIONS.with_for_update()
_SENDS_SINCE = select(_CODES.c.created_at).where(
    _CODES.c.account_id == bindparam("account_id"), _CODES.c.created_at > bindparam("since")
)
# (bind names other than the columns': SQLAlchemy reserves those in an UPDATE)
_OF_PURPOSE = (
    _CODES.c.account_id == bindparam("of_account"),
    _CODES.c.purpose == bindparam("of_purpose"),
    _CODES.c.superseded_at.is_(None),
)
_SUPERSEDE = (
    update(_CODES)
    .where(*_OF_PURPOSE, _CODES.c.used_at.is_(None))
    .values(superseded_at=bindparam("now"))
)
_ISSUE = (
    insert(_CODES)
    .inline()
    .values(
        _binds(
            "account_id",
            "purpose",
            "channel",
            "destination",
            "code_hash",
            "created_at",
            "expires_at",
            "attempts",
        )
    )
)
_QUEUE = (
    insert(_OUTBOX)
    .inline()
    .values(
        _binds(
            "channel",
            "destination",
            "subject",
            "body_encrypted",
            "created_at",
            "not_after",
            "status",
            "attempts",
            "next_attempt_at",
        )
    )
)
_PENDING = (
    select(
        _CODES.c.id,
        _CODES.c.code_hash,
        _CODES.c.expires_at,
        _CODES.c.attempts,
        _CODES.c.used_at,
        _CODES.c.destination,
    )
    .where(*_OF_PURPOSE)
    .order_by(_CODES.c.id.desc())
    .limit(1)
)
_CODE = _CODES.c.id == bindparam("code_id")
# Single use: of racing callers with the right code, exactly one changes the row (SQLite
# serialises writers; PostgreSQL re-checks the WHERE clause after the row lock).
_USE = (
    update(_CODES)
    .where(
        _CODE,
        _CODES.c.used_at.is_(None),
        _CODES.c.superseded_at.is_(None),
        _CODES.c.expires_at > bindparam("now"),
        _CODES.c.attempts < bindparam("max_attempts"),
    )
    .values(used_at=bindparam("now"))
)
_FAIL = update(_CODES).where(_CODE).values(attempts=_CODES.c.attempts + 1)
_VERIFY_MOBILE = (
    update(Account.__table__)
    .where(_ACCOUNTS.id == bindparam("account_id"))
    .values(mobile=bindparam("destination"), mobile_verified=True)
)
_VERIFY_EMAIL = (
    update(Account.__table__)
    .where(_ACCOUNTS.id == bindparam("account_id"))
    .values(email=bindparam("destination"), email_verified=True)
)


class OobQueries:
    """The statements of gspws.core.oob's OobRepository (mixed into the Repository and
    :class:`OobStatements`)."""

    _run: StatementRunner
    secrets: SecretBox
    session: Session  # the Repository's (set_destinations, for the CLI)

    def destinations(self, account: str, lock: bool = False) -> Destinations | None:
        """The account's destinations; ``lock`` takes its row lock (PostgreSQL; SQLite's
        writing transaction already holds the database), so sends for it are decided in turn."""
        rows = self._run.rows(_DESTINATIONS_LOCKED if lock else _DESTINATIONS, {"account": account})
        return Destinations(*rows[0]) if rows else None

    def sends_since(self, account_id: int, since: float) -> list[float]:
        rows = self._run.rows(_SENDS_SINCE, {"account_id": account_id, "since": utc(since)})
        return [row.created_at.timestamp() for row in rows]

    def issue_code(self, code: IssuedCode) -> None:
        """Supersede the account's live codes of its purpose, store the new one and queue its
        message: all in the caller's transaction."""
        at = utc(code.created_at)
        self._run.count(
            _SUPERSEDE, {"of_account": code.account_id, "of_purpose": code.purpose, "now": at}
        )
        self._run.count(
            _ISSUE,
            {
                "account_id": code.account_id,
                "purpose": code.purpose,
                "channel": code.channel,
                "destination": code.destination,
                "code_hash": code.code_hash,
                "created_at": at,
                "expires_at": utc(code.expires_at),
                "attempts": 0,
            },
        )
        self.queue(code.message, code.created_at)

    def queue(self, message: Message, now: float) -> None:
        """Put ``message`` in the outbox, in this transaction: a code's message, and offline
        distribution's activation sheet (gspws.core.activation), through the same statement."""
        self._run.count(
            _QUEUE,
            _outbox_row(
                self.secrets,
                channel=message.channel,
                destination=message.destination,
                subject=message.subject,
                body=message.body,
                not_after=message.not_after,
                now=now,
            ),
        )

    def pending_code(self, account_id: int, purpose: str) -> PendingCode | None:
        """The newest code of ``purpose`` that no later send superseded."""
        rows = self._run.rows(_PENDING, {"of_account": account_id, "of_purpose": purpose})
        if not rows:
            return None
        row = rows[0]
        return PendingCode(
            row.id,
            row.code_hash,
            row.expires_at.timestamp(),
            row.attempts,
            row.used_at is not None,
            row.destination,
        )

    def use_code(self, code_id: int, now: float, attempts: int) -> bool:
        """Use the code up: one conditional UPDATE, so of racing callers exactly one wins."""
        used = self._run.count(
            _USE, {"code_id": code_id, "now": utc(now), "max_attempts": attempts}
        )
        return used == 1

    def fail_code(self, code_id: int) -> None:
        self._run.count(_FAIL, {"code_id": code_id})

    def verify_destination(self, account_id: int, channel: str, destination: str) -> None:
        """The account's mobile number (``sms``) or e-mail address is now ``destination``,
        verified (a code sent there was typed back)."""
        statement = _VERIFY_MOBILE if channel == "sms" else _VERIFY_EMAIL
        self._run.count(statement, {"account_id": account_id, "destination": destination})

    def set_destinations(
        self, account: Account, mobile: str | None, email: str | None, verified: bool
    ) -> None:
        """Set the account's mobile number and/or e-mail address (None: unchanged)."""
        if mobile is not None:
            account.mobile, account.mobile_verified = mobile, verified
        if email is not None:
            account.email, account.email_verified = email, verified


class OobStatements(VerifyQueries, OobQueries):
    """MobileOTP.asmx's statements prepared on the DBAPI cursor (``Store.oob``): the audit row
    and the code's statements of one call, without the ORM."""
