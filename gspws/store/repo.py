"""Queries and updates for the CLI and operations (services, accounts, tokens), next to the tables
they touch (no door writes SQL). Each core use case's statements live in a module of their own
(verification's, which every call runs, in :mod:`gspws.store.verification`; the binding page's
in :mod:`gspws.store.binding`; out-of-band codes, challenges, assertions, activations likewise);
:class:`Repository` inherits them all.
"""

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from secrets import randbelow
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from gspws.core import names
from gspws.core.access import ServiceProfile
from gspws.core.otp import TotpParams
from gspws.core.registry import ServiceRegistry
from gspws.errors import GspwsError
from gspws.store.activation import ActivationQueries
from gspws.store.assertion import AssertionQueries
from gspws.store.binding import BindingQueries
from gspws.store.challenges import ChallengeQueries
from gspws.store.db import READ_ONLY, opened_read_only, sqlite_begin, writer_turns
from gspws.store.models import (
    Account,
    RegistryState,
    Service,
    ServiceGrant,
    ServiceNetwork,
    Token,
    TokenStatus,
    TokenType,
)
from gspws.store.oob import OobQueries, OobStatements
from gspws.store.prepared import AutocommitRunner, CursorRunner, PreparedStatements, SessionRunner
from gspws.store.secrets import SecretBox
from gspws.store.verification import AutocommitQueries, VerifyQueries

Q = TypeVar("Q", bound=VerifyQueries)


class StoreError(GspwsError):
    """An operator-level error: unknown or duplicate object. The message is for a person."""


def new_serial() -> str:
    """A token serial number like hardware tokens carry: ``TOTP`` and ten random digits."""
    return f"TOTP{randbelow(10**10):010d}"


class Repository(
    VerifyQueries,
    OobQueries,
    ChallengeQueries,
    AssertionQueries,
    ActivationQueries,
    BindingQueries,
):
    """All store operations, bound to one session (one transaction)."""

    def __init__(self, session: Session, secrets: SecretBox) -> None:
        super().__init__(SessionRunner(session), secrets)
        self.session = session

    # -- the service registry (gspws.core.registry) ---------------------------------------------

    def service_profiles(self) -> dict[str, ServiceProfile]:
        return {s.service_id: _profile(s) for s in self.list_services()}

    def registry_version(self) -> int:
        return self.session.scalar(select(RegistryState.version).where(RegistryState.id == 1)) or 0

    # -- services -------------------------------------------------------------------------------

    def get_service(self, service_id: str) -> Service:
        service = self.session.scalar(select(Service).where(Service.service_id == service_id))
        if service is None:
            raise StoreError(f"no service {service_id}")
        return service

    def add_service(
        self, service_id: str, name: str, networks: list[str], functions: list[str]
    ) -> Service:
        service = Service(
            service_id=service_id,
            name=name,
            enabled=True,
            networks=[ServiceNetwork(cidr=c) for c in dict.fromkeys(networks)],
            grants=[ServiceGrant(function=f, suspended=False) for f in dict.fromkeys(functions)],
        )
        self.session.add(service)
        self._flush(f"service {service_id} already exists")
        self._services_changed()
        return service

    def list_services(self) -> list[Service]:
        return list(
            self.session.scalars(
                select(Service)
                .order_by(Service.service_id)
                .options(selectinload(Service.networks), selectinload(Service.grants))
            )
        )

    def grant(self, service_id: str, function: str) -> None:
        service = self.get_service(service_id)
        if any(g.function == function for g in service.grants):
            raise StoreError(f"{service_id} is already granted {function}")
        service.grants.append(ServiceGrant(function=function, suspended=False))
        self._services_changed()

    def revoke(self, service_id: str, function: str) -> None:
        service = self.get_service(service_id)
        service.grants.remove(self._grant(service, function))
        self._services_changed()

    def set_suspended(self, service_id: str, function: str, suspended: bool) -> None:
        self._grant(self.get_service(service_id), function).suspended = suspended
        self._services_changed()

    def set_enabled(self, service_id: str, enabled: bool) -> None:
        self.get_service(service_id).enabled = enabled
        self._services_changed()

    def rename_service(self, service_id: str, name: str) -> None:
        self.get_service(service_id).name = name
        self._services_changed()

    def set_networks(self, service_id: str, networks: list[str]) -> None:
        """Replace the allowed networks (CIDRs as gspws.core.access.network_list gives them)."""
        service = self.get_service(service_id)
        service.networks = [ServiceNetwork(cidr=c) for c in dict.fromkeys(networks)]
        self._flush(f"{service_id}: a network is listed twice")
        self._services_changed()

    def _services_changed(self) -> None:
        """Tell every worker's ServiceRegistry to reload (see gspws.core.registry)."""
        self.session.execute(
            update(RegistryState)
            .where(RegistryState.id == 1)
            .values(version=RegistryState.version + 1)
        )

    @staticmethod
    def _grant(service: Service, function: str) -> ServiceGrant:
        for grant in service.grants:
            if grant.function == function:
                return grant
        raise StoreError(f"{service.service_id} is not granted {function}")

    # -- accounts and tokens --------------------------------------------------------------------

    def get_account(self, account: str) -> Account:
        """The account ``account`` names in its canonical form (gspws.core.names)."""
        canonical = names.lookup(account)
        found = canonical and self.session.scalar(
            select(Account).where(Account.account == canonical)
        )
        if not found:
            raise StoreError(f"no account {account!r}")
        return found

    def add_account(
        self,
        account: str,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> Account:
        """An account under the canonical form of ``account``, with at most one e-mail address
        (gspws.core.names); StoreError when either is not acceptable or the account exists."""
        try:
            canonical = names.account_name(account)
            email = names.email_address(email) if email else None
        except ValueError as exc:
            raise StoreError(f"{account!r}: {exc}") from None
        row = Account(account=canonical, name=name, email=email, phone=phone)
        self.session.add(row)
        self._flush(f"account {canonical!r} already exists")
        return row

    def list_accounts(self) -> list[Account]:
        return list(
            self.session.scalars(
                select(Account).order_by(Account.account).options(selectinload(Account.tokens))
            )
        )

    def has_accounts(self) -> bool:
        return self.session.scalar(select(Account.id).limit(1)) is not None

    def add_token(
        self,
        account: Account | None,
        params: TotpParams,
        status: TokenStatus,
        device_name: str | None = None,
        serial: str | None = None,
        *,
        phone: str | None = None,
        expires_at: datetime | None = None,
        kind: TokenType = TokenType.TOTP,
        hardware: bool = False,
    ) -> Token:
        """A token; ``kind`` HOTP keeps its counter in ``last_step`` (``period`` unused)."""
        serial = serial or new_serial()
        token = Token(
            serial=serial,
            account=account,
            type=kind,
            hardware=hardware,
            algorithm=params.algorithm,
            digits=params.digits,
            period=params.period,
            secret=self.secrets.encrypt(params.secret),
            status=status,
            failures=0,
            device_name=device_name,
            phone=phone,
            expires_at=expires_at,
        )
        self.session.add(token)
        self._flush(f"token serial {serial} already exists")
        return token

    def get_token(self, serial: str) -> Token:
        token = self.session.scalar(select(Token).where(Token.serial == serial))
        if token is None:
            raise StoreError(f"no token {serial}")
        return token

    def list_tokens(self, account: str | None = None) -> list[Token]:
        query = select(Token).options(selectinload(Token.account)).order_by(Token.id)
        if account is not None:
            query = query.where(Token.account_id == self.get_account(account).id)
        return list(self.session.scalars(query))

    def unlock_serial(self, serial: str) -> None:
        """``gspws token unlock``: a locked token unlocked, its failures cleared; StoreError for
        any other (nothing to unlock)."""
        row = self.get_token(serial)
        if not self.unlock([row.id]):
            raise StoreError(f"token {serial} is {row.status.value}, not locked: nothing to unlock")

    def disable_serial(self, serial: str) -> None:
        """``gspws token disable``: the token's codes are no longer accepted."""
        self.get_token(serial).status = TokenStatus.DISABLED

    def locked_tokens(self) -> int:
        """How many tokens are locked (the metrics' gauge, read at each scrape)."""
        return self.session.execute(
            select(func.count()).select_from(Token).where(Token.status == TokenStatus.LOCKED)
        ).scalar_one()

    def _flush(self, duplicate_message: str) -> None:
        try:
            self.session.flush()
        except IntegrityError:
            raise StoreError(duplicate_message) from None


def _profile(service: Service) -> ServiceProfile:
    return ServiceProfile(
        service_id=service.service_id,
        enabled=service.enabled,
        networks=tuple(ipaddress.ip_network(n.cidr) for n in service.networks),
        grants={g.function: g.suspended for g in service.grants},
    )


class Store:
    """A session factory plus the secret box: hands out one :class:`Repository` per transaction."""

    def __init__(self, engine: Engine, secrets: SecretBox, verifying: Engine | None = None) -> None:
        """``verifying``: the engine of :meth:`verification` when it is another than ``engine``
        (gspws.store.db.verification_engine: autocommit)."""
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.secrets = secrets
        self._writer_turn = writer_turns(engine)
        self._prepared = PreparedStatements(engine.dialect)
        self._verifying = verifying if verifying is not engine else None

    @contextmanager
    def unit(self) -> Iterator[Repository]:
        with self._writer_turn(), self.sessions() as session, session.begin():
            yield Repository(session, self.secrets)

    @property
    def verifying(self) -> Engine:
        """The engine :meth:`verification` runs on: ``engine``, unless another was given."""
        return self._verifying or self.engine

    @property
    def locks_database(self) -> bool:
        """True when a writing transaction locks the whole database (SQLite)."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def verification(self, read_only: bool = False) -> Iterator[VerifyQueries]:
        """One transaction for a code check (VerifyTOTPCode, OTP.asmx's Auth, AuthToken, Sync,
        SyncToken), its statements prepared and sent on the DBAPI connection (gspws.store.prepared).
        ``read_only`` as in :meth:`reading`. With an autocommit ``verifying`` engine, each statement
        commits alone (AutocommitQueries)."""
        if self._verifying is not None:
            runner = AutocommitRunner(self._verifying, self._prepared)
            try:
                yield AutocommitQueries(runner, self.secrets)
            except BaseException as error:
                runner.close(error)
                raise
            runner.close()
            return
        with self._on_cursor(VerifyQueries, read_only) as queries:
            yield queries

    @contextmanager
    def oob(self, read_only: bool = False) -> Iterator[OobStatements]:
        """One transaction for a MobileOTP.asmx call (or the binding page's check of a new
        destination), its statements prepared and sent on the DBAPI cursor. ``read_only`` as in
        :meth:`reading`: VerifyOTPCode reads the pending code before its writing transaction."""
        with self._on_cursor(OobStatements, read_only) as queries:
            yield queries

    @contextmanager
    def _on_cursor(self, kind: type[Q], read_only: bool) -> Iterator[Q]:
        """``kind``'s statements in one transaction on a raw connection of the engine (SQLite:
        ``BEGIN IMMEDIATE`` after the writer's turn, unless ``read_only``)."""
        with nullcontext() if read_only else self._writer_turn():
            connection = self.engine.raw_connection()
            cursor = None
            try:
                cursor = connection.cursor()
                if self.locks_database and not read_only:  # a lone read commits by itself
                    cursor.execute(sqlite_begin(read_only=False))
                yield kind(CursorRunner(cursor, self._prepared), self.secrets)
                connection.commit()
            except BaseException as error:
                self._end_failed(connection, cursor, error)
                raise
            finally:
                if cursor is not None:
                    cursor.close()
                connection.close()

    def _end_failed(
        self, connection: PoolProxiedConnection, cursor: DBAPICursor | None, error: BaseException
    ) -> None:
        """Roll back; drop the connection instead of pooling it when it is unusable (lost, or
        opened read-only) or cannot even roll back."""
        dialect = self.engine.dialect
        try:
            connection.rollback()
        except dialect.loaded_dbapi.Error:
            connection.invalidate()
            return
        if isinstance(error, dialect.loaded_dbapi.Error) and (
            dialect.is_disconnect(error, connection.dbapi_connection, cursor)
            or opened_read_only(error)
        ):
            connection.invalidate()

    @contextmanager
    def reading(self) -> Iterator[Repository]:
        """A transaction that only reads: on SQLite it does not take the write lock."""
        with self.sessions() as session, session.begin():
            session.connection(execution_options={READ_ONLY: True})
            yield Repository(session, self.secrets)

    def service_registry(self, refresh: float) -> ServiceRegistry:
        def probe() -> int:
            with self.reading() as repo:
                return repo.registry_version()

        def load() -> dict[str, ServiceProfile]:
            with self.reading() as repo:
                return repo.service_profiles()

        return ServiceRegistry(probe, load, refresh)
