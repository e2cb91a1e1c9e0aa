"""One worker answering SOAP calls from 8 threads (``GSPWS_THREADS=8``), hammered by 32 clients
at once: every answer is right and every call is audited once. SQLite and PostgreSQL.

Each account gets its valid code twice (exactly one is accepted: the single-use UPDATE holds
between threads of one process as between processes) and a wrong code once, half of the
accounts through the fast path and half through spyne (a comment in the operation element makes
the call not plain, gspws.soap.fastpath); unknown accounts are asked too. The service registry is
re-read on every call and the rate limits are counted in-process, so their locks are exercised;
the server's log must show no error (a call the metrics failed to count logs one).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from itertools import chain

import pyotp
import pytest

from gspws.config import ConfigError, Settings
from gspws.core.otp import TotpParams
from gspws.serving import app_threads

from helpers import (
    SERVICE_ID,
    ServerProcess,
    add_token,
    audit_rows,
    code_at,
    envelope,
    gspws_env,
    post,
    soap_result,
    wrong_code,
)

ACCOUNTS = 24  # half answered by the fast path, half by spyne
CLIENTS = 32
UNKNOWN = 8


@pytest.fixture
def server(settings, store, demo, tmp_path):
    server = ServerProcess(
        settings.effective_database_url,
        gspws_env(
            tmp_path,
            settings.secret_key,
            GSPWS_THREADS="8",
            GSPWS_REGISTRY_REFRESH="0",
            GSPWS_RATE_LIMIT_SERVICE="1000000/second",
        ),
        tmp_path / "server.log",
        workers=1,
    )
    server.start()
    try:
        yield server
    finally:
        assert server.stop() == 0


def _through_spyne(body: bytes) -> bytes:
    """The same call, not in the plain shape the fast path reads: spyne answers it."""
    return body.replace(b"<account>", b"<!-- not plain --><account>", 1)


def _verify(url: str, body: bytes) -> int:
    answer = post(url, body)
    assert answer.status_code == 200, answer.text
    return soap_result(answer.content)[0]


def test_many_calls_at_once_on_one_worker_are_each_answered_and_audited(server, store):
    now = time.time()
    calls = []  # (account, body)
    for n in range(ACCOUNTS):
        account, params = f"hammer{n:02d}", TotpParams(pyotp.random_base32())
        add_token(store, account, params)
        shape = _through_spyne if n % 2 else (lambda body: body)
        valid = shape(envelope(account, code_at(params, now)))
        calls += [
            (account, valid),
            (account, valid),
            (account, shape(envelope(account, wrong_code(params, now)))),
        ]
    calls += [(f"nobody{n}", envelope(f"nobody{n}", "123456")) for n in range(UNKNOWN)]
    # interleaved, so that an account's calls land on different threads at about the same time
    calls = list(chain(calls[0::3], calls[1::3], calls[2::3]))

    with ThreadPoolExecutor(CLIENTS) as clients:
        codes = list(clients.map(lambda call: _verify(server.url, call[1]), calls))

    answered: dict[str, list[int]] = {}
    for (account, _body), code in zip(calls, codes, strict=True):
        answered.setdefault(account, []).append(code)
    audited: dict[str, list[int]] = {}
    for row in audit_rows(store):
        assert row.service_id == SERVICE_ID and row.operation == "VerifyTOTPCode"
        audited.setdefault(row.account, []).append(row.code)
    for n in range(ACCOUNTS):
        account = f"hammer{n:02d}"
        assert sorted(answered[account]) == [0, 9999, 9999], account
        assert sorted(audited[account]) == [0, 9999, 9999], account
    for n in range(UNKNOWN):
        assert answered[f"nobody{n}"] == audited[f"nobody{n}"] == [3001]
    assert len(audited) == ACCOUNTS + UNKNOWN
    log = server.log_path.read_text(errors="replace")
    assert " ERROR " not in log and "Traceback" not in log, log[-3000:]


def test_threads_are_bounded_by_the_connections_a_worker_may_open(tmp_path):
    """More threads than the pool's connections (size plus as many overflow) would only queue
    for one: refused at start, naming both settings; the default of a database server is cut to
    what the pool allows."""
    pg = "postgresql+psycopg://u@db/gspws"
    with pytest.raises(ConfigError, match="GSPWS_THREADS=11 .* GSPWS_DB_POOL_SIZE"):
        Settings.from_env({"GSPWS_THREADS": "11", "GSPWS_DB_POOL_SIZE": "5"}, home=tmp_path)
    assert app_threads(Settings.from_env({"GSPWS_THREADS": "10"}, home=tmp_path)) == 10
    assert app_threads(Settings.from_env({}, home=tmp_path)) == 1  # SQLite
    assert app_threads(Settings.from_env({}, home=tmp_path, database_url=pg)) == 2
    one = Settings.from_env({"GSPWS_DB_POOL_SIZE": "1"}, home=tmp_path, database_url=pg)
    assert app_threads(one) == 2
