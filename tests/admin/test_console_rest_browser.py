"""The console's import progress and activation sheet in a real browser (headless Debian
Chromium, Playwright) with JavaScript off: the status page's meta refresh, which the CSP does not
block, reloads it from "storing N of M" to the report by itself; the activation sheet prints
alone (print media: no header, forms or hints)."""

import threading

from admin_console import add_admin, pool_token
from admin_console import enrol_in_browser as enrol
from admin_console import sign_in_in_browser as sign_in

from gspws.admin import import_jobs
from gspws.core.otp import TotpParams

SECRET_HEX = b"12345678901234567890".hex()
HEADER = "serial,secret,type,algorithm,digits,period_or_counter,account"


def _signed_in(browser, live_server, settings, store, clock):
    context = browser.new_context(locale="zh-TW", java_script_enabled=False)
    page = context.new_page()
    refused = []  # what the CSP blocked: nothing may be
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    key = enrol(page, live_server.base, add_admin(settings, store, clock, "alice"), clock)
    sign_in(page, "alice", key, clock)
    page.wait_for_selector("#admin-name")
    return context, page, refused


def test_import_progress_reloads_itself(browser, live_server, settings, store, clock, monkeypatch):
    stored, release = threading.Event(), threading.Event()
    advance = import_jobs.Job.advance

    def held(job, n):  # hold the import once 1,000 of 2,500 are stored, until the test has seen it
        advance(job, n)
        if job.status.done >= 1000 and not release.is_set():
            stored.set()
            release.wait(60)

    monkeypatch.setattr(import_jobs.Job, "advance", held)
    context, page, refused = _signed_in(browser, live_server, settings, store, clock)
    try:
        page.click("#nav-tokens-import")
        lines = [HEADER] + [f"HW-B{i:04d},{SECRET_HEX},totp,SHA1,6,30," for i in range(2500)]
        page.set_input_files(
            "#file",
            files=[
                {"name": "seeds.csv", "mimeType": "text/csv", "buffer": "\n".join(lines).encode()}
            ],
        )
        page.check("input[name=target][value=pool]")
        page.click("#import")
        assert stored.wait(60)
        # (the page may show an earlier count first: its reloads bring it to the held one)
        page.wait_for_selector("#done:text-is('1000')", timeout=30_000)
        assert (page.inner_text("#done"), page.inner_text("#total")) == ("1000", "2500")
        release.set()
        page.wait_for_selector("#report", timeout=30_000)  # reloaded by the meta refresh alone
        assert page.inner_text("#imported") == "2500"
        assert refused == []
    finally:
        release.set()
        context.close()


def test_the_activation_sheet_prints_alone(browser, live_server, settings, store, clock, demo):
    pool_token(store, "HW-PRINT", TotpParams("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
    context, page, refused = _signed_in(browser, live_server, settings, store, clock)
    try:
        page.goto(live_server.base + "/admin/tokens/HW-PRINT")
        page.fill("#distribute-account", demo.account)
        page.click("#distribute")
        page.wait_for_selector("#activation-code")
        assert page.is_visible("header") and page.is_visible("#shown-once")
        page.emulate_media(media="print")
        assert not page.is_visible("header") and not page.is_visible("#shown-once")
        assert page.is_visible("#activation-code") and page.is_visible("#activation-password")
        assert page.inner_text("#sheet-serial") == "HW-PRINT"
        assert refused == []
    finally:
        context.close()
