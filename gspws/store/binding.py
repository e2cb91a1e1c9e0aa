"""The binding page's statements (gspws.core.enroll's EnrollRepository), next to the tables
they touch: an account's devices, its one pending authenticator, its binding links and its
sessions' epoch. Every step that must happen once (activating a pending token, redeeming a
link, ending sessions from an epoch) is one conditional UPDATE.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from gspws.core.enroll import Device, Link, NewPending, PendingToken
from gspws.core.otp import TotpParams
from gspws.store.activation import DISTRIBUTED
from gspws.store.assertion import changed
from gspws.store.models import Account, BindingLink, Token, TokenStatus, TokenType
from gspws.store.verification import IN_USE, utc

_IN_USE = Token.status.in_(IN_USE)


class BindingQueries:
    """The statements of gspws.core.enroll's EnrollRepository (mixed into the Repository)."""

    session: Session

    if TYPE_CHECKING:  # VerifyQueries' (the Repository has both)

        def token_params(self, token: Token | Row[Any]) -> TotpParams: ...

        add_token: Callable[..., Token]  # the Repository's own

    def account_id(self, account: str) -> int | None:
        return self.session.scalar(select(Account.id).where(Account.account == account))

    def devices(self, account_id: int) -> list[Device]:
        rows = self.session.execute(
            select(
                Token.serial,
                Token.device_name,
                Token.phone,
                Token.period,
                Token.status,
                Token.drift,
                Token.hardware,
            )
            .where(Token.account_id == account_id, Token.type == TokenType.TOTP, _IN_USE)
            .order_by(Token.id)
        )
        return [
            Device(
                r.serial,
                r.device_name,
                r.phone,
                r.period,
                r.status is TokenStatus.LOCKED,
                r.drift * r.period,
                r.hardware,
            )
            for r in rows
        ]

    def pending_token(self, account_id: int) -> PendingToken | None:
        token = self.session.scalars(
            select(Token)
            .where(
                Token.account_id == account_id, Token.status == TokenStatus.PENDING, ~DISTRIBUTED
            )
            .order_by(Token.id.desc())
            .limit(1)
        ).first()
        if token is None:
            return None
        expires_at = token.expires_at.timestamp() if token.expires_at else 0.0
        return PendingToken(
            token.id,
            token.serial,
            token.device_name,
            token.phone,
            self.token_params(token),
            expires_at,
        )

    def add_pending(self, pending: NewPending) -> PendingToken:
        account = self.session.get(Account, pending.account_id)
        params, name, phone = pending.params, pending.name, pending.phone
        expires_at = pending.expires_at
        token = self.add_token(
            account, params, TokenStatus.PENDING, name, phone=phone, expires_at=utc(expires_at)
        )
        return PendingToken(token.id, token.serial, name, phone, params, expires_at)

    def drop_pending(self, account_id: int) -> None:
        self.session.execute(
            delete(Token).where(
                Token.account_id == account_id, Token.status == TokenStatus.PENDING, ~DISTRIBUTED
            )
        )

    def activate(self, token_id: int, step: int, now: float, drift: int = 0) -> bool:
        """Pending → active with ``step`` accepted and the clock ``drift`` its first code showed,
        only while the token is pending and in time."""
        return changed(
            self.session,
            update(Token)
            .where(
                Token.id == token_id,
                Token.status == TokenStatus.PENDING,
                Token.expires_at > utc(now),
            )
            .values(
                status=TokenStatus.ACTIVE, last_step=step, failures=0, expires_at=None, drift=drift
            ),
        )

    def fail_pending(self, token_id: int, threshold: int) -> None:
        """Count a wrong confirmation; the ``threshold``-th discards the pending token."""
        pending = (Token.id == token_id) & (Token.status == TokenStatus.PENDING)
        self.session.execute(update(Token).where(pending).values(failures=Token.failures + 1))
        self.session.execute(delete(Token).where(pending, Token.failures >= threshold))

    def disable_token(self, token_id: int) -> None:
        self.session.execute(
            update(Token).where(Token.id == token_id).values(status=TokenStatus.DISABLED)
        )

    def add_link(self, account_id: int, token_hash: str, expires_at: float) -> None:
        self.session.execute(
            insert(BindingLink).values(
                account_id=account_id, token_hash=token_hash, expires_at=utc(expires_at)
            )
        )

    def drop_links(self, account_id: int, only_spent: bool, now: float) -> None:
        """Delete the account's used and expired links, or (``only_spent=False``) all of them."""
        query = delete(BindingLink).where(BindingLink.account_id == account_id)
        if only_spent:
            query = query.where(
                BindingLink.used_at.is_not(None) | (BindingLink.expires_at <= utc(now))
            )
        self.session.execute(query)

    def link(self, token_hash: str) -> Link | None:
        row = self.session.execute(
            select(Account.account, BindingLink.expires_at, BindingLink.used_at)
            .join(Account, Account.id == BindingLink.account_id)
            .where(BindingLink.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return Link(row.account, row.expires_at.timestamp(), row.used_at is not None)

    def session_epoch(self, account: str) -> int | None:
        return self.session.scalar(select(Account.session_epoch).where(Account.account == account))

    def end_sessions(self, account_id: int, epoch: int | None = None) -> None:
        """Move the account's session epoch on (only from ``epoch``, when given): one
        conditional UPDATE, so a stale sign-out cannot end a newer session."""
        query = update(Account).where(Account.id == account_id)
        if epoch is not None:
            query = query.where(Account.session_epoch == epoch)
        self.session.execute(query.values(session_epoch=Account.session_epoch + 1))

    def redeem_link(self, token_hash: str, now: float) -> bool:
        """Use the link up: one conditional UPDATE, so of racing redemptions exactly one wins."""
        return changed(
            self.session,
            update(BindingLink)
            .where(
                BindingLink.token_hash == token_hash,
                BindingLink.used_at.is_(None),
                BindingLink.expires_at > utc(now),
            )
            .values(used_at=utc(now)),
        )
