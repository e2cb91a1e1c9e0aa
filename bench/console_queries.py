"""The console queries the benchmark times, as ``(name, run(connection) -> rows)`` cases.

Search: an account-name prefix (a range on the unique index, which both databases use whatever
the collation), a serial, a phone number (accounts.mobile, accounts.phone, tokens.phone). Audit:
newest first by keyset (``at``, ``id``), 50 rows a page, over the last 7 days, with each filter
alone; the first page and a deep one (the page after a row 5 days back), and filters matching
nothing (a ServiceID and an operation never written) which must not scan the table.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from bench.console_seed import (
    ABSENT_OPERATION,
    ABSENT_SERVICE,
    account_name,
    mobile,
    serial,
    service,
)
from gspws.store.models import Account, AuditEvent, Token
from gspws.store.verification import utc

PAGE = 50
Case = tuple[str, Callable[[Connection], list[Any]]]

_ACCOUNTS, _TOKENS, _EVENTS = Account.__table__.c, Token.__table__.c, AuditEvent.__table__.c


def accounts_by_prefix(conn: Connection, prefix: str, after: str = "") -> list[Any]:
    start = max(prefix, after)
    return conn.execute(
        select(_ACCOUNTS.id, _ACCOUNTS.account, _ACCOUNTS.mobile)
        .where(
            _ACCOUNTS.account >= start,
            _ACCOUNTS.account < prefix + "\U0010ffff",
            _ACCOUNTS.account != after,
        )
        .order_by(_ACCOUNTS.account)
        .limit(PAGE)
    ).all()


def token_by_serial(conn: Connection, wanted: str) -> list[Any]:
    return conn.execute(
        select(_TOKENS.id, _TOKENS.serial, _TOKENS.status, _ACCOUNTS.account)
        .select_from(Token.__table__.outerjoin(Account.__table__))
        .where(_TOKENS.serial == wanted)
    ).all()


def accounts_by_phone(conn: Connection, phone: str) -> list[Any]:
    by_token = select(_TOKENS.account_id).where(_TOKENS.phone == phone)
    return conn.execute(
        select(_ACCOUNTS.id, _ACCOUNTS.account, _ACCOUNTS.mobile)
        .where(
            or_(
                _ACCOUNTS.mobile == phone,
                _ACCOUNTS.phone == phone,
                _ACCOUNTS.id.in_(by_token.scalar_subquery()),
            )
        )
        .order_by(_ACCOUNTS.account)
        .limit(PAGE)
    ).all()


def audit_page(
    conn: Connection,
    since: datetime,
    until: datetime,
    after: tuple[datetime, int] | None = None,
    **equal: Any,
) -> list[Any]:
    conditions = [_EVENTS.at >= since, _EVENTS.at < until]
    conditions += [_EVENTS[name] == value for name, value in equal.items()]
    if after is not None:
        at, last = after
        conditions.append(_EVENTS.at <= at)
        conditions.append(or_(_EVENTS.at < at, and_(_EVENTS.at == at, _EVENTS.id < last)))
    return conn.execute(
        select(_EVENTS.id, _EVENTS.at, _EVENTS.service_id, _EVENTS.account, _EVENTS.code)
        .where(*conditions)
        .order_by(_EVENTS.at.desc(), _EVENTS.id.desc())
        .limit(PAGE)
    ).all()


def search_cases(tokens: int) -> list[Case]:
    middle = tokens // 2
    return [
        ("search: account prefix", lambda c: accounts_by_prefix(c, "user00012")),
        (
            "search: account prefix, next page",
            lambda c: accounts_by_prefix(c, "user0", account_name(middle)),
        ),
        ("search: serial", lambda c: token_by_serial(c, serial(middle))),
        ("search: phone", lambda c: accounts_by_phone(c, mobile(middle))),
        ("search: phone, nobody's", lambda c: accounts_by_phone(c, "0999999999")),
    ]


def audit_cases(now: float, rows: int) -> list[Case]:
    since, until = utc(now - 7 * 86400), utc(now + 1)
    deep = (utc(now - 5 * 86400), rows)  # a keyset cursor 5 days back
    filters: list[tuple[str, dict[str, Any]]] = [
        ("time range only", {}),
        ("ServiceID", {"service_id": service(3)}),
        ("ServiceID never seen", {"service_id": ABSENT_SERVICE}),
        ("account", {"account": account_name(12345 % max(1, rows // 10))}),
        ("operation", {"operation": "SendOTPCode"}),
        ("operation never seen", {"operation": ABSENT_OPERATION}),
        ("code 3000", {"code": 3000}),
        ("code never seen (8101)", {"code": 8101}),
    ]
    cases: list[Case] = []
    for label, equal in filters:
        cases.append((f"audit: {label}", lambda c, e=equal: audit_page(c, since, until, **e)))
        cases.append(
            (
                f"audit: {label}, deep page",
                lambda c, e=equal: audit_page(c, since, until, deep, **e),
            )
        )
    return cases
