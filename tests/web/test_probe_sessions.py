"""Security probe, sessions (issue 17, item 8): signing out (登出) ends the session on the server,
not only in the browser that pressed the button, and so does a new binding link for the account:
a copy of the old cookie no longer opens the page."""

import base64
import json

from gspws.web.session import COOKIE

from binding import Visitor, add_account, new_link

STATUS = "/owin/manage/TOTPStatus"
CAROL, DAVE = "carol", "dave"


def _signed_in(live_server, settings, store, clock, account: str) -> Visitor:
    visitor = Visitor(live_server)
    assert visitor.sign_in(new_link(settings, store, clock, account)).status_code == 200
    return visitor


def _with_cookie(live_server, cookie: str) -> Visitor:
    """Another browser holding a copy of ``cookie`` (as a thief or a shared computer would)."""
    copy = Visitor(live_server)
    copy.http.cookies.set(COOKIE, cookie, path="/owin/manage/")
    return copy


def test_sign_out_ends_the_session_for_every_copy_of_its_cookie(
    live_server, settings, store, clock
):
    add_account(store, CAROL)
    add_account(store, DAVE)
    carol = _signed_in(live_server, settings, store, clock, CAROL)
    dave = _signed_in(live_server, settings, store, clock, DAVE)
    cookie = carol.http.cookies[COOKIE]
    assert _with_cookie(live_server, cookie).get(STATUS).status_code == 200

    carol.get(STATUS)
    assert carol.post("/owin/manage/SignOut").status_code == 200
    stolen = _with_cookie(live_server, cookie)
    page = stolen.get(STATUS)
    assert page.status_code == 403 and "請以綁定連結開啟本頁面" in page.text
    assert dave.get(STATUS).status_code == 200  # other accounts' sessions go on

    again = _signed_in(live_server, settings, store, clock, CAROL)  # a new link signs in again
    assert again.get(STATUS).status_code == 200


def test_a_new_binding_link_ends_the_sessions_before_it(live_server, settings, store, clock):
    add_account(store, CAROL)
    carol = _signed_in(live_server, settings, store, clock, CAROL)
    assert carol.get(STATUS).status_code == 200
    new_link(settings, store, clock, CAROL)
    assert carol.get(STATUS).status_code == 403


def test_a_stale_sign_out_does_not_end_a_newer_session(live_server, settings, store, clock):
    add_account(store, CAROL)
    old = _signed_in(live_server, settings, store, clock, CAROL)
    old.get(STATUS)
    csrf = old.csrf
    new = _signed_in(live_server, settings, store, clock, CAROL)  # its link ended the old one
    old.post("/owin/manage/SignOut", csrf=csrf)
    assert new.get(STATUS).status_code == 200


def test_a_cookie_of_the_old_shape_is_no_session(live_server, settings, store, clock):
    add_account(store, CAROL)
    carol = _signed_in(live_server, settings, store, clock, CAROL)
    sessions = live_server.app.manage._sessions
    payload, _, _mac = carol.http.cookies[COOKIE].partition(".")
    account, nonce, expires_at, *_ = json.loads(base64.urlsafe_b64decode(payload + "=="))
    old = (
        base64.urlsafe_b64encode(json.dumps([account, nonce, expires_at]).encode())
        .rstrip(b"=")
        .decode()
    )
    cookie = f"{old}.{sessions._mac(b'session', old.encode())}"
    assert _with_cookie(live_server, cookie).get(STATUS).status_code == 403
