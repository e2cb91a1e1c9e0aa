"""The tables. Changing them means a new Alembic revision in ``migrations/versions``.

Tokens are shaped for what comes after TOTP: several per account (devices), an optional account
(a serial can exist unbound), a ``type`` column, and per-token algorithm, digits and period.
"""

import enum
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class TokenStatus(str, enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"
    LOCKED = "locked"
    #: 掛失: reported lost; refused everywhere until ``gspws token found`` (or replaced).
    LOST = "lost"


class TokenType(str, enum.Enum):
    TOTP = "totp"
    HOTP = "hotp"
    OCRA = "ocra"


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # (typed FromClause by SQLAlchemy: every model here maps a Table)
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime}


class Service(Base):
    """An agency system allowed to call the web service, identified by its ServiceID."""

    __tablename__ = "services"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    networks: Mapped[list["ServiceNetwork"]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceNetwork.id"
    )
    grants: Mapped[list["ServiceGrant"]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceGrant.function"
    )


class RegistryState(Base):
    """One row whose ``version`` moves whenever any service, network or grant changes, so that
    workers caching the services know to reload them (see ``gspws.core.registry``)."""

    __tablename__ = "registry_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class ServiceNetwork(Base):
    """One allowed client network (an IPv4 or IPv6 CIDR) of a service."""

    __tablename__ = "service_networks"
    __table_args__ = (UniqueConstraint("service_pk", "cidr"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_pk: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    cidr: Mapped[str] = mapped_column(String(50))
    service: Mapped[Service] = relationship(back_populates="networks")


class ServiceGrant(Base):
    """A function (SOAP operation) a service may call; suspended grants answer 8109."""

    __tablename__ = "service_grants"
    __table_args__ = (UniqueConstraint("service_pk", "function"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_pk: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    function: Mapped[str] = mapped_column(String(100))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    service: Mapped[Service] = relationship(back_populates="grants")


class Account(Base):
    """A citizen's GSP account name, as agency systems send it in ``account``."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Binding-page sessions carry the epoch they began in; moving it on (sign-out, a new
    #: binding link) ends every earlier session of the account (see gspws.web.session).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Where one-time codes go (MobileOTP.asmx): a Taiwanese mobile number as ``09xxxxxxxx``.
    #: Set by an operator (verified) or by the person on the binding page (verified by a code).
    mobile: Mapped[str | None] = mapped_column(String(10), index=True)  # (the console's search)
    mobile_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    tokens: Mapped[list["Token"]] = relationship(back_populates="account", order_by="Token.id")


class Token(Base):
    """An OTP generator (a device). ``secret`` is Fernet ciphertext, never the base32 secret."""

    __tablename__ = "tokens"
    #: The dashboard's locked tokens, newest first: a partial index, only of the locked ones
    #: (the query must spell the same literal condition: gspws.store.dashboard.LOCKED).
    __table_args__ = (
        Index(
            "ix_tokens_locked",
            "locked_at",
            sqlite_where=text("status = 'locked'"),
            postgresql_where=text("status = 'locked'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[TokenType] = mapped_column(
        Enum(
            TokenType, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]
        ),
        default=TokenType.TOTP,
    )
    algorithm: Mapped[str] = mapped_column(String(10), default="SHA1")
    digits: Mapped[int] = mapped_column(Integer, default=6)
    period: Mapped[int] = mapped_column(Integer, default=30)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[TokenStatus] = mapped_column(
        Enum(
            TokenStatus,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=TokenStatus.PENDING,
    )
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    device_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A pending token's deadline for its first code (see gspws.core.enroll); None otherwise.
    expires_at: Mapped[datetime | None]
    #: ``last_step`` is the last accepted moving factor: the time-step of a TOTP token, the
    #: counter of an HOTP (or counter-based OCRA) one; the same conditional UPDATE makes either
    #: single use. ``drift`` is a TOTP token's measured clock offset in time-steps: the window
    #: is centred on it (moved by Sync).
    drift: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The RFC 6287 suite of an OCRA token, e.g. ``OCRA-1:HOTP-SHA1-6:QN08``.
    ocra_suite: Mapped[str | None] = mapped_column(String(64))
    #: An optional static PIN typed before the code (argon2id hash, never the PIN).
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    #: A token imported from a file (a hardware token, or a soft token from the pool) rather
    #: than bound through the binding page.
    hardware: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    account: Mapped[Account | None] = relationship(back_populates="tokens")


class OcraChallenge(Base):
    """A challenge gspws issued to an OCRA token (GetChallenge). Single use, by one conditional
    UPDATE of ``used_at``; nothing is accepted after ``expires_at`` (``GSPWS_CHALLENGE_TTL``).
    ``purpose`` is ``login``, or ``sign`` when the challenge was derived from a transaction's
    data so the token signs what the person sees."""

    __tablename__ = "ocra_challenges"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"), index=True)
    challenge: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(10), default="login")
    service_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class BindingLink(Base):
    """A single-use link to the binding page. Only the SHA-256 of its random token is kept, so
    the database neither reveals nor can forge a working link."""

    __tablename__ = "binding_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditEvent(Base):
    """One SOAP call (or an administrator's action: operation ``admin:NAME:Action``). Holds no
    code and no secret, by design. The console filters by ServiceID or account within a time
    range, newest first: hence the (column, at) indexes (operation and code: migration 0009, a
    filter that matches nothing would otherwise read the whole range)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_service_id_at", "service_id", "at"),
        Index("ix_audit_events_account_at", "account", "at"),
        Index("ix_audit_events_operation_at", "operation", "at"),
        Index("ix_audit_events_code_at", "code", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    service_id: Mapped[str | None] = mapped_column(String(32))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(64))
    account: Mapped[str | None] = mapped_column(String(128))
    code: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)


class OtpCode(Base):
    """A one-time code sent out of band (SMS or e-mail). Only a keyed HMAC-SHA256 of the code is
    kept, so the database alone neither reveals a pending code nor lets one be checked offline.

    ``purpose`` is ``login`` (MobileOTP.asmx SendOTPCode) or ``verify_mobile``/``verify_email``
    (the binding page's check of a new destination). A code is used, or superseded by a newer
    send, by one conditional UPDATE each (gspws.store.oob)."""

    __tablename__ = "otp_codes"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    destination: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A message waiting for (or done with) delivery. It is written in the same transaction as
    the code it carries (the outbox pattern), so a code is never stored without its message nor
    a message sent for a code that was rolled back. ``body_encrypted`` is Fernet ciphertext (the
    text holds the code); ``last_error`` never holds it. ``claimed_until`` is a sender's lease:
    several senders claim a row with one conditional UPDATE. Nothing is delivered after
    ``not_after`` (the code's expiry)."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    destination: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_after: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    gateway_ref: Mapped[str | None] = mapped_column(String(100))


class Assertion(Base):
    """A QR-scan sign-in (OTP.asmx GetAssertionId/GetAssertion, gspws.core.assertion). Only
    SHA-256 hashes of its two random handles are kept: ``id_hash`` of the AssertionId the agency
    polls with, ``approval_hash`` of the token in the QR's approval URL. ``status`` moves
    pending → proven (the account and a current code were shown on the phone) → approved or
    denied, each step one conditional UPDATE; ``used_at`` is set once, by the GetAssertion that
    hands the approved account over. ``number`` is the 2-digit number shown beside the QR;
    ``choices`` the three numbers the phone offers (one of them ``number``)."""

    __tablename__ = "assertions"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    approval_hash: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(2))
    choices: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    account: Mapped[str | None] = mapped_column(String(128))
    approver_hash: Mapped[str | None] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class ActivationCode(Base):
    """An offline distribution of a token (``gspws token distribute --offline``): the person
    types the token's serial, the activation code and the activation password on
    ``/owin/activate`` and sees the token's key once. ``code_hash`` is a keyed HMAC-SHA256 (the
    code is random and long); ``password_hash`` argon2id (a policy's default password may be
    short). ``failures`` wrong tries up to ``GSPWS_ACTIVATION_RETRIES`` void it; ``used_at`` is
    set once, by one conditional UPDATE."""

    __tablename__ = "activation_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[datetime | None]


class Admin(Base):
    """An administrator of the operator console (gspws.core.admins). ``password_hash`` is
    argon2id; ``totp_secret`` Fernet ciphertext like a token's; ``last_step`` the last accepted
    step of their authenticator (single use). Only the SHA-256 of an enrolment link is kept."""

    __tablename__ = "admins"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    enrolled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enrol_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrol_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditRolledPeriod(Base):
    """A 10-minute period of ``audit_events`` the dashboard has summarised (gspws.store.dashboard):
    its rows in the three tables below were written in the same transaction as this one, so a
    period is counted once, whoever rolled it up. ``period`` is its start in Unix seconds."""

    __tablename__ = "audit_rolled_periods"
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditCallsByCode(Base):
    """Calls per rolled-up period and return code (the dashboard's charts)."""

    __tablename__ = "audit_calls_by_code"
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(BigInteger)


class AuditCallsByService(Base):
    """Calls and failures per rolled-up period and ServiceID ("" when none was sent)."""

    __tablename__ = "audit_calls_by_service"
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    service_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(BigInteger)


class AuditLatency(Base):
    """Calls per rolled-up period and latency bucket (gspws.core.dashboard.LATENCY_BOUNDS)."""

    __tablename__ = "audit_latency"
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(BigInteger)
