"""The benchmark's store: a throw-away PostgreSQL database or SQLite file, bulk-seeded with
``Accounts`` (one active TOTP token each), and its audit table read back after each run."""

import base64
import os
import secrets as random_secrets
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from bench.bodies import PERIOD, SERVICE_ID, Accounts
from gspws.core import ocra
from gspws.core.access import MOBILE_OTP_FUNCTIONS, OTP_FUNCTIONS
from gspws.core.oob import CodeHasher
from gspws.store.models import (
    Account,
    AuditEvent,
    OcraChallenge,
    OtpCode,
    Token,
    TokenStatus,
    TokenType,
)
from gspws.store.oob import code_key
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox

SEED_BATCH = 10_000


def create_pg_database(admin_url: str) -> str:
    name = f"gspws_bench_{random_secrets.token_hex(4)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def seed(store: Store, box: SecretBox, accounts: Accounts) -> float:
    """Bulk insert (Core executemany, SEED_BATCH rows a transaction); returns the seconds taken."""
    with store.unit() as repo:
        # granted everything the runs call, before the server starts: a grant made later reaches
        # a worker only at its next registry refresh (the first calls would answer 8108)
        repo.add_service(
            SERVICE_ID,
            "Benchmark agency",
            ["127.0.0.1/32"],
            ["VerifyTOTPCode", *MOBILE_OTP_FUNCTIONS, *OTP_FUNCTIONS],
        )
    accounts_table, tokens_table = Account.__table__, Token.__table__
    now = datetime.now(UTC)
    k = accounts.count
    started = time.perf_counter()
    for first in range(0, k, SEED_BATCH):
        last = min(k, first + SEED_BATCH)
        keys = [os.urandom(20) for _ in range(first, last)]
        accounts.keys.extend(keys)
        account_rows = [
            {"id": i + 1, "account": accounts.name(i), "created_at": now}
            for i in range(first, last)
        ]
        token_rows = [
            {
                "id": i + 1,
                "serial": f"TOTP{i + 1:010d}",
                "account_id": i + 1,
                "type": TokenType.TOTP,
                "algorithm": "SHA1",
                "digits": 6,
                "period": PERIOD,
                "secret": box.encrypt(base64.b32encode(key).decode()),
                "status": TokenStatus.ACTIVE,
                "failures": 0,
                "created_at": now,
            }
            for i, key in zip(range(first, last), keys, strict=True)
        ]
        with store.engine.begin() as conn:
            conn.execute(insert(accounts_table), account_rows)
            conn.execute(insert(tokens_table), token_rows)
        elapsed = time.perf_counter() - started
        print(
            f"\r  seeding: {last:,}/{k:,} tokens ({100 * last // k}%) {elapsed:.1f} s  ",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            for table in ("accounts", "tokens"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {k})"))
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does soon after a bulk load
    return time.perf_counter() - started


def seed_otp(store: Store, box: SecretBox, accounts: Accounts, valid: float) -> list[str]:
    """MobileOTP.asmx for the benchmark: every account a verified mobile number and one pending
    login code valid ``valid`` seconds; the codes. (:func:`seed` granted the operations.)"""
    hasher = CodeHasher(code_key(box.encryption_key))
    codes = [f"{random_secrets.randbelow(10**6):06d}" for _ in range(accounts.count)]
    now = datetime.now(UTC)
    expires = datetime.fromtimestamp(now.timestamp() + valid, UTC)
    sent = datetime.fromtimestamp(now.timestamp() - 3600, UTC)  # no resend spacing
    with store.engine.begin() as conn:
        conn.execute(update(Account).values(mobile="0912345678", mobile_verified=True))
        for first in range(0, accounts.count, SEED_BATCH):
            conn.execute(
                insert(OtpCode),
                [
                    {
                        "account_id": i + 1,
                        "purpose": "login",
                        "channel": "sms",
                        "destination": "0912345678",
                        "code_hash": hasher(codes[i]),
                        "created_at": sent,
                        "expires_at": expires,
                        "attempts": 0,
                    }
                    for i in range(first, min(accounts.count, first + SEED_BATCH))
                ],
            )
    return codes


#: The OCRA suite of the benchmark's tokens: RFC 6287's first one-way suite.
OCRA_SUITE = "OCRA-1:HOTP-SHA1-6:QN08"


def seed_ocra(
    store: Store, box: SecretBox, accounts: Accounts, valid: float
) -> list[tuple[str, str, str]]:
    """OTP.asmx VerifyResponse for the benchmark: one OCRA token per account (serials
    ``OCRA0000000001``..., unassigned, as hardware tokens are), each with one challenge issued for
    the benchmark's service, valid ``valid`` seconds; ``(serial, challenge, response)`` for
    each, the response computed with gspws.core.ocra (the RFC vectors test it)."""
    suite = ocra.parse_suite(OCRA_SUITE)
    now = datetime.now(UTC)
    expires = datetime.fromtimestamp(now.timestamp() + valid, UTC)
    calls = []
    with store.engine.begin() as conn:
        first_id = (conn.scalar(select(func.max(Token.id))) or 0) + 1
        for first in range(0, accounts.count, SEED_BATCH):
            tokens, challenges = [], []
            for i in range(first, min(accounts.count, first + SEED_BATCH)):
                key, challenge = os.urandom(20), ocra.new_challenge(suite)
                serial = f"OCRA{i + 1:010d}"
                tokens.append(
                    {
                        "id": first_id + i,
                        "serial": serial,
                        "type": TokenType.OCRA,
                        "algorithm": "SHA1",
                        "digits": 6,
                        "period": 30,
                        "secret": box.encrypt(base64.b32encode(key).decode()),
                        "status": TokenStatus.ACTIVE,
                        "failures": 0,
                        "ocra_suite": OCRA_SUITE,
                        "hardware": True,
                        "created_at": now,
                    }
                )
                challenges.append(
                    {
                        "token_id": first_id + i,
                        "challenge": challenge,
                        "purpose": "login",
                        "service_id": SERVICE_ID,
                        "created_at": now,
                        "expires_at": expires,
                    }
                )
                calls.append((serial, challenge, ocra.response(suite, key, challenge)))
            conn.execute(insert(Token), tokens)
            conn.execute(insert(OcraChallenge), challenges)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('tokens', 'id'), {first_id + accounts.count})"
                )
            )
    return calls


def audit_watermark(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.max(AuditEvent.id))) or 0


def audit_codes(store: Store, after: int) -> dict[int, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.code, func.count())
            .where(AuditEvent.id > after)
            .group_by(AuditEvent.code)
        )
        return {code: count for code, count in rows}
