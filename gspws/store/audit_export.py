"""Exporting ``audit_events`` for operators: a time range and filters in, CSV or JSON Lines out.

Rows are read in pages of :data:`PAGE_SIZE` by keyset (``at``, ``id``), each page its own short
query, so an export of millions of rows holds neither the rows in memory nor a long transaction
(nor, on SQLite, the write lock every other transaction of gspws takes). The export stops at the
newest event that existed when it started, so it ends even while the server keeps writing.
"""

import csv
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import IO, Iterator

from sqlalchemy import and_, create_engine, func, or_, select
from sqlalchemy.engine import Engine, make_url

from gspws.config import Settings
from gspws.store.models import AuditEvent

COLUMNS = ("at", "service_id", "client_addr", "operation", "account", "code", "duration_ms")
PAGE_SIZE = 1000
FORMATS = ("csv", "json")

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime) -> datetime:
    """An instant from ``text``: a relative age (``90m``, ``24h``, ``7d``, ``2w``: that long before
    ``now``), an ISO-8601 date (midnight UTC) or an ISO-8601 date and time (UTC unless it carries
    an offset, e.g. ``2026-05-01T08:00+08:00``). Raises ValueError with a message for a person."""
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO-8601 date/time (2026-05-01, "
                         f"2026-05-01T08:00:00Z, 2026-05-01T08:00+08:00) nor an age such as "
                         f"30m, 24h or 7d") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso_utc(value: datetime) -> str:
    """``2026-05-01T08:00:00.123456Z``."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Query:
    since: datetime
    until: datetime | None = None      # exclusive
    service_id: str | None = None
    account: str | None = None


def reading_engine(settings: Settings) -> Engine:
    """An engine for long reads. On SQLite a plain one: gspws's own engine opens every transaction
    with ``BEGIN IMMEDIATE`` (the write lock), which an export must not hold; plain SELECTs in WAL
    mode read a snapshot and block no writer."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(url, connect_args={"timeout": settings.db_timeout},
                             hide_parameters=True)
    from gspws.store.db import make_engine
    return make_engine(settings)


def events(engine: Engine, query: Query, page_size: int | None = None) -> Iterator[dict]:
    """Matching events, oldest first, as dicts of :data:`COLUMNS` (``at`` an aware UTC datetime)."""
    page_size = page_size or PAGE_SIZE
    table = AuditEvent.__table__
    conditions = [table.c.at >= query.since]
    if query.until is not None:
        conditions.append(table.c.at < query.until)
    if query.service_id is not None:
        conditions.append(table.c.service_id == query.service_id)
    if query.account is not None:
        conditions.append(table.c.account == query.account)
    with engine.connect() as conn:  # now, so that an unusable database fails before any output
        newest = conn.scalar(select(func.max(table.c.id)))
    if newest is None:
        return iter(())
    conditions.append(table.c.id <= newest)
    return _pages(engine, conditions, page_size)


def _pages(engine: Engine, conditions: list, page_size: int) -> Iterator[dict]:
    table = AuditEvent.__table__
    columns = [table.c.id, *(table.c[name] for name in COLUMNS)]
    after: tuple[datetime, int] | None = None
    while True:
        page_conditions = list(conditions)
        if after is not None:
            at, last_id = after
            # ``at >= :at`` first, so the index on ``at`` bounds the scan.
            page_conditions.append(table.c.at >= at)
            page_conditions.append(or_(table.c.at > at, and_(table.c.at == at, table.c.id > last_id)))
        with engine.connect() as conn:
            rows = conn.execute(select(*columns).where(*page_conditions)
                                .order_by(table.c.at, table.c.id).limit(page_size)).all()
        for row in rows:
            yield {name: getattr(row, name) for name in COLUMNS}
        if len(rows) < page_size:
            return
        after = (rows[-1].at, rows[-1].id)


# -- writers ------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell. Text starting like a spreadsheet formula gets a leading ``'`` (the account and
    ServiceID come from callers; an operator opening the file must not run their formulas)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return str(value)


def write_csv(rows: Iterator[dict], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_cell(row[name]) for name in COLUMNS])
        count += 1
    return count


def write_json_lines(rows: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        record = {name: (iso_utc(value) if isinstance(value, datetime) else value)
                  for name, value in row.items()}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "json": write_json_lines}
