"""Several nodes, one PostgreSQL: four `gspws serve` processes stand in for four machines behind a
load balancer. Replay protection, lockout and grant changes must hold across all of them.

The servers use the system clock; each round uses an account of its own, so every round starts
with an unused valid code whatever the time-step.
"""

import threading
import time

import pytest

from gspws.core import otp
from gspws.core.otp import TotpParams

from helpers import (
    GSPWS,
    SERVICE_ID,
    ServerProcess,
    add_token,
    envelope,
    gspws_env,
    post,
    run_gspws,
    soap_result,
    wrong_code,
)

NODES = 4
ROUNDS = 15


@pytest.fixture
def nodes(tmp_path, pg_url, store, demo, settings):
    """Four single-worker servers on one PostgreSQL database."""
    env = gspws_env(tmp_path, settings.secret_key)
    servers = [
        ServerProcess(pg_url, env, tmp_path / f"node{i}.log", workers=1) for i in range(NODES)
    ]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def database_url(pg_url):
    """These tests are about PostgreSQL, the multi-node store."""
    return pg_url


def _all_at_once(urls: list[str], body: bytes) -> list[int]:
    """POST ``body`` to every URL at the same instant; the Codes answered."""
    barrier, codes = threading.Barrier(len(urls)), []
    lock = threading.Lock()

    def fire(url):
        barrier.wait(timeout=30)
        code, _message = soap_result(post(url, body).content)
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=fire, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(codes)


def test_the_same_code_at_every_node_succeeds_once(nodes, store):
    urls = [node.url for node in nodes]
    params = [TotpParams(otp.new_secret()) for _ in range(ROUNDS)]
    for round_, p in enumerate(params):
        add_token(store, f"node-race-{round_}", p)
    for round_, p in enumerate(params):
        body = envelope(f"node-race-{round_}", p.code_at(time.time()))
        assert _all_at_once(urls, body) == [0] + [9999] * (NODES - 1), f"round {round_}"


def test_a_lockout_reached_through_one_node_holds_in_the_others(nodes, demo):
    first, *others = nodes
    for _ in range(5):  # GSPWS_LOCKOUT_THRESHOLD's default
        body = envelope(demo.account, wrong_code(demo.params, time.time()))
        assert soap_result(post(first.url, body).content)[0] == 9999
    for node in others:
        valid = envelope(demo.account, demo.params.code_at(time.time()))
        assert soap_result(post(node.url, valid).content)[0] == 9999


def test_a_suspension_reaches_every_node_within_seconds(nodes, pg_url, tmp_path, settings):
    run_gspws(
        [GSPWS, "--database-url", pg_url, "service", "suspend", SERVICE_ID, "VerifyTOTPCode"],
        env=gspws_env(tmp_path, settings.secret_key),
        check=True,
        capture_output=True,
    )
    pending = {node.url for node in nodes}
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            if soap_result(post(url, envelope("nobody", "000000")).content)[0] == 8109:
                pending.discard(url)
        time.sleep(0.2)
    assert not pending, f"still not suspended after 10 s: {sorted(pending)}"
