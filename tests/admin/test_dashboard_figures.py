"""The dashboard's figures on a small store seeded with known audit rows, on SQLite and
PostgreSQL: calls per bar and code, per-minute rates, p50/p99, busiest and failing services,
locked tokens, deliveries waiting; rolled-up periods and the newest rows read raw add up to the
same figures, and reading twice counts nothing twice."""

import math
import os
import threading
import time
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import insert, select

from gspws.cli import main
from gspws.core import dashboard as core
from gspws.store.dashboard import SETTLE, DashboardQueries
from gspws.store.models import (
    Account,
    AuditCallsByCode,
    AuditEvent,
    AuditRolledPeriod,
    OutboxMessage,
    Token,
    TokenStatus,
)

from helpers import T0

NOW = T0  # 10 s into a 10-minute bar (T0 % 600 == 10)
BAR = NOW - NOW % 600  # the current 10-minute bar's start
HOUR = NOW - NOW % 3600


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def audit(
    store, *rows: tuple[float, str | None, int, float], operation: str = "VerifyTOTPCode"
) -> None:
    """Rows of (Unix time, ServiceID, code, duration ms)."""
    with store.unit() as repo:
        repo.session.execute(
            insert(AuditEvent.__table__),
            [
                {
                    "at": at(when),
                    "service_id": service,
                    "operation": operation,
                    "account": "someone",
                    "code": code,
                    "duration_ms": ms,
                }
                for when, service, code, ms in rows
            ],
        )


def seeded(store) -> None:
    three_bars_ago = BAR - 3 * 600 + 5
    audit(
        store,
        # 30 minutes ago (rolled up): 5 successes of APP1, 2 of 3001 for APP2
        *[(three_bars_ago, "APP1", 0, 4.0)] * 5,
        *[(three_bars_ago + 60, "APP2", 3001, 12.0)] * 2,
        # the current bar (read raw): 3 successes of APP1, one 9999 of APP2, one refusal
        # without a ServiceID, one pending QR sign-in (12: not a failure)
        *[(NOW - 5, "APP1", 0, 4.0)] * 3,
        (NOW - 4, "APP2", 9999, 250.0),
        (NOW - 3, None, 8102, 1.0),
        (NOW - 2, "APP1", 12, 1.0),
        # 2 days ago (only in the 7-day window): 4 of APP3, slow
        *[(NOW - 2 * 86400, "APP3", 0, 3000.0)] * 4,
        # 8 days ago: outside both windows
        *[(NOW - 8 * 86400, "APP4", 0, 1.0)] * 7,
    )
    # administrators' actions are not calls: counted nowhere (rolled up or read raw)
    audit(
        store,
        (three_bars_ago, None, 0, 900.0),
        (NOW - 1, "APP1", 9999, 0.0),
        operation="admin:alice:SignIn",
    )


def test_figures_of_known_rows(store):
    seeded(store)
    overview = DashboardQueries(store, budget=math.inf).overview(NOW)

    day = overview.windows["24h"]
    assert day.series.starts[-1] == BAR and len(day.series.starts) == 144
    i = day.series.starts.index(BAR - 3 * 600)
    assert {code: counts[i] for code, counts in day.series.calls.items() if counts[i]} == {
        0: 5,
        3001: 2,
    }
    assert {code: counts[-1] for code, counts in day.series.calls.items() if counts[-1]} == {
        0: 3,
        9999: 1,
        8102: 1,
        12: 1,
    }
    assert day.series.per_minute(0)[i] == 0.5  # 5 calls in a 10-minute bar
    assert day.series.total == 13
    assert day.busiest == [
        core.ServiceCalls("APP1", 9, 0),
        core.ServiceCalls("APP2", 3, 3),
        core.ServiceCalls("", 1, 1),
    ]
    assert day.failing == [core.ServiceCalls("APP2", 3, 3), core.ServiceCalls("", 1, 1)]
    # durations: 4.0 ×8, 12.0 ×2, 250.0, 1.0 ×2 → sorted, rank 7 of 13 is 4.0, rank 13 is 250
    assert day.latency == core.Latency(13, 4.0, 250.0)

    week = overview.windows["7d"]
    assert len(week.series.starts) == 168 and week.series.starts[-1] == HOUR
    assert week.series.total == 17
    j = week.series.starts.index((NOW - 2 * 86400) // 3600 * 3600)
    assert week.series.calls[0][j] == 4 and week.series.per_minute(0)[j] == 4 / 60
    assert week.busiest[0] == core.ServiceCalls("APP1", 9, 0)
    assert core.ServiceCalls("APP3", 4, 0) in week.busiest
    assert week.latency == core.Latency(17, 4.0, 3000.0)


def test_rolled_up_and_raw_rows_add_up_once(store):
    seeded(store)
    queries = DashboardQueries(store, budget=math.inf)
    first = queries.overview(NOW)
    assert first.uncounted == 0
    with store.reading() as repo:
        rolled = set(repo.session.scalars(select(AuditRolledPeriod.__table__.c.period)))
        by_code = repo.session.execute(select(AuditCallsByCode.__table__)).all()
    settled = int(NOW - SETTLE) // 600 * 600
    assert rolled == set(range(core.WEEK.first_bar(NOW), settled, 600))
    assert (BAR - 3 * 600, 0, 5) in by_code and (BAR - 3 * 600, 3001, 2) in by_code
    assert queries.overview(NOW) == first  # a second look rolls nothing up twice
    # an hour later the current bar is rolled up too; the figures are the same
    later = queries.overview(NOW + 3600)
    assert later.windows["24h"].series.total == 13
    assert later.windows["24h"].latency == first.windows["24h"].latency
    assert later.windows["24h"].busiest == first.windows["24h"].busiest
    week, week_later = first.windows["7d"].series, later.windows["7d"].series
    assert week_later.calls[0][-2] == week.calls[0][-1] == 3  # the bars moved on by one hour
    assert {c: sum(n) for c, n in week_later.calls.items()} == {
        c: sum(n) for c, n in week.calls.items()
    }


def test_a_view_rolls_up_within_its_budget_newest_first(store):
    """With no time to spare, each view rolls up one step: the newest periods first (here the
    empty ones since 30 minutes ago, then the one with rows), and says how much is not counted."""
    seeded(store)
    queries = DashboardQueries(store, budget=0)
    views = [queries.overview(NOW) for _ in range(4)]
    assert views[0].uncounted > views[1].uncounted > views[2].uncounted > 0
    assert views[0].windows["24h"].series.total == 6  # the current bar only (read raw)
    assert views[1].windows["24h"].series.total == 13  # the bar with rows: rolled second
    assert views[1].windows["7d"].series.total == 13  # 2 days ago: not yet
    while views[-1].uncounted:
        views.append(queries.overview(NOW))
    assert views[-1] == DashboardQueries(store, budget=math.inf).overview(NOW)
    assert views[-1].windows["7d"].series.total == 17


def test_locked_tokens_and_deliveries_waiting(store):
    with store.unit() as repo:
        session = repo.session
        session.execute(
            insert(Account.__table__), [{"id": 1, "account": "alice"}, {"id": 2, "account": "bob"}]
        )
        session.execute(
            insert(Token.__table__),
            [
                {
                    "serial": f"TOTP{n}",
                    "account_id": 1 + n % 2,
                    "secret": b"x",
                    "status": TokenStatus.LOCKED if n < 3 else TokenStatus.ACTIVE,
                    "locked_at": at(NOW - 100 * n) if n < 3 else None,
                }
                for n in range(5)
            ],
        )
        session.execute(
            insert(OutboxMessage.__table__),
            [
                {
                    "channel": "sms",
                    "destination": "0912345678",
                    "body_encrypted": b"x",
                    "not_after": at(NOW + 300),
                    "status": status,
                }
                for status in ("pending", "pending", "sent", "failed")
            ],
        )
    overview = DashboardQueries(store).overview(NOW)
    assert overview.locked_count == 3
    assert [(t.serial, t.account, t.locked_at) for t in overview.locked] == [
        ("TOTP0", "alice", NOW),
        ("TOTP1", "bob", NOW - 100),
        ("TOTP2", "alice", NOW - 200),
    ]
    assert overview.deliveries_waiting == 2


def test_an_empty_store():
    """(no database: the core's shaping of nothing)"""
    series = core.call_series(core.DAY, NOW, [])
    assert series.total == 0 and series.calls == {}
    assert core.latency({}) == core.Latency(0, None, None)


def test_quantiles_are_bucket_bounds():
    bucket = core.latency_bucket
    assert [bucket(ms) for ms in (0.2, 1.0, 1.01, 4.3, 100_000.0, 100_001.0)] == [
        0,
        0,
        1,
        7,
        50,
        51,
    ]
    histogram = {bucket(4.3): 98, bucket(70.0): 2}
    assert core.quantile(histogram, 0.5) == 5.0  # 4.3 ms is in the bucket (4, 5]
    assert core.quantile(histogram, 0.99) == 80.0
    assert core.quantile({51: 1}, 0.5) == math.inf


def test_gspws_audit_summarise_rolls_up_everything_at_once(database_url, store):
    """The command an operator runs after upgrading (or from a timer): after it, a view with no
    time to spare finds everything counted."""
    now = time.time()
    audit(store, *[(now - 3600 * h, "APP1", 0, 4.0) for h in range(1, 150)])
    env = {k: None for k in os.environ if k.startswith("GSPWS_")}
    result = CliRunner().invoke(
        main, ["--database-url", database_url, "audit", "summarise"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "(0 periods left)" in result.output
    overview = DashboardQueries(store, budget=0).overview(time.time())
    assert overview.uncounted == 0
    assert overview.windows["7d"].series.total == 149


def test_dashboards_rolling_up_at_once_count_each_period_once(store):
    """Four views at the same moment on four threads (as four workers would): every period is
    rolled up by one of them; the others fail on its primary key, roll back and look again."""
    seeded(store)
    queries = [DashboardQueries(store, budget=math.inf) for _ in range(4)]
    start = threading.Barrier(len(queries))
    results: list = []

    def view(q: DashboardQueries) -> None:
        start.wait()
        results.append(q.overview(NOW))

    threads = [threading.Thread(target=view, args=(q,)) for q in queries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
    assert results[0].uncounted == 0 and results[0].windows["7d"].series.total == 17
    with store.reading() as repo:
        by_code = repo.session.execute(select(AuditCallsByCode.__table__)).all()
    assert sum(calls for _, _, calls in by_code) == 4 + 5 + 2  # rolled up once each
