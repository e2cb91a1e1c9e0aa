"""Rate limits over HTTP: per (ServiceID, address) → 8100, per account → 9999; Redis shares them."""

import logging
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from gspws.core.otp import TotpParams
from gspws.store import migrate
from gspws.store.models import Token, TokenStatus
from gspws.wsgi import build_store, create_app

from helpers import SECRET, LiveServer, call, make_settings, seed_demo, zeep_service

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def servers(tmp_path, sqlite_url, clock):
    """Start servers sharing one store: servers(n, **settings) -> (demo, [LiveServer...])."""
    started, stores = [], []

    def start(count=1, **overrides):
        settings = make_settings(tmp_path, sqlite_url, **overrides)
        store = build_store(settings)
        migrate.upgrade(store.engine)
        demo = seed_demo(store) if not stores else None
        stores.append(store)
        for _ in range(count):
            started.append(LiveServer(create_app(settings, clock=clock, store=store)))
        return demo, started

    yield start
    for server in started:
        server.stop()
    for store in stores:
        store.engine.dispose()


def _add_account(store, name):
    with store.unit() as repo:
        repo.add_token(repo.add_account(name), TotpParams(SECRET), TokenStatus.ACTIVE)


def test_account_limit_answers_9999_without_checking_the_code(servers, clock):
    demo, (server,) = servers(rate_limit_account="3/minute")
    service = zeep_service(server.url)
    for _ in range(3):
        assert call(service, demo.account, "000000")[0] == 9999
    assert call(service, demo.account, demo.code(clock()))[0] == 9999  # throttled, not verified
    with server.app.store.unit() as repo:
        assert (
            repo.session.scalar(select(Token.failures)) == 3
        )  # the throttled call counted nothing


def test_account_limit_does_not_touch_other_accounts(servers, clock):
    demo, (server,) = servers(rate_limit_account="2/minute")
    _add_account(server.app.store, "other")
    service = zeep_service(server.url)
    for _ in range(3):
        call(service, demo.account, "000000")
    assert call(service, "other", demo.code(clock()))[0] == 0


def test_service_limit_answers_8100_per_service_and_address(servers, clock):
    demo, (server,) = servers(rate_limit_service="4/minute")
    with server.app.store.unit() as repo:
        repo.add_service("APP0000002", "second", ["127.0.0.1/32"], ["VerifyTOTPCode"])
    service = zeep_service(server.url)
    codes = [call(service, "nobody", "000000")[0] for _ in range(5)]
    assert codes == [3001, 3001, 3001, 3001, 8100]
    assert call(service, demo.account, demo.code(clock()), service_id="APP0000002")[0] == 0


def test_redis_storage_shares_the_account_limit_across_nodes(servers, clock):
    demo, nodes = servers(count=2, rate_limit_storage=REDIS, rate_limit_account="4/minute")
    account = f"redis-{uuid.uuid4().hex[:10]}"  # counters in Redis outlive the test: a fresh key
    _add_account(nodes[0].app.store, account)
    first, second = (zeep_service(n.url) for n in nodes)
    for node in (first, second, first, second):
        assert call(node, account, "000000")[0] == 9999
    clock.advance(60)  # lockout is 5 failures: only the shared limit can refuse the next code
    with nodes[0].app.store.unit() as repo:
        repo.session.execute(Token.__table__.update().values(failures=0))
    assert call(second, account, demo.code(clock()))[0] == 9999


def test_unreachable_redis_fails_open_and_logs(servers, clock, caplog):
    demo, (server,) = servers(
        rate_limit_storage="redis://127.0.0.1:1/0", rate_limit_account="1/minute"
    )
    with caplog.at_level(logging.ERROR, logger="gspws.throttle"):
        assert call(zeep_service(server.url), demo.account, demo.code(clock()))[0] == 0
    assert "rate-limit storage failed" in caplog.text


def test_memory_storage_starts_no_thread_per_call(monkeypatch):
    """limits' own memory storage starts a timer thread whenever the last one finished: under
    load, nearly one per call. gspws purges expired counters inline instead."""
    from gspws.throttle import Throttle

    throttle = Throttle("memory://", "1000/second", "1000/minute")  # limits starts one timer
    starts = []
    original = threading.Thread.start
    monkeypatch.setattr(
        threading.Thread, "start", lambda self: starts.append(self) or original(self)
    )
    for i in range(200):
        assert throttle.allow_account(f"user{i % 10}")
        if i % 20 == 0:
            time.sleep(0.02)  # long enough for a 10 ms timer to have finished
    assert starts == []


def test_memory_counts_decide_as_limits_does(monkeypatch):
    """gspws counts ``memory://`` limits itself (gspws.throttle.SlidingWindows, ~30 times
    cheaper): the same hits at the same instants are allowed or refused exactly as by limits'
    sliding window counter on its memory storage."""
    import random

    from limits import parse
    from limits.storage import MemoryStorage
    from limits.strategies import SlidingWindowCounterRateLimiter

    from gspws.throttle import SlidingWindows

    now = [1_800_000_000.0]
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: now[0])
    ours = SlidingWindows(clock=lambda: now[0])
    theirs = SlidingWindowCounterRateLimiter(MemoryStorage())
    chance = random.Random(16)
    decisions = []
    for limit in (parse("5/minute"), parse("3/second"), parse("10/10 seconds")):
        for _ in range(3000):
            # twice the limit for each of 3 keys
            now[0] += chance.expovariate(limit.amount / limit.get_expiry() * 6)
            key = ("account", f"user{chance.randrange(3)}")
            expected = theirs.hit(limit, "gspws", *key)
            assert ours.hit(limit, "gspws", *key) == expected, (limit, now[0], key)
            decisions.append(expected)
    assert 0.2 < sum(decisions) / len(decisions) < 0.9  # both answers were exercised
