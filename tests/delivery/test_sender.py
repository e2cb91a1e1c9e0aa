"""The outbox sender on SQLite and PostgreSQL, against loopback gateways: a message committed to
the outbox reaches the Mitake peer or the SMTP server once, its outcome recorded (sent, retried
with backoff, expired, failed); a hung gateway is bounded by the timeout and retried; a sender
killed with SIGKILL mid-delivery loses nothing; two senders at once deliver each message once."""

import os
import random
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from delivery_peers import HANG
from sqlalchemy import select

from bench.processes import children
from gspws.core.clock import FixedClock
from gspws.delivery.gateways import by_channel
from gspws.delivery.sender import LEASE_MARGIN, LEASE_WAITS, Sender
from gspws.store.models import OutboxMessage
from gspws.store.oob import queue_message
from gspws.store.outbox import Outbox

from helpers import GSPWS, T0, ServerProcess, gspws_env

ACCEPTED = "[1]\r\nmsgid={}\r\nstatuscode=1\r\nAccountPoint=98\r\n"
TEXT = "您的驗證碼為 {}，5 分鐘內有效。"


def enqueue(
    store, code: str, at: float, channel: str = "sms", to: str = "0912345678", ttl: int = 300
) -> int:
    """A committed outbox row, as a use case writes it."""
    with store.unit() as repo:
        return queue_message(
            repo.session,
            store.secrets,
            channel=channel,
            destination=to,
            subject="驗證碼" if channel == "email" else None,
            body=TEXT.format(code),
            not_after=at + ttl,
            now=at,
        )


def rows(store) -> dict[int, OutboxMessage]:
    with store.unit() as repo:
        return {r.id: r for r in repo.session.scalars(select(OutboxMessage))}


def sender_for(store, settings, clock, timeout: float = 5.0) -> Sender:
    return Sender(
        Outbox(store.engine, store.secrets), by_channel(settings), clock, timeout, random.Random(1)
    )


@pytest.fixture
def mitake(settings, peer):
    import dataclasses

    return dataclasses.replace(
        settings, sms_gateway=f"mitake:{peer.url}", sms_username="acct", sms_password="pw"
    )


def test_an_sms_goes_out_once_and_is_recorded_sent(store, mitake, peer):
    peer.script = [(200, ACCEPTED.format("0355319484"))]
    row_id = enqueue(store, "816276", T0)
    clock = FixedClock(T0 + 1)
    sender = sender_for(store, mitake, clock)
    assert sender.run_once() == 1
    assert sender.run_once() == 0
    (request,) = peer.requests
    assert peer.form()["smbody"] == TEXT.format("816276")
    row = rows(store)[row_id]
    assert (row.status, row.attempts, row.gateway_ref, row.last_error) == (
        "sent",
        1,
        "0355319484",
        None,
    )
    assert row.sent_at == datetime.fromtimestamp(T0 + 1, UTC) and row.claimed_until is None


def test_a_refusal_to_retry_backs_off_then_delivers(store, mitake, peer):
    peer.script = [(200, "[1]\r\nstatuscode=a\r\n"), (200, ACCEPTED.format("77"))]
    row_id = enqueue(store, "816276", T0)
    clock = FixedClock(T0)
    sender = sender_for(store, mitake, clock)
    sender.run_once()
    row = rows(store)[row_id]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "mitake statuscode=a")
    waited = (row.next_attempt_at - datetime.fromtimestamp(T0, UTC)).total_seconds()
    assert 1.0 <= waited <= 2.0  # the first backoff: 2 s times 0.5-1.0
    assert sender.run_once() == 0  # not due yet
    clock.advance(2)
    assert sender.run_once() == 1
    assert rows(store)[row_id].status == "sent" and len(peer.requests) == 2
    assert peer.form(0)["clientid"] == peer.form(1)["clientid"]


def test_a_permanent_refusal_fails_without_the_code(store, mitake, peer):
    peer.script = [(200, "[1]\r\nstatuscode=e\r\nError=帳號、密碼錯誤\r\n")]
    row_id = enqueue(store, "816276", T0)
    sender_for(store, mitake, FixedClock(T0)).run_once()
    row = rows(store)[row_id]
    assert (row.status, row.last_error) == ("failed", "mitake statuscode=e: 帳號、密碼錯誤")


def test_a_hung_gateway_is_bounded_and_retried(store, mitake, peer):
    peer.script = [HANG, (200, ACCEPTED.format("78"))]
    row_id = enqueue(store, "816276", T0)
    clock = FixedClock(T0)
    sender = sender_for(store, mitake, clock, timeout=0.3)
    sender.run_once()
    row = rows(store)[row_id]
    assert (row.status, row.last_error) == ("pending", "mitake: ReadTimeout")
    clock.advance(2)
    sender.run_once()
    assert rows(store)[row_id].status == "sent"


def test_nothing_is_delivered_after_the_code_expires(store, mitake, peer):
    peer.script = [(200, "[1]\r\nstatuscode=r\r\n")]
    retried = enqueue(store, "111111", T0, ttl=2)  # the backoff would pass its expiry
    never = enqueue(store, "222222", T0 - 400)  # already past it when the sender looks
    sender_for(store, mitake, FixedClock(T0 + 1)).run_once()
    found = rows(store)
    assert (found[retried].status, found[retried].last_error) == ("expired", "mitake statuscode=r")
    assert found[never].status == "expired" and found[never].attempts == 0
    assert [peer.form()["smbody"]] == [TEXT.format("111111")]


def test_an_email_reaches_the_smtp_server(store, settings, inbox):
    import dataclasses

    mailing = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=inbox.port)
    row_id = enqueue(store, "816276", T0, channel="email", to="z@example.org")
    sender_for(store, mailing, FixedClock(T0)).run_once()
    ((rcpt, message),) = inbox.messages
    assert rcpt == ["z@example.org"] and message["Subject"] == "驗證碼"
    assert "816276" in message.get_content()
    assert rows(store)[row_id].gateway_ref == message["Message-ID"]


def _deliver_process(settings, tmp_path, *args: str, **env: str) -> subprocess.Popen:
    environ = gspws_env(tmp_path, settings.secret_key, GSPWS_DB_TIMEOUT="10", **env)
    return subprocess.Popen(
        [GSPWS, "--database-url", settings.database_url, "deliver", *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_sender_killed_mid_delivery_loses_nothing(store, mitake, peer, tmp_path):
    """kill -9 while the gateway holds the request: the message stays pending under the dead
    sender's lease; once the lease has passed, the next sender delivers it, once."""
    peer.script = [HANG, (200, ACCEPTED.format("79"))]
    now = time.time()
    row_id = enqueue(store, "816276", now)
    process = _deliver_process(
        mitake,
        tmp_path,
        GSPWS_SMS_GATEWAY=mitake.sms_gateway,
        GSPWS_SMS_USERNAME="acct",
        GSPWS_SMS_PASSWORD="pw",
        GSPWS_SMS_TIMEOUT="20",
    )
    try:
        peer.wait_for(1)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    held = rows(store)[row_id]
    assert (held.status, held.attempts) == ("pending", 1) and held.claimed_until is not None
    lease = held.claimed_until.timestamp()
    assert lease >= now + LEASE_WAITS * 20 + LEASE_MARGIN  # the dead sender's lease
    restarted = FixedClock(lease - 1)
    assert sender_for(store, mitake, restarted).run_once() == 0  # the lease still holds it
    restarted.advance(2)
    assert sender_for(store, mitake, restarted).run_once() == 1
    row = rows(store)[row_id]
    assert (row.status, row.attempts, row.gateway_ref) == ("sent", 2, "79")
    assert [f["smbody"] for f in map(peer.form, range(len(peer.requests)))] == [
        TEXT.format("816276")
    ] * 2  # the first was never answered: delivered once


def test_two_senders_at_once_deliver_each_message_once(store, mitake, peer, tmp_path):
    peer.script = [(200, ACCEPTED.format("80"))]
    now = time.time()
    ids = [enqueue(store, f"{n:06d}", now) for n in range(30)]
    env = {
        "GSPWS_SMS_GATEWAY": mitake.sms_gateway,
        "GSPWS_SMS_USERNAME": "acct",
        "GSPWS_SMS_PASSWORD": "pw",
    }
    senders = [
        _deliver_process(mitake, tmp_path, "--once", GSPWS_LOG_LEVEL="DEBUG", **env)
        for _ in range(2)
    ]
    logs = ""
    for process in senders:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        logs += err.decode()
    assert logs.count("(sms): sent") == 30 and "000001" not in logs  # no code in the logs
    bodies = sorted(peer.form(i)["smbody"] for i in range(len(peer.requests)))
    assert bodies == sorted(TEXT.format(f"{n:06d}") for n in range(30))
    assert {r.status for r in rows(store).values()} == {"sent"} and len(ids) == 30


def _wait(condition, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)


def test_gspws_serve_runs_one_sender_beside_its_workers(store, settings, tmp_path):
    spool = tmp_path / "spool"
    env = gspws_env(
        tmp_path,
        settings.secret_key,
        GSPWS_DELIVERY_SENDER="serve",
        GSPWS_SMS_GATEWAY=f"spool:{spool}",
        GSPWS_DELIVERY_POLL="0.1",
    )
    with ServerProcess(settings.database_url, env, tmp_path / "serve.log", workers=2) as server:
        senders = [
            pid
            for pid in children(server.proc.pid)
            if "deliver" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        ]
        assert len(senders) == 1
        row_id = enqueue(store, "816276", time.time())
        _wait(lambda: rows(store)[row_id].status == "sent")
    (written,) = spool.iterdir()
    assert "816276" in written.read_text(encoding="utf-8")
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert f"outbox message {row_id} (sms): sent" in log and "816276" not in log
    _wait(lambda: not Path(f"/proc/{senders[0]}").exists())  # stopped with the server
