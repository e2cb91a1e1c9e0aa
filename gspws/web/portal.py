"""The portal's self-service actions on the binding page (``/owin/manage/TOTPStatus/...``):
bind a hardware token, 掛失 and found, 令牌認證測試, sync, 申請綁定.

Thin, as the page's other actions: each is one :class:`~gspws.core.portal.Portal` use case,
called as the signed-in person; :class:`~gspws.web.app.ManagePages` routes here after its
session and CSRF checks, and these handlers answer as its own do (POST-redirect-GET with a
notice, or the status page with the problem). The one page of its own shows a token taken from
the pool: its QR and key, as the POST's answer, once (the page headers keep it out of caches).
"""

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from gspws import qr
from gspws.core.enroll import Problem
from gspws.core.portal import Portal
from gspws.web.i18n import TEXT
from gspws.web.pages import Visit

STATUS_PATH = "/owin/manage/TOTPStatus"  # (gspws.web.app's; not imported: it imports this)

#: The actions' routes (endpoint = the handler's name).
RULES = [
    Rule(f"{STATUS_PATH}/{path}", endpoint=f"portal_{name}", methods=["POST"])
    for path, name in (
        ("BindHardware", "bind"),
        ("ReportLost", "lost"),
        ("ReportFound", "found"),
        ("TestCode", "test"),
        ("Sync", "sync"),
        ("RequestToken", "request"),
    )
]
ENDPOINTS = frozenset(rule.endpoint for rule in RULES)
NOTICES = ("hardware_bound", "reported_lost", "found", "code_test_passed", "synced")
TEMPLATES = ("issued",)


class PortalActions:
    """The handlers; ``pages`` is the ManagePages that routed the request (its rendering)."""

    def __init__(self, portal: Portal, pages) -> None:
        self._portal = portal
        self._pages = pages

    def handle(self, endpoint: str, visit: Visit) -> Response:
        return getattr(self, f"_{endpoint}")(visit)

    def context(self, visit: Visit) -> dict:
        """What the status page shows of the portal (its section, templates/portal.html)."""
        events, lost = self._portal.devices(visit.account) if visit.account else ([], [])
        return {"event_devices": events, "lost_devices": lost, "portal": True}

    def _portal_bind(self, visit: Visit) -> Response:
        form = visit.request.form
        outcome = self._portal.bind_hardware(
            visit.caller("BindHardwareToken"),
            visit.account,
            form.get("serial", "").strip(),
            form.get("code1", "").strip(),
            form.get("code2", "").strip(),
        )
        return self._pages._act(visit, outcome, "hardware_bound")

    def _portal_lost(self, visit: Visit) -> Response:
        serial = visit.request.form.get("serial", "")
        outcome = self._portal.report_lost(visit.caller("ReportTokenLost"), visit.account, serial)
        return self._pages._act(visit, outcome, "reported_lost")

    def _portal_found(self, visit: Visit) -> Response:
        serial = visit.request.form.get("serial", "")
        outcome = self._portal.report_found(visit.caller("ReportTokenFound"), visit.account, serial)
        return self._pages._act(visit, outcome, "found")

    def _portal_test(self, visit: Visit) -> Response:
        form = visit.request.form
        outcome = self._portal.test_code(
            visit.caller("TestTOTPCode"),
            visit.account,
            form.get("code", "").strip(),
            form.get("serial") or None,
        )
        if outcome.problem is Problem.WRONG_CODE:  # the test's answer, not a refusal
            return self._pages._status(visit, http_status=400, problem="problem_code_test_failed")
        return self._pages._act(visit, outcome, "code_test_passed")

    def _portal_sync(self, visit: Visit) -> Response:
        form = visit.request.form
        outcome = self._portal.sync(
            visit.caller("SyncToken"),
            visit.account,
            form.get("serial") or None,
            form.get("code1", "").strip(),
            form.get("code2", "").strip(),
        )
        return self._pages._act(visit, outcome, "synced")

    def _portal_request(self, visit: Visit) -> Response:
        outcome = self._portal.request_token(visit.caller("RequestPoolToken"), visit.account)
        if not outcome.ok or outcome.value is None:
            return self._pages._act(visit, outcome)
        issued = outcome.value
        label = TEXT[visit.lang]["step_1_2"]
        return self._pages._render(
            visit,
            "issued",
            200,
            issued=issued,
            qr_svg=qr.svg(issued.otpauth_uri, label),
            key_groups=_groups(issued.params.secret),
        )


def _groups(secret: str) -> str:
    """The binding page's grouping of a key (imported here: gspws.web.app imports this)."""
    from gspws.web.app import key_groups

    return key_groups(secret)
