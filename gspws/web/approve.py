"""The approval page of QR-scan sign-in, on the phone: ``/owin/approve/<token>``.

Thin: each step is a :class:`~gspws.core.assertion.Assertions` use case, called as a
:class:`~gspws.core.enroll.Person` (audited as ``web:<step>``). The QR's URL only shows the
form: a GET changes nothing (link previews and scanners fetch URLs). The browser that proves
the code is the one that may decide: its session's nonce is handed to the core as the
``approver`` (gspws.web.pages).
"""

from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from gspws.core.assertion import Approval, Assertions
from gspws.web.pages import Pages, Visit
from gspws.web.session import Sessions

APPROVE_PATH = "/owin/approve/"

#: The HTTP status of each stage the page can show.
_STATUS = {"pending": 200, "proven": 200, "approved": 200, "denied": 200, "gone": 410, "error": 500}


class ApprovePages(Pages):
    prefix = APPROVE_PATH
    routes = Map(
        [
            Rule(f"{APPROVE_PATH}<token>", endpoint="show", methods=["GET"]),
            Rule(f"{APPROVE_PATH}<token>/Prove", endpoint="prove", methods=["POST"]),
            Rule(f"{APPROVE_PATH}<token>/Decide", endpoint="decide", methods=["POST"]),
        ]
    )
    templates = ("approve",)
    title = "approve_title"

    def __init__(self, assertions: Assertions, sessions: Sessions) -> None:
        super().__init__(sessions)
        self._assertions = assertions

    def _show(self, visit: Visit, token: str) -> Response:
        return self._page(visit, token, self._assertions.view(token, _approver(visit)))

    def _prove(self, visit: Visit, token: str) -> Response:
        form = visit.request.form
        step = self._assertions.prove(
            visit.caller("ProveSignIn"),
            token,
            form.get("account", "").strip(),
            form.get("code", "").strip(),
            _approver(visit),
        )
        if step.stage == "proven":  # POST-redirect-GET: a reload does not post the code again
            return redirect(visit.url(APPROVE_PATH + token), 303)
        return self._page(visit, token, step, 400 if step.problem else None)

    def _decide(self, visit: Visit, token: str) -> Response:
        form = visit.request.form
        approve = form.get("action") == "approve"
        step = self._assertions.decide(
            visit.caller("ApproveSignIn" if approve else "DenySignIn"),
            token,
            _approver(visit),
            form.get("number"),
            approve,
        )
        return self._page(visit, token, step)

    def _page(
        self, visit: Visit, token: str, step: Approval, http_status: int | None = None
    ) -> Response:
        return self.render(
            visit,
            "approve",
            http_status or _STATUS[step.stage],
            step=step,
            action=APPROVE_PATH + token,
        )


def _approver(visit: Visit) -> str:
    assert visit.session is not None  # (Pages gives every visit a session)
    return visit.session.nonce
