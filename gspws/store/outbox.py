"""The outbox's queries for its sender and its operators (``gspws outbox``).

Every state change is one conditional UPDATE in a short transaction of its own (after the SQLite
writer queue, as every writer); an idle sender's look is a read, which takes no write lock. A
claim sets the lease and counts the attempt; an outcome is recorded only ``WHERE attempts = <the
claim's count>``, so a sender that lost its lease (say it was stopped in a debugger) cannot
overwrite what the next holder recorded.
"""

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, or_, select, update

from gspws.delivery.port import MAX_ERROR, Message
from gspws.delivery.sender import Claimed
from gspws.errors import GspwsError
from gspws.store.db import READ_ONLY, writer_turns
from gspws.store.models import OutboxMessage
from gspws.store.secrets import SecretBox, UnreadableSecret

STATUSES = ("pending", "sent", "failed", "expired")
_RACES = 10  # claims lost to other senders in a row before this look gives up until the next

T = OutboxMessage


class OutboxError(GspwsError):
    """An operator's request the outbox cannot do; the message is for a person."""


@dataclass(frozen=True)
class Entry:
    """What an operator sees of a message: never its text."""

    id: int
    channel: str
    destination: str
    status: str
    attempts: int
    created_at: datetime
    not_after: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    gateway_ref: str | None


def message_key(row_id: int, created_at: datetime, destination: str) -> str:
    """The message's stable key for gateways that drop repeats: its id and 20 hex digits of a
    hash of when and to whom it was made (unique across stores sharing one gateway account)."""
    digest = hashlib.sha256(f"{row_id}|{created_at.isoformat()}|{destination}".encode())
    return f"{row_id}-{digest.hexdigest()[:20]}"


def _due(now: datetime) -> ColumnElement[bool]:
    return (
        (T.status == "pending")
        & (T.next_attempt_at <= now)
        & (T.not_after > now)
        & or_(T.claimed_until.is_(None), T.claimed_until <= now)
    )


class Outbox:
    def __init__(self, engine: Engine, secrets: SecretBox) -> None:
        self.engine = engine
        self.secrets = secrets
        self._turn = writer_turns(engine)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._turn(), self.engine.begin() as conn:
            yield conn

    def _reading(self) -> AbstractContextManager[Connection]:
        return self.engine.connect().execution_options(**{READ_ONLY: True})

    # -- the sender (gspws.delivery.sender.Queue) ------------------------------------------------

    def claim_next(self, now: datetime, lease: datetime) -> Claimed | None:
        for _ in range(_RACES):
            with self._reading() as conn:
                row_id = conn.scalar(
                    select(T.id).where(_due(now)).order_by(T.next_attempt_at, T.id).limit(1)
                )
            if row_id is None:
                return None
            with self._writing() as conn:
                won = conn.execute(
                    update(T)
                    .where(T.id == row_id, _due(now))
                    .values(claimed_until=lease, attempts=T.attempts + 1)
                )
                if won.rowcount != 1:
                    continue  # another sender claimed it first
                row = conn.execute(select(T).where(T.id == row_id)).one()
                try:
                    text = self.secrets.decrypt(row.body_encrypted)
                except UnreadableSecret:
                    conn.execute(
                        update(T)
                        .where(T.id == row_id)
                        .values(
                            status="failed",
                            claimed_until=None,
                            last_error="the message cannot be decrypted with the configured keys",
                        )
                    )
                    continue
            message = Message(
                row.id,
                row.channel,
                row.destination,
                row.subject,
                text,
                row.not_after,
                message_key(row.id, row.created_at, row.destination),
            )
            return Claimed(message, row.attempts, lease)
        return None

    def _record(self, claimed: Claimed, **values: object) -> bool:
        with self._writing() as conn:
            done = conn.execute(
                update(T)
                .where(
                    T.id == claimed.message.id,
                    T.attempts == claimed.attempts,
                    T.status == "pending",
                )
                .values(claimed_until=None, **values)
            )
            return bool(done.rowcount == 1)

    def record_sent(self, claimed: Claimed, now: datetime, ref: str | None) -> None:
        self._record(
            claimed, status="sent", sent_at=now, gateway_ref=ref and ref[:100], last_error=None
        )

    def record_retry(self, claimed: Claimed, due: datetime, error: str) -> None:
        self._record(claimed, next_attempt_at=due, last_error=error[:MAX_ERROR])

    def record_final(self, claimed: Claimed, status: str, error: str) -> None:
        self._record(claimed, status=status, last_error=error[:MAX_ERROR])

    def expire(self, now: datetime) -> int:
        """Pending messages past their code's expiry become expired; how many."""
        past = (
            (T.status == "pending")
            & (T.not_after <= now)
            & or_(T.claimed_until.is_(None), T.claimed_until <= now)
        )
        with self._reading() as conn:
            if conn.scalar(select(T.id).where(past).limit(1)) is None:
                return 0
        with self._writing() as conn:
            done = conn.execute(update(T).where(past).values(status="expired", claimed_until=None))
            return int(done.rowcount)

    # -- operators (gspws outbox) ----------------------------------------------------------------

    def entries(self, status: str | None = None, limit: int = 100) -> list[Entry]:
        query = select(T).order_by(T.id.desc()).limit(limit)
        if status is not None:
            query = query.where(T.status == status)
        with self._reading() as conn:
            return [
                Entry(
                    r.id,
                    r.channel,
                    r.destination,
                    r.status,
                    r.attempts,
                    r.created_at,
                    r.not_after,
                    r.next_attempt_at,
                    r.sent_at,
                    r.last_error,
                    r.gateway_ref,
                )
                for r in conn.execute(query)
            ]

    def retry(self, row_id: int, now: datetime) -> None:
        """A failed or expired message whose code is still valid, pending again at once."""
        with self._writing() as conn:
            row = conn.execute(select(T.status, T.not_after).where(T.id == row_id)).first()
            if row is None:
                raise OutboxError(f"no outbox message {row_id}")
            if row.status not in ("failed", "expired"):
                raise OutboxError(
                    f"message {row_id} is {row.status}: only a failed or expired one can be retried"
                )
            if row.not_after <= now:
                raise OutboxError(
                    f"the code of message {row_id} expired at "
                    f"{row.not_after.isoformat()}: send a new code instead"
                )
            conn.execute(
                update(T)
                .where(T.id == row_id, T.status == row.status)
                .values(status="pending", next_attempt_at=now, claimed_until=None)
            )
