"""Running a verification's statements: through SQLAlchemy, or compiled once and sent as they are.

:class:`gspws.store.verification.VerifyQueries` hands its Core statements to a *runner*. Two exist:

* :class:`SessionRunner`, for the CLI and the binding operations: the statements run on the ORM
  session's connection, inside whatever else that transaction does;
* :class:`CursorRunner`, for VerifyTOTPCode, which every login calls: SQLAlchemy compiles each
  statement once for the database in use (:class:`Prepared`: the SQL text, the order of its
  parameters, and each parameter's and column's type conversion, all from SQLAlchemy), and each
  call only converts the values and sends the SQL on the DBAPI cursor. SQLAlchemy's per-statement
  machinery (execution context, parameter processing, result objects, events) cost about 50 µs a
  statement, against 3 µs for SQLite to run one; a verification runs four to six.
"""

import logging
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

Statement = Select[Any] | UpdateBase
"""What runs here: a SELECT, or an INSERT, UPDATE or DELETE."""

log = logging.getLogger(__name__)

Params = dict[str, Any] | list[dict[str, Any]]
"""One set of values, or a list of them (run once per item, as ``executemany``)."""


class StatementRunner(Protocol):
    def rows(self, statement: Statement, params: dict[str, Any]) -> Sequence[Any]:
        """The result rows, with attribute access by column name."""

    def count(self, statement: Statement, params: Params) -> int:
        """Runs an UPDATE/INSERT; the number of rows it changed."""


class SessionRunner:
    """Statements on an ORM session's connection, after flushing what the session holds."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def rows(self, statement: Statement, params: dict[str, Any]) -> Sequence[Any]:
        return self._connection().execute(statement, params).all()

    def count(self, statement: Statement, params: Params) -> int:
        return self._connection().execute(statement, params).rowcount

    def _connection(self) -> Connection:
        self._session.flush()
        return self._session.connection()


def _same(value: Any) -> Any:
    """The conversion of a type that needs none."""
    return value


class Prepared:
    """One Core statement, compiled for one dialect.

    Only plain bound parameters are supported: SQLAlchemy renders an expanding ``IN`` per call,
    so statements use ``OR`` or run once per value instead (a compile-time error says so).
    """

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        if any(bind.expanding or bind.literal_execute for bind in binds.values()):
            raise ValueError(f"cannot prepare a statement with an expanding parameter: {compiled}")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults are computed by SQLAlchemy's execution, skipped here.
            raise ValueError(
                f"cannot prepare a statement that relies on column defaults: {compiled}"
            )
        self.sql = compiled.string
        convert = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) or _same
            for name, bind in binds.items()
        }
        # Values written into the statement (``status == 'active'``) are parameters too,
        # converted here once; the per-call values are converted in parameters().
        self._constants = {
            name: convert[name](bind.effective_value)
            for name, bind in binds.items()
            if not bind.required
        }
        self._convert = {name: convert[name] for name, bind in binds.items() if bind.required}
        self._order = compiled.positiontup  # positional paramstyles (SQLite); None for named
        columns = getattr(statement, "selected_columns", None)
        if columns is not None:
            # the column names are known at run time only, which mypy's namedtuple cannot type
            self._row: Callable[..., Any] = namedtuple(  # type: ignore[misc]
                "Row", [column.key for column in columns]
            )
            self._result = [
                column.type.dialect_impl(dialect).result_processor(dialect, None) or _same
                for column in columns
            ]

    def parameters(self, values: dict[str, Any]) -> dict[str, Any] | list[Any]:
        """``values`` (by parameter name), converted and arranged as the DBAPI wants them."""
        converted = {
            **self._constants,
            **{name: convert(values[name]) for name, convert in self._convert.items()},
        }
        if self._order is None:
            return converted
        return [converted[name] for name in self._order]

    def rows(self, fetched: Iterable[Sequence[Any]]) -> list[Any]:
        return [
            self._row(*(convert(value) for convert, value in zip(self._result, row, strict=True)))
            for row in fetched
        ]


class CursorRunner:
    """Statements on a DBAPI cursor, each compiled once per :class:`PreparedStatements`."""

    def __init__(self, cursor: DBAPICursor | None, prepared: "PreparedStatements") -> None:
        self._cursor = cursor
        self._prepared = prepared

    def rows(self, statement: Statement, params: dict[str, Any]) -> list[Any]:
        prepared = self._prepared[statement]
        return prepared.rows(self._send(prepared.sql, prepared.parameters(params), rows=True))

    def count(self, statement: Statement, params: Params) -> int:
        prepared = self._prepared[statement]
        changed: int
        if isinstance(params, list):
            # every item has the one shape of the dialect's paramstyle, as executemany needs
            changed = self._send(prepared.sql, [prepared.parameters(p) for p in params], many=True)
        else:
            changed = self._send(prepared.sql, prepared.parameters(params))
        return changed

    def _send(self, sql: str, parameters: Any, many: bool = False, rows: bool = False) -> Any:
        """Runs ``sql``: its rows when ``rows``, else the number of rows it changed."""
        cursor = self._cursor
        assert cursor is not None  # an AutocommitRunner opens its cursor before sending
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        return cursor.fetchall() if rows else cursor.rowcount


class AutocommitRunner(CursorRunner):
    """Statements each committed on its own, on a connection of ``engine``'s pool, checked out at
    the first statement (PostgreSQL with psycopg 3: gspws.store.db.verification_engine).

    That pool does not ping a connection before handing it out (a round trip per call). Instead,
    when the first statement fails because the connection is dead (the database restarted, or
    an administrator ended the session), nothing has been done on it: the pool is emptied of
    connections opened before (after a restart they are all dead) and the statement is sent once
    more on a fresh connection. A failure on any later statement is not retried: a write may have
    been committed before the connection broke.
    """

    def __init__(self, engine: Engine, prepared: "PreparedStatements") -> None:
        super().__init__(None, prepared)
        self._engine = engine
        self._connection: Any = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The statements of the block in one transaction (psycopg's, committed at the end)."""
        if self._connection is None:
            self._open()
        with self._connection.dbapi_connection.transaction():
            yield

    def close(self, error: BaseException | None = None) -> None:
        """Gives the connection back to the pool, or drops it if ``error`` broke it."""
        connection = self._connection
        if connection is None:
            return
        try:
            if error is not None and self._broken(error):
                connection.invalidate()
        finally:
            self._connection = None
            if self._cursor is not None:
                self._cursor.close()
            connection.close()

    def _send(self, sql: str, parameters: Any, many: bool = False, rows: bool = False) -> Any:
        if self._connection is not None:
            return super()._send(sql, parameters, many, rows)
        self._open()
        try:
            return super()._send(sql, parameters, many, rows)
        except self._engine.dialect.loaded_dbapi.Error as error:
            if not self._broken(error):
                raise
            log.info(
                "a pooled connection was dead (%s); retrying on a fresh one", type(error).__name__
            )
            self.close(error)
            self._engine.dispose()  # the connections opened before it are likely dead too
            self._open()
            return super()._send(sql, parameters, many, rows)

    def _open(self) -> None:
        self._connection = self._engine.raw_connection()
        self._cursor = self._connection.cursor()

    def _broken(self, error: BaseException) -> bool:
        dialect = self._engine.dialect
        return isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            error, self._connection.dbapi_connection, self._cursor
        )


class PreparedStatements:
    """The compiled form of each statement for one dialect, made on first use."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._compiled: dict[int, tuple[Statement, Prepared]] = {}

    def __getitem__(self, statement: Statement) -> Prepared:
        found = self._compiled.get(id(statement))
        if found is None:
            # The statement is kept with its compiled form, so its id cannot be reused.
            found = self._compiled[id(statement)] = (statement, Prepared(statement, self._dialect))
        return found[1]
