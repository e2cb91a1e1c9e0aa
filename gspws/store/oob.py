"""Out-of-band codes and their outgoing messages (MobileOTP.asmx, the binding page's checks of a
new mobile number or e-mail address): the statements, next to the tables they touch.

A code and the message that carries it are written in the caller's one transaction (the outbox
pattern): both are committed or neither is, so a worker killed after the commit loses nothing
(the sender, gspws.delivery, finds the message) and a rolled-back code is never sent.
"""

from sqlalchemy import insert
from sqlalchemy.orm import Session

from gspws.store.models import OutboxMessage
from gspws.store.secrets import SecretBox
from gspws.store.verification import utc


def queue_message(session: Session, secrets: SecretBox, *, channel: str, destination: str,
                  subject: str | None, body: str, not_after: float, now: float) -> int:
    """Add a pending message to the outbox inside ``session``'s transaction; its id. The body is
    encrypted (it holds the code); nothing is delivered after ``not_after`` (the code's expiry)."""
    return session.execute(insert(OutboxMessage).values(
        channel=channel, destination=destination, subject=subject,
        body_encrypted=secrets.encrypt(body), created_at=utc(now), not_after=utc(not_after),
        status="pending", attempts=0, next_attempt_at=utc(now)).returning(OutboxMessage.id)
    ).scalar_one()
