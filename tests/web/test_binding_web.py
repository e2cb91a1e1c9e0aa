"""The binding page over real HTTP (requests, no JavaScript): links, sessions and CSRF, enabling
and disabling, several devices, the problems people meet, languages and headers."""

import dataclasses
import re
from ipaddress import ip_network

import pytest
from sqlalchemy import func, select

from gspws.core.enroll import Problem
from gspws.core.otp import TotpParams
from gspws.store.models import Token, TokenStatus
from gspws.web.i18n import LANGUAGES, TEXT
from gspws.wsgi import create_app

from binding import LINK_INVALID, Visitor, add_account, code, new_link
from helpers import LiveServer, audit_rows, call, outcome, wrong_code, zeep_service

STATUS = "/owin/manage/TOTPStatus"
CAROL = "carol"


@pytest.fixture
def link(settings, store, clock, live_server):
    """Makes a fresh binding link for an account (carol, created here, by default)."""
    add_account(store, CAROL)
    return lambda account=CAROL: new_link(settings, store, clock, account)


@pytest.fixture
def visitor(live_server, link):
    """Carol on her status page, signed in by a link."""
    visitor = Visitor(live_server)
    assert visitor.sign_in(link()).status_code == 200
    return visitor


def pending_tokens(store) -> int:
    with store.unit() as repo:
        return repo.session.scalar(
            select(func.count()).select_from(Token).where(Token.status == TokenStatus.PENDING)
        )


def enable(visitor: Visitor, clock, **fields) -> str:
    """Press 啟用, read the key, enter its code: the key."""
    page = visitor.post(f"{STATUS}/Enable", **fields)
    assert page.status_code == 200 and 'id="qr"' in page.text, page.text
    key = visitor.key
    period = int(fields.get("period", 30))
    assert visitor.post(f"{STATUS}/Confirm", code=code(key, clock(), period)).status_code == 200
    return key


# -- links and sessions --------------------------------------------------------------------


def test_a_link_signs_in_once(live_server, link):
    url = link()
    visitor = Visitor(live_server)
    offer = visitor.get(url)
    assert offer.status_code == 200 and 'id="continue"' in offer.text
    anonymous = offer.headers["Set-Cookie"]
    assert "HttpOnly" in anonymous and "SameSite=Strict" in anonymous
    assert "Path=/owin/manage/" in anonymous and "Secure" not in anonymous  # plain HTTP here
    status = visitor.post(url)
    assert status.history[0].status_code == 303 and status.url.endswith(STATUS)
    assert visitor.text("account") == CAROL and visitor.text("state") == "未啟用"
    assert 'id="enable"' in status.text and "啟用" in status.text

    reused = Visitor(live_server).get(url)
    assert reused.status_code == 410 and LINK_INVALID in reused.text
    assert "索取新的綁定連結" in reused.text  # how to get a new one


def test_link_checkers_do_not_use_links_up(live_server, link):
    url = link()
    checker = Visitor(live_server)
    assert checker.http.head(checker.url(url), timeout=10).status_code == 200
    assert checker.http.options(checker.url(url), timeout=10).status_code == 405
    assert checker.get(url).status_code == 200
    assert Visitor(live_server).sign_in(url).status_code == 200


def test_an_expired_link(live_server, link, clock, settings):
    url = link()
    visitor = Visitor(live_server)
    assert visitor.get(url).status_code == 200
    offered_csrf = visitor.csrf
    clock.advance(settings.link_ttl)
    assert visitor.get(url).status_code == 410
    late = visitor.post(url, csrf=offered_csrf)  # the button of a page opened in time, too late
    assert late.status_code == 410 and LINK_INVALID in late.text
    assert visitor.get(STATUS).status_code == 403


def test_an_unknown_link(live_server, link):
    page = Visitor(live_server).get("/owin/manage/Link/" + "A" * 43)
    assert page.status_code == 410 and LINK_INVALID in page.text


def test_the_session_cookie_is_secure_behind_https(settings, store, clock, demo, link):
    trusted = dataclasses.replace(settings, trusted_proxies=(ip_network("127.0.0.1/32"),))
    server = LiveServer(create_app(trusted, clock=clock, store=store))
    try:
        visitor = Visitor(server, **{"X-Forwarded-Proto": "https"})
        visitor.get(link())
        assert "Secure" in visitor.page.headers["Set-Cookie"]
    finally:
        server.stop()


def test_without_a_session_the_page_explains_how_to_get_in(live_server, visitor, clock, settings):
    stranger = Visitor(live_server)
    page = stranger.get(STATUS)
    assert page.status_code == 403 and "請以綁定連結開啟本頁面" in page.text
    clock.advance(settings.session_ttl)
    assert visitor.get(STATUS).status_code == 403  # sessions expire by the server's clock


def test_signing_out(visitor):
    page = visitor.post("/owin/manage/SignOut")
    assert page.status_code == 200 and "您已登出" in page.text
    assert visitor.get(STATUS).status_code == 403


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
def test_forms_without_their_csrf_token_change_nothing(visitor, store, csrf):
    page = visitor.post(f"{STATUS}/Enable", csrf=csrf, device_name="phone")
    assert page.status_code == 403 and "表單已失效" in page.text
    assert pending_tokens(store) == 0


def test_a_csrf_token_of_another_session_is_refused(live_server, visitor, link, store):
    other = Visitor(live_server)
    other.sign_in(link())
    page = visitor.post(f"{STATUS}/Enable", csrf=other.csrf, device_name="phone")
    assert page.status_code == 403 and pending_tokens(store) == 0


def test_a_link_cannot_be_used_by_a_cross_site_form(live_server, link):
    url = link()
    attacker = Visitor(live_server)  # no session cookie of the victim's browser, no token
    assert attacker.post(url, csrf=None).status_code == 403
    assert Visitor(live_server).sign_in(url).status_code == 200  # the link is still unused


# -- enabling, disabling ---------------------------------------------------------------------


def test_enable_with_a_wrong_then_a_right_code(visitor, clock, live_server, store, demo, settings):
    page = visitor.post(f"{STATUS}/Enable", device_name="Carol's phone", phone="0912-345-678")
    for app in ("Google Authenticator(Android)", "FreeOTP Authenticator(iOS)"):
        assert app in page.text
    assert "或任何符合TOTP規範的驗證器" in page.text and "<svg" in page.text
    assert "請於 10 分鐘內完成設定" in page.text
    key = visitor.key
    wrong = wrong_code(TotpParams(key.replace(" ", "")), clock(), spread=settings.sync_window)
    refused = visitor.post(f"{STATUS}/Confirm", code=wrong)
    assert refused.status_code == 400 and "驗證碼錯誤" in refused.text
    assert visitor.key == key  # still pending, same key
    done = visitor.post(f"{STATUS}/Confirm", code=code(key, clock()))
    assert done.status_code == 200 and visitor.text("state") == "已啟用"
    assert "軟體式動態密碼設定完成" in done.text
    assert "Carol&#39;s phone" in done.text and "0912345678" in done.text

    clock.advance(30)
    assert call(zeep_service(live_server.url), CAROL, code(key, clock())) == outcome(0)
    assert [r.operation for r in audit_rows(store) if r.operation.startswith("web:")][:4] == [
        "web:RedeemBindingLink",
        "web:GetTOTPStatus",
        "web:BeginTOTPBinding",
        "web:GetTOTPStatus",
    ]


def test_a_pending_binding_lapses(visitor, clock, settings, store):
    visitor.post(f"{STATUS}/Enable", device_name="slow phone")
    key = visitor.key
    clock.advance(settings.pending_ttl)
    late = visitor.post(f"{STATUS}/Confirm", code=code(key, clock()))
    assert late.status_code == 400 and "設定已超過有效時間" in late.text
    assert visitor.text("state") == "未啟用" and 'id="enable"' in late.text


def test_cancel(visitor, store):
    visitor.post(f"{STATUS}/Enable")
    page = visitor.post(f"{STATUS}/Cancel")
    assert "已取消設定" in page.text and pending_tokens(store) == 0


@pytest.mark.parametrize("phone", ["12345", "0912-34567", "+886912345678", "0212345678"])
def test_a_bad_phone_number(visitor, store, phone):
    page = visitor.post(f"{STATUS}/Enable", device_name="phone", phone=phone)
    assert page.status_code == 400 and "手機號碼格式錯誤" in page.text
    assert pending_tokens(store) == 0 and 'id="enable"' in page.text


def test_several_devices_and_removing_one(visitor, clock, live_server):
    first = enable(visitor, clock, device_name="phone", phone="0912345678")
    clock.advance(30)
    second = enable(visitor, clock, device_name="tablet", phone="886987654321", period="60")
    assert "新增裝置" in visitor.page.text
    serials = visitor.serials()
    assert len(serials) == 2 and "60 秒" in visitor.page.text

    service = zeep_service(live_server.url)
    clock.advance(60)
    assert call(service, CAROL, code(first, clock())) == outcome(0)
    assert call(service, CAROL, code(second, clock(), 60)) == outcome(0)

    clock.advance(60)
    wrong_device = visitor.post(f"{STATUS}/Disable", serial=serials[1], code=code(first, clock()))
    assert wrong_device.status_code == 400 and "驗證碼錯誤" in wrong_device.text
    removed = visitor.post(f"{STATUS}/Disable", serial=serials[1], code=code(second, clock(), 60))
    assert removed.status_code == 200 and "已移除此裝置的綁定" in removed.text
    assert visitor.serials() == serials[:1] and visitor.text("state") == "已啟用"
    clock.advance(60)
    assert call(service, CAROL, code(second, clock(), 60)) == outcome(9999)


def test_the_sixty_second_key_is_offered_as_such(visitor, clock, store):
    page = visitor.post(f"{STATUS}/Enable", period="60")
    assert "60 秒" in page.text
    with store.unit() as repo:
        assert (
            repo.session.scalar(select(Token.period).where(Token.status == TokenStatus.PENDING))
            == 60
        )


@pytest.mark.parametrize("period", ["²", "٣٠", "abc", "-30", "45"])
def test_a_period_that_is_not_30_or_60_gets_the_forms_message(visitor, store, period):
    page = visitor.post(f"{STATUS}/Enable", period=period)
    assert page.status_code == 400 and "驗證碼更新間隔須為 30 或 60 秒" in page.text
    assert pending_tokens(store) == 0


# -- languages, headers ----------------------------------------------------------------------


def test_english_by_accept_language(live_server, link):
    visitor = Visitor(live_server, **{"Accept-Language": "en-US,en;q=0.9"})
    page = visitor.sign_in(link())
    assert "Manage your software one-time password" in page.text and 'lang="en"' in page.text
    assert visitor.text("state") == "Not enabled"


def test_english_by_query_is_kept_across_forms(live_server, link):
    visitor = Visitor(live_server, **{"Accept-Language": "zh-TW"})
    page = visitor.sign_in(link() + "?lang=en")
    assert page.url.endswith(f"{STATUS}?lang=en")
    assert f'action="{STATUS}/Enable?lang=en"' in page.text
    refused = visitor.post(f"{STATUS}/Enable?lang=en", phone="123")
    assert "The mobile number must be" in refused.text


def test_traditional_chinese_by_default(live_server, link):
    page = Visitor(live_server, **{"Accept-Language": "fr"}).sign_in(link())
    assert 'lang="zh-TW"' in page.text and "管理您的軟體式動態密碼設定" in page.text


def test_every_problem_is_worded_in_both_languages():
    for problem in Problem:
        assert all(TEXT[lang][f"problem_{problem.value}"] for lang in LANGUAGES)


def test_pages_are_kept_out_of_caches_frames_and_referrers(visitor):
    headers = visitor.get(STATUS).headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_unknown_pages_and_methods(live_server, visitor):
    assert visitor.get("/owin/manage/Nothing").status_code == 404
    assert visitor.http.delete(visitor.url(STATUS), timeout=10).status_code == 405
    assert visitor.http.get(visitor.url(f"{STATUS}/Enable"), timeout=10).status_code == 405
    assert re.search(r"<title>", visitor.get("/owin/manage/Nothing").text)
