"""QR-scan sign-ins (gspws.core.assertion): the statements, next to the table they touch.

Every change of an assertion's status is one conditional UPDATE whose WHERE clause is the rule
(``status = 'pending' AND expires_at > now`` …): of two racing steps (two phones, two polls)
exactly one sees ``rowcount == 1``, on SQLite (writers take turns) and on PostgreSQL (the WHERE
clause is re-checked after the row lock under READ COMMITTED).
"""

from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, delete, insert, select, update
from sqlalchemy.orm import Session

from gspws.core.assertion import APPROVED, DENIED, PENDING, PROVEN, AssertionState, NewAssertion
from gspws.store.models import Assertion
from gspws.store.verification import utc

#: Seconds an expired sign-in is kept (a late GetAssertion still learns it expired).
_KEEP = 3600


def changed(session: Session, statement: Update) -> bool:
    """Run a conditional UPDATE of one row: whether it matched."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount == 1


class AssertionQueries:
    """The statements of gspws.core.assertion's AssertionRepository (mixed into the Repository)."""

    session: Session

    def add_assertion(self, assertion: NewAssertion) -> None:
        """Also deletes sign-ins that expired over an hour ago: nothing reads them any more (the
        audit rows keep what happened), so the table stays as small as the live ones."""
        now = assertion.created_at
        self.session.execute(delete(Assertion).where(Assertion.expires_at < utc(now - _KEEP)))
        self.session.execute(
            insert(Assertion).values(
                id_hash=assertion.id_hash,
                approval_hash=assertion.approval_hash,
                service_id=assertion.service_id,
                number=assertion.number,
                choices=" ".join(assertion.choices),
                status=PENDING,
                failures=0,
                created_at=utc(now),
                expires_at=utc(assertion.expires_at),
            )
        )

    def assertion(
        self, id_hash: str | None = None, approval_hash: str | None = None
    ) -> AssertionState | None:
        """The assertion of an AssertionId's hash, or of an approval token's."""
        which: ColumnElement[bool] = (
            Assertion.id_hash == id_hash
            if id_hash is not None
            else Assertion.approval_hash == approval_hash
        )
        row = self.session.scalars(select(Assertion).where(which)).first()
        if row is None:
            return None
        return AssertionState(
            row.id,
            row.service_id,
            row.number,
            tuple(row.choices.split()),
            row.status,
            row.account,
            row.approver_hash,
            row.failures,
            row.expires_at.timestamp(),
            row.used_at is not None,
        )

    def prove_assertion(self, row_id: int, account: str, approver_hash: str, now: float) -> bool:
        return changed(
            self.session,
            update(Assertion)
            .where(
                Assertion.id == row_id,
                Assertion.status == PENDING,
                Assertion.expires_at > utc(now),
            )
            .values(status=PROVEN, account=account, approver_hash=approver_hash),
        )

    def fail_assertion(self, row_id: int, threshold: int, now: float) -> None:
        pending = (Assertion.id == row_id) & (Assertion.status == PENDING)
        self.session.execute(
            update(Assertion).where(pending).values(failures=Assertion.failures + 1)
        )
        self.session.execute(
            update(Assertion)
            .where(pending, Assertion.failures >= threshold)
            .values(status=DENIED, decided_at=utc(now))
        )

    def decide_assertion(
        self, row_id: int, approved: bool, now: float, collect_until: float
    ) -> bool:
        values: dict[str, object] = {"status": APPROVED if approved else DENIED}
        if approved:
            values["expires_at"] = utc(collect_until)
        return changed(
            self.session,
            update(Assertion)
            .where(
                Assertion.id == row_id,
                Assertion.status == PROVEN,
                Assertion.expires_at > utc(now),
            )
            .values(decided_at=utc(now), **values),
        )

    def use_assertion(self, row_id: int, now: float) -> bool:
        return changed(
            self.session,
            update(Assertion)
            .where(
                Assertion.id == row_id,
                Assertion.status == APPROVED,
                Assertion.used_at.is_(None),
                Assertion.expires_at > utc(now),
            )
            .values(used_at=utc(now)),
        )
