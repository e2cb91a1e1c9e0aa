"""The console queries the benchmark times, as ``(name, run(session) -> rows)`` cases: the very
functions the console's pages call (admin-console's gspws.store.console searches and
gspws.store.audit_export.newest_first, the audit page's keyset pages).

Search: an account-name prefix and its next page, a serial, a mobile number (and one nobody
has). Audit: newest first, 50 rows a page, over the last 7 days, with each filter alone; the
first page and a deep one (the page after a row 5 days back); filters matching nothing (a
ServiceID, an operation and a code never written) must not scan the table either.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bench.console_seed import (
    ABSENT_OPERATION,
    ABSENT_SERVICE,
    account_name,
    mobile,
    serial,
    service,
)
from gspws.store import console
from gspws.store.audit_export import Query, newest_first
from gspws.store.verification import utc

PAGE = 50
Case = tuple[str, Callable[[Session], Any]]


def search_cases(tokens: int) -> list[Case]:
    middle = tokens // 2
    return [
        ("search: account prefix", lambda s: console.accounts(s, "account", "user00012", None)),
        (
            "search: account prefix, a page deep",
            lambda s: console.accounts(s, "account", "user0", account_name(middle)),
        ),
        (
            "search: account prefix, the last page",
            lambda s: console.accounts(s, "account", "user", account_name(tokens - PAGE)),
        ),
        ("search: serial", lambda s: console.tokens(s, serial(middle), None)),
        ("search: serial prefix", lambda s: console.tokens(s, "TOTP00000", None)),
        ("search: mobile", lambda s: console.accounts(s, "mobile", mobile(middle), None)),
        ("search: mobile nobody has", lambda s: console.accounts(s, "mobile", "0999999999", None)),
    ]


def audit_cases(now: float, rows: int, tokens: int) -> list[Case]:
    since, until = utc(now - 7 * 86400), utc(now + 1)
    deep = (utc(now - 5 * 86400), rows)  # a keyset cursor 5 days back
    filters: list[tuple[str, dict[str, Any]]] = [
        ("time range only", {}),
        ("ServiceID", {"service_id": service(3)}),
        ("ServiceID never seen", {"service_id": ABSENT_SERVICE}),
        ("account", {"account": account_name(12345 % max(1, tokens))}),
        ("operation", {"operation": "SendOTPCode"}),
        ("operation never seen", {"operation": ABSENT_OPERATION}),
        ("code 3000 (1 %)", {"code": 3000}),
        ("code never seen (8101)", {"code": 8101}),
    ]
    cases: list[Case] = []
    for label, equal in filters:
        query = Query(since, until, **equal)
        cases.append(
            (f"audit: {label}", lambda s, q=query: newest_first(s.connection(), q, None, PAGE))
        )
        cases.append(
            (
                f"audit: {label}, deep page",
                lambda s, q=query: newest_first(s.connection(), q, deep, PAGE),
            )
        )
    return cases
