"""The binding page: ``/owin/manage/TOTPStatus`` (seed 000's path) and the links that open it.

Thin: every action is a :class:`~gspws.core.enroll.Enrollment` use case, called as a
:class:`~gspws.core.enroll.Person` (audited as ``web:<operation>``). What this door adds is the
web's own safety: a session cookie (HttpOnly, SameSite=Strict, Secure when the page was reached
over HTTPS) that only a binding link starts, a CSRF token in every form, POST-redirect-GET, and
headers that keep the page (it shows a secret key) out of caches, frames and referrers.

A link's GET only shows a button; the POST of that button uses the link up. Mail scanners and
link previews fetch URLs, and must not spend a single-use link.
"""

import logging
import math
from collections.abc import Callable, Iterable

from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from gspws import qr
from gspws.core import codes
from gspws.core.clock import Clock
from gspws.core.digits import whole_number
from gspws.core.enroll import Enrollment, Outcome, Problem
from gspws.core.oob import OutOfBandCodes, mask_email, mask_mobile
from gspws.core.portal import Portal
from gspws.web import portal as portal_actions
from gspws.web.i18n import LANGUAGES, TEXT
from gspws.web.pages import (
    REFUSED,
    SAFE_METHODS,
    Visit,
    finish,
    html,
    load_templates,
    match,
    session_cookie,
)
from gspws.web.session import COOKIE, Sessions

log = logging.getLogger(__name__)

PREFIX = "/owin/manage/"
STATUS_PATH = "/owin/manage/TOTPStatus"
LINK_PATH = "/owin/manage/Link/"

_ROUTES = Map(
    [
        Rule(STATUS_PATH, endpoint="status", methods=["GET"]),
        Rule(f"{STATUS_PATH}/Enable", endpoint="enable", methods=["POST"]),
        Rule(f"{STATUS_PATH}/Confirm", endpoint="confirm", methods=["POST"]),
        Rule(f"{STATUS_PATH}/Cancel", endpoint="cancel", methods=["POST"]),
        Rule(f"{STATUS_PATH}/Disable", endpoint="disable", methods=["POST"]),
        Rule(f"{STATUS_PATH}/Destination", endpoint="destination", methods=["POST"]),
        Rule(f"{STATUS_PATH}/DestinationConfirm", endpoint="destination_confirm", methods=["POST"]),
        Rule(f"{PREFIX}SignOut", endpoint="sign_out", methods=["POST"]),
        Rule(f"{LINK_PATH}<token>", endpoint="link", methods=["GET", "POST"]),
        *portal_actions.RULES,
    ]
)
#: Endpoints for a signed-in account (the others are the link and signing out).
_NEED_ACCOUNT = {
    "status",
    "enable",
    "confirm",
    "cancel",
    "disable",
    "destination",
    "destination_confirm",
    *portal_actions.ENDPOINTS,
}
_NOTICES = (
    "enabled",
    "enabled_clock_off",
    "disabled",
    "cancelled",
    "code_sent",
    "destination_verified",
    *portal_actions.NOTICES,
)


class ManagePages:
    """WSGI app for everything under ``/owin/manage/``."""

    def __init__(
        self,
        enrollment: Enrollment,
        sessions: Sessions,
        clock: Clock,
        oob: OutOfBandCodes,
        portal: Portal | None = None,
    ) -> None:
        self._enrollment = enrollment
        self._oob = oob
        self._sessions = sessions
        self._clock = clock
        self._templates = load_templates("status", "link", "message", *portal_actions.TEMPLATES)
        self._portal = portal_actions.PortalActions(portal, self) if portal else None

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith(PREFIX)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        visit = Visit(Request(environ), self._sessions)
        try:
            response = self._dispatch(visit)
        except Exception:
            log.exception("the binding page failed")
            response = self._message(visit, 500, "internal_error")
        return finish(response, visit, self._sessions, PREFIX)(environ, start_response)

    def _dispatch(self, visit: Visit) -> Response:
        matched = match(_ROUTES, visit.request, visit.session, self._sessions)
        if isinstance(matched, Response):
            return matched
        if isinstance(matched, str):
            return self._message(visit, REFUSED[matched], matched)
        endpoint, args = matched
        if endpoint in _NEED_ACCOUNT and visit.account is None:
            return self._message(visit, 403, "sign_in_needed", "sign_in_help")
        if endpoint in portal_actions.ENDPOINTS:
            return (
                self._portal.handle(endpoint, visit)
                if self._portal
                else self._message(visit, 404, "not_found")
            )
        return getattr(self, f"_{endpoint}")(visit, **args)

    # -- pages ------------------------------------------------------------------------------

    def _status(
        self,
        visit: Visit,
        outcome: Outcome | None = None,
        http_status: int = 200,
        problem: str | None = None,
    ) -> Response:
        """The status page; ``outcome`` (or ``problem``) is a refused action to explain on it."""
        shown = self._enrollment.status(visit.caller("GetTOTPStatus"), visit.account)
        if not shown.ok:
            return self._refused(visit, shown)
        status = shown.value
        assert status is not None  # an ok outcome carries its value
        binding = status.binding
        notice = visit.request.args.get("notice")
        refused = outcome is not None or problem is not None
        places = self._oob.places(visit.account)
        return self._render(
            visit,
            "status",
            http_status,
            status=status,
            places=places,
            mask_mobile=mask_mobile,
            mask_email=mask_email,
            notice=f"notice_{notice}" if not refused and notice in _NOTICES else None,
            problem=_problem_key(outcome) if outcome else problem,
            qr_svg=qr.svg(binding.otpauth_uri, TEXT[visit.lang]["step_1_2"]) if binding else "",
            key_groups=key_groups(binding.params.secret) if binding else "",
            minutes_left=math.ceil((binding.expires_at - self._clock()) / 60) if binding else 0,
            **(self._portal.context(visit) if self._portal else {"portal": False}),
        )

    def _link(self, visit: Visit, token: str) -> Response:
        if visit.request.method in SAFE_METHODS:  # a HEAD (link checkers send them) is a GET
            if not self._enrollment.link_usable(token):
                return self._message(visit, 410, "problem_link_invalid", "get_new_link")
            if visit.session is None:  # the button's form needs a CSRF token of a session
                visit.session = visit.new_session = self._sessions.new()
            return self._render(visit, "link", 200, action=visit.url(LINK_PATH + token))
        outcome = self._enrollment.redeem_link(visit.caller("RedeemBindingLink"), token)
        if not outcome.ok:
            return self._message(visit, 410, "problem_link_invalid", "get_new_link")
        # A fresh nonce: no fixation.
        signed_in = outcome.value
        assert signed_in is not None  # an ok outcome carries its value
        visit.new_session = self._sessions.new(signed_in.account, signed_in.epoch)
        return redirect(visit.url(STATUS_PATH), 303)

    def _sign_out(self, visit: Visit) -> Response:
        if visit.account is not None:  # ends every copy of the cookie, not only this one
            assert visit.session is not None  # (the account is the session's)
            self._enrollment.sign_out(visit.caller("SignOut"), visit.account, visit.session.epoch)
            visit.session = None
        response = self._message(visit, 200, "notice_signed_out")
        session_cookie(response, COOKIE, None, self._sessions.ttl, PREFIX, visit.secure)
        return response

    # -- actions: redirect when done, the status page with the problem when refused ----------

    def _enable(self, visit: Visit) -> Response:
        form = visit.request.form
        return self._act(
            visit,
            self._enrollment.begin(
                visit.caller("BeginTOTPBinding"),
                visit.account,
                form.get("device_name"),
                form.get("phone"),
                _period(form.get("period", "30")),
            ),
        )

    def _confirm(self, visit: Visit) -> Response:
        outcome = self._enrollment.confirm(
            visit.caller("ConfirmTOTPBinding"), visit.account, _code(visit)
        )
        return self._act(
            visit,
            outcome,
            "enabled_clock_off" if outcome.warning is Problem.CLOCK_OFF else "enabled",
        )

    def _cancel(self, visit: Visit) -> Response:
        return self._act(
            visit,
            self._enrollment.cancel(visit.caller("CancelTOTPBinding"), visit.account),
            "cancelled",
        )

    def _disable(self, visit: Visit) -> Response:
        return self._act(
            visit,
            self._enrollment.disable(
                visit.caller("DisableTOTP"),
                visit.account,
                _code(visit),
                visit.request.form.get("serial", ""),
            ),
            "disabled",
        )

    def _destination(self, visit: Visit) -> Response:
        """Send a code to the mobile number or e-mail address the person typed."""
        form = visit.request.form
        sent = self._oob.send_check(
            visit.caller("SendDestinationCode"),
            visit.account,
            form.get("channel", ""),
            form.get("value", ""),
        )
        if sent.code is codes.OK:
            return redirect(visit.url(STATUS_PATH, notice="code_sent"), 303)
        return self._status(
            visit, http_status=400, problem=f"problem_{sent.problem or 'unknown_account'}"
        )

    def _destination_confirm(self, visit: Visit) -> Response:
        """The code typed back: the destination it went to becomes the account's, verified."""
        outcome = self._oob.confirm_check(
            visit.caller("VerifyDestinationCode"),
            visit.account,
            visit.request.form.get("channel", ""),
            _code(visit),
        )
        if outcome is codes.OK:
            return redirect(visit.url(STATUS_PATH, notice="destination_verified"), 303)
        return self._status(visit, http_status=400, problem="problem_wrong_code")

    def _act(self, visit: Visit, outcome: Outcome, notice: str | None = None) -> Response:
        if outcome.ok:
            return redirect(visit.url(STATUS_PATH, **({"notice": notice} if notice else {})), 303)
        if outcome.problem is None:
            return self._refused(visit, outcome)
        return self._status(visit, outcome, 400)

    # -- rendering --------------------------------------------------------------------------

    def _refused(self, visit: Visit, outcome: Outcome) -> Response:
        if outcome.code is codes.INTERNAL_ERROR:
            return self._message(visit, 500, "internal_error")
        return self._message(visit, 403, _problem_key(outcome), "sign_in_help")

    def _message(
        self, visit: Visit, http_status: int, heading: str, detail: str | None = None
    ) -> Response:
        return self._render(visit, "message", http_status, heading=heading, detail=detail)

    def _render(self, visit: Visit, template: str, http_status: int, **context) -> Response:
        csrf = self._sessions.csrf_token(visit.session) if visit.session else ""
        body = self._templates[template].render(
            t=TEXT[visit.lang],
            lang=visit.lang,
            url=visit.url,
            account=visit.account,
            csrf=csrf,
            status_path=STATUS_PATH,
            prefix=PREFIX,
            languages=LANGUAGES,
            here=visit.request.path if visit.request.method == "GET" else STATUS_PATH,
            **context,
        )
        return html(body, http_status)


def _problem_key(outcome: Outcome) -> str:
    return f"problem_{outcome.problem.value}" if outcome.problem else "internal_error"


def _period(text: str) -> int:
    """The form's period in seconds; 0 (refused by the core as BAD_PERIOD) when it is not ASCII
    digits."""
    return whole_number(text) or 0


def _code(visit: Visit) -> str:
    return visit.request.form.get("code", "").strip()


def key_groups(secret: str) -> str:
    """A base32 key in groups of four, as authenticator apps accept it typed."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
