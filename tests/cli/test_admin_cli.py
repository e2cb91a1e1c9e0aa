"""``gspws admin add|list|disable|enable|reset`` and ``gspws service set``, in-process through
click's CliRunner against a real store (SQLite and PostgreSQL), each enrolment link then used
on the console (werkzeug's test client)."""

import re
import time

import pytest
from admin_console import Browser
from click.testing import CliRunner

from gspws.cli import main
from gspws.core.clock import FixedClock
from gspws.wsgi import create_app

from helpers import audit_rows

LINK = re.compile(r"^http://127\.0\.0\.1:8000(/admin/enrol/[A-Za-z0-9_-]+)$", re.M)


@pytest.fixture
def gspws(settings, store):
    """``gspws --database-url URL ...`` with the store's key; returns (exit code, stdout)."""
    env = {"GSPWS_SECRET_KEY": settings.secret_key, "GSPWS_HOME": str(settings.home)}

    def run(*args: str):
        result = CliRunner().invoke(
            main, ["--database-url", settings.effective_database_url, *args], env=env
        )
        return result.exit_code, result.stdout + (result.stderr if result.exit_code else "")

    return run


@pytest.fixture
def clock():
    """Now: the CLI dates its links by the system clock (the server's clock is this one)."""
    return FixedClock(time.time())


@pytest.fixture
def app(settings, store, clock, demo):
    return create_app(settings, clock=clock, store=store)


def test_add_prints_a_link_that_enrols_once(gspws, app, clock, store):
    code, out = gspws("admin", "add", "alice", "--role", "operator")
    assert code == 0, out
    link = LINK.search(out).group(1)
    browser = Browser(app, clock)
    browser.enrol(link)
    assert browser.sign_in("alice").status_code == 303
    assert gspws("admin", "add", "alice", "--role", "auditor") == (
        1,
        "Error: administrator alice already exists\n",
    )
    code, out = gspws("admin", "list", "--json")
    assert '"state": "active"' in out and '"role": "operator"' in out
    assert ("admin:cli:AddAdmin:alice", 0) in [(r.operation, r.code) for r in audit_rows(store)]


@pytest.mark.parametrize("args", [("Alice",), ("a b",), ("x" * 33,), ("9lives",)], ids=str)
def test_add_refuses_bad_names(gspws, args):
    code, _ = gspws("admin", "add", *args, "--role", "operator")
    assert code == 2


def test_add_needs_a_role_of_two(gspws):
    assert gspws("admin", "add", "alice", "--role", "root")[0] == 2
    assert gspws("admin", "add", "alice")[0] == 2


def test_disable_enable_and_reset(gspws, app, clock):
    link = LINK.search(gspws("admin", "add", "bob", "--role", "auditor")[1]).group(1)
    browser = Browser(app, clock)
    browser.enrol(link)
    assert gspws("admin", "disable", "bob")[0] == 0
    assert browser.sign_in("bob").status_code == 403
    assert "disabled" in gspws("admin", "list")[1]
    assert gspws("admin", "enable", "bob")[0] == 0
    assert browser.sign_in("bob").status_code == 303
    code, out = gspws("admin", "reset", "bob")
    assert code == 0
    assert browser.get("/admin/services").status_code == 303  # the session ended
    assert browser.sign_in("bob").status_code == 403  # the old key is gone
    browser.enrol(LINK.search(out).group(1))
    assert browser.sign_in("bob").status_code == 303
    assert gspws("admin", "reset", "nobody")[0] == 1
    assert gspws("admin", "disable", "nobody")[0] == 1


def test_service_set_renames_and_replaces_networks(gspws, store, demo):
    assert gspws("service", "set", demo.service_id)[0] == 2
    assert gspws("service", "set", demo.service_id, "--allow", "300.1.1.1/8")[0] == 2
    code, _ = gspws(
        "service",
        "set",
        demo.service_id,
        "--name",
        "New",
        "--allow",
        "10.1.2.3/8",
        "--allow",
        "2001:db8::1/32",
    )
    assert code == 0
    with store.reading() as repo:
        service = repo.get_service(demo.service_id)
        assert service.name == "New"
        assert [n.cidr for n in service.networks] == ["10.0.0.0/8", "2001:db8::/32"]
    assert gspws("service", "set", "APP0000999", "--name", "x")[0] == 1


def test_list_shows_a_locked_administrator(gspws, app, settings, clock):
    link = LINK.search(gspws("admin", "add", "dave", "--role", "operator")[1]).group(1)
    browser = Browser(app, clock)
    browser.enrol(link)
    for _ in range(settings.lockout_threshold):
        browser.sign_in("dave", password="wrong password!!")
    assert '"state": "locked"' in gspws("admin", "list", "--json")[1]
