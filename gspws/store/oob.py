"""Out-of-band codes and their outgoing messages (MobileOTP.asmx, the binding page's checks of a
new mobile number or e-mail address): the statements, next to the tables they touch.

A code and the message that carries it are written in the caller's one transaction (the outbox
pattern): both are committed or neither is, so a worker killed after the commit loses nothing
(the sender, gspws.delivery, finds the message) and a rolled-back code is never sent.
"""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from gspws.core.oob import Destinations, Message, PendingCode
from gspws.store.models import Account, OtpCode, OutboxMessage
from gspws.store.secrets import SecretBox
from gspws.store.verification import utc


def queue_message(
    session: Session,
    secrets: SecretBox,
    *,
    channel: str,
    destination: str,
    subject: str | None,
    body: str,
    not_after: float,
    now: float,
) -> int:
    """Add a pending message to the outbox inside ``session``'s transaction; its id. The body is
    encrypted (it holds the code); nothing is delivered after ``not_after`` (the code's expiry)."""
    return session.execute(
        insert(OutboxMessage)
        .values(
            channel=channel,
            destination=destination,
            subject=subject,
            body_encrypted=secrets.encrypt(body),
            created_at=utc(now),
            not_after=utc(not_after),
            status="pending",
            attempts=0,
            next_attempt_at=utc(now),
        )
        .returning(OutboxMessage.id)
    ).scalar_one()


_HKDF_INFO = b"gspws out-of-band codes v1"


def code_key(encryption_key: bytes) -> bytes:
    """The key codes are hashed with (gspws.core.oob.CodeHasher): HKDF-SHA256 from the store's
    first encryption key, as the binding page's session key is, under its own label."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        encryption_key
    )


class OobQueries:
    """The statements of gspws.core.oob's OobRepository (mixed into the Repository)."""

    session: Session
    secrets: SecretBox

    def destinations(self, account: str, lock: bool = False) -> Destinations | None:
        """The account's destinations; ``lock`` takes its row lock (PostgreSQL; SQLite's
        writing transaction already holds the database), so sends for it are decided in turn."""
        query = select(
            Account.id,
            Account.mobile,
            Account.mobile_verified,
            Account.email,
            Account.email_verified,
        ).where(Account.account == account)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return Destinations(*row) if row else None

    def sends_since(self, account_id: int, since: float) -> list[float]:
        return [
            at.timestamp()
            for at in self.session.scalars(
                select(OtpCode.created_at).where(
                    OtpCode.account_id == account_id, OtpCode.created_at > utc(since)
                )
            )
        ]

    def issue_code(
        self,
        account_id: int,
        purpose: str,
        channel: str,
        destination: str,
        code_hash: str,
        now: float,
        expires_at: float,
        message: Message,
    ) -> None:
        """Supersede the account's live codes of ``purpose``, store the new one and queue its
        message: all in the caller's transaction."""
        self.session.execute(
            update(OtpCode)
            .where(
                OtpCode.account_id == account_id,
                OtpCode.purpose == purpose,
                OtpCode.used_at.is_(None),
                OtpCode.superseded_at.is_(None),
            )
            .values(superseded_at=utc(now))
        )
        self.session.execute(
            insert(OtpCode).values(
                account_id=account_id,
                purpose=purpose,
                channel=channel,
                destination=destination,
                code_hash=code_hash,
                created_at=utc(now),
                expires_at=utc(expires_at),
                attempts=0,
            )
        )
        self.queue(message, now)

    def queue(self, message: Message, now: float) -> None:
        """Put ``message`` in the outbox, in this transaction (also offline distribution's sheet,
        gspws.core.activation)."""
        queue_message(
            self.session,
            self.secrets,
            channel=message.channel,
            destination=message.destination,
            subject=message.subject,
            body=message.body,
            not_after=message.not_after,
            now=now,
        )

    def pending_code(self, account_id: int, purpose: str) -> PendingCode | None:
        """The newest code of ``purpose`` that no later send superseded."""
        row = self.session.execute(
            select(
                OtpCode.id,
                OtpCode.code_hash,
                OtpCode.expires_at,
                OtpCode.attempts,
                OtpCode.used_at,
                OtpCode.destination,
            )
            .where(
                OtpCode.account_id == account_id,
                OtpCode.purpose == purpose,
                OtpCode.superseded_at.is_(None),
            )
            .order_by(OtpCode.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
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
        result = self.session.execute(
            update(OtpCode)
            .where(
                OtpCode.id == code_id,
                OtpCode.used_at.is_(None),
                OtpCode.superseded_at.is_(None),
                OtpCode.expires_at > utc(now),
                OtpCode.attempts < attempts,
            )
            .values(used_at=utc(now))
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def fail_code(self, code_id: int) -> None:
        self.session.execute(
            update(OtpCode).where(OtpCode.id == code_id).values(attempts=OtpCode.attempts + 1)
        )

    def verify_destination(self, account_id: int, channel: str, destination: str) -> None:
        """The account's mobile number (``sms``) or e-mail address is now ``destination``,
        verified (a code sent there was typed back)."""
        values = (
            {"mobile": destination, "mobile_verified": True}
            if channel == "sms"
            else {"email": destination, "email_verified": True}
        )
        self.session.execute(update(Account).where(Account.id == account_id).values(**values))

    def set_destinations(
        self, account: Account, mobile: str | None, email: str | None, verified: bool
    ) -> None:
        """Set the account's mobile number and/or e-mail address (None: unchanged)."""
        if mobile is not None:
            account.mobile, account.mobile_verified = mobile, verified
        if email is not None:
            account.email, account.email_verified = email, verified
