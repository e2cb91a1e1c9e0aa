"""Accounts and tokens: search by account, mobile number or serial (prefix, keyset pages); a
token's type, status, drift, failures and last use; unlock, disable, report lost and found,
assign and unassign (the pool: imported tokens without an account), clear a PIN; a binding link
for an account.

Each change is the store function the CLI's ``gspws token ...`` calls (gspws.store.pool's
conditional UPDATEs, as gspws.cli.tokens), a binding link the core's Enrollment.create_link (as
``gspws account link``)."""

from collections.abc import Callable

from werkzeug.wrappers import Response

from gspws.admin.acts import change
from gspws.admin.app import Console, Page
from gspws.core import codes
from gspws.core.enroll import Person
from gspws.errors import GspwsError
from gspws.mail import send_invitation
from gspws.store import console as queries
from gspws.store import pool
from gspws.store.admins import AdminQueries
from gspws.store.repo import StoreError

SEARCH_BY = ("account", "mobile", "serial", "pool")


def accounts(page: Page, console: Console) -> Response:
    args = page.request.args
    by = args.get("by", "account") if args.get("by") in SEARCH_BY else "account"
    q = args.get("q", "").strip()
    after = args.get("after") or None
    found: list = []
    tokens: list = []
    following = None
    with console.store.reading() as repo:
        if by in ("serial", "pool"):
            tokens, following = queries.tokens(repo.session, q, after, pool=by == "pool")
        elif q or after:
            found, following = queries.accounts(
                repo.session, by, q.lower() if by == "account" else q, after
            )
    return page.render(
        "accounts",
        accounts=found,
        tokens=tokens,
        by=by,
        q=q,
        following=following,
        search_by=SEARCH_BY,
    )


def token(
    page: Page, console: Console, serial: str, error: str | None = None, link: str = ""
) -> Response:
    with console.store.reading() as repo:
        try:
            view = queries.token_view(repo.get_token(serial))
        except StoreError:
            return page.message(404, "not_found")
    return page.render("token", 400 if error else 200, token=view, error=error, link=link)


def _action(action: str, carry_out: Callable[[AdminQueries, str], object]):
    """A POST on one token, carried out by the CLI's store function ``carry_out(repo, serial)``."""

    def handler(page: Page, console: Console, serial: str) -> Response:
        owner = _owner(console, serial)
        error = change(page, console, action, lambda repo: carry_out(repo, serial), account=owner)
        return _done(page, console, serial, error)

    return handler


def _assign(page: Page, console: Console, serial: str) -> Response:
    account = page.request.form.get("account", "").strip()
    error = change(
        page,
        console,
        "AssignToken",
        lambda repo: pool.assign(repo, serial, account),
        account=account,
    )
    return _done(page, console, serial, error)


def _link(page: Page, console: Console, serial: str) -> Response:
    """A new single-use binding link for the token's account, shown once on the page."""
    owner = _owner(console, serial)
    outcome = console.enrollment.create_link(
        Person(page.address, f"admin:{page.admin}:CreateBindingLink"), owner
    )
    if not outcome.ok or outcome.value is None:
        return token(page, console, serial, error="no account to make a binding link for")
    return token(page, console, serial, link=outcome.value)


def _invite(page: Page, console: Console, serial: str) -> Response:
    """E-mail the token's account a binding link, as ``gspws account invite`` does."""
    owner = _owner(console, serial)
    try:
        with console.store.reading() as repo:
            email = repo.get_account(owner).email if owner else None
        send_invitation(
            console.settings,
            console.enrollment,
            Person(page.address, f"admin:{page.admin}:InviteToBinding"),
            owner or "",
            email,
        )
    except GspwsError as exc:
        console.admins.audit(page.actor("InviteToBinding"), codes.REJECTED, owner)
        return token(page, console, serial, error=str(exc))
    return page.redirect(f"tokens/{serial}", notice="invited")


def _owner(console: Console, serial: str) -> str | None:
    with console.store.reading() as repo:
        try:
            row = repo.get_token(serial)
        except StoreError:
            return None
        return row.account.account if row.account else None


def _done(page: Page, console: Console, serial: str, error: str | None) -> Response:
    if error:
        return token(page, console, serial, error)
    return page.redirect(f"tokens/{serial}", notice="done")


ROUTES = [
    ("accounts", "accounts", ["GET"], accounts),
    ("tokens/<serial>", "token", ["GET"], token),
    ("tokens/<serial>/assign", "token_assign", ["POST"], _assign),
    ("tokens/<serial>/link", "token_link", ["POST"], _link),
    ("tokens/<serial>/invite", "token_invite", ["POST"], _invite),
    *(
        (f"tokens/<serial>/{path}", f"token_{path}", ["POST"], _action(action, carry_out))
        for path, action, carry_out in (
            ("unlock", "UnlockToken", lambda repo, serial: repo.unlock_serial(serial)),
            ("disable", "DisableToken", lambda repo, serial: repo.disable_serial(serial)),
            ("lost", "ReportTokenLost", pool.report_lost),
            ("found", "ReportTokenFound", pool.found),
            ("unassign", "UnassignToken", pool.unassign),
            ("clear_pin", "ClearTokenPin", lambda repo, serial: pool.set_pin(repo, serial, None)),
        )
    ),
]
