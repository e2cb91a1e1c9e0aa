"""Helpers of the operator console's tests: administrators as `gspws admin add` makes them, a
browser without JavaScript on /admin/ (werkzeug's test client: a cookie jar and the last page,
whose CSRF token it sends back), and an authenticator's codes."""

import re
from html import unescape
from urllib.parse import urlsplit

import pyotp
from werkzeug.test import Client

from gspws.compose import administrators_of
from gspws.core.admins import Actor

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_KEY = re.compile(r'id="secret-key">([^<]*)<')


def add_admin(settings, store, clock, name: str, role: str = "operator") -> str:
    """The enrolment link's path, as `gspws admin add NAME --role ROLE` prints it."""
    token = administrators_of(settings, store, clock).add(Actor("test", None, "Add"), name, role)
    assert token is not None
    return f"/admin/enrol/{token}"


def totp(key: str, at: float) -> str:
    return pyotp.TOTP(key).at(int(at))


def wrong_code(key: str, at: float) -> str:
    """A well-formed code the authenticator shows at none of the steps around ``at``."""
    shown = {totp(key, at + 30 * s) for s in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in shown)


class Browser:
    """One visitor of /admin/ from ``address`` (default loopback, inside GSPWS_ADMIN_ALLOW)."""

    def __init__(self, app, clock, address: str = "127.0.0.1", **headers: str) -> None:
        self.client = Client(app)
        self.clock = clock
        self.address = address
        self.headers = headers
        self.page = None
        self.key: str | None = None

    def get(self, path: str, **query):
        self.page = self.client.get(
            path,
            query_string=query or None,
            environ_base={"REMOTE_ADDR": self.address},
            headers=self.headers,
        )
        return self.page

    def post(self, path: str, data: dict | None = None, csrf: str | None = None):
        """POST a form with the CSRF token of the last page (or ``csrf``)."""
        form = {"csrf": self.csrf() if csrf is None else csrf, **(data or {})}
        self.page = self.client.post(
            path, data=form, environ_base={"REMOTE_ADDR": self.address}, headers=self.headers
        )
        return self.page

    def follow(self):
        """GET the redirect of the last response."""
        location = self.page.headers["Location"]
        parts = urlsplit(location)
        return self.get(parts.path + (f"?{parts.query}" if parts.query else ""))

    def csrf(self) -> str:
        match = _CSRF.search(self.text)
        assert match, self.text
        return match.group(1)

    @property
    def text(self) -> str:
        return self.page.get_data(as_text=True)

    def by_id(self, element_id: str) -> str:
        """The text of the element with ``id`` (tags stripped)."""
        match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', self.text, re.S)
        assert match, f"no #{element_id} in {self.text}"
        return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()

    # -- whole walks ---------------------------------------------------------------------------

    def enrol(self, link: str, password: str = PASSWORD) -> str:
        """Open the link, read the key, set the password, confirm the current code."""
        self.get(link)
        assert self.page.status_code == 200, self.text
        self.key = _KEY.search(self.text).group(1).replace(" ", "")
        self.post(link, {"password": password, "password2": password, "code": self.code()})
        assert self.page.status_code == 303, self.text
        return self.key

    def code(self) -> str:
        assert self.key is not None
        return totp(self.key, self.clock())

    def wrong_code(self) -> str:
        return wrong_code(self.key, self.clock())

    def sign_in(
        self, name: str, password: str = PASSWORD, code: str | None = None, advance: bool = True
    ):
        """Sign in a step later than the last code used (codes are single use), or now."""
        if advance:
            self.clock.advance(30)
        self.get("/admin/signin")
        return self.post(
            "/admin/signin", {"name": name, "password": password, "code": code or self.code()}
        )


def enrol_in_browser(page, base: str, link: str, clock) -> str:
    """Enrol in a real browser (Playwright ``page``); the authenticator's key read off the page."""
    page.goto(base + link)
    key = page.inner_text("#secret-key").replace(" ", "")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.fill("#code", totp(key, clock()))
    page.click("#enrol")
    page.wait_for_selector("#notice")
    return key


def sign_in_in_browser(page, name: str, key: str, clock, code: str | None = None) -> None:
    """Fill and send the sign-in form (the page is on it), a step after the last code used."""
    clock.advance(30)
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.fill("#code", code or totp(key, clock()))
    page.click("#sign-in")


def signed_in(app, settings, store, clock, name: str = "alice", role: str = "operator") -> Browser:
    browser = Browser(app, clock)
    browser.enrol(add_admin(settings, store, clock, name, role))
    browser.sign_in(name)
    assert browser.page.status_code == 303, browser.text
    return browser


def lock_token(store, serial: str, at: float) -> None:
    """Lock a token as failed codes do (status locked, failures, the time it locked)."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from gspws.store.models import Token, TokenStatus

    with store.unit() as repo:
        repo.session.execute(
            update(Token)
            .where(Token.serial == serial)
            .values(
                status=TokenStatus.LOCKED, failures=5, locked_at=datetime.fromtimestamp(at, UTC)
            )
        )


def pool_token(store, serial: str, params) -> None:
    """An imported (hardware) token in the pool, as `gspws token import --pool` leaves it."""
    from sqlalchemy import update

    from gspws.store.models import Token, TokenStatus

    with store.unit() as repo:
        repo.add_token(None, params, TokenStatus.ACTIVE, serial=serial)
        repo.session.execute(update(Token).where(Token.serial == serial).values(hardware=True))
