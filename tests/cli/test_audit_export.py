"""`gspws audit export`: calls made through a live server come out as CSV or JSON Lines, filtered
by time, ServiceID and account, in ISO-8601 UTC, without any TOTP code. SQLite and PostgreSQL."""

import csv
import io
import ipaddress
import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from gspws.cli import main
from gspws.core import codes as return_codes
from gspws.core.otp import TotpParams
from gspws.core.verify import Caller
from gspws.store import audit_export, migrate
from gspws.store.models import AuditEvent
from gspws.wsgi import build_store

from helpers import (
    GSPWS,
    REPO,
    add_token,
    audit_rows,
    call,
    gspws_env,
    make_settings,
    run_gspws,
    zeep_service,
)

COLUMNS = ["at", "service_id", "client_addr", "operation", "account", "code", "duration_ms"]
OTHER_SERVICE = "APP0000002"
ALICE = TotpParams("KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ")
FORMULA_ACCOUNT = '=HYPERLINK("http://x.example/","click")'


@pytest.fixture
def traffic(store, clock, demo, live_server):
    """Calls through the live server, 30 s apart (some at one instant); returns the codes sent."""
    with store.unit() as repo:
        repo.add_service(
            OTHER_SERVICE, "Other agency", ["127.0.0.1/32", "::1/128"], ["VerifyTOTPCode"]
        )
    add_token(store, "alice", ALICE)
    service = zeep_service(live_server.url)
    sent = []

    def verify(account, code, service_id=demo.service_id):
        sent.append(code)
        return call(service, account, code, service_id)[0]

    assert verify(demo.account, demo.code(clock())) == 0  # T0
    clock.advance(30)
    assert verify(demo.account, unusual_wrong_code(demo.params, clock())) == 9999  # T0+30
    clock.advance(30)
    assert verify("alice", ALICE.code_at(clock()), OTHER_SERVICE) == 0  # T0+60
    assert verify(demo.account, demo.code(clock())) == 0  # T0+60 (a tie)
    clock.advance(30)
    assert verify(FORMULA_ACCOUNT, "482913") == 3001  # T0+90
    clock.advance(30)
    assert verify(demo.account, demo.code(clock()), "APP0000099") == 8101  # T0+120
    return sent


def unusual_wrong_code(params, at) -> str:
    """A wrong code unlike anything else in an export (``wrong_code`` may give ``000000``, which
    every whole-second timestamp and ``APP000000x`` contain)."""
    near = {params.totp().generate_otp(params.step_at(at) + s) for s in range(-3, 4)}
    return next(c for c in ("314159", "271828", "161803") if c not in near)


def export(database_url, *args, env_home=None):
    env = {k: None for k in os.environ if k.startswith("GSPWS_")}
    if env_home is not None:
        env["GSPWS_HOME"] = str(env_home)
    return CliRunner().invoke(
        main, ["--database-url", database_url, "audit", "export", *args], env=env
    )


def ok(database_url, *args) -> str:
    result = export(database_url, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def csv_rows(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in reader]


def json_rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expected(store, **where) -> list[dict]:
    """The audit rows (as the JSON export spells them), in (at, id) order."""
    rows = sorted(audit_rows(store), key=lambda e: (e.at, e.id))
    return [
        {
            "at": iso(e.at),
            "service_id": e.service_id,
            "client_addr": e.client_addr,
            "operation": e.operation,
            "account": e.account,
            "code": e.code,
            "duration_ms": e.duration_ms,
        }
        for e in rows
        if all(getattr(e, k) == v for k, v in where.items())
    ]


def as_csv(row: dict) -> dict:
    def cell(value):
        if value is None:
            return ""
        if isinstance(value, str) and value and value[0] in "=+-@":
            return "'" + value
        return str(value)

    return {k: cell(v) for k, v in row.items()}


def test_csv_and_json_hold_every_call(database_url, store, traffic, clock):
    everything = expected(store)
    assert len(everything) == 6
    assert [r["code"] for r in everything] == [0, 9999, 0, 0, 3001, 8101]
    assert everything[0]["at"] == "2027-01-15T08:00:10.000000Z"
    assert {r["client_addr"] for r in everything} == {"127.0.0.1"}

    as_csv_text = ok(database_url, "--since", "2027-01-15")
    assert csv_rows(as_csv_text) == [as_csv(r) for r in everything]
    as_json_text = ok(database_url, "--since", "2027-01-15", "--format", "json")
    assert json_rows(as_json_text) == everything  # JSON Lines, raw values, numbers as numbers

    # A formula sent as an account is inert in the CSV, intact in JSON.
    assert f"'{FORMULA_ACCOUNT}".replace('"', '""') in as_csv_text
    assert json_rows(as_json_text)[4]["account"] == FORMULA_ACCOUNT

    # No code sent (right or wrong) appears in either export. The exports hold exactly the rows
    # compared above, so look in every field but the timestamps (whose microseconds are digits).
    assert len(as_csv_text.splitlines()) == 1 + len(everything)
    assert len(as_json_text.splitlines()) == len(everything)
    for row in csv_rows(as_csv_text) + json_rows(as_json_text):
        assert row["at"].endswith(".000000Z")  # the FixedClock's whole seconds
        for name, value in row.items():
            if name != "at":
                assert not any(code in str(value) for code in traffic), (name, value)
        assert not any(code in row["at"][:19] for code in traffic)


def test_filters(database_url, store, traffic):
    def rows(*args):
        return json_rows(ok(database_url, "--since", "2027-01-01", "--format", "json", *args))

    assert rows("--service", OTHER_SERVICE) == expected(store, service_id=OTHER_SERVICE)
    assert [r["account"] for r in rows("--service", OTHER_SERVICE)] == ["alice"]
    assert rows("--account", "wederlin") == expected(store, account="wederlin")
    assert len(rows("--account", "wederlin")) == 4
    assert rows("--account", "wederlin", "--service", "APP0000099") == expected(
        store, account="wederlin", service_id="APP0000099"
    )

    # --since inclusive, --until exclusive; an offset is honoured, no offset means UTC.
    window = rows("--since", "2027-01-15T08:00:40Z", "--until", "2027-01-15T16:01:40+08:00")
    assert [r["at"] for r in window] == [
        "2027-01-15T08:00:40.000000Z",
        "2027-01-15T08:01:10.000000Z",
        "2027-01-15T08:01:10.000000Z",
    ]
    assert window == rows("--since", "2027-01-15T08:00:40", "--until", "2027-01-15 08:01:40")
    assert rows("--since", "2027-01-16") == []
    assert rows("--service", "APP0009999") == []


def test_relative_since_and_the_default(database_url, store):
    now = time.time()
    with store.unit() as repo:
        caller = Caller("APP0001931", ipaddress.ip_address("192.0.2.7"), "VerifyTOTPCode")
        repo.audit(caller, "aged", return_codes.OK, now - 2 * 86400, 1.5)
        repo.audit(caller, "recent", return_codes.REJECTED, now - 3600, 2.25)

    def accounts(*args):
        return [r["account"] for r in csv_rows(ok(database_url, *args))]

    assert accounts() == ["recent"]  # default: the last 24 hours
    assert accounts("--since", "24h") == ["recent"]
    assert accounts("--since", "90m") == ["recent"]
    assert accounts("--since", "30m") == []
    assert accounts("--since", "3d") == ["aged", "recent"]
    assert accounts("--since", "1w", "--until", "1d") == ["aged"]
    [row] = csv_rows(ok(database_url, "--account", "recent"))
    assert row["client_addr"] == "192.0.2.7" and row["code"] == "9999"
    assert row["duration_ms"] == "2.25"
    at = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
    assert abs(at.timestamp() - (now - 3600)) < 0.001 and row["at"].endswith("Z")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "yesterday"], "neither an ISO-8601 date/time"),
        (["--since", "24x"], "neither an ISO-8601 date/time"),
        (["--since", "2026-13-01"], "neither an ISO-8601 date/time"),
        (["--until", "soon"], "--until"),
        (["--since", "1d", "--until", "2d"], "must be later than --since"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_exit_2(sqlite_url, args, message):
    result = export(sqlite_url, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_pages_are_streamed_without_losing_or_repeating_ties(
    database_url, store, tmp_path, monkeypatch
):
    """Many events at the same instant across page boundaries, in-process with tiny pages and as
    a real process writing a file."""
    at = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    with store.engine.begin() as conn:
        conn.execute(
            insert(AuditEvent.__table__),
            [
                {
                    "at": at + timedelta(seconds=i // 700),
                    "service_id": "APP0001931",
                    "client_addr": "203.0.113.9",
                    "operation": "VerifyTOTPCode",
                    "account": f"user{i:05d}",
                    "code": 0,
                    "duration_ms": 1.0,
                }
                for i in range(2500)
            ],
        )
    want = [f"user{i:05d}" for i in range(2500)]

    monkeypatch.setattr(audit_export, "PAGE_SIZE", 7)
    small = json_rows(ok(database_url, "--since", "2027-03-01", "--format", "json"))
    assert [r["account"] for r in small] == want
    monkeypatch.undo()

    out = tmp_path / "audit.csv"
    proc = run_gspws(
        [
            GSPWS,
            "--database-url",
            database_url,
            "audit",
            "export",
            "--since",
            "2027-03-01T12:00Z",
            "--until",
            "2027-03-02",
            "--output",
            str(out),
        ],
        env=gspws_env(tmp_path, ""),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "2500 audit events exported" in proc.stderr
    rows = csv_rows(out.read_text(encoding="utf-8"))
    assert [r["account"] for r in rows] == want
    assert rows[-1]["at"] == "2027-03-01T12:00:03.000000Z"
    assert not (tmp_path / "secret.key").exists()  # exporting needs no key, creates none
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_reads_while_the_server_writes_on_sqlite(tmp_path):
    """The export does not take SQLite's write lock: a writer commits while a page is open. With a
    busy timeout of 0 a held lock would fail the write at once ("database is locked"), so the test
    asserts the write, not how long it took."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'gspws.db'}", db_timeout=0)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    caller = Caller("APP0001931", ipaddress.ip_address("192.0.2.7"), "VerifyTOTPCode")
    with store.unit() as repo:
        for i in range(5):
            repo.audit(caller, f"a{i}", return_codes.OK, time.time(), 1.0)
    engine = audit_export.reading_engine(settings)
    try:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        rows = audit_export.events(engine, audit_export.Query(since), page_size=2)
        first = next(rows)  # a page is being read
        with store.unit() as repo:  # BEGIN IMMEDIATE: would fail on a held write lock
            repo.audit(caller, "during", return_codes.OK, time.time(), 1.0)
        # Events written after the export started are not in it: it ends.
        assert [first["account"], *(r["account"] for r in rows)] == [f"a{i}" for i in range(5)]
    finally:
        engine.dispose()
        store.engine.dispose()
