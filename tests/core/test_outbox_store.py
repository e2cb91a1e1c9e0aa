"""The outbox's store side: a message is written in the caller's transaction, encrypted."""

from sqlalchemy import select

from gspws.store.models import OutboxMessage
from gspws.store.oob import queue_message

NOW = 1_800_000_000.0


def _queue(repo, body="您的驗證碼 123456") -> int:
    return queue_message(
        repo.session,
        repo.secrets,
        channel="sms",
        destination="0912345678",
        subject=None,
        body=body,
        not_after=NOW + 300,
        now=NOW,
    )


def test_queued_message_is_pending_and_encrypted(store):
    with store.unit() as repo:
        message_id = _queue(repo)
    with store.reading() as repo:
        row = repo.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))
        assert (row.status, row.channel, row.destination, row.attempts) == (
            "pending",
            "sms",
            "0912345678",
            0,
        )
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


def test_a_code_is_used_once_and_a_new_one_supersedes_it(store, demo):
    """The conditional UPDATEs themselves: a second use of the same code, and a use of a
    superseded one, change nothing."""
    from gspws.core.oob import IssuedCode, Message

    def issue(code_hash: str) -> None:
        with store.unit() as repo:
            found = repo.destinations(demo.account, lock=True)
            repo.issue_code(
                IssuedCode(
                    found.account_id,
                    "login",
                    "sms",
                    "0912345678",
                    code_hash,
                    NOW,
                    NOW + 300,
                    Message("sms", "0912345678", None, "x", NOW + 300),
                )
            )

    issue("a" * 64)
    with store.unit() as repo:
        account_id = repo.destinations(demo.account).account_id
        first = repo.pending_code(account_id, "login")
        assert repo.use_code(first.id, NOW + 1, 5) and not repo.use_code(first.id, NOW + 2, 5)
    issue("b" * 64)
    issue("c" * 64)
    with store.unit() as repo:
        newest = repo.pending_code(account_id, "login")
        assert newest.code_hash == "c" * 64
        assert not repo.use_code(newest.id - 1, NOW + 3, 5)  # superseded
        assert not repo.use_code(newest.id, NOW + 300, 5)  # expired
        assert repo.use_code(newest.id, NOW + 299, 5)
