"""Helpers of the binding tests: agency grants, links, a visitor of the binding page, codes."""

import re
from html import unescape
from urllib.parse import urlsplit

import pyotp
import requests

from gspws.compose import Wiring
from gspws.core.access import TOTP_FUNCTIONS
from gspws.core.enroll import Person

from helpers import SERVICE_ID

BINDING_FUNCTIONS = tuple(f for f in TOTP_FUNCTIONS if f != "VerifyTOTPCode")
LINK_INVALID = "註冊已超過有效時間或此帳號已被註冊"
OPERATOR = Person(None, "test:operator")


def grant_binding(store, service_id: str = SERVICE_ID) -> None:
    with store.unit() as repo:
        for function in BINDING_FUNCTIONS:
            repo.grant(service_id, function)


def add_account(store, account: str, email: str | None = None) -> None:
    with store.unit() as repo:
        repo.add_account(account, email=email)


def new_link(settings, store, clock, account: str, invite: bool = False) -> str:
    """A binding link, as `gspws account link` makes it (its URL on GSPWS_PUBLIC_URL)."""
    outcome = (
        Wiring(settings, store, clock).enrollment().create_link(OPERATOR, account, invite=invite)
    )
    assert outcome.ok, outcome
    return outcome.value


def code(key: str, at: float, period: int = 30, steps: int = 0) -> str:
    """The code an authenticator app set up with ``key`` shows ``steps`` periods from ``at``."""
    return pyotp.TOTP(key.replace(" ", ""), interval=period).generate_otp(int(at // period) + steps)


class Visitor:
    """A browser without JavaScript on the binding page of ``server``: a cookie jar and the last
    page, whose forms' CSRF token it sends back."""

    def __init__(self, server, **headers: str) -> None:
        self.server = server
        self.http = requests.Session()
        self.http.headers.update(headers)
        self.page: requests.Response | None = None

    def url(self, path_or_link: str) -> str:
        """A link on GSPWS_PUBLIC_URL, or a path, as a URL of the test server."""
        parts = urlsplit(path_or_link)
        return self.server.base + parts.path + (f"?{parts.query}" if parts.query else "")

    def get(self, path: str) -> requests.Response:
        self.page = self.http.get(self.url(path), timeout=10)
        return self.page

    def post(self, path: str, csrf: str | None = "page", **fields: str) -> requests.Response:
        """POST ``fields`` with the last page's CSRF token (``csrf=None``: none; or a given one)."""
        if csrf == "page":
            csrf = self.csrf
        data = dict(fields, **({"csrf": csrf} if csrf is not None else {}))
        self.page = self.http.post(self.url(path), data=data, timeout=10)
        return self.page

    def sign_in(self, link: str) -> requests.Response:
        """Open the link and press 繼續: the status page, signed in."""
        assert self.get(link).status_code == 200, self.page.text
        return self.post(link)

    @property
    def csrf(self) -> str:
        return re.search(r'name="csrf" value="([^"]*)"', self.page.text).group(1)

    @property
    def key(self) -> str:
        """The key shown for manual entry, as a person would type it."""
        shown = re.search(r'id="secret-key">([^<]*)<', self.page.text).group(1)
        return unescape(shown).replace(" ", "")

    def text(self, element_id: str) -> str | None:
        found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', self.page.text)
        return unescape(found.group(1)) if found else None

    def serials(self) -> list[str]:
        return re.findall(r'<tr data-serial="([^"]+)">', self.page.text)
