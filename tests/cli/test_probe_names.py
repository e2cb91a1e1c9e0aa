"""Security probe, names (issue 17, item 11): one rule for account names (gspws.core.names) at
every door (the CLI, the SOAP operations, replay fixtures), one address per e-mail field, and
listings that cannot drive the operator's terminal."""

import json

import pytest
from sqlalchemy import update

from gspws.store.models import Account

from helpers import ACCOUNT, SERVICE_ID, call, envelope, outcome, post, soap_result, zeep_service

HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}


@pytest.mark.parametrize(
    "name",
    [
        "bad\x1b[2Jname",
        "a\rb",
        "../../etc/passwd",
        "a b",
        "",
        "x" * 129,
        "al\u202eice",
        "-alice",
        "測試\u3000帳號",
        "a☃",
    ],
)
def test_account_add_refuses_names_outside_the_rule(cli, name):
    refused = cli("account", "add", "--", name)
    assert refused.exit_code != 0 and "an account name is 1 to 128 letters" in refused.output
    assert cli.json("account", "list") == []


def test_chinese_names_are_names(cli):
    assert cli.ok("account", "add", "測試帳號") == "account 測試帳號 added\n"
    again = cli("account", "add", " 測試帳號 ")
    assert again.exit_code == 1 and "already exists" in again.output


def test_lookalikes_are_the_same_account(cli):
    assert cli.ok("account", "add", "Alice") == "account alice added\n"
    for lookalike in ("alice", "alice ", "ＡＬＩＣＥ", "ａｌｉｃｅ"):
        again = cli("account", "add", lookalike)
        assert again.exit_code == 1 and "account 'alice' already exists" in again.output
    assert [a["account"] for a in cli.json("account", "list")] == ["alice"]
    cli.ok("account", "link", "ALICE")  # operators' lookups use the rule too


@pytest.mark.parametrize(
    "email",
    [
        "v@x.example, attacker@y.example",
        "v@x.example\nBcc: a@y.example",
        "Victim <v@x.example>",
        "v@x.example (c)",
        "v@@x.example",
        "v@localhost",
        "nobody",
    ],
)
def test_one_plain_address_per_email_field(cli, email):
    refused = cli("account", "add", "victim", "--email", email)
    assert refused.exit_code == 2 and "is not one plain e-mail address" in refused.output
    assert cli.json("account", "list") == []


def test_a_plain_address_is_kept(cli):
    cli.ok("account", "add", "victim", "--email", " v.w+tag@x.example ")
    assert cli.json("account", "list")[0]["email"] == "v.w+tag@x.example"


def test_listings_escape_what_would_drive_a_terminal(cli):
    cli.ok("account", "add", "eve", "--name", "Eve\x1b[31m\u202e")
    store = cli.store()
    with store.unit() as repo:  # a row stored before the rule existed
        repo.session.execute(update(Account).values(email="e@x.example\r\x9b2J"))
    store.engine.dispose()
    listing = cli.ok("account", "list")
    assert "\x1b" not in listing and "\r" not in listing and "\x9b" not in listing
    assert "\u202e" not in listing
    assert "Eve\\x1b[31m\\u202e" in listing and "e@x.example\\r\\x9b2J" in listing


def test_soap_callers_are_looked_up_by_the_rule(live_server, demo, clock):
    service = zeep_service(live_server.url)
    assert call(service, "  ＷＥＤＥＲＬＩＮ ", demo.code(clock())) == outcome(0)
    clock.advance(30)
    assert call(service, ACCOUNT.upper(), demo.code(clock())) == outcome(0)
    for name in ("../../etc/passwd", "we derlin", "x" * 5000, "wed\u202eerlin", "測試☃"):
        answer = post(live_server.url, envelope(name, "123456"))
        assert answer.status_code == 200 and soap_result(answer.content) == outcome(3001), name


def test_binding_operations_answer_3001_for_names_no_account_can_have(live_server, store):
    from binding import grant_binding

    grant_binding(store)
    service = zeep_service(live_server.url)
    for name in ("../../etc/passwd", "a\u202eb", "x" * 300):
        for answer in (
            service.GetTOTPStatus(account=name, _soapheaders=HEADER),
            service.CreateBindingLink(account=name, _soapheaders=HEADER),
        ):
            assert (answer.Code, answer.Message) == outcome(3001)


def test_fixtures_take_account_names_by_the_rule(tmp_path, cli):
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(json.dumps({"accounts": [{"account": "Carol"}]}))
    cli.ok("db", "seed", str(fixtures))
    assert [a["account"] for a in cli.json("account", "list")] == ["carol"]
    fixtures.write_text(json.dumps({"accounts": [{"account": "../carol"}]}))
    refused = cli("db", "seed", str(fixtures))
    assert refused.exit_code != 0 and "an account name is" in refused.output
