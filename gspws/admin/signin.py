"""Signing in (password and a current TOTP code), signing out, and enrolling (the link
``gspws admin add`` printed: choose a password, set up the authenticator, confirm a code).

The decisions (lockout, single-use codes, the password policy) are gspws.core.admins's."""

from werkzeug.wrappers import Response

from gspws import qr
from gspws.admin.app import PREFIX, Console, Page
from gspws.core import codes
from gspws.core.admins import TooManySignIns


def _anonymous(page: Page) -> None:
    """A form needs a CSRF token, and that a session: an anonymous one until signed in."""
    if page.session is None:
        page.begin()


def sign_in(page: Page, console: Console) -> Response:
    if page.request.method == "GET":
        if page.admin is not None:
            return page.redirect("")
        _anonymous(page)
        return page.render("signin")
    form = page.request.form
    try:
        signed_in = console.admins.sign_in(
            page.address,
            form.get("name", "").strip(),
            form.get("password", ""),
            form.get("code", "").strip(),
        )
    except TooManySignIns:
        return page.render("signin", 429, problem="problem_too_many_sign_ins")
    if signed_in is None:
        return page.render("signin", 403, problem="problem_sign_in")
    # A fresh nonce: no session fixation.
    page.begin(signed_in.name, signed_in.epoch)
    target = form.get("next", "")
    if not target.startswith(PREFIX) or target.startswith("//"):
        target = PREFIX
    return page.redirect(target[len(PREFIX) :])


def sign_out(page: Page, console: Console) -> Response:
    if page.admin is not None:
        console.admins.audit(page.actor("SignOut"), codes.OK)
    page.ended = True
    page.admin = page.role = None
    return page.message(200, "notice_signed_out")


def enrol(page: Page, console: Console, token: str) -> Response:
    enrolment = console.admins.enrolment(token)
    if enrolment is None:
        return page.message(410, "problem_link_invalid", "ask_for_reset")
    if page.request.method == "GET":
        _anonymous(page)
        return _enrol_page(page, enrolment, token)
    form = page.request.form
    password = form.get("password", "")
    if password != form.get("password2", ""):
        return _enrol_page(page, enrolment, token, 400, "problem_password_mismatch")
    problem = console.admins.enrol(
        page.actor("Enrol"), token, password, form.get("code", "").strip()
    )
    if problem is not None:
        return _enrol_page(page, enrolment, token, 400, f"problem_{problem}")
    _anonymous(page)
    return page.redirect("signin", notice="enrolled")


def _enrol_page(page: Page, enrolment, token: str, status: int = 200, problem=None) -> Response:
    secret = enrolment.params.secret
    return page.render(
        "enrol",
        status,
        problem=problem,
        enrolment=enrolment,
        token=token,
        qr_svg=qr.svg(enrolment.otpauth_uri, page.t["scan_qr"]),
        key_groups=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


ROUTES = [
    ("signin", "sign_in", ["GET", "POST"], sign_in),
    ("signout", "sign_out", ["POST"], sign_out),
    ("enrol/<token>", "enrol", ["GET", "POST"], enrol),
]
