"""`gspws keys rotate` re-encrypts the bodies of queued outbox messages with the token secrets:
after the rotation has retired the old key, a message queued before it still reaches the gateway
(a loopback Mitake peer, through the real sender). SQLite and PostgreSQL."""

import time

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update
from test_end_to_end import deliver
from test_sender import ACCEPTED, enqueue

from gspws.store import migrate
from gspws.store.models import OutboxMessage
from gspws.store.secrets import read_key_file
from gspws.wsgi import build_store

from helpers import GSPWS, REPO, gspws_env, make_settings, run_gspws

OUTBOX = OutboxMessage.__table__


def bodies(engine) -> dict[int, bytes]:
    with engine.connect() as conn:
        query = select(OUTBOX.c.id, OUTBOX.c.body_encrypted)
        return {row.id: bytes(row.body_encrypted) for row in conn.execute(query)}


def test_a_queued_message_is_delivered_after_the_old_key_is_retired(tmp_path, database_url, peer):
    settings = make_settings(tmp_path, database_url, secret_key="")  # key-file mode
    before = build_store(settings)
    migrate.upgrade(before.engine)
    now = time.time()
    queued = enqueue(before, "816276", now)
    sent = enqueue(before, "111111", now)
    expired = enqueue(before, "222222", now - 600)
    with before.engine.begin() as conn:
        conn.execute(update(OUTBOX).where(OUTBOX.c.id == sent).values(status="sent"))
    [old] = read_key_file(settings.effective_key_file, create=False)
    before.engine.dispose()

    env = gspws_env(tmp_path, "", GSPWS_DATABASE_URL=database_url)
    done = run_gspws(
        [GSPWS, "keys", "rotate"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "messages:      1 (queued in the outbox)" in done.stdout
    [new] = read_key_file(settings.effective_key_file, create=False)
    assert new != old
    stored = bodies(build_store(settings).engine)
    assert Fernet(new).decrypt(stored[queued]).decode().count("816276") == 1
    for left in (sent, expired):  # nothing will read these again: left under the old key
        assert Fernet(old).decrypt(stored[left])

    after = build_store(settings)  # reads the key file: the new key alone
    try:
        Fernet(new).decrypt(stored[sent])
        raise AssertionError("a sent message's body was re-encrypted")
    except InvalidToken:
        pass
    peer.script = [(200, ACCEPTED.format("0355319484"))]
    settings_with_peer = make_settings(
        tmp_path, database_url, secret_key="", sms_gateway=f"mitake:{peer.url}"
    )
    deliver(after, settings_with_peer, at=now + 1)
    assert "816276" in peer.form(0)["smbody"] and len(peer.requests) == 1
    with after.engine.connect() as conn:
        status = conn.scalar(select(OUTBOX.c.status).where(OUTBOX.c.id == queued))
    assert status == "sent"
    after.engine.dispose()
