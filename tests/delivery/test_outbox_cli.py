"""``gspws outbox`` as an operator runs it (a process: tests/forked.py), on SQLite and
PostgreSQL."""

import json
import subprocess
import time

import pytest
from sqlalchemy import update

from gspws.store.models import OutboxMessage
from gspws.store.oob import queue_message

from helpers import GSPWS, gspws_env, run_gspws


@pytest.fixture
def gspws(settings, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        env = gspws_env(tmp_path, settings.secret_key, GSPWS_DB_TIMEOUT="10")
        return run_gspws(
            [GSPWS, "--database-url", settings.database_url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def message(store, status: str, ttl: float = 300, error: str | None = None) -> int:
    now = time.time()
    with store.unit() as repo:
        row_id = queue_message(
            repo.session,
            store.secrets,
            channel="sms",
            destination="0912345678",
            subject=None,
            body="您的驗證碼為 816276，5 分鐘內有效。",
            not_after=now + ttl,
            now=now - 1,
        )
        repo.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status=status, attempts=1, last_error=error)
        )
    return row_id


def status_of(store, row_id: int) -> str:
    with store.unit() as repo:
        return repo.session.get(OutboxMessage, row_id).status


def test_retry_puts_a_failed_message_back_while_its_code_is_valid(store, gspws):
    failed = message(store, "failed", error="mitake statuscode=e")
    expired = message(store, "expired")  # its backoff would have passed the expiry
    for row_id in (failed, expired):
        done = gspws("outbox", "retry", str(row_id))
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"message {row_id} is pending again\n"
        assert status_of(store, row_id) == "pending"


@pytest.mark.parametrize(
    "status, ttl, says",
    [
        ("pending", 300, "is pending: only a failed or expired one can be retried"),
        ("sent", 300, "is sent: only a failed or expired one can be retried"),
        ("failed", -10, "expired at"),
    ],
    ids=["pending", "sent", "code-expired"],
)
def test_retry_refuses(store, gspws, status, ttl, says):
    row_id = message(store, status, ttl=ttl)
    done = gspws("outbox", "retry", str(row_id))
    assert done.returncode == 1 and says in done.stderr
    assert status_of(store, row_id) == status


def test_retry_of_an_unknown_message(store, gspws):
    done = gspws("outbox", "retry", "999999")
    assert done.returncode == 1 and "no outbox message 999999" in done.stderr


def test_list_masks_destinations_and_never_shows_the_text(store, gspws):
    failed = message(store, "failed", error="mitake statuscode=e: 帳號、密碼錯誤")
    sent = message(store, "sent")
    table = gspws("outbox", "list")
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split() == [
        "ID",
        "CHANNEL",
        "TO",
        "STATUS",
        "ATTEMPTS",
        "CREATED_AT",
        "SENT_AT",
        "LAST_ERROR",
    ]
    assert [line.split()[:4] for line in lines] == [
        [str(sent), "sms", "0912***678", "sent"],
        [str(failed), "sms", "0912***678", "failed"],
    ]
    assert "帳號、密碼錯誤" in lines[1]
    listed = gspws("outbox", "list", "--status", "failed", "--json")
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["to"], row["status"], row["attempts"]) == (
        failed,
        "0912***678",
        "failed",
        1,
    )
    for output in (table.stdout, listed.stdout):
        assert "816276" not in output and "0912345678" not in output
