"""SQLite writers take turns on a lock file (gspws.store.db.WriterQueue), within the busy timeout.

A long transaction of another process (a CLI command, say) must not hold a verification beyond
GSPWS_DB_TIMEOUT: the caller gets a prompt 3000, and the next call after the transaction ends
gets its answer. A lock file that cannot be opened costs the queue, not the service.
"""

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gspws.core.clock import FixedClock
from gspws.store import migrate
from gspws.wsgi import build_store, create_app

from helpers import T0, LiveServer, call, make_settings, outcome, seed_demo, zeep_service

HOLD_SECONDS = 4
# A separate process holds a write transaction, as `gspws service ...` or `gspws db seed` would.
HOLDER = f"""
import sys, time
from gspws.config import Settings
from gspws.wsgi import build_store
store = build_store(Settings.from_env(home=sys.argv[1], database_url=sys.argv[2]))
with store.unit() as repo:
    repo.add_account("held.by.another.process")
    print("holding", flush=True)
    time.sleep({HOLD_SECONDS})
"""


@pytest.fixture
def app_on_sqlite(tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url, db_timeout=1)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    demo = seed_demo(store)
    server = LiveServer(create_app(settings, clock=FixedClock(T0), store=store))
    yield server, demo, settings
    server.stop()
    store.engine.dispose()


def test_a_long_transaction_elsewhere_costs_a_verification_no_more_than_the_timeout(
    app_on_sqlite, tmp_path, sqlite_url
):
    server, demo, settings = app_on_sqlite
    totp = zeep_service(server.url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), sqlite_url],
        stdout=subprocess.PIPE,
        text=True,
        env={"GSPWS_SECRET_KEY": settings.secret_key, "PATH": ""},
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        assert call(totp, demo.account, demo.code(T0)) == outcome(3000)
        waited = time.monotonic() - started
        assert settings.db_timeout <= waited < settings.db_timeout + 1.5, waited
    finally:
        assert holder.wait(HOLD_SECONDS + 10) == 0
    assert call(totp, demo.account, demo.code(T0)) == outcome(0)


def test_without_a_usable_lock_file_writers_still_take_turns_in_sqlite(
    tmp_path, sqlite_url, caplog
):
    database = sqlite_url.removeprefix("sqlite:///")
    Path(f"{database}-writers.lock").mkdir()  # cannot be opened as the lock file
    settings = make_settings(tmp_path, sqlite_url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    demo = seed_demo(store)
    server = LiveServer(create_app(settings, clock=FixedClock(T0), store=store))
    try:
        with caplog.at_level(logging.WARNING, logger="gspws.store.db"):
            assert call(zeep_service(server.url), demo.account, demo.code(T0)) == outcome(0)
        assert "SQLite writers take turns without it" in caplog.text
    finally:
        server.stop()
        store.engine.dispose()
