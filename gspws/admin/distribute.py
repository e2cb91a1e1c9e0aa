"""Distribute a token offline from the console (seed 003's 派發): the printable activation sheet
(serial, activation code, activation password) shown once, in the answer to the POST.

The decision is gspws.core.activation.Activations.distribute, the use case ``gspws token
distribute --offline`` calls: a pool token's serial (an unassigned TOTP token, assigned to an
account when one is named), or an account, for which a new soft token is made; either stays
pending until the person activates it on /owin/activate. The use case audits the call as
``admin:NAME:DistributeToken``. The code and password are stored only hashed: this page is the
only place they appear (no-store like every console page; reloading it sends the form again and
makes a new sheet, replacing the first).
"""

from werkzeug.wrappers import Response

from gspws.admin.app import Console, Page
from gspws.admin.tokens import token
from gspws.core import codes
from gspws.core.activation import Distribution
from gspws.core.enroll import Person
from gspws.web.activate import ACTIVATE_PATH

#: Why the use case refused, for an operator.
_REFUSED = {
    codes.NO_ACTIVE_TOKEN.code: "no such token or account",
    codes.REJECTED.code: (
        "only a TOTP token of the pool (unassigned, or pending an earlier sheet) can be distributed"
    ),
}


def _distribute(page: Page, console: Console, target: str, account: str | None):
    person = Person(page.address, f"admin:{page.admin}:DistributeToken")
    outcome = console.activations.distribute(person, target, account)
    if outcome.ok and outcome.value is not None:
        return outcome.value, None
    return None, _REFUSED.get(outcome.code.code, str(outcome.code))


def _sheet(page: Page, console: Console, sheet: Distribution) -> Response:
    return page.render(
        "sheet", sheet=sheet, activate_url=console.settings.public_url + ACTIVATE_PATH
    )


def distribute_token(page: Page, console: Console, serial: str) -> Response:
    """A pool token, to the account the form names (or to whoever activates it)."""
    account = page.request.form.get("account", "").strip() or None
    sheet, error = _distribute(page, console, serial, account)
    if sheet is None:
        return token(page, console, serial, error=error)
    return _sheet(page, console, sheet)


def distribute_account(page: Page, console: Console, account: str) -> Response:
    """A new soft token for ``account`` (an earlier unused sheet of theirs is replaced)."""
    sheet, error = _distribute(page, console, account, None)
    if sheet is None:
        return page.render("message", 400, heading="distribute_refused", detail=None, error=error)
    return _sheet(page, console, sheet)


ROUTES = [
    ("tokens/<serial>/distribute", "token_distribute", ["POST"], distribute_token),
    ("accounts/<account>/distribute", "account_distribute", ["POST"], distribute_account),
]
