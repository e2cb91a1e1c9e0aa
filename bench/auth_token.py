"""OTP.asmx AuthToken (HOTP) under load, next to the floor: ``python bench/auth_token.py``.

Seeds ``--tokens`` unassigned HOTP tokens (a pool, as ``gspws token import`` leaves them) in a
fresh store (SQLite in a temporary directory, or ``--database-url``), starts ``gspws serve`` and
the floor (bench/floor.py: the same server set-up, no database, no verification) with
``--workers`` each, and sends each token's counter-0 code once as AuthToken (every call a real
acceptance: HMACs of the look-ahead, the conditional UPDATE of the counter, the audit row), for
``--duration`` seconds from ``--connections`` connections (wrk when installed, else Python). The
floor gets VerifyTOTPCode bodies of the same size. Prints requests/s, p50 and p99 for both, the
ratio gspws/floor, and the audit rows' codes (all 0 unless bodies ran out).
"""

import argparse
import base64
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # gspws of this checkout

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.bodies import SERVICE_ID, envelope, log, totp  # noqa: E402
from bench.load import Load, post, python_load, wrk_load  # noqa: E402
from bench.processes import (  # noqa: E402
    REPO,
    SERVER_ENV,
    ServerProcess,
    free_port,
    gspws_env,
)
from bench.seed import audit_codes, audit_watermark  # noqa: E402
from gspws.config import Settings  # noqa: E402
from gspws.store import migrate  # noqa: E402
from gspws.store.db import make_engine  # noqa: E402
from gspws.store.models import Token, TokenStatus, TokenType  # noqa: E402
from gspws.store.repo import Store  # noqa: E402
from gspws.store.secrets import SecretBox  # noqa: E402

OTP_PATH = "/gsp2ws/OTP.asmx"


def auth_token(serial: str, code: str) -> bytes:
    head = envelope("", "").decode().split("<VerifyTOTPCode ")[0]
    return (
        f'{head}<AuthToken xmlns="http://cp.gov.tw/gsp2"><tokenSN>{serial}</tokenSN>'
        f"<otp>{code}</otp></AuthToken></soap:Body></soap:Envelope>"
    ).encode()


def seed(store: Store, count: int) -> list[bytes]:
    """``count`` pooled HOTP tokens and the service granted AuthToken; one body per token."""
    with store.unit() as repo:
        repo.add_service(SERVICE_ID, "Benchmark agency", ["127.0.0.1/32"], ["AuthToken"])
    keys = [os.urandom(20) for _ in range(count)]
    now = datetime.now(UTC)
    rows = [
        {
            "serial": f"HOTP{i:010d}",
            "type": TokenType.HOTP,
            "algorithm": "SHA1",
            "digits": 6,
            "period": 30,
            "secret": store.secrets.encrypt(base64.b32encode(key).decode()),
            "status": TokenStatus.ACTIVE,
            "failures": 0,
            "hardware": True,
            "created_at": now,
        }
        for i, key in enumerate(keys)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(Token.__table__), rows)
    return [auth_token(f"HOTP{i:010d}", totp(key, 0)) for i, key in enumerate(keys)]


def load(args, port: int, bodies: list[bytes], path: str, action: str, workdir: Path) -> Load:
    if shutil.which("wrk"):
        return wrk_load(port, bodies, args.connections, args.duration, workdir, path, action)
    return python_load(port, bodies, args.connections, args.duration, False, path, action)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gspws-bench-auth-"))
    url = args.database_url or f"sqlite:///{workdir / 'gspws.db'}"
    key = Fernet.generate_key().decode()
    settings = Settings.from_env({"GSPWS_SECRET_KEY": key}, home=workdir, database_url=url)
    store = Store(make_engine(settings), SecretBox.from_settings(settings))
    migrate.upgrade(store.engine)
    log(f"seeding {args.tokens:,} HOTP tokens into {store.engine.dialect.name}")
    bodies = seed(store, args.tokens)
    env = gspws_env(workdir, key, **SERVER_ENV)
    probe = auth_token("NO-SUCH-SERIAL", "123456")

    def answers(server: ServerProcess) -> bool:
        status, body = post(server.port, probe, timeout=5, path=OTP_PATH, action="AuthToken")
        return status == 200 and b"<Code>" in body

    gspws = ServerProcess(url, env, workdir / "gspws.log", args.workers, free_port()).start(answers)
    floor = ServerProcess(
        None,
        env,
        workdir / "floor.log",
        port=free_port(),
        command=lambda port: [
            sys.executable,
            str(REPO / "bench" / "floor.py"),
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
    ).start(answers)
    try:
        mark = audit_watermark(store)
        measured = load(args, gspws.port, bodies, OTP_PATH, "AuthToken", workdir)
        codes = audit_codes(store, mark)
        same_size = [envelope(f"HOTP{i:010d}", "755224") for i in range(len(bodies))]
        floor_load = load(
            args, floor.port, same_size, "/gsp2ws/TOTP.asmx", "VerifyTOTPCode", workdir
        )
    finally:
        gspws.stop()
        floor.stop()
    for name, result in (("gspws AuthToken", measured), ("floor", floor_load)):
        log(
            f"{name}: {result.rps:,.0f} requests/s, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, errors {result.socket_errors + result.non_2xx}"
        )
    log(f"ratio gspws/floor: {measured.rps / floor_load.rps:.2f}" if floor_load.rps else "")
    log(f"audit codes: {codes} (bodies replayed: {measured.replayed})")


if __name__ == "__main__":
    main()
