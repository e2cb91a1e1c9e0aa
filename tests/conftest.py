"""Shared fixtures: a store on SQLite or PostgreSQL, a server on a loopback port, zeep clients.

PostgreSQL tests need ``GSPWS_TEST_PG_URL`` (``.ci/run`` sets it); each test gets a database of
its own, created from that URL and dropped afterwards. Without it they skip, saying why.
"""

import dataclasses
import os
import threading
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from gspws.config import Settings
from gspws.core.clock import FixedClock
from gspws.store import migrate
from gspws.wsgi import build_store, create_app

from helpers import seed_demo

PG_URL = os.environ.get("GSPWS_TEST_PG_URL")

#: A fixed instant 10 s into a 30-second step (and 10 s into a 60-second one).
T0 = 1_800_000_010.0


def _pg_database():
    """Yield the URL of an empty PostgreSQL schema of its own; drop it afterwards.

    A schema (selected through the URL's ``search_path`` option) instead of a database per test:
    creating a database costs about a second, a schema nothing."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need GSPWS_TEST_PG_URL (e.g. "
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"gspws_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gspws.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gspws.db'}"


@pytest.fixture
def pg_url():
    yield from _pg_database()


def make_settings(home, database_url, **overrides) -> Settings:
    """Test settings. Services are re-read on every call (``GSPWS_REGISTRY_REFRESH=0``) so a test
    can change one and call at once, and there are no rate limits, so tests can call one account
    often; test_registry and test_throttle cover those behaviours with their own settings."""
    environ = {"GSPWS_SECRET_KEY": Fernet.generate_key().decode(), "GSPWS_REGISTRY_REFRESH": "0",
               "GSPWS_RATE_LIMIT_SERVICE": "", "GSPWS_RATE_LIMIT_ACCOUNT": "",
               "GSPWS_RATE_LIMIT_REFUSED": ""}
    return Settings.from_env(environ, home=home, database_url=database_url, **overrides)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def store(settings):
    store = build_store(settings)
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def demo(store):
    """The standard fixture data (see helpers.seed_demo)."""
    return seed_demo(store)


class LiveServer:
    """A gspws app on a loopback port, served by werkzeug in a thread."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self.url = f"{self.base}/gsp2ws/TOTP.asmx"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture
def live_server(settings, store, clock, demo):
    """The app with the fixed clock, seeded with ``demo``, on a loopback port."""
    server = LiveServer(create_app(settings, clock=clock, store=store))
    yield server
    server.stop()


@pytest.fixture(params=[False, True], ids=["soap11", "soap12"])
def soap12(request) -> bool:
    """Each test using this runs over SOAP 1.1 and over SOAP 1.2."""
    return request.param


@pytest.fixture
def serve(settings, store, clock, demo):
    """Start another server on the same store and clock, with some settings changed."""
    started = []

    def start(**overrides) -> LiveServer:
        app = create_app(dataclasses.replace(settings, **overrides), clock=clock, store=store)
        started.append(LiveServer(app))
        return started[-1]

    yield start
    for server in started:
        server.stop()
