"""The outbox's store side: a message is written in the caller's transaction, encrypted."""

from sqlalchemy import select

from gspws.store.models import OutboxMessage
from gspws.store.oob import queue_message

NOW = 1_800_000_000.0


def _queue(repo, body="您的驗證碼 123456") -> int:
    return queue_message(repo.session, repo.secrets, channel="sms", destination="0912345678",
                         subject=None, body=body, not_after=NOW + 300, now=NOW)


def test_queued_message_is_pending_and_encrypted(store):
    with store.unit() as repo:
        message_id = _queue(repo)
    with store.reading() as repo:
        row = repo.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))
        assert (row.status, row.channel, row.destination, row.attempts) == (
            "pending", "sms", "0912345678", 0)
        assert b"123456" not in row.body_encrypted
        assert repo.secrets.decrypt(row.body_encrypted) == "您的驗證碼 123456"
        assert row.not_after.timestamp() == NOW + 300


def test_message_rolls_back_with_its_transaction(store):
    class Abandon(Exception):
        pass

    try:
        with store.unit() as repo:
            _queue(repo)
            raise Abandon
    except Abandon:
        pass
    with store.reading() as repo:
        assert repo.session.scalars(select(OutboxMessage)).all() == []
