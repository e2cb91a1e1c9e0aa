"""VerifyTOTPCode on PostgreSQL costs two round trips: the tokens are read, then the attempt and
its audit row are one statement, committed alone (gspws.store.verification.AutocommitQueries).

Counted from libpq's own trace of the protocol (psycopg's ``PGconn.trace``): every message the
client sends that makes the server answer (``Sync`` after an extended-protocol statement, or a
simple ``Query``) is one round trip. Before, a call cost six: the pool's pre-ping, BEGIN, SELECT,
UPDATE, INSERT, COMMIT.
"""

import ipaddress
import tempfile

import pytest
from sqlalchemy import event

from bench.inprocess import prepared_plans
from gspws.compose import policy_of
from gspws.core import codes
from gspws.core.clock import FixedClock
from gspws.core.codecheck import TotpVerifier
from gspws.core.verify import Caller
from gspws.store import migrate
from gspws.store.db import make_engine, verification_engine
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox
from gspws.throttle import Unlimited

from helpers import T0, audit_rows, make_settings, seed_demo


@pytest.fixture
def traced(pg_url, tmp_path):
    """A migrated PostgreSQL store whose verification connections trace the protocol to a file,
    and their engine."""
    settings = make_settings(tmp_path, pg_url)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    verifying = verification_engine(settings, engine)
    trace = tempfile.TemporaryFile()

    @event.listens_for(verifying, "connect")
    def _trace(dbapi_connection, _record):
        dbapi_connection.pgconn.trace(trace.fileno())

    yield settings, Store(engine, SecretBox.from_settings(settings), verifying), trace, verifying
    verifying.dispose()
    engine.dispose()


def round_trips(trace) -> int:
    trace.seek(0)
    sent = [line.split("\t") for line in trace.read().decode().splitlines()]
    return sum(
        1
        for fields in sent
        if len(fields) > 2 and fields[1] == "F" and fields[3].split(" ")[0] in ("Sync", "Query")
    )


CALLER = Caller("APP0001931", ipaddress.ip_address("127.0.0.1"), "VerifyTOTPCode")


def _verifier(settings, store):
    """The demo account, a clock at T0 and VerifyTOTPCode's use case on ``store``."""
    demo, clock = seed_demo(store), FixedClock(T0)
    services = store.service_registry(refresh=0).current
    verifier = TotpVerifier(store.verification, services, policy_of(settings), clock, Unlimited())
    return demo, clock, verifier


@pytest.mark.parametrize("which", ["right", "wrong", "unknown"])
def test_a_verification_is_two_round_trips_on_postgresql(traced, which):
    settings, store, trace, _verifying = traced
    demo, clock, verifier = _verifier(settings, store)
    account, code, expected = {
        "right": (demo.account, demo.code(T0), codes.OK),
        "wrong": (demo.account, "000000", codes.REJECTED),
        "unknown": ("nobody", "000000", codes.NO_ACTIVE_TOKEN),
    }[which]
    for _warming in range(3):
        # The first calls also open the connection and prepare each statement on the server
        # (once per connection and per parameter types: the failure counter's first failure
        # changes the list of tokens to clear from empty to one).
        before = round_trips(trace)
        if which == "right":
            code = demo.code(clock())
        assert verifier.verify(CALLER, account, code) == expected
        clock.advance(30)
    assert round_trips(trace) - before == 2
    assert [row.code for row in audit_rows(store)][-1] == expected.code


def test_the_verifications_statements_are_planned_once_on_postgresql(traced):
    """PostgreSQL plans a prepared statement for its parameters until a generic plan looks no
    costlier; SETTLE's never did, so each call paid a planning (gspws.store.db
    .verification_engine). No statement of the verifying connection is planned for its
    parameters, not even in PostgreSQL's five trial runs (pg_prepared_statements' plan counts:
    PostgreSQL 14 or later)."""
    settings, store, _trace, verifying = traced
    demo, clock, verifier = _verifier(settings, store)
    for _ in range(8):
        assert verifier.verify(CALLER, demo.account, demo.code(clock())) == codes.OK
        assert verifier.verify(CALLER, demo.account, "000000") == codes.REJECTED
        clock.advance(30)
    plans = prepared_plans(verifying)
    settle = [row for row in plans if row[0].startswith("WITH accepted")]
    assert settle and all(generic for _, generic, _ in settle)
    assert [row for row in plans if row[2]] == []
