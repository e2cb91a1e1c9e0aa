"""Offline distributions (gspws.core.activation): the statements, next to the tables they touch.

Using an activation is one conditional UPDATE (unused, in time, under the retries): of two
racing activations exactly one sees ``rowcount == 1``; a wrong try is counted in the statement
itself (``failures = failures + 1``), so concurrent wrong tries are all counted.
"""

from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Row, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from gspws.core.activation import ActivationState, NewActivation, PoolToken
from gspws.core.otp import TotpParams
from gspws.store.assertion import changed
from gspws.store.models import Account, ActivationCode, Token, TokenStatus, TokenType
from gspws.store.secrets import SecretBox
from gspws.store.verification import utc

_HKDF_INFO = b"gspws activation codes v1"

#: A token waiting for its offline activation (the binding page leaves these alone).
DISTRIBUTED = exists().where(ActivationCode.token_id == Token.id, ActivationCode.used_at.is_(None))


def activation_key(encryption_key: bytes) -> bytes:
    """The key activation codes are hashed with: HKDF-SHA256 from the store's first key, under
    its own label (as gspws.store.oob.code_key)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        encryption_key
    )


class ActivationQueries:
    """The statements of gspws.core.activation's ActivationRepository (mixed into Repository)."""

    session: Session
    secrets: SecretBox

    if TYPE_CHECKING:  # VerifyQueries' (the Repository has both)

        def token_params(self, token: Token | Row[Any]) -> TotpParams: ...

    def pool_token(self, serial: str) -> PoolToken | None:
        row = self.session.execute(
            select(
                Token.id,
                Token.serial,
                Token.account_id,
                Token.status,
                Token.type,
                DISTRIBUTED.label("distributed"),
            ).where(Token.serial == serial)
        ).first()
        if row is None:
            return None
        return PoolToken(
            row.id,
            row.serial,
            row.account_id,
            TokenStatus(row.status).value,
            TokenType(row.type).value,
            bool(row.distributed),
        )

    def add_distributed_token(self, account_id: int, params: TotpParams) -> PoolToken:
        from gspws.store.repo import new_serial  # (repo imports this module)

        token = Token(
            serial=new_serial(),
            account_id=account_id,
            type=TokenType.TOTP,
            algorithm=params.algorithm,
            digits=params.digits,
            period=params.period,
            secret=self.secrets.encrypt(params.secret),
            status=TokenStatus.PENDING,
            failures=0,
        )
        self.session.add(token)
        self.session.flush()
        return PoolToken(token.id, token.serial, account_id, "pending", "totp", False)

    def drop_distributions(self, account_id: int) -> None:
        self.session.execute(
            delete(Token).where(
                Token.account_id == account_id, Token.status == TokenStatus.PENDING, DISTRIBUTED
            )
        )

    def set_activation(self, activation: NewActivation) -> None:
        token_id = activation.token_id
        self.session.execute(delete(ActivationCode).where(ActivationCode.token_id == token_id))
        self.session.execute(
            insert(ActivationCode).values(
                token_id=token_id,
                code_hash=activation.code_hash,
                password_hash=activation.password_hash,
                created_at=utc(activation.created_at),
                expires_at=utc(activation.expires_at),
                failures=0,
            )
        )
        values: dict[str, object] = {"status": TokenStatus.PENDING}
        if activation.account_id is not None:
            values["account_id"] = activation.account_id
        self.session.execute(update(Token).where(Token.id == token_id).values(**values))

    def activation(self, serial: str) -> ActivationState | None:
        row = self.session.execute(
            select(ActivationCode, Token, Account.account)
            .join(Token, Token.id == ActivationCode.token_id)
            .outerjoin(Account, Account.id == Token.account_id)
            .where(Token.serial == serial)
        ).first()
        if row is None:
            return None
        code, token, account = row
        return ActivationState(
            code.id,
            token.id,
            token.serial,
            account,
            code.code_hash,
            code.password_hash,
            code.expires_at.timestamp(),
            code.failures,
            code.used_at is not None,
            self.token_params(token),
        )

    def fail_activation(self, activation_id: int) -> None:
        self.session.execute(
            update(ActivationCode)
            .where(ActivationCode.id == activation_id)
            .values(failures=ActivationCode.failures + 1)
        )

    def use_activation(self, activation_id: int, now: float, retries: int) -> bool:
        used = changed(
            self.session,
            update(ActivationCode)
            .where(
                ActivationCode.id == activation_id,
                ActivationCode.used_at.is_(None),
                ActivationCode.expires_at > utc(now),
                ActivationCode.failures < retries,
            )
            .values(used_at=utc(now)),
        )
        if used:
            token_id = select(ActivationCode.token_id).where(ActivationCode.id == activation_id)
            self.session.execute(
                update(Token)
                .where(Token.id == token_id.scalar_subquery(), Token.status == TokenStatus.PENDING)
                .values(status=TokenStatus.ACTIVE, failures=0, last_step=None)
            )
        return used
