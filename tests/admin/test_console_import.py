"""The console's token import (the code of `gspws token import`): CSV and encrypted PSKC
uploads, to the pool, to the file's users or to one account, a dry run, a re-import, a file
refused whole naming its entry, an upload over GSPWS_ADMIN_UPLOAD_BYTES; an imported token then
verifies through SOAP. SQLite and PostgreSQL."""

import dataclasses
import io
from pathlib import Path

import pytest
from admin_console import signed_in

from gspws.core.otp import TotpParams
from gspws.wsgi import create_app

from helpers import audit_rows, code_at, envelope, soap_result

PSKC_DATA = Path(__file__).parents[1] / "data" / "pskc"
HEADER = "serial,secret,type,algorithm,digits,period_or_counter,account"
SECRET = b"12345678901234567890"


@pytest.fixture
def app(settings, store, clock, demo):
    return create_app(settings, clock=clock, store=store)


@pytest.fixture
def alice(app, settings, store, clock):
    browser = signed_in(app, settings, store, clock)
    browser.get("/admin/tokens/import")
    return browser


def _csv(*lines: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(("\n".join((HEADER, *lines)) + "\n").encode()), "seeds.csv"


def _upload(alice, file, **fields):
    alice.get("/admin/tokens/import")
    return alice.post("/admin/tokens/import", {"file": file, **fields})


def test_csv_to_the_pool_then_again(alice, store):
    line = f"HW-T1,{SECRET.hex()},totp,SHA1,6,30,"
    page = _upload(alice, _csv(line), target="pool")
    assert page.status_code == 200, alice.text
    assert (alice.by_id("imported"), alice.by_id("present")) == ("1", "0")
    page = _upload(alice, _csv(line), target="pool")
    assert (alice.by_id("imported"), alice.by_id("present")) == ("0", "1")
    with store.reading() as repo:
        token = repo.get_token("HW-T1")
        assert token.hardware and token.account_id is None
    assert ("admin:alice:ImportTokens", 0) in [(r.operation, r.code) for r in audit_rows(store)]


def test_to_one_account_then_it_verifies(alice, store, clock, demo):
    _upload(
        alice, _csv(f"HW-T2,{SECRET.hex()},totp,SHA1,6,30,"), target="assign", assign=demo.account
    )
    assert alice.page.status_code == 200 and alice.by_id("imported") == "1"
    clock.advance(30)
    import base64

    params = TotpParams(base64.b32encode(SECRET).decode())
    response = alice.client.post(
        "/gsp2ws/TOTP.asmx",
        data=envelope(demo.account, code_at(params, clock()), demo.service_id),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
        },
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert soap_result(response.data)[0] == 0


def test_the_files_users_and_a_dry_run(alice, store, demo):
    page = _upload(alice, _csv(f"HW-T3,{SECRET.hex()},totp,SHA1,6,30,{demo.account}"), dry_run="1")
    assert page.status_code == 200 and alice.by_id("imported") == "1"
    with store.reading() as repo:
        assert not any(t.serial == "HW-T3" for t in repo.list_tokens())
    _upload(alice, _csv(f"HW-T3,{SECRET.hex()},totp,SHA1,6,30,{demo.account}"))
    with store.reading() as repo:
        assert repo.get_token("HW-T3").account.account == demo.account


def test_an_encrypted_pskc_file(alice, store):
    data = (PSKC_DATA / "rfc6030-figure6.pskcxml").read_bytes()
    page = _upload(alice, (io.BytesIO(data), "seeds.pskcxml"), target="pool")
    assert page.status_code == 400 and "key" in alice.by_id("problem").lower()
    _upload(
        alice,
        (io.BytesIO(data), "seeds.pskcxml"),
        target="pool",
        key="12345678901234567890123456789012",
    )
    assert alice.page.status_code == 200 and alice.by_id("imported") == "1"
    _upload(alice, (io.BytesIO(data), "seeds.pskcxml"), target="pool", key="abc")
    assert alice.page.status_code == 400 and "not hex" in alice.by_id("problem")


def test_a_bad_entry_refuses_the_whole_file(alice, store, demo):
    page = _upload(
        alice,
        _csv(f"HW-T4,{SECRET.hex()},totp,SHA1,6,30,", "HW-T5,zz,totp,SHA1,6,30,"),
        target="pool",
    )
    assert page.status_code == 400
    assert "nothing imported" in alice.by_id("problem")
    page = _upload(alice, _csv(f"HW-T6,{SECRET.hex()},totp,SHA1,6,30,nobody"))
    assert page.status_code == 400 and "nobody" in alice.by_id("problem")
    with store.reading() as repo:
        assert not {"HW-T4", "HW-T6"} & {t.serial for t in repo.list_tokens()}
    assert ("admin:alice:ImportTokens", 9999) in [(r.operation, r.code) for r in audit_rows(store)]
    assert _upload(alice, (io.BytesIO(b""), ""), target="pool").status_code == 400


def test_an_upload_over_the_limit(settings, store, clock, demo):
    small = dataclasses.replace(settings, admin_upload_bytes=2000)
    alice = signed_in(create_app(small, clock=clock, store=store), small, store, clock)
    lines = [f"HW-B{i:04d},{SECRET.hex()},totp,SHA1,6,30," for i in range(100)]
    assert _upload(alice, _csv(*lines), target="pool").status_code == 413


def test_an_auditor_cannot_import(app, settings, store, clock):
    carol = signed_in(app, settings, store, clock, "carol", "auditor")
    carol.get("/admin/tokens/import")
    assert 'id="import-form"' not in carol.text
    page = carol.post("/admin/tokens/import", {"file": _csv("HW-T7,00,totp,SHA1,6,30,")})
    assert page.status_code == 403
