"""The console's offline distribution: a pool token's or an account's printable activation sheet
(serial, activation code, activation password; shown once, print CSS), through the use case
`gspws token distribute --offline` calls; the person then activates on /owin/activate with what
the sheet says and the token verifies. A phone's token is refused, an auditor too. SQLite and
PostgreSQL."""

import re

from admin_console import pool_token, signed_in
from werkzeug.test import Client

from gspws.core.otp import TotpParams
from gspws.store.models import TokenStatus

from helpers import audit_rows

SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def _activate(app, serial: str, code: str, password: str):
    """The person on /owin/activate (a browser of their own), typing the sheet."""
    person = Client(app)
    form = person.get("/owin/activate", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    csrf = re.search(r'name="csrf" value="([^"]*)"', form.get_data(as_text=True)).group(1)
    return person.post(
        "/owin/activate",
        data={
            "csrf": csrf,
            "serial": serial,
            "activation_code": code,
            "activation_password": password,
        },
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )


def test_a_pool_token_distributed_then_activated(app, alice, store, demo):
    pool_token(store, "HW-D1", TotpParams(SECRET_B32))
    alice.get("/admin/tokens/HW-D1")
    assert 'id="distribute-form"' in alice.text
    alice.post("/admin/tokens/HW-D1/distribute", {"account": demo.account})
    assert alice.page.status_code == 200, alice.text
    assert alice.page.headers["Cache-Control"] == "no-store"
    assert alice.by_id("sheet-serial") == "HW-D1" and alice.by_id("sheet-account") == demo.account
    code, password = alice.by_id("activation-code"), alice.by_id("activation-password")
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code) and len(password) >= 8
    assert "/owin/activate" in alice.by_id("activate-url")
    with store.reading() as repo:
        token = repo.get_token("HW-D1")
        assert token.status is TokenStatus.PENDING and token.account.account == demo.account
    alice.get("/admin/tokens/HW-D1")  # shown once: not on the token's page
    assert code not in alice.text and password not in alice.text
    assert ("admin:alice:DistributeToken", 0) in [(r.operation, r.code) for r in audit_rows(store)]
    page = _activate(app, "HW-D1", code, password)
    shown = re.search(r'id="secret-key">([^<]*)<', page.get_data(as_text=True))
    assert page.status_code == 200 and shown.group(1).replace(" ", "") == SECRET_B32
    with store.reading() as repo:
        assert repo.get_token("HW-D1").status is TokenStatus.ACTIVE


def test_an_account_gets_a_new_token(app, alice, store, demo):
    alice.get("/admin/accounts", q=demo.account)
    assert f'id="distribute-{demo.account}"' in alice.text
    alice.post(f"/admin/accounts/{demo.account}/distribute")
    assert alice.page.status_code == 200, alice.text
    serial = alice.by_id("sheet-serial")
    assert serial != demo.serial and alice.by_id("sheet-account") == demo.account
    page = _activate(
        app, serial, alice.by_id("activation-code"), alice.by_id("activation-password")
    )
    assert page.status_code == 200 and 'id="secret-key"' in page.get_data(as_text=True)


def test_print_css_and_refusals(app, alice, settings, store, clock, demo):
    css = alice.get("/admin/static/admin.css").get_data(as_text=True)
    assert "@media print" in css
    alice.get(f"/admin/tokens/{demo.serial}")  # a phone's token: not the pool's
    alice.post(f"/admin/tokens/{demo.serial}/distribute", {})
    assert alice.page.status_code == 400 and "pool" in alice.by_id("problem")
    alice.get("/admin/accounts")
    alice.post("/admin/accounts/nobody/distribute")
    assert alice.page.status_code == 400
    carol = signed_in(app, settings, store, clock, "carol", "auditor")
    pool_token(store, "HW-D2", TotpParams(SECRET_B32))
    carol.get("/admin/tokens/HW-D2")
    assert 'id="distribute-form"' not in carol.text
    assert carol.post("/admin/tokens/HW-D2/distribute", {}).status_code == 403
