"""What the user portal's self-service (gspws.core.portal) asks of the store.

Each change is one of the pool's conditional UPDATEs (gspws.store.pool: assign, report_lost,
found), restricted to the person's own tokens; a refusal (the UPDATE changed nothing) is False
here, and the core words it for the person without saying which rule refused.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import ColumnElement, select

from gspws.core.enroll import Device
from gspws.core.otp import TotpParams
from gspws.store import pool
from gspws.store.models import Token, TokenStatus, TokenType
from gspws.store.repo import Repository, Store, StoreError
from gspws.store.verification import IN_USE

#: Soft pool tokens tried per request: another request may take each first.
_TRIES = 5


class PortalQueries(Repository):
    """The store's operations plus the portal's, in one transaction."""

    def assign_pool_token(self, serial: str, account: str) -> bool:
        """The hardware pool token ``serial``, in use, now ``account``'s."""
        return _done(lambda: pool.assign(self, serial, account, in_use=True))

    def report_device_lost(self, account_id: int, serial: str) -> bool:
        return _done(lambda: pool.report_lost(self, serial, owner=account_id))

    def report_device_found(self, account_id: int, serial: str) -> bool:
        return _done(lambda: pool.found(self, serial, owner=account_id))

    def lost_devices(self, account_id: int) -> list[Device]:
        """The account's tokens reported lost (掛失), to be found again."""
        return self._devices(account_id, Token.status == TokenStatus.LOST)

    def event_devices(self, account_id: int) -> list[Device]:
        """The account's event (HOTP) tokens in use, which the binding page's list (time-based
        devices) does not show."""
        return self._devices(account_id, Token.status.in_(IN_USE) & (Token.type == TokenType.HOTP))

    def _devices(self, account_id: int, which: ColumnElement[bool]) -> list[Device]:
        rows = self.session.scalars(
            select(Token).where(Token.account_id == account_id, which).order_by(Token.id)
        )
        return [
            Device(
                t.serial,
                t.device_name,
                t.phone,
                t.period,
                t.status is TokenStatus.LOCKED,
                0,
                t.hardware,
            )
            for t in rows
        ]

    def take_soft_token(self, account: str) -> tuple[str, TotpParams] | None:
        """A soft pool token (unassigned, not hardware, active TOTP) now ``account``'s; None
        when the pool has none."""
        for _ in range(_TRIES):
            serials = list(
                self.session.scalars(
                    select(Token.serial)
                    .where(
                        Token.account_id.is_(None),
                        Token.hardware.is_(False),
                        Token.type == TokenType.TOTP,
                        Token.status == TokenStatus.ACTIVE,
                    )
                    .order_by(Token.id)
                    .limit(_TRIES)
                )
            )
            if not serials:
                return None
            for serial in serials:
                if _done(partial(pool.assign, self, serial, account, hardware=False, in_use=True)):
                    token = self.get_token(serial)
                    return serial, self.token_params(token)
        return None


def _done(change: Callable[[], None]) -> bool:
    try:
        change()
    except StoreError:
        return False
    return True


@contextmanager
def portal_unit(store: Store) -> Iterator[PortalQueries]:
    """One transaction (as :meth:`Store.unit`) with the portal's operations."""
    with store.unit() as repo:
        yield PortalQueries(repo.session, repo.secrets)
