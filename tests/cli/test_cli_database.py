"""Every CLI command meets a database it cannot use with one line on stderr and exit status 1:
what failed, the URL without its password, and what to do (no traceback)."""

import os
import uuid

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from gspws.cli import main

from helpers import GSPWS, REPO, free_port, gspws_env, run_gspws

PG_URL = os.environ.get("GSPWS_TEST_PG_URL")
PASSWORD = "hunter2-not-shown"
FIXTURES = REPO / "tests" / "envelopes" / "fixtures.json"

#: Every command that opens the store, with arguments that would otherwise be fine.
COMMANDS = [
    ["account", "add", "alice"],
    ["account", "invite", "alice"],
    ["account", "link", "alice"],
    ["account", "list"],
    ["audit", "export"],
    ["db", "seed", str(FIXTURES)],
    ["db", "upgrade"],
    ["demo"],
    ["keys", "rotate"],
    ["keys", "status"],
    ["serve"],
    ["service", "add", "APP0000042", "--name", "x", "--allow", "127.0.0.1/32"],
    ["service", "disable", "APP0000042"],
    ["service", "enable", "APP0000042"],
    ["service", "grant", "APP0000042", "VerifyTOTPCode"],
    ["service", "list"],
    ["service", "resume", "APP0000042", "VerifyTOTPCode"],
    ["service", "revoke", "APP0000042", "VerifyTOTPCode"],
    ["service", "show", "APP0000042"],
    ["service", "suspend", "APP0000042", "VerifyTOTPCode"],
    ["token", "add", "alice"],
    ["token", "disable", "TOTP0000000000"],
    ["token", "list"],
    ["token", "unlock", "TOTP0000000000"],
]


@pytest.fixture(params=["missing-pg-database", "unreachable-port", "unwritable-sqlite-path"])
def bad_database(request, tmp_path) -> tuple[str, str]:
    """(URL, what the message must show of it)."""
    if request.param == "missing-pg-database":
        if not PG_URL:
            pytest.skip("needs GSPWS_TEST_PG_URL")
        url = make_url(PG_URL).set(password=PASSWORD, database=f"nosuchdb_{uuid.uuid4().hex[:8]}")
        return url.render_as_string(hide_password=False), url.render_as_string()
    if request.param == "unreachable-port":
        url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/gspws"
        return url, make_url(url).render_as_string()
    blocker = tmp_path / "a-file"  # a directory cannot be made under a file, not even by root
    blocker.write_text("")
    url = f"sqlite:///{blocker / 'gspws.db'}"
    return url, url


def _assert_one_clear_line(stderr: str, shown_url: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"Error: cannot use the database {shown_url}: "), stderr
    assert "Check --database-url (GSPWS_DATABASE_URL)" in lines[0]
    assert PASSWORD not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_says_in_one_line_that_the_database_cannot_be_used(
    bad_database, command, tmp_path
):
    url, shown = bad_database
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"  # keys rotate: 2
    env = {
        **{k: None for k in os.environ if k.startswith("GSPWS_")},
        "GSPWS_HOME": str(tmp_path / "home"),
        "GSPWS_SECRET_KEY": keys,
    }
    result = CliRunner().invoke(main, ["--database-url", url, *command], env=env)
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # not an escaped exception
    _assert_one_clear_line(result.stderr, shown)


def test_db_upgrade_as_a_process_prints_one_line(bad_database, tmp_path):
    url, shown = bad_database
    done = run_gspws(
        [GSPWS, "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=60,
        env=gspws_env(tmp_path, Fernet.generate_key().decode(), GSPWS_DATABASE_URL=url),
    )
    assert done.returncode == 1
    _assert_one_clear_line(done.stderr, shown)
