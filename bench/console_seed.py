"""Seeding the console benchmark's store fast: 1,000,000 accounts with a token each and
10,000,000 audit rows (times ``--scale``), generated inside the database by one INSERT … SELECT
per batch (``generate_series`` on PostgreSQL, a recursive CTE on SQLite), so no row crosses the
wire. Every token shares one ciphertext (the benchmark never verifies a code; a real store's
secrets are all different, which changes nothing the console reads).

The audit rows are spread evenly over the 7 days before ``now`` (about 1,000 calls a minute at
scale 1): the dashboard's worst case, every row inside its window. Services are skewed (the
first ones are busiest: min of two pseudo-random picks), codes are 85 % 0, then 3001, 9999,
8104, 8108, 3000; durations 1–100 ms with one call in a thousand at 1–3 s.
"""

import sys
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

from gspws.store.models import AuditEvent

BATCH = 500_000
SERVICES = 50
#: A ServiceID, account and operation the seed never writes: the audit page's worst case (a
#: filter that matches nothing must not scan the table).
ABSENT_SERVICE = "APP9999999"
ABSENT_OPERATION = "GetAssertion"


def account_name(i: int) -> str:
    return f"user{i:07d}"


def serial(i: int) -> str:
    return f"TOTP{i:010d}"


def mobile(i: int) -> str:
    return f"09{i:08d}"


def service(i: int) -> str:
    return f"APP{i:07d}"


# The expressions, per dialect: {i} is the row number, {n} the row count, {start}/{step} Unix s.
_SQLITE = {
    "series": "WITH RECURSIVE s(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM s WHERE i < :last)",
    "pad7": "printf('%07d', {x})",
    "pad8": "printf('%08d', {x})",
    "pad10": "printf('%010d', {x})",
    "at": "strftime('%Y-%m-%d %H:%M:%S', :start + i * :step, 'unixepoch') || '.000000'",
    "now": "strftime('%Y-%m-%d %H:%M:%S', :start, 'unixepoch') || '.000000'",
    "least": "min",
    "true": "1",
    "false": "0",
    "from": "FROM s",
}
_PG = {
    "series": "",
    "pad7": "lpad(({x})::text, 7, '0')",
    "pad8": "lpad(({x})::text, 8, '0')",
    "pad10": "lpad(({x})::text, 10, '0')",
    "at": "to_timestamp(:start + i * :step)",
    "now": "to_timestamp(:start)",
    "least": "least",
    "true": "true",
    "false": "false",
    "from": "FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS s(i)",
}


def _statements(d: dict[str, str]) -> dict[str, str]:
    svc = f"{d['least']}((i * 7919) % {SERVICES}, (i * 104729) % {SERVICES})"
    code_pick = "(i * 31337) % 100"
    return {
        "accounts": f"""{d["series"]} INSERT INTO accounts
            (id, account, phone, mobile, created_at, session_epoch, mobile_verified,
             email_verified)
            SELECT i + 1, 'user' || {d["pad7"].format(x="i")}, NULL,
                   '09' || {d["pad8"].format(x="i")}, {d["now"]}, 0, {d["true"]}, {d["false"]}
            {d["from"]}""",
        "tokens": f"""{d["series"]} INSERT INTO tokens
            (id, serial, account_id, type, algorithm, digits, period, secret, status, failures,
             locked_at, created_at, drift, hardware)
            SELECT i + 1, 'TOTP' || {d["pad10"].format(x="i")}, i + 1, 'totp', 'SHA1', 6, 30,
                   :secret, CASE WHEN i % 1000 = 7 THEN 'locked' ELSE 'active' END,
                   CASE WHEN i % 1000 = 7 THEN 5 ELSE 0 END,
                   CASE WHEN i % 1000 = 7 THEN {d["now"]} END, {d["now"]}, 0, {d["false"]}
            {d["from"]}""",
        "audit": f"""{d["series"]} INSERT INTO audit_events
            (id, at, service_id, client_addr, operation, account, code, duration_ms)
            SELECT i + 1, {d["at"]}, 'APP' || {d["pad7"].format(x=svc)}, '10.0.0.1',
                   CASE WHEN i % 10 = 3 THEN 'SendOTPCode' WHEN i % 10 = 6 THEN 'VerifyOTPCode'
                        ELSE 'VerifyTOTPCode' END,
                   'user' || {d["pad7"].format(x="(i * 7) % :accounts")},
                   CASE WHEN {code_pick} < 85 THEN 0 WHEN {code_pick} < 92 THEN 3001
                        WHEN {code_pick} < 96 THEN 9999 WHEN {code_pick} < 98 THEN 8104
                        WHEN {code_pick} < 99 THEN 8108 ELSE 3000 END,
                   CASE WHEN (i * 48271) % 1000 = 0 THEN 1000 + (i % 2000)
                        ELSE 1 + ((i * 48271) % 1000) / 10.0 END
            {d["from"]}""",
    }


def seed(
    engine: Engine,
    tokens: int,
    audit_rows: int,
    now: float,
    secret: bytes,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> float:
    """Seeds an empty, migrated store; returns the seconds taken."""
    statements = _statements(_SQLITE if engine.dialect.name == "sqlite" else _PG)
    week = 7 * 24 * 3600
    started = time.perf_counter()
    plan = [("accounts", tokens), ("tokens", tokens), ("audit", audit_rows)]
    # the audit table's indexes are built after its rows (sorted once rather than grown row by
    # row in random order: minutes faster at 10,000,000 rows)
    indexes = list(AuditEvent.__table__.indexes)
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    for table, count in plan:
        for first in range(0, count, BATCH):
            last = min(count, first + BATCH) - 1
            params = {
                "first": first,
                "last": last,
                "start": now - week if table == "audit" else now,
                "step": week / audit_rows,
                "secret": secret,
                "accounts": tokens,
            }
            with engine.begin() as conn:
                conn.execute(text(statements[table]), params)
            say(f"  {table}: {last + 1:,}/{count:,} ({time.perf_counter() - started:.0f} s)")
    for index in indexes:
        with engine.begin() as conn:
            index.create(conn)
        say(f"  index {index.name} ({time.perf_counter() - started:.0f} s)")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("accounts", "tokens", "audit_events"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started
