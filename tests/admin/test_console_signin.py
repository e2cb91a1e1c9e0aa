"""The operator console's door: who reaches it (GSPWS_ADMIN_ALLOW), its headers, enrolment
(password policy, the authenticator's code, a link used once), sign-in (password and a
single-use code, lockout), sessions ended by signing out and by `gspws admin disable`, CSRF,
and auditors refused every change. werkzeug's test client against the whole app; SQLite and
PostgreSQL."""

import dataclasses

import pytest
from admin_console import PASSWORD, Browser, add_admin, signed_in, totp

from gspws.compose import administrators_of
from gspws.core.admins import Actor
from gspws.wsgi import create_app

from helpers import audit_rows


def _admin_rows(store) -> list[tuple[str, int]]:
    return [(r.operation, r.code) for r in audit_rows(store) if r.operation.startswith("admin:")]


@pytest.mark.parametrize(
    "address, allowed",
    [("127.0.0.1", True), ("::1", True), ("10.1.2.3", False), ("2001:db8::1", False)],
    ids=["v4-loopback", "v6-loopback", "v4-other", "v6-other"],
)
def test_only_allowed_networks_reach_the_console(app, clock, address, allowed):
    page = Browser(app, clock, address).get("/admin/signin")
    assert page.status_code == (200 if allowed else 403)
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_forged_forwarded_for_counts_only_from_a_trusted_proxy(settings, store, clock, demo):
    plain = create_app(settings, clock=clock, store=store)
    forged = Browser(plain, clock, "10.1.2.3", **{"X-Forwarded-For": "127.0.0.1"})
    assert forged.get("/admin/signin").status_code == 403
    behind_proxy = create_app(
        dataclasses.replace(
            settings,
            trusted_proxies=(__import__("ipaddress").ip_network("10.0.0.0/8"),),
        ),
        clock=clock,
        store=store,
    )
    proxied = Browser(behind_proxy, clock, "10.1.2.3", **{"X-Forwarded-For": "192.0.2.7"})
    assert proxied.get("/admin/signin").status_code == 403  # the client is 192.0.2.7
    inside = Browser(behind_proxy, clock, "10.1.2.3", **{"X-Forwarded-For": "127.0.0.1"})
    assert inside.get("/admin/signin").status_code == 200


def test_the_allowed_networks_are_a_setting(settings, store, clock, demo):
    import ipaddress

    wider = dataclasses.replace(settings, admin_allow=(ipaddress.ip_network("10.0.0.0/8"),))
    app = create_app(wider, clock=clock, store=store)
    assert Browser(app, clock, "10.1.2.3").get("/admin/signin").status_code == 200
    assert Browser(app, clock, "127.0.0.1").get("/admin/signin").status_code == 403


def test_pages_need_a_signed_in_administrator(app, clock):
    browser = Browser(app, clock)
    for path in ("/admin/", "/admin/services", "/admin/accounts", "/admin/audit", "/admin/keys"):
        page = browser.get(path)
        assert page.status_code == 303, path
        assert page.headers["Location"].startswith("/admin/signin?next=")


def test_headers_forbid_caching_framing_scripts_and_inline_style(app, settings, store, clock):
    browser = signed_in(app, settings, store, clock)
    page = browser.get("/admin/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self';" in csp and "script" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in browser.text and "style=" not in browser.text
    css = browser.get("/admin/static/admin.css")
    assert css.status_code == 200 and css.content_type.startswith("text/css")
    assert browser.get("/admin/static/..%2Fapp.py").status_code == 404


def test_enrolment_then_sign_in(app, settings, store, clock):
    link = add_admin(settings, store, clock, "alice")
    browser = Browser(app, clock)
    browser.enrol(link)
    assert browser.page.headers["Location"].startswith("/admin/signin")
    assert browser.get(link).status_code == 410  # used up
    browser.sign_in("alice")
    assert browser.page.status_code == 303
    browser.follow()
    assert browser.by_id("admin-name") == "alice"
    assert ("admin:alice:Enrol", 0) in _admin_rows(store)
    assert ("admin:alice:SignIn", 0) in _admin_rows(store)


@pytest.mark.parametrize(
    "password, again, problem",
    [
        ("short pass", "short pass", "12 至 128"),
        ("aaaabbbbaaaabbbb", "aaaabbbbaaaabbbb", "5 種"),
        ("my name is alice!", "my name is alice!", "管理員名稱"),
        (PASSWORD, PASSWORD + "x", "兩次"),
    ],
    ids=["short", "pattern", "contains-name", "mismatch"],
)
def test_enrolment_refuses_weak_passwords(app, settings, store, clock, password, again, problem):
    link = add_admin(settings, store, clock, "alice")
    browser = Browser(app, clock)
    browser.get(link)
    key = browser.text.split('id="secret-key">')[1].split("<")[0].replace(" ", "")
    browser.post(link, {"password": password, "password2": again, "code": totp(key, clock())})
    assert browser.page.status_code == 400
    assert problem in browser.by_id("problem")
    assert browser.get(link).status_code == 200  # still usable


def test_enrolment_refuses_a_wrong_code(app, settings, store, clock):
    link = add_admin(settings, store, clock, "alice")
    browser = Browser(app, clock)
    browser.get(link)
    key = browser.text.split('id="secret-key">')[1].split("<")[0].replace(" ", "")
    wrong = totp(key, clock() + 300)
    browser.post(link, {"password": PASSWORD, "password2": PASSWORD, "code": wrong})
    assert browser.page.status_code == 400
    assert "驗證碼錯誤" in browser.by_id("problem")


def test_an_expired_enrolment_link_is_refused(app, settings, store, clock):
    link = add_admin(settings, store, clock, "alice")
    clock.advance(settings.admin_enrol_ttl)
    assert Browser(app, clock).get(link).status_code == 410


def test_sign_in_needs_password_and_a_fresh_code(app, settings, store, clock):
    browser = Browser(app, clock)
    browser.enrol(add_admin(settings, store, clock, "alice"))
    # the code enrolment used: single use
    assert browser.sign_in("alice", code=browser.code(), advance=False).status_code == 403
    assert browser.sign_in("alice", password=PASSWORD + "!").status_code == 403
    assert browser.sign_in("alice", code=browser.wrong_code()).status_code == 403
    assert browser.sign_in("nobody").status_code == 403
    assert browser.sign_in("alice").status_code == 303
    other = Browser(app, clock)  # the same code replayed within its 30 s
    assert other.sign_in("alice", code=browser.code(), advance=False).status_code == 403


def test_lockout_after_wrong_tries_then_cool_down(app, settings, store, clock):
    browser = Browser(app, clock)
    browser.enrol(add_admin(settings, store, clock, "alice"))
    for _ in range(settings.lockout_threshold):
        assert browser.sign_in("alice", password="wrong password!!").status_code == 403
    assert browser.sign_in("alice").status_code == 403  # locked: the right ones too
    clock.advance(settings.lockout_cooldown)
    assert browser.sign_in("alice").status_code == 303


def test_sign_in_tries_are_limited_per_address(settings, store, clock, demo):
    """GSPWS_RATE_LIMIT_ADMIN_SIGNIN bounds the tries from one address whatever names they
    try (the lockout bounds them per administrator): beyond it even the right password and
    code are answered 429 unchecked, and audited; another address still signs in."""
    # (per day: the limiter's windows are aligned on the epoch, and tries straddling a window's
    # end count partly in the next; a day's end is a second of 86,400, a minute's one of 60)
    limited = dataclasses.replace(settings, rate_limit_admin_signin="3/day")
    app = create_app(limited, clock=clock, store=store)
    browser = Browser(app, clock)
    browser.enrol(add_admin(limited, store, clock, "alice"))
    for name in ("bob", "carol", "dave"):  # three names, one address
        assert browser.sign_in(name).status_code == 403
    page = browser.sign_in("alice")
    assert page.status_code == 429 and "過多" in browser.by_id("problem")
    assert ("admin:?:SignInThrottled", 9999) in _admin_rows(store)
    other = Browser(app, clock, "::1")
    other.key = browser.key
    assert other.sign_in("alice").status_code == 303
    # the refused try was not checked: alice has no failed sign-in, only the one that worked
    assert [c for op, c in _admin_rows(store) if op == "admin:alice:SignIn"] == [0]


def test_reset_unlocks_and_needs_a_new_enrolment(app, settings, store, clock):
    browser = Browser(app, clock)
    browser.enrol(add_admin(settings, store, clock, "alice"))
    for _ in range(settings.lockout_threshold):
        browser.sign_in("alice", password="wrong password!!")
    token = administrators_of(settings, store, clock).reset(Actor("t", None, "Reset"), "alice")
    assert browser.sign_in("alice").status_code == 403  # the old key and password are gone
    browser.enrol(f"/admin/enrol/{token}", password="another long password")
    assert browser.sign_in("alice", password="another long password").status_code == 303


def test_sign_out_and_disable_end_sessions(app, settings, store, clock):
    browser = signed_in(app, settings, store, clock)
    cookie = browser.client.get_cookie("gspws_admin", path="/admin/").value
    browser.get("/admin/services")
    browser.post("/admin/signout")
    assert browser.page.status_code == 200
    assert browser.get("/admin/services").status_code == 303
    # the old cookie value no longer works either once the administrator is disabled
    again = signed_in(app, settings, store, clock, "bob")
    assert again.get("/admin/services").status_code == 200
    administrators_of(settings, store, clock).set_disabled(Actor("t", None, "D"), "bob", True)
    assert again.get("/admin/services").status_code == 303
    assert cookie  # (alice's was a real cookie)


def test_a_post_without_the_csrf_token_is_refused(app, settings, store, clock):
    browser = signed_in(app, settings, store, clock)
    browser.get("/admin/services")
    page = browser.post(
        "/admin/services/add",
        {"service_id": "APP0000077", "name": "x", "networks": "10.0.0.0/8"},
        csrf="forged",
    )
    assert page.status_code == 403
    with store.reading() as repo:
        assert "APP0000077" not in repo.service_profiles()


def test_an_auditor_reads_but_is_refused_every_change(app, settings, store, clock, demo):
    auditor = signed_in(app, settings, store, clock, "carol", "auditor")
    for path in (
        "/admin/",
        "/admin/services",
        f"/admin/services/{demo.service_id}",
        "/admin/accounts",
        "/admin/audit",
        "/admin/keys",
        f"/admin/tokens/{demo.serial}",
    ):
        assert auditor.get(path).status_code == 200, path
        assert '<form method="post" action="/admin/services/add"' not in auditor.text
    auditor.get("/admin/services")
    for path, data in [
        (
            "/admin/services/add",
            {"service_id": "APP0000077", "name": "x", "networks": "10.0.0.0/8"},
        ),
        (f"/admin/services/{demo.service_id}/suspend", {"function": "VerifyTOTPCode"}),
        (f"/admin/services/{demo.service_id}/disable", {}),
        (f"/admin/tokens/{demo.serial}/disable", {}),
    ]:
        assert auditor.post(path, data).status_code == 403, path
    with store.reading() as repo:
        profiles = repo.service_profiles()
    assert "APP0000077" not in profiles
    assert (
        profiles[demo.service_id].enabled and not profiles[demo.service_id].grants["VerifyTOTPCode"]
    )
    assert ("admin:carol:Refused:service_add", 9999) in _admin_rows(store)
