"""QR-scan sign-in end to end in headless Chromium with two browser contexts: the desktop (the
agency's page, clients/qr_login, calling OTP.asmx through zeep) and the phone (a mobile
viewport on the approval page). Approved → the desktop is signed in; a wrong number, 拒絕 and
an expiry each end on the desktop with GetAssertion's reason. gspws runs on the fixed test
clock; the phone's codes are computed from the demo token's secret, as its app would."""

import importlib.util

import pytest

from gspws.core.access import OTP_FUNCTIONS

from helpers import ACCOUNT, REPO, SERVICE_ID, LiveServer

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WAIT_MS = 20_000  # the desktop page reloads every 2 s


def _client_module():
    spec = importlib.util.spec_from_file_location("qr_login_app", REPO / "clients/qr_login/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def desktop_site(live_server, store, demo):
    """The agency's site (clients/qr_login) on a loopback port, its service granted OTP.asmx."""
    with store.unit() as repo:
        for function in OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
    app = _client_module().QrLoginApp(f"{live_server.base}/gsp2ws/OTP.asmx", SERVICE_ID)
    site = LiveServer(app)
    yield site
    site.stop()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(locale="zh-TW")
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-TW", **PHONE)
    yield context.new_page()
    context.close()


def show_qr(desktop, site, fresh=False) -> tuple[str, str]:
    """The desktop's number and the QR's approval URL."""
    desktop.goto(site.base + ("/?new=1" if fresh else "/"))
    desktop.wait_for_selector("#qr")
    assert desktop.get_attribute("#qr", "src").startswith("data:image/png;base64,")
    return desktop.inner_text("#number"), desktop.get_attribute("#approval-url", "href")


def prove(phone, url, demo, clock) -> list[str]:
    """The phone opens the QR's URL, types the account and its current code: the numbers."""
    phone.goto(url)
    phone.fill("#account", ACCOUNT)
    phone.fill("#code", demo.code(clock()))
    phone.click("#prove")
    phone.wait_for_selector("#numbers")
    return [value.get_attribute("value") for value in phone.query_selector_all("#numbers input")]


def outcome_on(desktop) -> str:
    desktop.wait_for_selector("#signed-in, #failed", timeout=WAIT_MS)
    if desktop.query_selector("#signed-in"):
        return "signed in as " + desktop.inner_text("#account")
    return desktop.inner_text("#reason")


def test_approve_wrong_number_deny_and_expiry(desktop_site, desktop, phone, demo, clock, settings):
    number, url = show_qr(desktop, desktop_site)
    offered = prove(phone, url, demo, clock)
    assert number in offered and len(offered) == 3
    phone.check(f"#number-{number}")
    phone.click("#approve")
    assert phone.get_attribute("#message", "data-stage") == "approved"
    assert outcome_on(desktop) == f"signed in as {ACCOUNT}"

    desktop.click("#sign-out")
    clock.advance(30)  # the next code: the last one was spent
    number, url = show_qr(desktop, desktop_site, fresh=True)
    wrong = next(n for n in prove(phone, url, demo, clock) if n != number)
    phone.check(f"#number-{wrong}")
    phone.click("#approve")
    assert "數字不符" in phone.inner_text("#problem")
    assert outcome_on(desktop) == "使用者已拒絕登入"

    clock.advance(30)
    number, url = show_qr(desktop, desktop_site, fresh=True)
    prove(phone, url, demo, clock)
    phone.click("#deny")
    assert phone.get_attribute("#message", "data-stage") == "denied"
    assert outcome_on(desktop) == "使用者已拒絕登入"

    number, url = show_qr(desktop, desktop_site, fresh=True)
    clock.advance(settings.assertion_ttl)
    assert outcome_on(desktop) == "登入請求已超過有效時間"
    phone.goto(url)
    assert phone.get_attribute("#message", "data-stage") == "gone"
