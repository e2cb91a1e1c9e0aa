"""Reading ``audit_events`` for operators' exports: a time range and filters in, rows out (the
command parses its arguments and formats the rows: :mod:`gspws.cli.audit`).

Rows are read in pages of :data:`PAGE_SIZE` by keyset (``at``, ``id``), each page its own short
query, so an export of millions of rows holds neither the rows in memory nor a long transaction
(nor, on SQLite, the write lock every other transaction of gspws takes). The export stops at the
newest event that existed when it started, so it ends even while the server keeps writing.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, create_engine, func, or_, select
from sqlalchemy.engine import Connection, Engine, make_url

from gspws.config import Settings
from gspws.store.models import AuditEvent

COLUMNS = ("at", "service_id", "client_addr", "operation", "account", "code", "duration_ms")
PAGE_SIZE = 1000


@dataclass(frozen=True)
class Query:
    since: datetime
    until: datetime | None = None  # exclusive
    service_id: str | None = None
    account: str | None = None
    operation: str | None = None
    code: int | None = None


def _conditions(query: Query) -> list[ColumnElement[bool]]:
    """The filters of ``query`` (the export's and the console's audit page's)."""
    table = AuditEvent.__table__
    conditions = [table.c.at >= query.since]
    if query.until is not None:
        conditions.append(table.c.at < query.until)
    if query.service_id is not None:
        conditions.append(table.c.service_id == query.service_id)
    if query.account is not None:
        conditions.append(table.c.account == query.account)
    if query.operation is not None:
        conditions.append(table.c.operation == query.operation)
    if query.code is not None:
        conditions.append(table.c.code == query.code)
    return conditions


def newest_first(
    conn: Connection, query: Query, before: tuple[datetime, int] | None, limit: int
) -> list[dict[str, Any]]:
    """One page of matching events, newest first, older than ``before`` (``at``, ``id``) when
    given: keyset pagination (the operator console's audit page), each row with its ``id``."""
    table = AuditEvent.__table__
    if before is not None and (query.until is None or before[0] < query.until):
        # The cursor is then the only upper bound on ``at``: SQLite's planner cannot tell which
        # of two bound parameters is lower and bounds its index scan by the first (``until``),
        # reading every row between the two (5 days deep in 10,000,000 rows: 3 s, and 0.1 ms
        # so; bench/console.py).
        query = replace(query, until=None)
    conditions = _conditions(query)
    if before is not None:
        at, last_id = before
        conditions.append(table.c.at <= at)
        conditions.append(or_(table.c.at < at, and_(table.c.at == at, table.c.id < last_id)))
    rows = conn.execute(
        select(table.c.id, *(table.c[name] for name in COLUMNS))
        .where(*conditions)
        .order_by(table.c.at.desc(), table.c.id.desc())
        .limit(limit)
    ).all()
    return [{"id": row.id, **{name: getattr(row, name) for name in COLUMNS}} for row in rows]


def reading_engine(settings: Settings) -> Engine:
    """An engine for long reads. On SQLite a plain one: gspws's own engine opens every transaction
    with ``BEGIN IMMEDIATE`` (the write lock), which an export must not hold; plain SELECTs in WAL
    mode read a snapshot and block no writer."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(
            url, connect_args={"timeout": settings.db_timeout}, hide_parameters=True
        )
    from gspws.store.db import make_engine

    return make_engine(settings)


def events(engine: Engine, query: Query, page_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Matching events, oldest first, as dicts of :data:`COLUMNS` (``at`` an aware UTC datetime)."""
    page_size = page_size or PAGE_SIZE
    table = AuditEvent.__table__
    conditions = _conditions(query)
    with engine.connect() as conn:  # now, so that an unusable database fails before any output
        newest = conn.scalar(select(func.max(table.c.id)))
    if newest is None:
        return iter(())
    conditions.append(table.c.id <= newest)
    return _pages(engine, conditions, page_size)


def _pages(
    engine: Engine, conditions: list[ColumnElement[bool]], page_size: int
) -> Iterator[dict[str, Any]]:
    table = AuditEvent.__table__
    columns = [table.c.id, *(table.c[name] for name in COLUMNS)]
    after: tuple[datetime, int] | None = None
    while True:
        page_conditions = list(conditions)
        if after is not None:
            at, last_id = after
            # ``at >= :at`` first, so the index on ``at`` bounds the scan.
            page_conditions.append(table.c.at >= at)
            page_conditions.append(
                or_(table.c.at > at, and_(table.c.at == at, table.c.id > last_id))
            )
        with engine.connect() as conn:
            rows = conn.execute(
                select(*columns)
                .where(*page_conditions)
                .order_by(table.c.at, table.c.id)
                .limit(page_size)
            ).all()
        for row in rows:
            yield {name: getattr(row, name) for name in COLUMNS}
        if len(rows) < page_size:
            return
        after = (rows[-1].at, rows[-1].id)
