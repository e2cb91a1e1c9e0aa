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

from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

Statement = Select[Any] | UpdateBase
"""What runs here: a SELECT, or an INSERT, UPDATE or DELETE."""

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
            raise ValueError(f"cannot prepare a statement that relies on column defaults: "
                             f"{compiled}")
        self.sql = compiled.string
        convert = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) or _same
                   for name, bind in binds.items()}
        # Values written into the statement (``status == 'active'``) are parameters too,
        # converted here once; the per-call values are converted in parameters().
        self._constants = {name: convert[name](bind.effective_value)
                           for name, bind in binds.items() if not bind.required}
        self._convert = {name: convert[name] for name, bind in binds.items() if bind.required}
        self._order = compiled.positiontup  # positional paramstyles (SQLite); None for named
        columns = getattr(statement, "selected_columns", None)
        if columns is not None:
            # the column names are known at run time only, which mypy's namedtuple cannot type
            self._row: Callable[..., Any] = namedtuple(  # type: ignore[misc]
                "Row", [column.key for column in columns])
            self._result = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                            or _same for column in columns]

    def parameters(self, values: dict[str, Any]) -> dict[str, Any] | list[Any]:
        """``values`` (by parameter name), converted and arranged as the DBAPI wants them."""
        converted = {**self._constants,
                     **{name: convert(values[name]) for name, convert in self._convert.items()}}
        if self._order is None:
            return converted
        return [converted[name] for name in self._order]

    def rows(self, fetched: Iterable[Sequence[Any]]) -> list[Any]:
        return [self._row(*(convert(value) for convert, value in zip(self._result, row, strict=True)))
                for row in fetched]


class CursorRunner:
    """Statements on a DBAPI cursor, each compiled once per :class:`PreparedStatements`."""

    def __init__(self, cursor: DBAPICursor, prepared: "PreparedStatements") -> None:
        self._cursor = cursor
        self._prepared = prepared

    def rows(self, statement: Statement, params: dict[str, Any]) -> list[Any]:
        prepared = self._prepared[statement]
        self._cursor.execute(prepared.sql, prepared.parameters(params))
        return prepared.rows(self._cursor.fetchall())

    def count(self, statement: Statement, params: Params) -> int:
        prepared = self._prepared[statement]
        if isinstance(params, list):
            # every item has the one shape of the dialect's paramstyle, as executemany needs
            self._cursor.executemany(prepared.sql,
                                     [prepared.parameters(p) for p in params])  # type: ignore[arg-type]
        else:
            self._cursor.execute(prepared.sql, prepared.parameters(params))
        return self._cursor.rowcount


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
