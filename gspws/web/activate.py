"""The activation page of offline distribution: ``/owin/activate``.

The person types the token's serial, the activation code and the activation password from the
sheet (``gspws token distribute --offline``) and sees the token's QR and key in the answer to
that POST only: nothing is cached (no-store) and a second activation is refused with NSTC's
message. Each try is a :class:`~gspws.core.activation.Activations` use case, audited as
``web:ActivateToken``.
"""

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from gspws import qr
from gspws.core import codes
from gspws.core.activation import Activations
from gspws.web.app import key_groups
from gspws.web.pages import Pages, Visit
from gspws.web.session import Sessions

ACTIVATE_PATH = "/owin/activate"


class ActivatePages(Pages):
    prefix = ACTIVATE_PATH
    routes = Map([Rule(ACTIVATE_PATH, endpoint="activate", methods=["GET", "POST"])])
    templates = ("activate",)
    title = "activate_title"

    def __init__(self, activations: Activations, sessions: Sessions) -> None:
        super().__init__(sessions)
        self._activations = activations

    def _activate(self, visit: Visit) -> Response:
        if visit.request.method != "POST":
            return self._form(visit, 200)
        form = visit.request.form
        outcome = self._activations.activate(
            visit.caller("ActivateToken"),
            form.get("serial"),
            form.get("activation_code"),
            form.get("activation_password"),
        )
        if outcome.code is codes.NO_ACTIVE_TOKEN:
            return self._form(visit, 410, "problem_activation_gone")
        if not outcome.ok or outcome.value is None:
            return self._form(visit, 400, "problem_activation_wrong")
        done = outcome.value
        return self.render(
            visit,
            "activate",
            200,
            problem=None,
            activated=done,
            qr_svg=qr.svg(done.otpauth_uri, done.serial),
            key_groups=key_groups(done.params.secret),
        )

    def _form(self, visit: Visit, http_status: int, problem: str | None = None) -> Response:
        return self.render(visit, "activate", http_status, problem=problem, activated=None)
