"""The operator console in a real browser (headless Debian Chromium, Playwright), against a
server on a fixed clock, with agencies calling through SOAP (zeep):

enrolment (password, the authenticator's key read off the page, its code) → sign-in (password +
code) → add a service → VerifyTOTPCode 0 → suspend its grant → 8109 → a locked token found by
account, unlocked → 0 → the audit filtered by ServiceID → exported as CSV. An auditor sees no
forms and a change they send anyway is refused; a forged CSRF token and a wrong code are refused;
a server whose GSPWS_ADMIN_ALLOW leaves loopback out refuses the browser."""

import csv
import io
import ipaddress

from admin_console import add_admin, lock_token, wrong_code
from admin_console import enrol_in_browser as _enrol
from admin_console import sign_in_in_browser as _sign_in

from helpers import call, outcome, zeep_service

NEW_SID = "APP0000077"


def test_operator_walk(page, live_server, settings, store, clock, demo):
    base = live_server.base
    refused = []  # what the CSP blocked: nothing may be
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    key = _enrol(page, base, add_admin(settings, store, clock, "alice"), clock)
    _sign_in(page, "alice", key, clock, code=wrong_code(key, clock()))
    assert "錯誤" in page.inner_text("#problem")  # a wrong code
    _sign_in(page, "alice", key, clock)
    page.wait_for_selector("#admin-name")
    assert page.inner_text("#admin-name") == "alice"
    # the element can exist before the stylesheet has arrived (seen on a loaded machine)
    page.wait_for_load_state("load")
    background = page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(0, 51, 102)"  # gspws's own stylesheet applied

    # a new service, then its grant suspended
    page.click("#nav-services")
    page.fill("#service_id", NEW_SID)
    page.fill("#name", "新機關")
    page.fill("#networks", "127.0.0.1/32\n::1/128")
    page.click("#add")
    page.wait_for_selector("#service-id")
    agency = zeep_service(live_server.url)
    clock.advance(30)
    assert call(agency, demo.account, demo.code(clock()), NEW_SID) == outcome(0)
    page.locator("#grant-VerifyTOTPCode button[name=suspend]").click()
    page.wait_for_selector("#notice")
    clock.advance(30)
    assert call(agency, demo.account, demo.code(clock()), NEW_SID) == outcome(8109)

    # a locked token, found by its account and unlocked
    lock_token(store, demo.serial, clock())
    clock.advance(30)
    assert call(agency, demo.account, demo.code(clock()))[0] == 9999
    page.click("#nav-accounts")
    page.select_option("#by", "account")
    page.fill("#q", demo.account[:4])
    page.click("#search")
    page.click(f"text={demo.serial}")
    assert page.inner_text("#token-status") == "鎖定"
    page.click("#unlock")
    page.wait_for_selector("#notice")
    assert page.inner_text("#token-status") == "使用中"
    clock.advance(30)
    assert call(agency, demo.account, demo.code(clock())) == outcome(0)

    # the audit, filtered, then exported
    page.click("#nav-audit")
    page.fill("#service_id", NEW_SID)
    page.click("#filter")
    page.wait_for_selector("#audit")
    shown = page.inner_text("#audit tbody")
    assert "8109" in shown and "APP0001931" not in shown
    with page.expect_download() as download:
        page.click("#export")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r["code"] for r in rows if r["operation"] == "VerifyTOTPCode"] == ["0", "8109"]
    assert {r["service_id"] for r in rows} == {NEW_SID}
    assert refused == []


def test_auditor_csrf_and_networks(page, live_server, serve, settings, store, clock, demo):
    base = live_server.base
    key = _enrol(page, base, add_admin(settings, store, clock, "carol", "auditor"), clock)
    _sign_in(page, "carol", key, clock)
    page.wait_for_selector("#admin-name")
    page.click("#nav-services")
    assert page.locator("#add-service").count() == 0  # no forms for an auditor
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    form = {"csrf": csrf, "service_id": NEW_SID, "name": "x", "networks": "10.0.0.0/8"}
    sent = page.context.request.post(f"{base}/admin/services/add", form=form)
    assert sent.status == 403 and "稽核者" in sent.text()
    sent = page.context.request.post(
        f"{base}/admin/services/{demo.service_id}/suspend",
        form={"csrf": "forged", "function": "VerifyTOTPCode"},
    )
    assert sent.status == 403
    with store.reading() as repo:
        profiles = repo.service_profiles()
    assert NEW_SID not in profiles and not profiles[demo.service_id].grants["VerifyTOTPCode"]

    elsewhere = serve(admin_allow=(ipaddress.ip_network("10.0.0.0/8"),))
    answered = page.goto(elsewhere.base + "/admin/signin")
    assert answered.status == 403
