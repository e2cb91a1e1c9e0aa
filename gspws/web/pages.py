"""What the sign-in approval page and the activation page share: one request as a
:class:`~gspws.web.app.Visit` (language, the signed session cookie, the caller), a CSRF token in
every form (checked before any POST is acted on), the page headers (no-store, CSP, no frames,
no referrer) and rendering their templates with the binding page's base layout (mobile
viewport) and words (gspws.web.words).

Their sessions are anonymous (no account): they only carry the nonce that CSRF tokens are made
from and, on the approval page, that binds a proven sign-in to the browser that proved it.
The cookie's path is the page's own, so the binding page never sees it.
"""

import logging
from collections.abc import Callable, Iterable

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from gspws.web.app import Visit, finish, load_templates, match
from gspws.web.i18n import LANGUAGES
from gspws.web.session import Sessions
from gspws.web.words import WORDS

log = logging.getLogger(__name__)


class Pages:
    """A WSGI app for the pages under ``prefix``; subclasses give the routes (endpoint ``x`` is
    method ``_x``), the templates and the title's key."""

    prefix = ""
    routes = Map()
    templates: tuple[str, ...] = ()
    title = ""

    def __init__(self, sessions: Sessions) -> None:
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
        matched = match(self.routes, visit, self._sessions)
        if isinstance(matched, Response):
            return matched
        if isinstance(matched, str):
            return self.message(visit, 404 if matched == "not_found" else 403, matched)
        endpoint, args = matched
        response: Response = getattr(self, f"_{endpoint}")(visit, **args)
        return response

    def render(self, visit: Visit, template: str, http_status: int, **context) -> Response:
        words = WORDS[visit.lang]
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
        return Response(body, http_status, content_type="text/html; charset=utf-8")

    def message(
        self, visit: Visit, http_status: int, heading: str, detail: str | None = None
    ) -> Response:
        return self.render(visit, "message", http_status, heading=heading, detail=detail)
