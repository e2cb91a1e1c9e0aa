"""The administrators' table (:class:`gspws.core.admins.AdminRepository`).

Every change that must happen once is one conditional UPDATE: a code's step is accepted only
above the last one (single use), an enrolment link is used only while unused and in time, a
failure locks only at the threshold.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from gspws.core.admins import AdminState
from gspws.store.models import Admin
from gspws.store.repo import Repository, Store
from gspws.store.verification import utc


class AdminQueries(Repository):
    """The store's operations plus the administrators': one transaction for a console action
    and its audit row."""

    def admin(self, name: str) -> AdminState | None:
        row = self.session.scalar(select(Admin).where(Admin.name == name))
        return self._state(row) if row else None

    def admin_by_link(self, token_hash: str) -> AdminState | None:
        row = self.session.scalar(select(Admin).where(Admin.enrol_hash == token_hash))
        return self._state(row) if row else None

    def list_admins(self) -> list[AdminState]:
        return [self._state(r) for r in self.session.scalars(select(Admin).order_by(Admin.name))]

    def add_admin(
        self, name: str, role: str, secret: str, token_hash: str, expires_at: float
    ) -> bool:
        try:
            with self.session.begin_nested():
                self.session.add(
                    Admin(
                        name=name,
                        role=role,
                        totp_secret=self.secrets.encrypt(secret),
                        enrol_hash=token_hash,
                        enrol_expires_at=utc(expires_at),
                        failures=0,
                        disabled=False,
                        enrolled=False,
                        session_epoch=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def reset_admin(self, name: str, secret: str, token_hash: str, expires_at: float) -> bool:
        return self._changed(
            update(Admin)
            .where(Admin.name == name)
            .values(
                password_hash=None,
                totp_secret=self.secrets.encrypt(secret),
                last_step=None,
                failures=0,
                locked_at=None,
                enrolled=False,
                enrol_hash=token_hash,
                enrol_expires_at=utc(expires_at),
                session_epoch=Admin.session_epoch + 1,
            )
        )

    def finish_enrolment(self, token_hash: str, password_hash: str, step: int, now: float) -> bool:
        return self._changed(
            update(Admin)
            .where(Admin.enrol_hash == token_hash, Admin.enrol_expires_at > utc(now))
            .values(
                password_hash=password_hash,
                last_step=step,
                enrolled=True,
                enrol_hash=None,
                enrol_expires_at=None,
                failures=0,
                locked_at=None,
            )
        )

    def accept_admin_step(self, admin_id: int, step: int, epoch: int) -> bool:
        """Only above the last accepted step, and only while the administrator is as the
        sign-in read them (``epoch``: no reset nor disable since; enrolled; not disabled)."""
        return self._changed(
            update(Admin)
            .where(
                Admin.id == admin_id,
                Admin.last_step.is_(None) | (Admin.last_step < step),
                Admin.session_epoch == epoch,
                Admin.enrolled.is_(True),
                Admin.disabled.is_(False),
            )
            .values(last_step=step)
        )

    def admin_failed(self, admin_id: int, threshold: int, now: float) -> None:
        self.session.execute(
            update(Admin).where(Admin.id == admin_id).values(failures=Admin.failures + 1)
        )
        self.session.execute(
            update(Admin)
            .where(Admin.id == admin_id, Admin.failures >= threshold)
            .values(locked_at=utc(now))
        )

    def admin_signed_in(self, admin_id: int) -> None:
        self.session.execute(
            update(Admin).where(Admin.id == admin_id).values(failures=0, locked_at=None)
        )

    def set_admin_disabled(self, name: str, disabled: bool) -> bool:
        return self._changed(
            update(Admin)
            .where(Admin.name == name)
            .values(disabled=disabled, session_epoch=Admin.session_epoch + 1)
        )

    def _changed(self, statement: Any) -> bool:
        return cast(CursorResult[Any], self.session.execute(statement)).rowcount == 1

    def _state(self, row: Admin) -> AdminState:
        return AdminState(
            id=row.id,
            name=row.name,
            role=row.role,
            password_hash=row.password_hash,
            totp_secret=self.secrets.decrypt(row.totp_secret) if row.totp_secret else None,
            last_step=row.last_step,
            failures=row.failures,
            locked_at=row.locked_at.timestamp() if row.locked_at else None,
            disabled=row.disabled,
            enrolled=row.enrolled,
            session_epoch=row.session_epoch,
            enrol_expires_at=row.enrol_expires_at.timestamp() if row.enrol_expires_at else None,
        )


@contextmanager
def admin_unit(store: Store) -> Iterator[AdminQueries]:
    """One transaction (as :meth:`Store.unit`) with the administrators' operations."""
    with store.unit() as repo:
        yield AdminQueries(repo.session, repo.secrets)


@contextmanager
def admin_reading(store: Store) -> Iterator[AdminQueries]:
    """A transaction that only reads (on SQLite it does not take the write lock)."""
    with store.reading() as repo:
        yield AdminQueries(repo.session, repo.secrets)
