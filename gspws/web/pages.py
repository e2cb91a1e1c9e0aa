"""What gspws's HTML doors share, written once: the binding page (:mod:`gspws.web.app`), the
sign-in approval and activation pages (:mod:`gspws.web.approve`, :mod:`gspws.web.activate`) and
the operator console (:mod:`gspws.admin`) are all werkzeug apps rendering autoescaped Jinja2
templates in Traditional Chinese or English, with CSRF-checked forms, a session cookie only
under their own path and headers that keep them out of caches and frames.

Each door keeps its own words (a table of ``key: (zh-TW, en)``, see :func:`translations`), its own
templates and its own session cookie. Here: the language choice, the template environment, the
route match with its CSRF check (:func:`match`), the cookie, and for the citizens' pages the
:class:`Visit` and the :class:`Pages` base of the anonymous pages.

The approval and activation pages' sessions are anonymous (no account): they only carry the nonce
that CSRF tokens are made from and, on the approval page, that binds a proven sign-in to the
browser that proved it. Their cookie's path is the page's own, so the binding page never sees it.
"""

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from gspws.core.enroll import Person
from gspws.page_headers import PAGE_HEADERS
from gspws.proxies import origin_of
from gspws.web.session import COOKIE, Session, Sessions

log = logging.getLogger(__name__)

LANGUAGES = ("zh-TW", "en")
DEFAULT = "zh-TW"
#: Methods that change nothing; every other one must carry the form's CSRF token.
SAFE_METHODS = ("GET", "HEAD")
#: The HTTP status of each refusal :func:`match` names (the key is also the message's words).
REFUSED = {"not_found": 404, "form_expired": 403, "problem_too_large": 413}
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def translations(entries: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """``TEXT[language][key]`` from ``{key: (zh-TW, en)}``: one table per door, so a missing
    translation is a short tuple (a test fails), not a blank on a page. Templates write ``t.key``."""
    return {
        lang: {key: words[i] for key, words in entries.items()} for i, lang in enumerate(LANGUAGES)
    }


def language(request: Request) -> tuple[str, str | None]:
    """The page's language and the one the visitor chose with ``?lang=`` (None: from the
    browser's Accept-Language, Traditional Chinese when it names neither)."""
    asked = request.args.get("lang", "")
    explicit = next((lang for lang in LANGUAGES if lang.lower() == asked.lower()), None)
    return explicit or request.accept_languages.best_match(LANGUAGES, default=DEFAULT), explicit


@functools.cache
def environment(templates: Path, keep_trailing_newline: bool = False) -> jinja2.Environment:
    """Autoescaped templates; an undefined name fails instead of rendering as nothing. Besides
    ``templates``, the parts every page shares (``gspws/web/templates/_*.html``) are found.

    One per directory (and option) in a process, so every app built shares the compiled
    templates: compiling them per app made create_app cost 0.42 s of CPU instead of 0.08 s (2
    cores), and the test suite builds about 1,500 apps."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(templates), str(_TEMPLATES)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=keep_trailing_newline,
    )


def load_templates(*names: str) -> dict[str, jinja2.Template]:
    """The citizens' pages' templates by name (``gspws/web/templates/<name>.html``)."""
    env = environment(_TEMPLATES)
    return {name: env.get_template(f"{name}.html") for name in names}


def html(body: str, status: int) -> Response:
    return Response(body, status, content_type="text/html; charset=utf-8")


def session_cookie(
    response: Response, name: str, value: str | None, ttl: int, path: str, secure: bool
) -> None:
    """Set the session cookie (None: delete it): HttpOnly, SameSite=Strict, only under ``path``,
    Secure when the page was reached over HTTPS."""
    if value is None:
        response.delete_cookie(name, path=path, httponly=True, secure=secure, samesite="Strict")
    else:
        response.set_cookie(
            name, value, max_age=ttl, path=path, httponly=True, secure=secure, samesite="Strict"
        )


def match(
    routes: Map, request: Request, session: Session | None, sessions: Sessions
) -> tuple[str, Mapping[str, Any]] | str | Response:
    """The endpoint and arguments ``request`` asks for; or why it is refused, as a key of
    :data:`REFUSED` (``form_expired``: a POST without its form's CSRF token; ``problem_too_large``:
    a body over the request's ``max_content_length``); or the 405 response. Every door's
    dispatch starts here, so none can forget the CSRF check."""
    try:
        endpoint, args = routes.bind_to_environ(request.environ).match()
    except NotFound:
        return "not_found"
    except MethodNotAllowed as exc:
        return exc.get_response()
    if request.method not in SAFE_METHODS:
        try:
            csrf = request.form.get("csrf")
        except RequestEntityTooLarge:
            return "problem_too_large"
        if not sessions.csrf_valid(session, csrf):
            return "form_expired"
    return endpoint, args


class Visit:
    """One request to a citizens' page (binding, approval, activation): language, session,
    caller."""

    def __init__(self, request: Request, sessions: Sessions) -> None:
        self.request = request
        self.lang, self.explicit_lang = language(request)
        self.session = sessions.decode(request.cookies.get(COOKIE))
        self.new_session: Session | None = None  # to be set as the cookie
        origin = origin_of(request.environ)
        self.address = origin.address
        self.secure = origin.secure

    @property
    def account(self) -> str | None:
        return self.session.account if self.session else None

    def caller(self, operation: str) -> Person:
        return Person(self.address, f"web:{operation}")

    def url(self, path: str, **query: str) -> str:
        """``path`` keeping the language the visitor chose with ``?lang=``."""
        if self.explicit_lang:
            query = {"lang": self.explicit_lang, **query}
        return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def finish(response: Response, visit: Visit, sessions: Sessions, path: str) -> Response:
    """The page headers, and the session cookie (for ``path``) when a session began."""
    if visit.new_session is not None:
        value = sessions.encode(visit.new_session)
        session_cookie(response, COOKIE, value, sessions.ttl, path, visit.secure)
    response.headers.update(PAGE_HEADERS)
    return response


class Pages:
    """A WSGI app for the anonymous citizens' pages under ``prefix`` (approval, activation);
    subclasses give the routes (endpoint ``x`` is method ``_x``), the templates and the title's
    key. They render with the binding page's base layout (mobile viewport) and words
    (gspws.web.words)."""

    prefix = ""
    routes = Map()
    templates: tuple[str, ...] = ()
    title = ""

    def __init__(self, sessions: Sessions) -> None:
        # (imported here: gspws.web.words builds on gspws.web.i18n, which builds on this module)
        from gspws.web.words import WORDS

        self._words = WORDS
        self._sessions = sessions
        self._templates = load_templates("message", *self.templates)

    def handles(self, path: str) -> bool:
        return path.startswith(self.prefix)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        visit = Visit(Request(environ), self._sessions)
        if visit.session is None or visit.session.account is not None:
            visit.session = visit.new_session = self._sessions.new()
        try:
            response = self._dispatch(visit)
        except Exception:
            log.exception("%s failed", self.prefix)
            response = self.message(visit, 500, "internal_error")
        return finish(response, visit, self._sessions, self.prefix)(environ, start_response)

    def _dispatch(self, visit: Visit) -> Response:
        matched = match(self.routes, visit.request, visit.session, self._sessions)
        if isinstance(matched, Response):
            return matched
        if isinstance(matched, str):
            return self.message(visit, REFUSED[matched], matched)
        endpoint, args = matched
        response: Response = getattr(self, f"_{endpoint}")(visit, **args)
        return response

    def render(self, visit: Visit, template: str, http_status: int, **context: Any) -> Response:
        words = self._words[visit.lang]
        assert visit.session is not None  # (__call__ gives every visit one)
        body = self._templates[template].render(
            t={**words, "title": words[self.title]},
            lang=visit.lang,
            url=visit.url,
            csrf=self._sessions.csrf_token(visit.session),
            languages=LANGUAGES,
            here=visit.request.path,
            **context,
        )
        return html(body, http_status)

    def message(
        self, visit: Visit, http_status: int, heading: str, detail: str | None = None
    ) -> Response:
        return self.render(visit, "message", http_status, heading=heading, detail=detail)
