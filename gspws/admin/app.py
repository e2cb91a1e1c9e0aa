"""The operator console: the WSGI app for everything under ``/admin/``.

What every page gets from here, so no page can forget it:

- Only callers in ``GSPWS_ADMIN_ALLOW`` (the address resolved at the edge, gspws.proxies) reach
  it; anyone else gets 403 before anything else is looked at.
- A session cookie of its own (``gspws_admin``, path ``/admin/``, HttpOnly, SameSite=Strict,
  Secure over HTTPS), signed with a key of its own (HKDF ``info`` :data:`SESSION_INFO`), ended
  by signing out, ``gspws admin disable|reset`` or ``GSPWS_ADMIN_SESSION_TTL``.
- A CSRF token in every form, checked on every POST; and every POST but signing in, signing out
  and enrolling needs the ``operator`` role (auditors read: checked here, not in the templates).
- ``Cache-Control: no-store``, a CSP allowing nothing but gspws's own stylesheet and images and
  forms to itself, no framing (gspws.page_headers.ADMIN_HEADERS). No script at all.

The pages are modules of this package: each has a ``ROUTES`` list of
``(path, endpoint, methods, handler)``; a handler is ``handler(page, console, **args)`` and
returns a werkzeug Response.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from gspws.admin.i18n import TEXT
from gspws.admin.import_jobs import ImportJobs
from gspws.config import Settings
from gspws.core import codes
from gspws.core.activation import Activations
from gspws.core.admins import OPERATOR, Actor, Administrators
from gspws.core.clock import Clock
from gspws.core.enroll import Enrollment
from gspws.page_headers import ADMIN_HEADERS
from gspws.proxies import origin_of
from gspws.store.repo import Store
from gspws.web.pages import (
    LANGUAGES,
    REFUSED,
    SAFE_METHODS,
    environment,
    html,
    language,
    match,
    session_cookie,
)
from gspws.web.session import Session, Sessions

log = logging.getLogger(__name__)

PREFIX = "/admin/"
COOKIE = "gspws_admin"
SESSION_INFO = b"gspws operator console sessions v1"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_STATIC = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
#: Endpoints anyone allowed in may use; every other one needs a signed-in administrator.
_PUBLIC = {"sign_in", "sign_out", "enrol", "static"}
#: POSTs an auditor may send (the rest change things: operators only).
_ANY_ROLE_POSTS = {"sign_in", "sign_out", "enrol"}
#: The nav: (endpoint, words). ``dashboard`` is gspws.admin.dashboard's.
NAV = (
    ("dashboard", "nav_dashboard"),
    ("services", "nav_services"),
    ("accounts", "nav_accounts"),
    ("tokens/import", "nav_import"),
    ("audit", "nav_audit"),
    ("keys", "nav_keys"),
)


@dataclass(frozen=True)
class Console:
    """What the pages are given: the use cases and the store they read."""

    admins: Administrators
    enrollment: Enrollment
    store: Store
    settings: Settings
    clock: Clock
    imports: ImportJobs  # imports running or done, seen from every worker
    activations: Activations  # offline distribution (`gspws token distribute`'s use case)


class Page:
    """One request as a page sees it: language, session, administrator, caller."""

    def __init__(self, request: Request, sessions: Sessions, console: Console, env: Any) -> None:
        self.request = request
        request.max_content_length = console.settings.admin_upload_bytes  # (a token file)
        self.lang, self.explicit_lang = language(request)
        self.t = TEXT[self.lang]
        self.session = sessions.decode(request.cookies.get(COOKIE))
        self.new_session: Session | None = None
        self.ended = False  # signed out: the cookie is deleted
        origin = origin_of(request.environ)
        self.address = origin.address
        self.secure = origin.secure
        self.admin = self.session.account if self.session else None
        self.role = console.admins.role(self.admin) if self.admin else None
        self._sessions = sessions
        self._env = env
        self.zone = console.settings.admin_timezone

    def begin(self, name: str | None = None, epoch: int | None = None) -> None:
        """A new session (a fresh nonce: nothing fixed in advance), anonymous or signed in."""
        self.session = self.new_session = self._sessions.new(name, epoch)

    @property
    def operator(self) -> bool:
        return self.role == OPERATOR

    def actor(self, action: str, service_id: str | None = None) -> Actor:
        """The audit row's who: ``admin:NAME:action`` from this caller's address."""
        return Actor(self.admin, self.address, action, service_id)

    def when(self, value: datetime | float | None) -> str:
        """A time as the console shows it: in GSPWS_ADMIN_TIMEZONE (the page names the zone);
        a naive datetime is the store's UTC."""
        if value is None:
            return ""
        if not isinstance(value, datetime):
            value = datetime.fromtimestamp(value, UTC)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def url(self, path: str, **query: Any) -> str:
        """``/admin/path``, keeping the language chosen with ``?lang=``; empty values dropped."""
        if self.explicit_lang:
            query = {"lang": self.explicit_lang, **query}
        query = {k: v for k, v in query.items() if v not in (None, "")}
        return PREFIX + path + ("?" + urlencode(query) if query else "")

    def redirect(self, path: str, **query: Any) -> Response:
        """POST-redirect-GET."""
        return redirect(self.url(path, **query), 303)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        csrf = self._sessions.csrf_token(self.session) if self.session else ""
        body = self._env.get_template(f"{template}.html").render(
            t=self.t,
            lang=self.lang,
            languages=LANGUAGES,
            url=self.url,
            admin=self.admin,
            role=self.role,
            operator=self.operator,
            csrf=csrf,
            nav=NAV,
            here=self.request.path,
            query=self.request.args,
            when=self.when,
            zone=self.zone.key,
            **context,
        )
        return html(body, status)

    def message(self, status: int, heading: str, detail: str | None = None) -> Response:
        return self.render("message", status, heading=heading, detail=detail)


Handler = Callable[..., Response]


@cache
def _routes() -> tuple[Map, Mapping[str, Handler]]:
    """The console's URL map and each endpoint's handler: the same for every console, so built
    once per process. Compiling the map's 34 rules cost ~23 ms, half of building the whole app
    (48 ms; werkzeug compiles each rule's matcher and URL builder); tests build ~1,500 apps."""
    from gspws.admin import (
        audit,
        dashboard,
        distribute,
        imports,
        keys,
        services,
        signin,
        tokens,
    )

    rules, handlers = [], {}
    for module in (signin, dashboard, services, imports, tokens, distribute, audit, keys):
        for path, endpoint, methods, handler in module.ROUTES:
            rules.append(Rule(PREFIX + path, endpoint=endpoint, methods=methods))
            handlers[endpoint] = handler
    rules.append(Rule(PREFIX + "static/<name>", endpoint="static", methods=["GET"]))
    handlers["static"] = _static
    return Map(rules), MappingProxyType(handlers)


class AdminConsole:
    """WSGI app for ``/admin/``."""

    def __init__(self, console: Console, sessions: Sessions) -> None:
        self._console = console
        self._sessions = sessions
        self._env = environment(_TEMPLATES)
        self._map, self._handlers = _routes()

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX[:-1] or path.startswith(PREFIX)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        client = origin_of(environ).address
        if client is None or not any(client in net for net in self._console.settings.admin_allow):
            response = Response("forbidden\n", 403, content_type="text/plain; charset=utf-8")
            response.headers.update(ADMIN_HEADERS)
            return response(environ, start_response)
        page = Page(Request(environ), self._sessions, self._console, self._env)
        try:
            response = self._dispatch(page)
        except Exception:
            log.exception("the operator console failed")
            response = page.message(500, "internal_error")
        self._cookie(page, response)
        response.headers.update(ADMIN_HEADERS)
        return response(environ, start_response)

    def _dispatch(self, page: Page) -> Response:
        if page.request.path == PREFIX[:-1]:
            return redirect(PREFIX, 308)
        matched = match(self._map, page.request, page.session, self._sessions)
        if isinstance(matched, Response):
            return matched
        if isinstance(matched, str):
            return page.message(REFUSED[matched], matched)
        endpoint, args = matched
        if endpoint == "static":
            return _static(page, self._console, **args)
        if page.request.method not in SAFE_METHODS:
            if endpoint not in _ANY_ROLE_POSTS and not page.operator:
                if page.admin is not None:  # an auditor's try is worth an audit row
                    self._console.admins.audit(page.actor(f"Refused:{endpoint}"), codes.REJECTED)
                return page.message(403, "operators_only")
        if endpoint not in _PUBLIC and page.admin is None:
            return page.redirect("signin", next=page.request.path)
        return self._handlers[endpoint](page, self._console, **args)

    def _cookie(self, page: Page, response: Response) -> None:
        ttl = self._sessions.ttl
        if page.ended:
            session_cookie(response, COOKIE, None, ttl, PREFIX, page.secure)
        elif page.new_session is not None:
            value = self._sessions.encode(page.new_session)
            session_cookie(response, COOKIE, value, ttl, PREFIX, page.secure)


def _static(page: Page, _console: Console, name: str) -> Response:
    """gspws's own assets (no CDN): only files of ``gspws/admin/static`` of a known type."""
    path = _STATIC / name
    kind = _STATIC_TYPES.get(path.suffix)
    if kind is None or path.parent != _STATIC or not path.is_file():
        return page.message(404, "not_found")
    return Response(path.read_bytes(), 200, content_type=kind)
