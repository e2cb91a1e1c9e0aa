"""``/metrics``, ``/healthz`` and ``/readyz`` on the real server (``gspws serve``, gunicorn workers).

With two workers a call and the scrape that follows may meet different processes: the counts are
right only if the workers share them (prometheus_client's multiprocess mode, gspws.metrics).
Codes come from the real clock (the production server has no other) and the demo token is fresh.
"""

import sqlite3
import time
from datetime import UTC, datetime

import pytest
import requests
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text, update
from test_db_faults import cluster, pg_server  # noqa: F401  (fixtures: a private PostgreSQL)

from gspws.core.otp import TotpParams
from gspws.store import migrate
from gspws.store.models import Token, TokenStatus
from gspws.wsgi import build_store

from helpers import (
    ACCOUNT,
    SECRET,
    SERVICE_ID,
    ServerProcess,
    code_at,
    envelope,
    gspws_env,
    make_settings,
    post,
    seed_demo,
    soap_result,
)

UNKNOWN_SERVICE = "APP9999999"
VERIFY = "VerifyTOTPCode"
ATTEMPTS = 100  # x 0.1 s, waiting for /readyz to follow the database


@pytest.fixture
def world(tmp_path, database_url):
    """A migrated, seeded store and ``start(**env)``: ``gspws serve --workers 2`` on it."""
    settings = make_settings(tmp_path, database_url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed_demo(store)
    servers = []

    def start(workers: int = 2, **extra: str) -> ServerProcess:
        env = gspws_env(
            tmp_path,
            settings.secret_key,
            **{"GSPWS_RATE_LIMIT_SERVICE": "", "GSPWS_RATE_LIMIT_ACCOUNT": "", **extra},
        )
        servers.append(ServerProcess(database_url, env, tmp_path / "serve.log", workers).start())
        return servers[-1]

    yield store, start
    for server in servers:
        server.stop()
    store.engine.dispose()


def base(server: ServerProcess) -> str:
    return f"http://127.0.0.1:{server.port}"


def call(server: ServerProcess, code: str, service_id: str = SERVICE_ID) -> int:
    response = post(server.url, envelope(ACCOUNT, code, service_id=service_id))
    assert response.status_code == 200, response.content[:1000]
    return soap_result(response.content)[0]


def scrape(server: ServerProcess, **headers) -> dict:
    """``{(name, labels): value}`` of one scrape of /metrics."""
    response = requests.get(f"{base(server)}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def calls(samples: dict, service_id: str, code: int) -> float:
    labels = (("code", str(code)), ("operation", VERIFY), ("service_id", service_id))
    return samples.get(("gspws_calls_total", labels), 0)


def test_calls_are_counted_by_service_operation_and_code(world):
    store, start = world
    server = start()
    code = code_at(TotpParams(SECRET), time.time())  # once: the second call is its replay
    accepted = call(server, code)
    replayed = call(server, code)
    refused = call(server, "123456", service_id=UNKNOWN_SERVICE)
    assert accepted == 0 and replayed != 0 and refused != 0

    for _ in range(4):  # each scrape may be answered by either worker: both see every call
        samples = scrape(server)
        assert calls(samples, SERVICE_ID, accepted) == 1
        assert calls(samples, SERVICE_ID, replayed) == 1
        # a ServiceID no service has is not a label value of its own
        assert calls(samples, "other", refused) == 1
        assert calls(samples, UNKNOWN_SERVICE, refused) == 0
        assert samples[("gspws_call_duration_seconds_count", (("operation", VERIFY),))] == 3
        assert samples[("gspws_locked_tokens", ())] == 0
        assert samples[("gspws_database_errors_total", ())] == 0


def test_locked_tokens_are_read_from_the_store_at_scrape_time(world):
    store, start = world
    server = start()
    with store.unit() as repo:
        repo.session.execute(
            update(Token).values(status=TokenStatus.LOCKED, locked_at=datetime.now(UTC))
        )
    assert scrape(server)[("gspws_locked_tokens", ())] == 1


def test_rate_limit_refusals_are_counted(world):
    store, start = world
    server = start(workers=1, GSPWS_RATE_LIMIT_ACCOUNT="1/minute")  # memory counts per worker
    call(server, "123456")
    call(server, "123456")
    assert scrape(server)[("gspws_rate_limited_total", (("limit", "account"),))] == 1


def test_metrics_only_from_allowed_networks(world, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the address check does not depend on the database")
    store, start = world
    server = start(workers=1, GSPWS_TRUSTED_PROXIES="127.0.0.1")
    scrape(server)  # from loopback, the default GSPWS_METRICS_ALLOW
    outside = {"X-Forwarded-For": "203.0.113.7"}  # a caller the proxy on 127.0.0.1 vouches for
    refused = requests.get(f"{base(server)}/metrics", headers=outside, timeout=10)
    assert refused.status_code == 403 and "gspws_calls" not in refused.text
    # the health probes answer anyone (load balancers)
    assert requests.get(f"{base(server)}/healthz", headers=outside, timeout=10).status_code == 200
    assert requests.get(f"{base(server)}/readyz", headers=outside, timeout=10).status_code == 200

    server.stop()
    server = start(
        workers=1, GSPWS_TRUSTED_PROXIES="127.0.0.1", GSPWS_METRICS_ALLOW="203.0.113.0/24"
    )
    scrape(server, **outside)
    assert requests.get(f"{base(server)}/metrics", timeout=10).status_code == 403


def readyz(server: ServerProcess) -> requests.Response:
    return requests.get(f"{base(server)}/readyz", timeout=30)


def test_readyz_is_503_while_the_schema_is_behind(world):
    store, start = world
    server = start()
    assert (readyz(server).status_code, readyz(server).text) == (200, "ready\n")
    assert requests.get(f"{base(server)}/healthz", timeout=10).text == "ok\n"
    with store.engine.begin() as connection:
        head = connection.scalar(text("SELECT version_num FROM alembic_version"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    behind = readyz(server)
    assert behind.status_code == 503 and "schema" in behind.text
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert readyz(server).status_code == 200


def test_readyz_is_503_while_postgresql_is_down_and_200_when_back(cluster, pg_server):  # noqa: F811
    server, store = pg_server
    assert readyz(server).status_code == 200
    store.engine.dispose()
    cluster.stop("immediate")
    down = readyz(server)
    assert down.status_code == 503 and down.text == "not ready: database unreachable\n"
    assert call(server, "123456") == 3000
    samples = scrape(server)  # still answered, without the gauge read from the store
    assert (
        sum(
            value
            for (name, labels), value in samples.items()
            if name == "gspws_calls_total" and ("code", "3000") in labels
        )
        == 1
    )
    assert samples[("gspws_database_errors_total", ())] >= 1
    assert ("gspws_locked_tokens", ()) not in samples

    cluster.start()
    for _ in range(ATTEMPTS):
        if readyz(server).status_code == 200:
            break
        time.sleep(0.1)
    assert readyz(server).status_code == 200


def test_a_missing_key_file_is_not_ready(tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    key_file = tmp_path / "key"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    env = {k: v for k, v in gspws_env(tmp_path, "").items() if k != "GSPWS_SECRET_KEY"}
    server = ServerProcess(
        sqlite_url, {**env, "GSPWS_KEY_FILE": str(key_file)}, tmp_path / "serve.log", workers=1
    ).start()
    try:
        assert readyz(server).status_code == 200
        key_file.unlink()
        assert (readyz(server).status_code, readyz(server).text) == (
            503,
            "not ready: key unreadable\n",
        )
    finally:
        server.stop()
        store.engine.dispose()


def test_readyz_reads_without_the_sqlite_write_lock(world, database_url):
    """A long write transaction (a busy node) does not make the node look unready."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock of the whole database is SQLite's")
    store, start = world
    server = start(workers=1)
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        assert readyz(server).status_code == 200
    finally:
        writer.close()
