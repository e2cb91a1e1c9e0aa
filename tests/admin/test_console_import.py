"""The console's token import (the code of `gspws token import`): CSV and encrypted PSKC
uploads, to the pool, to the file's users or to one account, a dry run, a re-import, a file
refused whole naming its entry, an upload over GSPWS_ADMIN_UPLOAD_BYTES; an imported token then
verifies through SOAP. SQLite and PostgreSQL."""

import dataclasses
import io
import re
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from admin_console import Browser, signed_in

from gspws.admin import import_jobs
from gspws.core.otp import TotpParams
from gspws.wsgi import create_app

from helpers import audit_rows, code_at, envelope, soap_result

PSKC_DATA = Path(__file__).parents[1] / "data" / "pskc"
HEADER = "serial,secret,type,algorithm,digits,period_or_counter,account"
SECRET = b"12345678901234567890"


@pytest.fixture
def alice(alice):
    """The signed-in operator, on the import page."""
    alice.get("/admin/tokens/import")
    return alice


def _csv(*lines: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(("\n".join((HEADER, *lines)) + "\n").encode()), "seeds.csv"


def _upload(alice, file, **fields):
    """Send the form; when the import started, follow to its status page until it is over."""
    alice.get("/admin/tokens/import")
    alice.post("/admin/tokens/import", {"file": file, **fields})
    if alice.page.status_code == 303:
        assert "/admin/tokens/import/" in alice.page.headers["Location"]
        alice.follow()
        return finished(alice)
    return alice.page


def state(browser) -> str:
    match = re.search(r'id="import-state" data-state="(\w+)"', browser.text)
    assert match, browser.text
    return match.group(1)


def finished(browser, timeout: float = 60.0):
    """Reload the status page (as its meta refresh does) until the import is over."""
    path = browser.page.request.path
    deadline = time.monotonic() + timeout
    while state(browser) in ("reading", "storing"):
        assert 'http-equiv="refresh"' in browser.text
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.05)
        browser.get(path)
    assert 'http-equiv="refresh"' not in browser.text
    return browser.page


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


def test_progress_seen_from_another_worker(app, alice, settings, store, clock, monkeypatch):
    """The status page shows N of M while the import stores, from a second app on the same
    GSPWS_HOME (as a second worker of `gspws serve` is), then the report."""
    stored, release = threading.Event(), threading.Event()
    advance = import_jobs.Job.advance

    def held(job, n):  # the store's progress hook, held once 1,000 of the 2,500 are stored
        advance(job, n)
        if job.status.done >= 1000 and not release.is_set():
            stored.set()
            release.wait(60)

    monkeypatch.setattr(import_jobs.Job, "advance", held)
    lines = [f"HW-P{i:04d},{SECRET.hex()},totp,SHA1,6,30," for i in range(2500)]
    alice.get("/admin/tokens/import")
    alice.post("/admin/tokens/import", {"file": _csv(*lines), "target": "pool"})
    status_path = urlsplit(alice.page.headers["Location"]).path
    try:
        assert stored.wait(60)
        other = Browser(create_app(settings, clock=clock, store=store), clock)
        other.client.set_cookie(
            "gspws_admin", alice.client.get_cookie("gspws_admin", path="/admin/").value
        )
        other.get(status_path)
        assert other.page.status_code == 200, other.text
        assert state(other) == "storing"
        assert (other.by_id("done"), other.by_id("total")) == ("1000", "2500")
        assert '<meta http-equiv="refresh" content="1">' in other.text
    finally:
        release.set()
    alice.get(status_path)
    finished(alice)
    assert (alice.by_id("imported"), alice.by_id("present")) == ("2500", "0")


def test_an_import_whose_worker_stopped(alice, settings):
    """A status left running by a process that is gone says the import was interrupted."""
    gone = _dead_pid()
    jobs = import_jobs.ImportJobs(settings.home / "imports")
    jobs.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    job = import_jobs.Job(
        jobs.directory / "abandoned-job.json",
        import_jobs.Status("alice", False, 0.0, pid=gone, state="storing", total=10),
    )
    assert job.path.stat().st_mode & 0o777 == 0o600
    alice.get("/admin/tokens/import/abandoned-job")
    assert state(alice) == "interrupted" and "http-equiv" not in alice.text
    assert alice.get("/admin/tokens/import/no-such-job").status_code == 404
    assert alice.get("/admin/tokens/import/..%2Fsecret").status_code == 404


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
