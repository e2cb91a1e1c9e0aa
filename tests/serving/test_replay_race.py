"""The replay race across processes: the production server (gunicorn, 4 worker processes) and 8
client processes firing the same valid code at the same instant. Exactly one call may succeed.

Runs on SQLite and on PostgreSQL. The server uses the system clock, so codes come from the real
clock; each round uses an account of its own, so every round starts with an unused valid code
whatever the time-step.
"""

import multiprocessing
import re
import time

import pytest
from sqlalchemy import func, select

from gspws.core import otp
from gspws.core.otp import TotpParams
from gspws.store.models import AuditEvent, TokenStatus

from helpers import SERVICE_ID, ServerProcess, envelope, gspws_env, post, run_together

ROUNDS = 10
CLIENTS = 8
WORKERS = 4
CODE = re.compile(r"<Code>(\d+)</Code>")

#: fork: the clients only need the URL and the body, and start in milliseconds.
MP = multiprocessing.get_context("fork")


def _fire(url: str, body: bytes, barrier, results, index: int) -> None:
    """One client process: wait for all the others, then POST the envelope."""
    try:
        barrier.wait(timeout=60)
        response = post(url, body)
        found = CODE.search(response.text)
        results.put((index, response.status_code, int(found.group(1)) if found else None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((index, None, repr(exc)))


def _race(url: str, body: bytes) -> list[tuple]:
    """CLIENTS processes POST ``body`` at once; their (status, Code) pairs."""
    barrier, results = MP.Barrier(CLIENTS), MP.Queue()
    clients = [
        MP.Process(target=_fire, args=(url, body, barrier, results, i)) for i in range(CLIENTS)
    ]
    answers = run_together(clients, results)
    assert all(client.exitcode == 0 for client in clients)
    return sorted(((status, code) for _index, status, code in answers), key=repr)


@pytest.fixture
def race_accounts(store, demo):
    """One account per round, each with its own active SHA1/6/30 token."""
    accounts = {}
    with store.unit() as repo:
        for n in range(ROUNDS):
            name = f"racer{n:02d}"
            params = TotpParams(otp.new_secret())
            repo.add_token(repo.add_account(name), params, TokenStatus.ACTIVE)
            accounts[name] = params
    return accounts


@pytest.fixture
def production_server(settings, store, tmp_path):
    """``gspws serve --workers 4`` on the fixture store; stopped (and checked stopped) after."""
    server = ServerProcess(
        settings.effective_database_url,
        gspws_env(tmp_path, settings.secret_key),
        tmp_path / "server.log",
        workers=WORKERS,
    )
    server.start()
    try:
        yield server
    finally:
        status = server.stop()
        assert server.proc.poll() is not None, "gspws serve is still running"
        assert status == 0, f"gspws serve exited with {status}"


def test_same_code_from_many_processes_is_accepted_exactly_once(
    production_server, store, race_accounts
):
    for name, params in race_accounts.items():
        code = params.code_at(time.time())  # computed right before firing
        answers = _race(production_server.url, envelope(name, code))
        assert answers == [(200, 0)] + [(200, 9999)] * (CLIENTS - 1), (name, answers)

    with store.unit() as repo:
        per_account = dict(
            repo.session.execute(
                select(AuditEvent.account, func.count()).group_by(AuditEvent.account)
            ).all()
        )
        accepted = dict(
            repo.session.execute(
                select(AuditEvent.account, func.count())
                .where(AuditEvent.code == 0)
                .group_by(AuditEvent.account)
            ).all()
        )
        services = set(repo.session.scalars(select(AuditEvent.service_id)))
    assert sum(per_account.values()) == ROUNDS * CLIENTS  # one audit row per call
    assert per_account == {name: CLIENTS for name in race_accounts}
    assert accepted == {name: 1 for name in race_accounts}
    assert services == {SERVICE_ID}
