"""What gspws's HTML doors share: the binding page (:mod:`gspws.web.app`) and the operator
console (:mod:`gspws.admin`) are both werkzeug apps rendering Jinja2 templates in Traditional
Chinese or English, with CSRF-checked forms and headers that keep them out of caches and frames.

Each door keeps its own words (a table of ``key: (zh-TW, en)``, see :func:`translations`), its own
templates and its own session cookie; what is the same is here, written once.
"""

from collections.abc import Mapping
from pathlib import Path

import jinja2
from werkzeug.wrappers import Request, Response

LANGUAGES = ("zh-TW", "en")
DEFAULT = "zh-TW"
#: Methods that change nothing; every other one must carry the form's CSRF token.
SAFE_METHODS = ("GET", "HEAD")


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


def environment(templates: Path) -> jinja2.Environment:
    """Autoescaped templates; an undefined name fails instead of rendering as nothing."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


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
