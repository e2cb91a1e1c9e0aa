"""``gspws token import`` and the pool's lifecycle commands, on SQLite and PostgreSQL: what is
stored (encrypted secrets, counters, the pool), re-import, refusals, and an imported token's codes
verified through VerifyTOTPCode over HTTP."""

import base64
import os
import pty
import subprocess
from pathlib import Path

import pskc
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from test_cli import Cli

from gspws.cli import main
from gspws.core.clock import FixedClock
from gspws.core.otp import TotpParams
from gspws.store.models import Token
from gspws.wsgi import create_app

from helpers import GSPWS, T0, TEST_PASSWORDS, LiveServer, call, gspws_env, run_gspws, zeep_service

SID = "APP0001931"
PSKC_DATA = Path(__file__).parents[1] / "data" / "pskc"
RFC_SECRET = b"12345678901234567890"
HEADER = "serial,secret,type,algorithm,digits,period_or_counter,account"
#: RFC 4226 Appendix D: the HOTP codes of RFC_SECRET for counters 0, 1, 2, ...
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314", "254676"]


@pytest.fixture
def cli(cli) -> Cli:
    """The directory's ``cli`` (tests/cli/conftest.py), with account alice."""
    cli.ok("account", "add", "alice")
    return cli


def csv_file(tmp_path, *lines: str, name: str = "tokens.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *lines)) + "\n")
    return str(path)


def tokens(cli: Cli, *args: str) -> dict[str, dict]:
    return {row["serial"]: row for row in cli.json("token", "list", *args)}


def stored(cli: Cli, serial: str) -> Token:
    store = cli.store()
    try:
        with store.unit() as repo:
            token = repo.get_token(serial)
            token.secret = store.secrets.decrypt(token.secret).encode()  # (read, never written)
            repo.session.expunge(token)
            return token
    finally:
        store.engine.dispose()


def typed(cli: Cli, text: str, *args: str):
    """``gspws ARGS`` with ``text`` typed at its prompts."""
    return cli._runner.invoke(
        main, ["--database-url", cli.database_url, *args], input=text, env=cli.env
    )


def token_count(cli: Cli) -> int:
    store = cli.store()
    try:
        with store.unit() as repo:
            return repo.session.scalar(select(func.count()).select_from(Token))
    finally:
        store.engine.dispose()


SUMMARY = "imported: {}\nalready present: {}{}\nrefused: 0\n"


def test_csv_import_then_reimport_duplicates_nothing(cli, tmp_path):
    path = csv_file(
        tmp_path,
        f"HW-T1,{RFC_SECRET.hex()},totp,SHA256,8,60,alice",
        f"HW-H1,{RFC_SECRET.hex()},hotp,SHA1,6,3,",
    )
    assert cli.ok("token", "import", path) == SUMMARY.format(2, 0, "")
    rows = tokens(cli)
    assert (rows["HW-T1"]["account"], rows["HW-H1"]["account"]) == ("alice", "")
    assert all(r["hardware"] and r["status"] == "active" for r in rows.values())
    assert list(tokens(cli, "--unassigned")) == ["HW-H1"]
    assert list(tokens(cli, "--account", "alice")) == ["HW-T1"]

    totp = stored(cli, "HW-T1")
    assert totp.secret.decode() == base64.b32encode(RFC_SECRET).decode()  # encrypted at rest
    assert (totp.algorithm, totp.digits, totp.period, totp.last_step) == ("SHA256", 8, 60, None)
    assert stored(cli, "HW-H1").last_step == 2  # the file's next counter is 3

    more = csv_file(tmp_path, f"HW-H2,{RFC_SECRET.hex()},hotp,,,0,", name="more.csv")
    cli.ok("token", "import", more)
    assert cli.ok("token", "import", path) == SUMMARY.format(0, 2, " (HW-T1, HW-H1)")
    assert token_count(cli) == 3


def test_bad_file_imports_nothing_and_names_the_line(cli, tmp_path):
    path = csv_file(
        tmp_path,
        f"HW-1,{RFC_SECRET.hex()},totp,SHA1,6,30,",
        f"HW-2,{RFC_SECRET.hex()},totp,SHA1,7,30,",
    )
    result = cli("token", "import", path)
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: line 3: 7 digits: gspws takes 6, 8; nothing imported")
    assert token_count(cli) == 0


def test_unknown_account_in_file_imports_nothing(cli, tmp_path):
    path = csv_file(
        tmp_path,
        f"HW-1,{RFC_SECRET.hex()},totp,SHA1,6,30,alice",
        f"HW-2,{RFC_SECRET.hex()},totp,SHA1,6,30,bob",
    )
    result = cli("token", "import", path)
    assert result.exit_code == 1
    assert "line 3: no account 'bob'" in result.stderr
    assert token_count(cli) == 0
    # --pool ignores the file's users; --assign gives every token to one account
    cli.ok("token", "import", path, "--dry-run", "--pool")
    assert token_count(cli) == 0
    cli.ok("token", "import", path, "--assign", "alice")
    assert {r["account"] for r in tokens(cli).values()} == {"alice"}


def test_assign_to_unknown_account_exits_1(cli, tmp_path):
    path = csv_file(tmp_path, f"HW-1,{RFC_SECRET.hex()},totp,SHA1,6,30,")
    result = cli("token", "import", path, "--assign", "nobody")
    assert (result.exit_code, "no account 'nobody'" in result.stderr) == (1, True)
    assert token_count(cli) == 0


def test_dry_run_stores_nothing(cli, tmp_path):
    path = csv_file(tmp_path, f"HW-1,{RFC_SECRET.hex()},totp,SHA1,6,30,")
    assert cli.ok("token", "import", path, "--dry-run").startswith("would import: 1\n")
    assert token_count(cli) == 0


@pytest.mark.parametrize(
    "figure, options",
    [
        (3, ["--pool"]),
        (5, []),
        (6, ["--key", "12345678901234567890123456789012"]),
        (7, ["--password", "qwerty"]),
    ],
    ids=["figure3", "figure5", "figure6", "figure7"],
)
def test_rfc6030_examples_import_as_rfc4226_tokens(cli, figure, options):
    path = str(PSKC_DATA / f"rfc6030-figure{figure}.pskcxml")
    assert cli.ok("token", "import", path, *options) == SUMMARY.format(1, 0, "")
    token = stored(cli, "987654321")
    assert (token.type.value, token.digits, token.last_step, token.account_id) == (
        "hotp",
        8,
        None,
        None,
    )
    # The stored secret gives RFC 4226's codes (8 digits: the same truncation, two more digits).
    hotp = TotpParams(token.secret.decode(), digits=6).totp()
    assert [hotp.generate_otp(c) for c in range(6)] == RFC4226_CODES
    assert cli.ok("token", "import", path, *options) == SUMMARY.format(0, 1, " (987654321)")


@pytest.mark.parametrize(
    "options, message",
    [
        ([], "give --key HEX or --password"),
        (["--password", "wrong"], "wrong --key or --password"),
        (["--key", "00" * 16, "--password", "qwerty"], "give --key or --password, not both"),
        (["--key", "abc"], "not hex"),
        (["--key", "00" * 5], "40 bits"),
    ],
    ids=["no-key", "wrong-password", "both", "key-not-hex", "key-length"],
)
def test_encrypted_file_refusals(cli, options, message):
    result = cli("token", "import", str(PSKC_DATA / "rfc6030-figure7.pskcxml"), *options)
    assert result.exit_code in (1, 2) and message in result.stderr
    assert token_count(cli) == 0


def test_written_encrypted_pskc_imports(cli, tmp_path):
    for name, setup in (
        (
            "key",
            lambda c: c.encryption.setup_preshared_key(
                key=bytes(range(32)), algorithm="aes256-cbc"
            ),
        ),
        ("password", lambda c: c.encryption.setup_pbkdf2("s3cret", iterations=1000)),
    ):
        container = pskc.PSKC()
        container.add_key(
            serial=f"HW-{name}",
            secret=RFC_SECRET,
            algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp",
            key_userid="alice",
        )
        setup(container)
        container.write(str(tmp_path / f"{name}.pskc"))
    key = bytes(range(32)).hex()
    assert (
        typed(
            cli, key + "\n", "token", "import", str(tmp_path / "key.pskc"), "--key", "-"
        ).exit_code
        == 0
    )
    result = typed(
        cli, "s3cret\n", "token", "import", str(tmp_path / "password.pskc"), "--password", "-"
    )
    assert result.exit_code == 0 and "s3cret" not in result.output
    rows = tokens(cli, "alice")
    assert sorted(rows) == ["HW-key", "HW-password"]


def pool_of(cli, tmp_path, *serials: str) -> None:
    lines = [f"{s},{RFC_SECRET.hex()},totp,SHA1,6,30," for s in serials]
    cli.ok("token", "import", csv_file(tmp_path, *lines))


def fails(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    return result.stderr.strip()


def test_assign_and_unassign(cli, tmp_path):
    pool_of(cli, tmp_path, "HW-1")
    cli.ok("account", "add", "bob")
    assert cli.ok("token", "assign", "HW-1", "alice") == "token HW-1 assigned to alice\n"
    assert fails(cli, "token", "assign", "HW-1", "bob") == (
        "Error: token HW-1 is not in the pool: it is active (assigned to alice)"
    )
    assert tokens(cli)["HW-1"]["account"] == "alice"
    assert fails(cli, "token", "assign", "HW-9", "bob") == "Error: no token HW-9"
    assert fails(cli, "token", "assign", "HW-1", "carol") == "Error: no account 'carol'"
    cli.ok("token", "unassign", "HW-1")
    assert list(tokens(cli, "--unassigned")) == ["HW-1"]
    assert "not assigned to anyone" in fails(cli, "token", "unassign", "HW-1")
    cli.ok("token", "assign", "HW-1", "bob")
    assert tokens(cli)["HW-1"]["account"] == "bob"


def test_phone_tokens_stay_out_of_the_pool(cli):
    output = cli.ok("token", "add", "alice")
    serial = output.split()[1]
    assert "only imported tokens" in fails(cli, "token", "unassign", serial)


def test_lost_and_found(cli, tmp_path):
    pool_of(cli, tmp_path, "HW-1")
    assert "reported lost" in cli.ok("token", "lost", "HW-1")
    assert tokens(cli)["HW-1"]["status"] == "lost"
    assert "not in use" in fails(cli, "token", "lost", "HW-1")
    cli.ok("token", "found", "HW-1")
    assert tokens(cli)["HW-1"]["status"] == "active"
    assert "not reported lost" in fails(cli, "token", "found", "HW-1")
    assert fails(cli, "token", "lost", "HW-9") == "Error: no token HW-9"


def test_pin_set_twice_hidden_and_cleared(cli, tmp_path):
    pool_of(cli, tmp_path, "HW-1")
    result = typed(cli, "1234\n1234\n", "token", "pin", "HW-1")
    assert result.exit_code == 0 and "1234" not in result.output
    assert TEST_PASSWORDS.matches(stored(cli, "HW-1").pin_hash, "1234")
    assert tokens(cli)["HW-1"]["pin"] is True
    result = typed(cli, "12\n12\n", "token", "pin", "HW-1")
    assert result.exit_code == 2 and "4 to 16" in result.stderr
    cli.ok("token", "pin", "HW-1", "--clear")
    assert stored(cli, "HW-1").pin_hash is None
    assert fails(cli, "token", "pin", "HW-9", "--clear") == "Error: no token HW-9"
    assert typed(cli, "", "token", "pin", "HW-9").stderr == "Error: no token HW-9\n"


def test_imported_totp_token_verifies_through_http_until_lost(cli, tmp_path, settings):
    """An imported TOTP token assigned to an account passes VerifyTOTPCode over HTTP; reported
    lost, its codes are refused; found, accepted again."""
    cli.env["GSPWS_SECRET_KEY"] = cli.secret_key = settings.secret_key
    cli.ok("service", "add", SID, "--name", "Agency", "--allow", "127.0.0.1/32")
    pool_of(cli, tmp_path, "HW-1")
    cli.ok("token", "assign", "HW-1", "alice")

    clock = FixedClock(T0)
    store = cli.store()
    server = LiveServer(create_app(settings, clock=clock, store=store))
    try:
        service = zeep_service(server.url)
        params = TotpParams(base64.b32encode(RFC_SECRET).decode())
        assert call(service, "alice", params.code_at(clock()), SID)[0] == 0
        cli.ok("token", "lost", "HW-1")
        clock.advance(30)
        assert call(service, "alice", params.code_at(clock()), SID)[0] != 0
        cli.ok("token", "found", "HW-1")
        clock.advance(30)
        assert call(service, "alice", params.code_at(clock()), SID)[0] == 0
    finally:
        server.stop()
        store.engine.dispose()


def run_on_a_terminal(args: list[str], env: dict) -> str:
    """``gspws ARGS`` with its output on a pseudo-terminal: what the terminal shows."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([GSPWS, *args], env=env, stdout=follower, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(60) == 0, shown
    return shown.decode()


def test_progress_bar_only_on_a_terminal(sqlite_url, tmp_path):
    env = gspws_env(tmp_path, Fernet.generate_key().decode(), GSPWS_DATABASE_URL=sqlite_url)
    run_gspws([GSPWS, "db", "upgrade"], env=env, check=True, capture_output=True)
    lines = [f"HW{i:04d},{RFC_SECRET.hex()},totp,SHA1,6,30," for i in range(2500)]
    path = csv_file(tmp_path, *lines)
    shown = run_on_a_terminal(["token", "import", path], env)
    assert "importing" in shown and "100%" in shown and "imported: 2500" in shown
    piped = run_gspws(
        [GSPWS, "token", "import", path], env=env, capture_output=True, text=True, check=True
    )
    assert piped.stdout == SUMMARY.format(
        0, 2500, "".join(f" ({', '.join(f'HW{i:04d}' for i in range(10))} and 2490 more)")
    )
    assert piped.stderr == ""


def test_imported_ocra_token_with_a_pin_answers_a_challenge(cli, tmp_path, settings):
    """An OCRA token imported from CSV (a P suite, next counter 3), its PIN set with ``token
    pin``: its response to GetChallenge's challenge, with that PIN and counter, verifies."""
    import ipaddress

    from gspws.compose import Wiring
    from gspws.core import ocra
    from gspws.core.access import OTP_FUNCTIONS, ServiceProfile
    from gspws.core.verify import Caller

    suite, key = "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", bytes(range(32))
    path = csv_file(tmp_path, f"OC-1,{key.hex()},ocra,{suite},8,3,")
    cli.env["GSPWS_SECRET_KEY"] = cli.secret_key = settings.secret_key
    cli.ok("token", "import", path)
    assert typed(cli, "2468\n2468\n", "token", "pin", "OC-1").exit_code == 0
    store = cli.store()
    try:
        nets = (ipaddress.ip_network("127.0.0.0/8"),)
        grants = {f: False for f in OTP_FUNCTIONS}
        services = {SID: ServiceProfile(SID, True, nets, grants)}
        challenges = Wiring(settings, store, FixedClock(T0), services=lambda: services).challenges()
        local = ipaddress.ip_address("127.0.0.1")
        issued = challenges.get_challenge(Caller(SID, local, "GetChallenge"), "OC-1").message
        parsed = ocra.parse_suite(suite)
        answer = ocra.response(parsed, key, issued, 3, ocra.pin_digest(parsed, "2468"))
        caller = Caller(SID, local, "VerifyResponse")
        assert challenges.verify_response(caller, "OC-1", issued, answer).code == 0
    finally:
        store.engine.dispose()


def test_token_stock_fills_the_pool_with_soft_tokens(cli):
    """``gspws token stock``: soft tokens for the binding page's 申請綁定 (docs/qr-login.md)."""
    serials = cli.ok("token", "stock", "3", "--period", "60").split()
    assert len(serials) == 3
    rows = {r["serial"]: r for r in cli.json("token", "list", "--unassigned")}
    assert set(serials) <= set(rows)
    for serial in serials:
        row = rows[serial]
        assert row["hardware"] is False and row["status"] == "active" and row["period"] == 60
    assert cli("token", "stock", "0").exit_code != 0
