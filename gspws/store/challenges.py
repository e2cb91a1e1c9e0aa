"""OCRA tokens and the challenges issued to them (gspws.core.challenge): the statements, next to
the tables they touch, mixed into the Repository.

An OCRA token's key is stored as every token secret is: base32, Fernet-encrypted in
``tokens.secret`` (so ``gspws keys rotate`` covers it). When the token's suite has a PIN input
(``P``), the PIN's digest under the suite's hash travels in the same encrypted text, after the
key: ``<base32 key>;pin=<hex digest>`` (:func:`join_secret`), because the HMAC needs the digest
itself and ``tokens.pin_hash`` (argon2id) cannot give it back. The PIN is provisioned with the
token (:meth:`ChallengeQueries.set_ocra_pin`); it never leaves the store but inside the HMAC.
"""

import base64
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gspws.core import ocra
from gspws.core.challenge import SIGN, IssuedChallenge, NewChallenge, OcraToken
from gspws.core.otp import TotpParams
from gspws.core.verify import TokenState
from gspws.store.models import Account, OcraChallenge, Token, TokenStatus, TokenType, UTCDateTime
from gspws.store.secrets import SecretBox
from gspws.store.verification import IN_USE, utc

_PIN_FIELD = ";pin="


def split_secret(text: str) -> tuple[str, bytes | None]:
    """``(base32 key, PIN digest or None)`` of an OCRA token's decrypted secret."""
    key, _, pin = text.partition(_PIN_FIELD)
    return key, bytes.fromhex(pin) if pin else None


def join_secret(key: str, pin: bytes | None) -> str:
    return f"{key}{_PIN_FIELD}{pin.hex()}" if pin else key


def key_bytes(base32_key: str) -> bytes:
    """The HMAC key of a base32 secret (padding optional, case ignored)."""
    text = base32_key.strip().upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


_TOKENS = Token.__table__.c
_ACCOUNTS = Account.__table__.c
_CHALLENGES = OcraChallenge.__table__
_C = _CHALLENGES.c

# Built once at import (as gspws.store.verification's): building a statement per call cost more
# than running it. None of them has a literal that changes between calls.
_OCRA_TOKEN = (
    select(
        _TOKENS.id,
        _TOKENS.serial,
        _TOKENS.secret,
        _TOKENS.ocra_suite,
        _TOKENS.status,
        _TOKENS.locked_at,
        _TOKENS.last_step,
        _TOKENS.failures,
        _TOKENS.digits,
        _ACCOUNTS.account,
    )
    .select_from(Token.__table__.outerjoin(Account.__table__, _ACCOUNTS.id == _TOKENS.account_id))
    .where(
        _TOKENS.serial == bindparam("serial"),
        _TOKENS.type == TokenType.OCRA,
        _TOKENS.ocra_suite.is_not(None),
    )
)
_OCRA_TOKEN_LOCKED = _OCRA_TOKEN.with_for_update(of=Token.__table__)  # (not the account row)
_ISSUE = insert(_CHALLENGES)
_KNOWN = (
    select(_C.id)
    .where(_C.token_id == bindparam("token_id"), _C.challenge == bindparam("challenge"))
    .limit(1)
)
_SIGN_ISSUED = (
    select(func.count())
    .select_from(_CHALLENGES)
    .where(_C.token_id == bindparam("token_id"), _C.purpose == SIGN)
)


def _issued(for_service: ColumnElement[bool]) -> Select[Any]:
    """The newest challenge of that text for the token and the service, unused ones first."""
    return (
        select(_C.id, _C.expires_at, _C.used_at)
        .where(
            _C.token_id == bindparam("token_id"),
            _C.challenge == bindparam("challenge"),
            for_service,
        )
        .order_by(_C.used_at.is_not(None), _C.id.desc())
        .limit(1)
    )


_ISSUED = _issued(_C.service_id == bindparam("service_id"))
_ISSUED_NO_SERVICE = _issued(_C.service_id.is_(None))
_USE = (
    update(_CHALLENGES)
    .where(
        _C.id == bindparam("challenge_id"),
        _C.used_at.is_(None),
        _C.expires_at > bindparam("now", type_=UTCDateTime),
    )
    .values(used_at=bindparam("now", type_=UTCDateTime))
)


class ChallengeQueries:
    """The statements of gspws.core.challenge's ChallengeRepository."""

    session: Session
    secrets: SecretBox

    def ocra_token(self, serial: str, lock: bool = False) -> OcraToken | None:
        statement = _OCRA_TOKEN_LOCKED if lock else _OCRA_TOKEN
        row = self.session.execute(statement, {"serial": serial}).first()
        if row is None:
            return None
        key, pin = split_secret(self.secrets.decrypt(row.secret))
        state = TokenState(
            id=row.id,
            # (the TOTP parameters mean nothing for OCRA: the suite decides)
            params=TotpParams(key, digits=row.digits),
            locked=row.status is TokenStatus.LOCKED,
            locked_at=row.locked_at.timestamp() if row.locked_at else None,
            last_step=row.last_step,
            failures=row.failures,
            serial=row.serial,
            account=row.account,
            in_use=row.status in IN_USE,
        )
        return OcraToken(state, row.ocra_suite, key_bytes(key), pin)

    def issue_challenge(self, issued: NewChallenge) -> None:
        self.session.execute(
            _ISSUE,
            {
                "token_id": issued.token_id,
                "challenge": issued.challenge,
                "purpose": issued.purpose,
                "service_id": issued.service_id,
                "created_at": utc(issued.created_at),
                "expires_at": utc(issued.expires_at),
            },
        )

    def sign_challenges_issued(self, token_id: int) -> int:
        return int(self.session.execute(_SIGN_ISSUED, {"token_id": token_id}).scalar_one())

    def challenge_known(self, token_id: int, challenge: str) -> bool:
        params = {"token_id": token_id, "challenge": challenge}
        return self.session.execute(_KNOWN, params).first() is not None

    def issued_challenge(
        self, token_id: int, challenge: str, service_id: str | None
    ) -> IssuedChallenge | None:
        params: dict[str, object] = {"token_id": token_id, "challenge": challenge}
        if service_id is None:
            row = self.session.execute(_ISSUED_NO_SERVICE, params).first()
        else:
            row = self.session.execute(_ISSUED, {**params, "service_id": service_id}).first()
        if row is None:
            return None
        return IssuedChallenge(row.id, row.expires_at.timestamp(), row.used_at is not None)

    def use_challenge(self, challenge_id: int, now: float) -> bool:
        """One conditional UPDATE: of racing callers exactly one sees a row changed (SQLite
        serialises writers; PostgreSQL re-checks the WHERE clause after the row lock)."""
        result = self.session.execute(_USE, {"challenge_id": challenge_id, "now": utc(now)})
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # -- provisioning (the CLI, token import, tests) -------------------------------------------

    def add_ocra_token(
        self,
        serial: str,
        suite: str,
        key: bytes,
        *,
        pin: str | None = None,
        account_id: int | None = None,
        status: TokenStatus = TokenStatus.ACTIVE,
    ) -> int:
        """An OCRA token (its suite checked, its PIN digest kept with the key); its id."""
        parsed = ocra.parse_suite(suite)
        secret = base64.b32encode(key).decode("ascii").rstrip("=")
        digest = ocra.pin_digest(parsed, pin) if pin is not None else None
        values = dict(
            serial=serial,
            account_id=account_id,
            type=TokenType.OCRA,
            algorithm=parsed.hash,
            digits=parsed.digits,
            period=parsed.time_step or 30,
            secret=self.secrets.encrypt(join_secret(secret, digest)),
            status=status,
            failures=0,
            ocra_suite=suite,
            hardware=True,
        )
        return self.session.execute(insert(Token).values(**values).returning(Token.id)).scalar_one()

    def set_ocra_pin(self, serial: str, pin: str | None) -> bool:
        """Provision (or, with None, remove) the PIN of OCRA token ``serial``: its digest under
        the suite's hash, kept with the key (nothing when the suite takes no PIN); False when
        there is no such token."""
        row = self.session.execute(
            select(Token.id, Token.secret, Token.ocra_suite).where(
                Token.serial == serial, Token.type == TokenType.OCRA
            )
        ).first()
        if row is None or row.ocra_suite is None:
            return False
        try:
            suite = ocra.parse_suite(row.ocra_suite)
        except ValueError:  # (an imported suite gspws cannot serve: GetChallenge answers 9999)
            return False
        key, _ = split_secret(self.secrets.decrypt(row.secret))
        digest = ocra.pin_digest(suite, pin) if pin and suite.pin else None
        self.session.execute(
            update(Token)
            .where(Token.id == row.id)
            .values(secret=self.secrets.encrypt(join_secret(key, digest)))
        )
        return True
