"""The operator console's pages through werkzeug's test client, on SQLite and PostgreSQL: a
change made on a page takes effect on the wire (SOAP VerifyTOTPCode through the same app), a
search finds by prefix and pages by keyset, the audit filters and exports as `gspws audit export`
does, the keys page shows fingerprints and never a key."""

import csv
import dataclasses
import io
import re

import pytest
from admin_console import lock_token, pool_token, signed_in

from gspws.cli.audit_formats import write_csv
from gspws.core.codes import BY_CODE
from gspws.core.otp import TotpParams
from gspws.store import audit_export as export
from gspws.store.models import TokenStatus
from gspws.wsgi import create_app

from helpers import SECRET, SERVICE_ID, TEST_PASSWORDS, audit_rows, code_at, envelope, soap_result


def verify(alice, demo, clock, service_id=None) -> int:
    """A VerifyTOTPCode call through the same app, a step later each time."""
    clock.advance(30)
    return verify_code(alice, demo.account, demo.code(clock()), service_id or demo.service_id)


def verify_code(alice, account: str, code: str, service_id: str = SERVICE_ID) -> int:
    response = alice.client.post(
        "/gsp2ws/TOTP.asmx",
        data=envelope(account, code, service_id),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
        },
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    return soap_result(response.data)[0]


# -- services -----------------------------------------------------------------------------------


def test_add_a_service_then_suspend_and_resume_its_function(alice, store, clock, demo):
    alice.get("/admin/services")
    alice.post(
        "/admin/services/add",
        {
            "service_id": "APP0000077",
            "name": "新機關",
            "networks": "127.0.0.1\n::1/128",
            "functions": ["VerifyTOTPCode"],
        },
    )
    assert alice.page.status_code == 303
    alice.follow()
    assert alice.by_id("service-id") == "APP0000077"
    assert verify(alice, demo, clock, "APP0000077") == 0
    alice.post("/admin/services/APP0000077/suspend", {"function": "VerifyTOTPCode"})
    assert verify(alice, demo, clock, "APP0000077") == 8109
    alice.follow()
    alice.post("/admin/services/APP0000077/resume", {"function": "VerifyTOTPCode"})
    assert verify(alice, demo, clock, "APP0000077") == 0
    alice.follow()
    alice.post("/admin/services/APP0000077/revoke", {"function": "VerifyTOTPCode"})
    assert verify(alice, demo, clock, "APP0000077") == 8108
    alice.follow()
    alice.post("/admin/services/APP0000077/grant", {"function": "VerifyTOTPCode"})
    alice.follow()
    alice.post("/admin/services/APP0000077/disable")
    assert verify(alice, demo, clock, "APP0000077") == 8109
    alice.follow()
    assert alice.by_id("service-state") == "停用"
    alice.post("/admin/services/APP0000077/enable")
    assert verify(alice, demo, clock, "APP0000077") == 0
    operations = [r.operation for r in audit_rows(store) if r.service_id == "APP0000077"]
    assert "admin:alice:AddService" in operations
    assert "admin:alice:Suspend:VerifyTOTPCode" in operations


def test_edit_networks_takes_effect_and_bad_networks_are_refused(alice, store, clock, demo):
    path = f"/admin/services/{demo.service_id}"
    alice.get(path)
    alice.post(f"{path}/edit", {"name": "Renamed", "networks": "10.0.0.0/8\n2001:db8::/32"})
    assert alice.page.status_code == 303
    assert verify(alice, demo, clock) == 8104
    alice.get(path)
    assert "Renamed" in alice.text and "2001:db8::/32" in alice.text
    alice.post(f"{path}/edit", {"name": "Renamed", "networks": "10.0.0.300/8"})
    assert alice.page.status_code == 400
    assert "10.0.0.300" in alice.by_id("problem")
    alice.post(f"{path}/edit", {"name": "Back", "networks": "127.0.0.1/8"})  # host bits dropped
    assert verify(alice, demo, clock) == 0
    with store.reading() as repo:
        assert repo.service_profiles()[demo.service_id].networks[0].exploded.startswith("127.0.0.0")


@pytest.mark.parametrize(
    "service_id, networks",
    [("APX0000001", "10.0.0.0/8"), ("APP0000078", "not-a-network"), ("APP0000078", "")],
    ids=["bad-service-id", "bad-network", "no-network"],
)
def test_adding_a_service_validates_like_the_cli(alice, store, service_id, networks):
    alice.get("/admin/services")
    alice.post("/admin/services/add", {"service_id": service_id, "name": "x", "networks": networks})
    assert alice.page.status_code == 400
    with store.reading() as repo:
        assert service_id not in repo.service_profiles()


def test_services_search(alice, store):
    with store.unit() as repo:
        repo.add_service("APP0000555", "Taipei water", ["10.0.0.0/8"], ["VerifyTOTPCode"])
    alice.get("/admin/services", q="water")
    assert "APP0000555" in alice.text and "APP0001931" not in alice.text
    alice.get("/admin/services", q="APP00019")
    assert "APP0001931" in alice.text and "APP0000555" not in alice.text


# -- accounts and tokens ------------------------------------------------------------------------


def test_unlock_a_locked_token_then_a_call_answers_0(alice, store, clock, demo):
    lock_token(store, demo.serial, clock())
    assert verify(alice, demo, clock) == 9999
    alice.get(f"/admin/tokens/{demo.serial}")
    assert alice.by_id("token-status") == "鎖定"
    alice.post(f"/admin/tokens/{demo.serial}/unlock")
    assert alice.page.status_code == 303
    assert verify(alice, demo, clock) == 0
    alice.follow()
    alice.post(f"/admin/tokens/{demo.serial}/unlock")  # not locked: refused, as the CLI does
    assert alice.page.status_code == 400
    assert "not locked" in alice.by_id("problem")


def test_lost_found_and_disable(alice, store, clock, demo):
    path = f"/admin/tokens/{demo.serial}"
    alice.get(path)
    alice.post(f"{path}/lost")
    assert verify(alice, demo, clock) != 0
    alice.follow()
    assert alice.by_id("token-status") == "掛失"
    alice.post(f"{path}/lost")  # the CLI's rule: only an active or locked token
    assert alice.page.status_code == 400 and "is not in use" in alice.by_id("problem")
    alice.post(f"{path}/found")
    assert verify(alice, demo, clock) == 0
    alice.follow()
    alice.post(f"{path}/disable")
    assert verify(alice, demo, clock) != 0
    alice.follow()
    assert alice.by_id("token-status") == "停用"
    rows = [(r.operation, r.account) for r in audit_rows(store)]
    assert ("admin:alice:ReportTokenLost", demo.account) in rows
    assert ("admin:alice:DisableToken", demo.account) in rows


def test_the_pool_assign_unassign_and_a_pin_cleared(alice, store, clock, demo):
    from gspws.core.otp import new_secret
    from gspws.store import pool

    params = TotpParams(new_secret())
    pool_token(store, "HW00000001", params)
    path = "/admin/tokens/HW00000001"
    alice.get("/admin/accounts", by="pool", q="HW")
    assert "HW00000001" in alice.text
    alice.get(path)
    assert alice.by_id("token-account") == "（未指派）"
    alice.post(f"{path}/assign", {"account": "nobody"})
    assert alice.page.status_code == 400 and "nobody" in alice.by_id("problem")
    alice.post(f"{path}/assign", {"account": demo.account})
    assert alice.page.status_code == 303
    clock.advance(30)
    assert verify_code(alice, demo.account, code_at(params, clock())) == 0
    with store.unit() as repo:
        pool.set_pin(repo, "HW00000001", TEST_PASSWORDS.hash("1234"))
    alice.get(path)
    assert alice.by_id("token-pin") == "已設定"
    alice.post(f"{path}/clear_pin")
    alice.follow()
    assert alice.by_id("token-pin") == "未設定"
    alice.post(f"{path}/unassign")
    clock.advance(30)
    assert verify_code(alice, demo.account, code_at(params, clock())) == 9999
    alice.get(f"/admin/tokens/{demo.serial}")  # a phone's token is not the pool's
    assert 'id="unassign"' not in alice.text
    alice.post(f"/admin/tokens/{demo.serial}/unassign")
    assert alice.page.status_code == 400 and "not imported" in alice.by_id("problem")


def test_a_binding_link_for_the_token_account(alice, store, demo):
    alice.get(f"/admin/tokens/{demo.serial}")
    alice.post(f"/admin/tokens/{demo.serial}/link")
    assert alice.page.status_code == 200
    assert "/owin/manage/Link/" in alice.by_id("binding-link")
    rows = [(r.operation, r.account, r.code) for r in audit_rows(store)]
    assert ("admin:alice:CreateBindingLink", demo.account, 0) in rows


@pytest.mark.parametrize(
    "path", ["", "services", "accounts", "audit", "keys", "services/APP0001931"], ids=str
)
def test_every_page_in_english(alice, demo, path):
    alice.get(f"/admin/{path}", lang="en")
    assert alice.page.status_code == 200
    assert 'lang="en"' in alice.text and "Sign out" in alice.text
    words = alice.text.split("<main>")[1]
    for returned in BY_CODE.values():  # the contract's messages are Chinese in any language
        words = words.replace(returned.message, "")
    assert not re.findall(r"[\u4e00-\u9fff]+", words)


def test_search_by_account_mobile_and_serial_with_keyset_pages(alice, store):
    params = TotpParams(SECRET)
    with store.unit() as repo:
        for i in range(120):
            account = repo.add_account(f"user{i:03d}")
            repo.set_destinations(account, f"0912{i:06d}", None, verified=True)
            repo.add_token(account, params, TokenStatus.ACTIVE, serial=f"TOTP77{i:08d}")
        repo.add_token(None, params, TokenStatus.ACTIVE, serial="TOTP8800000001")
    seen, after = [], None
    while True:
        alice.get("/admin/accounts", by="account", q="user", **({"after": after} if after else {}))
        seen += re.findall(r"<td rowspan=\"1\">(user\d{3})</td>", alice.text)
        found = re.search(r'id="next-page" href="[^"]*after=([^"&]+)', alice.text)
        if not found:
            break
        after = found.group(1)
    assert seen == [f"user{i:03d}" for i in range(120)]
    alice.get("/admin/accounts", by="account", q="USER01")  # names are kept lower case
    listed = re.findall(r'<td rowspan="1">(user01\d)</td>', alice.text)  # (not the forms' ids)
    assert listed == [f"user01{i}" for i in range(10)]
    alice.get("/admin/accounts", by="mobile", q="0912000011")
    assert "user011" in alice.text and "user012" not in alice.text
    alice.get("/admin/accounts", by="serial", q="TOTP7700000005")
    assert "TOTP7700000005" in alice.text and "TOTP7700000006" not in alice.text
    alice.get("/admin/accounts", by="pool", q="TOTP")
    assert "TOTP8800000001" in alice.text and "TOTP7700000005" not in alice.text
    alice.get("/admin/accounts", by="account", q="zz%")  # LIKE wildcards are literal
    assert alice.by_id("none")


@pytest.mark.parametrize("last_id", ["²", "٣", "x", ""])
def test_a_mobile_page_key_whose_id_is_not_ascii_digits_starts_that_number_over(
    alice, store, last_id
):
    """``str.isdigit`` accepts ``²``, which ``int`` refuses: such a key is read as id 0 (the
    number's first page), not a 500."""
    with store.unit() as repo:
        account = repo.add_account("user000")
        repo.set_destinations(account, "0912000000", None, verified=True)
    alice.get("/admin/accounts", by="mobile", q="0912", after=f"0911999999/{last_id}")
    assert "user000" in alice.text


# -- audit ---------------------------------------------------------------------------------------


def _calls(alice, demo, clock, n: int) -> None:
    for _ in range(n):
        verify(alice, demo, clock)


def test_audit_filters_and_keyset_pages(alice, store, clock, demo):
    _calls(alice, demo, clock, 60)
    verify(alice, demo, clock, "APP0009999")  # 8101
    alice.sign_in("alice")  # (the calls took longer than a session lasts)
    alice.get("/admin/audit", since="1d", operation="VerifyTOTPCode", code="0")
    first = re.findall(r"<td>VerifyTOTPCode</td>", alice.text)
    assert len(first) == 50
    older = re.search(r'id="next-page" href="([^"]+)"', alice.text).group(1).replace("&amp;", "&")
    alice.get(older)
    assert len(re.findall(r"<td>VerifyTOTPCode</td>", alice.text)) == 10
    alice.get("/admin/audit", since="1d", service_id="APP0009999")
    assert "8101" in alice.text and alice.text.count("<td>VerifyTOTPCode</td>") == 1
    alice.get("/admin/audit", since="yesterday-ish")
    assert alice.page.status_code == 400


def test_audit_export_is_the_cli_export(alice, settings, store, clock, demo):
    _calls(alice, demo, clock, 3)
    verify(alice, demo, clock, "APP0009999")
    page = alice.get("/admin/audit/export", since="1d", service_id=demo.service_id)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in page.headers["Content-Disposition"]
    from datetime import UTC, datetime, timedelta

    engine = export.reading_engine(settings)
    try:
        expected = io.StringIO()
        query = export.Query(
            datetime.fromtimestamp(clock(), UTC) - timedelta(days=1), service_id=demo.service_id
        )
        write_csv(export.events(engine, query), expected)
    finally:
        engine.dispose()
    assert page.get_data(as_text=True) == expected.getvalue()
    rows = list(csv.DictReader(io.StringIO(page.get_data(as_text=True))))
    assert len(rows) == 3 and {r["service_id"] for r in rows} == {demo.service_id}
    assert any(r.operation == "admin:alice:ExportAudit" for r in audit_rows(store))


# -- keys ----------------------------------------------------------------------------------------


def test_keys_show_fingerprints_and_counts_never_keys(alice, settings, demo):
    from gspws.store.secrets import fingerprint

    alice.get("/admin/keys")
    key = settings.secret_key.split(",")[0]
    assert fingerprint(key) in alice.text
    assert key not in alice.text
    alice.get("/admin/keys", count="1")
    census = alice.by_id("census")  # demo's token and alice's authenticator
    assert "共 2 個：2 個在第一把金鑰下" in census and key not in alice.text


def test_oversized_input_is_refused_not_a_failure(alice, demo):
    alice.get("/admin/services")
    alice.post(
        "/admin/services/add",
        {"service_id": "APP0000079", "name": "x" * 201, "networks": "10.0.0.0/8"},
    )
    assert alice.page.status_code == 400
    alice.get("/admin/audit", code="9" * 30)
    assert alice.page.status_code == 400
    for by in ("account", "mobile", "serial"):
        assert alice.get("/admin/accounts", by=by, q="9" * 300).status_code == 200
    assert (
        alice.get(
            "/admin/audit", account="x" * 300, service_id="y" * 300, before="not-a-time~x"
        ).status_code
        == 200
    )
    assert alice.get("/admin/tokens/" + "T" * 300).status_code == 404


def test_an_invitation_by_e_mail(settings, store, clock, demo):
    from aiosmtpd.controller import Controller
    from delivery_peers import Inbox

    from helpers import free_port

    with store.unit() as repo:
        repo.get_account(demo.account).email = "wederlin@example.org"
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mailing = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=controller.port)
        alice = signed_in(create_app(mailing, clock=clock, store=store), mailing, store, clock)
        alice.get(f"/admin/tokens/{demo.serial}")
        alice.post(f"/admin/tokens/{demo.serial}/invite")
        assert alice.page.status_code == 303
        alice.follow()
        assert "邀請信已寄出" in alice.by_id("notice")
    finally:
        controller.stop()
    ((recipients, message),) = inbox.messages
    assert recipients == ["wederlin@example.org"]
    assert "/owin/manage/Link/" in message.get_content()
    rows = [(r.operation, r.account, r.code) for r in audit_rows(store)]
    assert ("admin:alice:InviteToBinding", demo.account, 0) in rows
    # no address: refused with the CLI's words
    with store.unit() as repo:
        repo.get_account(demo.account).email = None
    alice.post(f"/admin/tokens/{demo.serial}/invite")
    assert alice.page.status_code == 400 and "has no e-mail address" in alice.by_id("problem")
