"""An operator's change, carried out and audited in one transaction.

The change itself is the store function the CLI calls for it (gspws.cli.*): the console adds no
second copy of a rule. Its audit row (``admin:NAME:Action``, the ServiceID or account acted on,
0 or 9999) is written in the same transaction, so a change is never without its row; a refused
change (an unknown object, a bad value) gets its row in a transaction of its own.
"""

from collections.abc import Callable

from gspws.admin.app import Console, Page
from gspws.core import codes
from gspws.core.admins import Actor
from gspws.errors import GspwsError
from gspws.store.admins import AdminQueries, admin_unit


def change(
    page: Page,
    console: Console,
    action: str,
    carry_out: Callable[[AdminQueries], object],
    service_id: str | None = None,
    account: str | None = None,
) -> str | None:
    """Carry the change out; None when done, else why not (a message for a person)."""
    return change_as(console, page.actor(action, service_id), carry_out, account)


def change_as(
    console: Console,
    actor: Actor,
    carry_out: Callable[[AdminQueries], object],
    account: str | None = None,
) -> str | None:
    """:func:`change` for work done after the request (an import in its thread): the actor is
    the one the request named."""
    try:
        with admin_unit(console.store) as repo:
            carry_out(repo)
            repo.audit(actor, account, codes.OK, console.clock(), 0.0)
    except (GspwsError, ValueError) as exc:
        console.admins.audit(actor, codes.REJECTED, account)
        return str(exc) or type(exc).__name__
    return None
