"""The operator's command line: exit statuses, what each command changes, what it prints.

Most commands run in-process through click's CliRunner against a real store (SQLite file and
PostgreSQL); ``db upgrade`` also runs as the console script exec'd, and the demo walk-through as
processes (tests/forked.py) against a ``gspws serve`` process.
"""

import io
import json
import os
import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import click
import pytest
import segno
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine

from gspws.cli import main
from gspws.config import Settings
from gspws.core.access import FUNCTIONS
from gspws.store.migrate import MIGRATIONS
from gspws.store.models import Account, Service, Token, TokenStatus
from gspws.wsgi import build_store

from helpers import GSPWS, REPO, SECRET, ServerProcess, gspws_env, run_gspws

SID = "APP0000042"
URI = re.compile(r"^otpauth URI: (otpauth://\S+)$", re.M)
SERIAL = re.compile(r"^serial: (TOTP\d{10})$", re.M)


class Cli:
    """Runs ``gspws --database-url URL ...`` in-process with a fixed secret key."""

    def __init__(self, database_url: str, home) -> None:
        self.database_url = database_url
        self.secret_key = Fernet.generate_key().decode()
        self.home = home
        self.env = {
            **{k: None for k in _gspws_variables()},
            "GSPWS_HOME": str(home),
            "GSPWS_SECRET_KEY": self.secret_key,
        }
        self._runner = CliRunner()

    def __call__(self, *args: str):
        engines = set()

        def record(connection) -> None:
            engines.add(connection.engine)

        event.listen(Engine, "engine_connect", record)
        try:
            result = self._runner.invoke(
                main,
                ["--database-url", self.database_url, *args],
                env=self.env,
                catch_exceptions=False,
            )
        finally:
            event.remove(Engine, "engine_connect", record)
        # Each invocation builds an engine: close its pooled connections now. (A gc.collect() here
        # did the same and cost ~0.1 s a call, most of this module's time.)
        for engine in engines:
            engine.dispose()
        return result

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    def json(self, *args: str):
        return json.loads(self.ok(*args, "--json"))

    def store(self):
        return build_store(
            Settings.from_env(
                {"GSPWS_SECRET_KEY": self.secret_key},
                home=self.home,
                database_url=self.database_url,
            )
        )


def _gspws_variables():
    return [k for k in os.environ if k.startswith("GSPWS_")]


@pytest.fixture
def with_service(cli) -> Cli:
    cli.ok("service", "add", SID, "--name", "Agency", "--allow", "10.0.0.0/8")
    return cli


@pytest.fixture
def with_account(cli) -> Cli:
    cli.ok("account", "add", "alice", "--name", "Alice", "--email", "a@example.org")
    return cli


def _counts(cli: Cli) -> tuple[int, int, int]:
    store = cli.store()
    try:
        with store.unit() as repo:
            return tuple(
                repo.session.scalar(select(func.count()).select_from(table))
                for table in (Service, Account, Token)
            )
    finally:
        store.engine.dispose()


def _alembic_head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


# -- db -----------------------------------------------------------------------------------------


def test_db_upgrade_is_idempotent_as_a_real_process(database_url, tmp_path):
    env = gspws_env(tmp_path, Fernet.generate_key().decode())
    for _ in range(2):
        done = subprocess.run(
            [GSPWS, "--database-url", database_url, "db", "upgrade"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "database at the newest revision" in done.stdout
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == _alembic_head()
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()


# -- services -----------------------------------------------------------------------------------


def test_service_add_then_show(with_service):
    assert with_service.json("service", "show", SID) == {
        "service_id": SID,
        "name": "Agency",
        "enabled": True,
        "allow": ["10.0.0.0/8"],
        "grants": {"VerifyTOTPCode": "active"},
    }
    assert [s["service_id"] for s in with_service.json("service", "list")] == [SID]


def test_service_add_accepts_ipv6_and_normalises_networks(cli):
    cli.ok(
        "service",
        "add",
        SID,
        "--name",
        "Six",
        "--allow",
        "2001:db8::1/32",
        "--allow",
        "::1/128",
        "--allow",
        "192.168.1.7/24",
    )
    assert cli.json("service", "show", SID)["allow"] == [
        "2001:db8::/32",
        "::1/128",
        "192.168.1.0/24",
    ]


def test_service_add_duplicate_exits_1_with_message(with_service):
    result = with_service("service", "add", SID, "--name", "Again", "--allow", "10.0.0.0/8")
    assert result.exit_code == 1
    assert f"service {SID} already exists" in result.stderr
    assert with_service.json("service", "show", SID)["name"] == "Agency"


@pytest.mark.parametrize(
    "service_id", ["APP123456", "APP00000001", "app0000001", "XYZ0000001", "APP000000a", ""]
)
def test_service_add_bad_service_id_exits_2(cli, service_id):
    result = cli("service", "add", service_id, "--name", "x", "--allow", "10.0.0.0/8")
    assert result.exit_code == 2
    assert "ServiceID" in result.stderr
    assert cli.json("service", "list") == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "300.1.2.3/32", "not-a-network", "::1/129", ""])
def test_service_add_bad_cidr_exits_2(cli, cidr):
    result = cli("service", "add", SID, "--name", "x", "--allow", cidr)
    assert result.exit_code == 2
    assert "--allow" in result.stderr
    assert cli.json("service", "list") == []


def test_service_add_needs_a_network(cli):
    assert cli("service", "add", SID, "--name", "x").exit_code == 2


def test_grant_changes_are_reflected_in_show(with_service):
    cli = with_service

    def state():
        shown = cli.json("service", "show", SID)
        return shown["enabled"], shown["grants"]

    steps = [
        (["revoke", SID, "VerifyTOTPCode"], (True, {})),
        (["grant", SID, "VerifyTOTPCode"], (True, {"VerifyTOTPCode": "active"})),
        (["suspend", SID, "VerifyTOTPCode"], (True, {"VerifyTOTPCode": "suspended"})),
        (["resume", SID, "VerifyTOTPCode"], (True, {"VerifyTOTPCode": "active"})),
        (["disable", SID], (False, {"VerifyTOTPCode": "active"})),
        (["enable", SID], (True, {"VerifyTOTPCode": "active"})),
    ]
    for args, expected in steps:
        cli.ok("service", *args)
        assert state() == expected, args


@pytest.mark.parametrize(
    "command, granted", [("grant", True), ("revoke", False), ("suspend", False), ("resume", False)]
)
def test_grant_changes_that_do_not_apply_exit_1(with_service, command, granted):
    """Granting what is granted, or revoking/suspending/resuming what is not, is refused."""
    if not granted:
        with_service.ok("service", "revoke", SID, "VerifyTOTPCode")
    result = with_service("service", command, SID, "VerifyTOTPCode")
    assert result.exit_code == 1
    assert SID in result.stderr
    expected = {"VerifyTOTPCode": "active"} if granted else {}
    assert with_service.json("service", "show", SID)["grants"] == expected


def test_unknown_function_is_a_usage_error(with_service):
    assert with_service("service", "grant", SID, "SendSMS").exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["show"],
        ["grant", "VerifyTOTPCode"],
        ["revoke", "VerifyTOTPCode"],
        ["suspend", "VerifyTOTPCode"],
        ["resume", "VerifyTOTPCode"],
        ["disable"],
        ["enable"],
    ],
)
def test_unknown_service_exits_1(with_service, args):
    result = with_service("service", args[0], "APP0000099", *args[1:])
    assert result.exit_code == 1
    assert "no service APP0000099" in result.stderr


# -- accounts -----------------------------------------------------------------------------------


def test_account_add_and_list(with_account):
    assert with_account.json("account", "list") == [
        {
            "account": "alice",
            "name": "Alice",
            "email": "a@example.org",
            "phone": "",
            "active_tokens": 0,
        }
    ]


def test_account_add_duplicate_exits_1(with_account):
    result = with_account("account", "add", "alice")
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert len(with_account.json("account", "list")) == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 129])
def test_account_add_bad_name_exits_2(cli, name):
    assert cli("account", "add", name).exit_code == 2
    assert cli.json("account", "list") == []


# -- tokens -------------------------------------------------------------------------------------


def _added(output: str) -> tuple[str, str]:
    serial, uri = SERIAL.search(output), URI.search(output)
    assert serial and uri, output
    return serial.group(1), uri.group(1)


def test_token_add_prints_serial_and_uri_of_a_working_token(with_account):
    serial, uri = _added(with_account.ok("token", "add", "alice"))
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/gspws:alice")
    assert query["issuer"] == ["gspws"]
    # The URI's secret is the stored one: the store computes the same codes.
    store = with_account.store()
    try:
        with store.unit() as repo:
            params = repo.token_params(repo.get_token(serial))
    finally:
        store.engine.dispose()
    assert params.secret == query["secret"][0]
    assert with_account.json("account", "list")[0]["active_tokens"] == 1


def test_token_add_with_a_given_secret_normalises_it(with_account):
    spaced = " ".join(SECRET[i : i + 4] for i in range(0, len(SECRET), 4)).lower()
    _serial, uri = _added(with_account.ok("token", "add", "alice", "--secret", spaced))
    assert parse_qs(urlsplit(uri).query)["secret"] == [SECRET]


@pytest.mark.parametrize(
    "secret",
    [
        "JBSWY3DP",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX!",
        "0189JBSWY3DPEHPK3PXPJBSWY3DP",
        "not a secret",
    ],
)
def test_token_add_bad_secret_exits_2(with_account, secret):
    result = with_account("token", "add", "alice", "--secret", secret)
    assert result.exit_code == 2
    assert "--secret" in result.stderr
    assert with_account.json("token", "list") == []


def test_token_add_parameters_are_in_uri_and_listing(with_account):
    serial, uri = _added(
        with_account.ok(
            "token",
            "add",
            "alice",
            "--algorithm",
            "SHA256",
            "--digits",
            "8",
            "--period",
            "60",
            "--device-name",
            "work phone",
        )
    )
    query = parse_qs(urlsplit(uri).query)
    assert (query["algorithm"], query["digits"], query["period"]) == (["SHA256"], ["8"], ["60"])
    [row] = with_account.json("token", "list", "alice")
    assert {
        k: row[k]
        for k in ("serial", "algorithm", "digits", "period", "device_name", "status", "type")
    } == {
        "serial": serial,
        "algorithm": "SHA256",
        "digits": 8,
        "period": 60,
        "device_name": "work phone",
        "status": "active",
        "type": "totp",
    }


@pytest.mark.parametrize("option", [["--algorithm", "MD5"], ["--digits", "7"], ["--period", "45"]])
def test_token_add_unsupported_parameters_exit_2(with_account, option):
    assert with_account("token", "add", "alice", *option).exit_code == 2


def test_token_add_qr_draws_the_uri(with_account):
    output = with_account.ok("token", "add", "alice", "--qr")
    _serial, uri = _added(output)
    expected = io.StringIO()
    segno.make(uri, error="m").terminal(out=expected, compact=True)
    assert expected.getvalue().strip() in output
    assert output.count("\n") > 10


def test_token_add_to_unknown_account_exits_1(cli):
    result = cli("token", "add", "nobody")
    assert result.exit_code == 1
    assert "no account 'nobody'" in result.stderr
    assert cli.json("token", "list") == []


def test_token_list_never_shows_secrets(with_account):
    with_account.ok("account", "add", "bob")
    with_account.ok("token", "add", "alice", "--secret", SECRET)
    _serial, uri = _added(with_account.ok("token", "add", "bob"))
    bob_secret = parse_qs(urlsplit(uri).query)["secret"][0]
    listings = [
        with_account.ok("token", "list", *args)
        for args in ([], ["--json"], ["alice"], ["alice", "--json"], ["bob", "--json"])
    ]
    assert [len(json.loads(out)) for out in listings if out.startswith("[")] == [2, 1, 1]
    for out in listings:
        for secret in (SECRET, bob_secret):
            assert secret.lower() not in out.lower()
        assert "otpauth" not in out


def test_token_list_of_unknown_account_exits_1(cli):
    assert cli("token", "list", "nobody").exit_code == 1


def test_token_disable_and_unlock(with_account):
    serial, _uri = _added(with_account.ok("token", "add", "alice"))

    def status():
        return with_account.json("token", "list", "alice")[0]["status"]

    # A locked token (as failed codes leave it) unlocks, with its failures cleared.
    store = with_account.store()
    try:
        with store.unit() as repo:
            token = repo.get_token(serial)
            token.status, token.failures = TokenStatus.LOCKED, 5
    finally:
        store.engine.dispose()
    assert status() == "locked"
    with_account.ok("token", "unlock", serial)
    [row] = with_account.json("token", "list", "alice")
    assert (row["status"], row["failures"]) == ("active", 0)

    with_account.ok("token", "disable", serial)
    assert status() == "disabled"
    assert with_account.json("account", "list")[0]["active_tokens"] == 0
    result = with_account("token", "unlock", serial)  # disabled is not locked: stays disabled
    assert result.exit_code == 1
    assert "not locked" in result.stderr
    assert status() == "disabled"


def test_token_unlock_of_an_active_token_says_it_was_not_locked(with_account):
    serial, _uri = _added(with_account.ok("token", "add", "alice"))
    store = with_account.store()
    try:
        with store.unit() as repo:
            repo.get_token(serial).failures = 3  # failures below the threshold: not locked
    finally:
        store.engine.dispose()
    result = with_account("token", "unlock", serial)
    assert result.exit_code == 1
    assert f"token {serial} is active, not locked" in result.stderr
    [row] = with_account.json("token", "list", "alice")
    assert (row["status"], row["failures"]) == ("active", 3)  # the store's rule: untouched


@pytest.mark.parametrize("command", ["disable", "unlock"])
def test_token_commands_on_unknown_serial_exit_1(cli, command):
    result = cli("token", command, "TOTP0000000000")
    assert result.exit_code == 1
    assert "no token TOTP0000000000" in result.stderr


# -- help ---------------------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix=()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += _command_paths(command, prefix + (name,))
        else:
            paths.append(prefix + (name,))
    return paths


COMMAND_PATHS = _command_paths(main)


def test_the_command_tree_is_the_documented_one():
    # Guards the walk below: a tree it failed to walk would make the help test vacuous.
    assert {" ".join(p) for p in COMMAND_PATHS} >= {
        "",
        "db",
        "db upgrade",
        "service",
        "service add",
        "service grant",
        "service revoke",
        "service suspend",
        "service resume",
        "service disable",
        "service enable",
        "service list",
        "service show",
        "account",
        "account add",
        "account list",
        "token",
        "token add",
        "token list",
        "token unlock",
        "token disable",
        "serve",
        "demo",
    }


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "gspws")
def test_every_command_answers_help(path, tmp_path):
    env = {**{k: None for k in _gspws_variables()}, "GSPWS_HOME": str(tmp_path)}
    result = CliRunner().invoke(main, [*path, "--help"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("Usage: ") and " ".join(path) in usage
    assert not (tmp_path / "gspws.db").exists()  # --help touches no store


# -- demo ---------------------------------------------------------------------------------------


def test_demo_seeds_an_empty_store(cli):
    output = cli.ok("demo")
    assert "APP0000001" in output
    assert re.search(r"^\s+account\s+demo$", output, re.M)
    assert re.search(r"otpauth://totp/gspws:demo\?secret=[A-Z2-7]+", output)
    assert "clients/verify_totp.py" in output
    assert re.search(r"gspws admin add NAME --role operator.*\n?.*/admin/", output)
    assert _counts(cli) == (1, 1, 1)
    # The loopback-only demo agency may call every operation, binding ones included.
    assert cli.json("service", "show", "APP0000001")["grants"] == dict.fromkeys(FUNCTIONS, "active")


def test_demo_on_a_seeded_store_adds_nothing(cli):
    first = cli.ok("demo")
    again = cli.ok("demo")
    assert again == first  # the same instructions, the same secret
    assert _counts(cli) == (1, 1, 1)


def test_demo_on_a_store_with_accounts_adds_nothing(with_account):
    with_account.ok("token", "add", "alice")
    output = with_account.ok("demo")
    assert "no demo data was added" in output
    assert "otpauth" not in output
    assert _counts(with_account) == (0, 1, 1)


def test_demo_walkthrough_against_a_real_server(database_url, tmp_path):
    env = gspws_env(tmp_path, Fernet.generate_key().decode())
    server = ServerProcess(database_url, env, tmp_path / "server.log")

    def gspws(*args):
        return run_gspws(
            [GSPWS, "--database-url", database_url, *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert gspws("db", "upgrade").returncode == 0
    demo = gspws("demo", "--url", server.url)
    assert demo.returncode == 0, demo.stderr
    [command] = [
        line.strip() for line in demo.stdout.splitlines() if "clients/verify_totp.py" in line
    ]
    assert f"--url {server.url} " in command

    # The printed command computes the code in a shell substitution; it is evaluated once and the
    # client run twice with that code, so the second run is a replay whatever the time step.
    client, _, code_expression = command.partition(" --code ")
    code = subprocess.run(
        ["bash", "-c", f"printf %s {code_expression}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert re.fullmatch(r"\d{6}", code), code
    server.start()
    try:
        runs = [
            subprocess.run(
                ["bash", "-c", f"{client} --code {code}"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
            )
            for _ in range(2)
        ]
    finally:
        assert server.stop() == 0
    assert (runs[0].returncode, runs[1].returncode) == (0, 1), [r.stderr for r in runs]
    assert "Code: 0\n" in runs[0].stdout
    assert "Code: 9999\n" in runs[1].stdout


def _destinations(cli: Cli, account: str):
    from sqlalchemy import select

    from gspws.store.models import Account

    store = cli.store()
    with store.reading() as repo:
        row = repo.session.scalar(select(Account).where(Account.account == account))
        found = (row.mobile, row.mobile_verified, row.email, row.email_verified)
    store.engine.dispose()
    return found


def test_account_add_and_set_destinations_are_verified(cli):
    cli.ok("account", "add", "alice", "--mobile", "+886 912-345-678")
    assert _destinations(cli, "alice") == ("0912345678", True, None, False)
    cli.ok("account", "set", "alice", "--email", "a@example.org", "--mobile", "886987654321")
    assert _destinations(cli, "alice") == ("0987654321", True, "a@example.org", True)


@pytest.mark.parametrize(
    "args",
    [("--mobile", "0212345678"), ("--mobile", "09123"), ("--email", "a@b@c"), ()],
    ids=["landline", "short", "email", "none"],
)
def test_account_set_refuses_bad_destinations(with_account, args):
    assert with_account("account", "set", "alice", *args).exit_code == 2
