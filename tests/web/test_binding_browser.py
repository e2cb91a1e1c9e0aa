"""A person binds an authenticator in a real browser (headless Debian Chromium, driven by
Playwright), then an agency verifies through SOAP: link → 繼續 → 啟用 → the key read off the page →
its code → 已啟用 → VerifyTOTPCode 0 → 停用 with a current code → VerifyTOTPCode 3001.

The server runs on a fixed clock; the test computes codes from the key it reads, as an
authenticator app would."""

from urllib.parse import urlsplit

from binding import add_account, code, new_link
from helpers import call, outcome, zeep_service

FRANK = "frank"


def test_bind_verify_and_disable_in_a_browser(page, live_server, settings, store, clock):
    add_account(store, FRANK)
    link = new_link(settings, store, clock, FRANK)
    page.goto(live_server.base + urlsplit(link).path)  # the link, on the test server
    page.click("#continue")
    assert page.inner_text("#account") == FRANK
    assert page.inner_text("#state") == "未啟用"

    page.fill("#device_name", "Frank's phone")
    page.fill("#phone", "0912345678")
    page.click("#enable")
    page.wait_for_selector("#qr svg")
    key = page.inner_text("#secret-key").replace(" ", "")
    page.fill("#code", code(key, clock()))
    page.click("#verify")
    page.wait_for_selector("#notice")
    assert page.inner_text("#state") == "已啟用"
    assert "Frank's phone" in page.inner_text("#devices")

    agency = zeep_service(live_server.url)
    clock.advance(30)
    assert call(agency, FRANK, code(key, clock())) == outcome(0)

    clock.advance(30)
    row = page.locator("#devices tbody tr").first
    row.locator("input[name=code]").fill(code(key, clock()))
    row.locator("button[name=disable]").click()
    page.wait_for_selector("#notice")
    assert page.inner_text("#state") == "未啟用"

    clock.advance(30)
    assert call(agency, FRANK, code(key, clock())) == outcome(3001)
