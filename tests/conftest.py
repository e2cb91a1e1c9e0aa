"""Shared fixtures: a store on SQLite or PostgreSQL, a server on a loopback port, zeep clients.

PostgreSQL tests need ``GSPWS_TEST_PG_URL`` (``.ci/run`` sets it); without it they skip, saying
why. A test with a ``store`` gets its test process's schema, migrated once and emptied before each
such test (helpers.MigratedSchema); any other gets a schema of its own (helpers.pg_database),
created empty and dropped afterwards. The helpers these fixtures use are in ``helpers.py``, for
tests to import.
"""

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gspws.config import Settings
from gspws.core.clock import FixedClock
from gspws.store import migrate
from gspws.wsgi import build_store, create_app

from helpers import (
    MIGRATED_URLS,
    PG_URL,
    T0,
    LiveServer,
    MigratedSchema,
    make_settings,
    pg_database,
    seed_demo,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gspws.db'}"
    else:
        yield from _pg_url(request)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gspws.db'}"


@pytest.fixture
def pg_url(request):
    yield from _pg_url(request)


@pytest.fixture(scope="session")
def migrated_pg():
    """This test process's migrated PostgreSQL schema (helpers.MigratedSchema)."""
    schema = MigratedSchema()
    yield schema
    schema.drop()


def _pg_url(request):
    """For a test with the ``store`` fixture, the process's migrated schema, emptied: what
    ``store`` would make of a fresh one. For any other, an empty schema of its own: such a test
    migrates (or means not to) itself."""
    if "store" in request.fixturenames:
        yield request.getfixturevalue("migrated_pg").emptied()
    else:
        yield from pg_database()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once per test process. A SQLite test store starts as a copy
    of it: alembic's upgrade costs ~0.1 s per store (measured on 2 cores), a copy about 1 ms."""
    home = tmp_path_factory.mktemp("migrated")
    store = build_store(make_settings(home, f"sqlite:///{home / 'gspws.db'}"))
    migrate.upgrade(store.engine)
    store.engine.dispose()
    with sqlite3.connect(home / "gspws.db") as conn:  # everything in the main file, for the copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return home / "gspws.db"


@pytest.fixture
def store(settings, migrated_sqlite):
    url = make_url(settings.effective_database_url)
    copied = url.get_backend_name() == "sqlite" and not Path(url.database).exists()
    if copied:
        shutil.copyfile(migrated_sqlite, url.database)
    store = build_store(settings)
    if not copied and settings.effective_database_url not in MIGRATED_URLS:
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


@pytest.fixture
def live_server(settings, store, clock, demo):
    """The app with the fixed clock, seeded with ``demo``, on a loopback port."""
    server = LiveServer(create_app(settings, clock=clock, store=store))
    yield server
    server.stop()


@pytest.fixture(params=[False, True], ids=["soap11", "soap12"])
def soap12(request) -> bool:
    """Each test using this runs over SOAP 1.1 and over SOAP 1.2 (with ``database_url`` too,
    see :func:`pytest_generate_tests`)."""
    return request.param


#: The two runs of a test taking both ``soap12`` and ``database_url``.
SOAP_AND_DATABASE = [
    pytest.param(False, "sqlite", id="soap11-sqlite"),
    pytest.param(True, "postgresql", id="soap12-postgresql")
    if PG_URL
    else pytest.param(True, "sqlite", id="soap12-sqlite"),
]


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """A test taking both ``soap12`` and ``database_url`` runs twice, not four times: SOAP 1.1 on
    SQLite and SOAP 1.2 on PostgreSQL (on SQLite again when no PostgreSQL is configured), so each
    SOAP version and each database is met once. The two meet only through the use cases: the
    envelope is read and the answer written the same whatever the store, and the store is called
    the same whatever the envelope. The cross product was 629 of the suite's 2,758 tests."""
    names = set(metafunc.fixturenames)
    direct = {  # argnames as pytest takes them: "a, b" or ("a", "b")
        name.strip()
        for mark in metafunc.definition.iter_markers("parametrize")
        for name in (mark.args[0].split(",") if isinstance(mark.args[0], str) else mark.args[0])
    }
    if {"soap12", "database_url"} <= names and not direct & {"soap12", "database_url"}:
        # A mark, not metafunc.parametrize: pytest then leaves the two fixtures' own params out.
        metafunc.definition.add_marker(
            pytest.mark.parametrize(("soap12", "database_url"), SOAP_AND_DATABASE, indirect=True)
        )


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
