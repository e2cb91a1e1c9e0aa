"""The dashboard's figures (gspws.core.dashboard.DashboardSource), read from a rollup of the
audit trail that the dashboard keeps up to date itself.

Why a rollup (figures: ``python -m bench.console``, 10,000,000 audit rows over 7 days, machine
loaded; docs/admin.md): the 7-day chart read straight from ``audit_events`` is a GROUP BY over
every row: 15 to 19 s on either database. The rollup keeps, per 10-minute period, calls by code
(``audit_calls_by_code``), calls and failures by service (``audit_calls_by_service``) and calls
by latency bucket (``audit_latency``): a few thousand rows a day, so the whole page reads in tens
of milliseconds.

Who fills it: not the call. VerifyTOTPCode writes its audit row in the very statement that
settles the code (gspws.store.verification); keeping counters there would add an upsert to
every login and make all workers queue on the same hot counter rows (a PostgreSQL row lock; the
write lock held longer on SQLite). Measured (``python -m bench.console_hotpath --calls 1000``,
machine loaded): a transaction writing an audit row took 3.6 ms on PostgreSQL and 6.1 ms with
the counter's upsert (+67 %), with 4 writers 4.5 ms and 9.2 ms (+105 %); on SQLite with 4
writers 11.4 ms and 14.2 ms (+25 %). Instead the dashboard, when it is opened, rolls up the
periods of the last 7 days that ended at least :data:`SETTLE` seconds ago and are not rolled up
yet, newest first, in short transactions (:data:`CHUNK_SECONDS`: SQLite's write lock is never
held long), for at most :data:`BUDGET` seconds a view; it reads the newer rows straight from
``audit_events`` (at most ``SETTLE`` + one period of rows, through the index on ``at``). Rolling
up 7 days of 10,000,000 rows takes about 2 minutes (bench), so a first view after an upgrade, or
after days without one, shows what is rolled up so far and says how much is not counted yet
(:attr:`gspws.core.dashboard.Overview.uncounted`); each reload adds more, and ``gspws audit
summarise`` rolls everything up at once.

The rollup is exact. A period is rolled up once: its row in ``audit_rolled_periods`` is
inserted in the transaction that writes its figures, so of two dashboards racing for it one
fails on the primary key, rolls back and reads the other's. An audit row committed more than
``SETTLE`` after its ``at`` would be missed; no transaction of gspws lasts that long (statements
time out after ``GSPWS_DB_TIMEOUT``).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError

from gspws.core import dashboard as core
from gspws.store.models import (
    Account,
    AuditCallsByCode,
    AuditCallsByService,
    AuditEvent,
    AuditLatency,
    AuditRolledPeriod,
    OutboxMessage,
    Token,
)
from gspws.store.repo import Store
from gspws.store.verification import utc

#: Seconds of the rollup's periods (the 24-hour chart's bar).
PERIOD = 600
#: A period is rolled up once it ended this many seconds ago, so that every audit row of it has
#: been committed.
SETTLE = 120
#: A rolling transaction's target length in seconds: the number of periods it rolls up starts
#: at 1 and doubles while a transaction takes less than half of this, halves when one takes
#: more than twice it (SQLite's write lock is held that long; ~10,000 audit rows at 1,000 calls
#: a minute take about 0.1 s).
CHUNK_SECONDS = 0.1
MAX_CHUNK = 144
#: Seconds a view of the dashboard may spend rolling up (it rolls at least one chunk).
BUDGET = 1.0

_EVENTS = AuditEvent.__table__.c
_BY_CODE = AuditCallsByCode.__table__.c
_BY_SERVICE = AuditCallsByService.__table__.c
_LATENCY = AuditLatency.__table__.c
_ROLLED = AuditRolledPeriod.__table__.c
_TOKENS = Token.__table__.c
_FIRST: ColumnElement[Any] = literal_column("1")
_SECOND: ColumnElement[Any] = literal_column("2")
#: Written as a literal, as ``ix_tokens_locked``'s condition is: a bound parameter would keep
#: SQLite (and a generic plan on PostgreSQL) from using the partial index.
LOCKED = _TOKENS.status == literal_column("'locked'")


def _floor(dialect: str, at: Any, width: int) -> ColumnElement[int]:
    """``at`` (a timestamp column) as the Unix start of its ``width``-second bar, in SQL."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", at), BigInteger) // width * width
    return cast(func.floor(func.extract("epoch", at) / width), BigInteger) * width


def _bucket(duration: Any) -> ColumnElement[int]:
    """gspws.core.dashboard.latency_bucket in SQL (literals: one plan, no 51 parameters)."""
    bounds = core.LATENCY_BOUNDS
    return case(
        *(
            (duration <= literal_column(repr(bound)), literal_column(str(i)))
            for i, bound in enumerate(bounds)
        ),
        else_=literal_column(str(len(bounds))),
    )


_EVENT_BUCKET = _bucket(_EVENTS.duration_ms)
#: The rows the dashboard counts: the SOAP calls, not the administrators' own actions (operation
#: ``admin:NAME:Action``, gspws.core.admins; a sign-in's argon2 time would pass for latency).
CALLS = ~_EVENTS.operation.startswith(literal_column("'admin:'"))


def _failures(code: Any) -> ColumnElement[int]:
    """How many of the group's calls failed (answered other than gspws.core.dashboard's
    SUCCESS_CODES)."""
    successes: list[ColumnElement[Any]] = [
        literal_column(str(c)) for c in sorted(core.SUCCESS_CODES)
    ]
    return func.sum(case((code.in_(successes), 0), else_=1))


class DashboardQueries:
    """:class:`gspws.core.dashboard.DashboardSource` on a :class:`Store`."""

    def __init__(self, store: Store, budget: float | None = None) -> None:
        self.store = store
        self.dialect = store.engine.dialect.name
        self.budget = BUDGET if budget is None else budget

    def overview(self, now: float) -> core.Overview:
        uncounted = self.roll_up(now)
        with self._reading() as conn:
            windows = self._windows(conn, now)
            locked_count, locked = self._locked(conn)
            waiting = conn.scalar(
                select(func.count()).where(OutboxMessage.__table__.c.status == "pending")
            )
        return core.Overview(now, windows, locked_count, locked, waiting or 0, uncounted)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.store.reading() as repo:
            yield repo.session.connection()

    # -- the rollup ------------------------------------------------------------------------------

    def roll_up(self, now: float) -> int:
        """Rolls up settled periods of the 7-day window, newest first, within the budget;
        returns how many are still not rolled up."""
        settled, oldest = _settled(now), core.WEEK.first_bar(now)
        deadline, rolled_some, size = time.monotonic() + self.budget, False, 1
        while True:
            with self._reading() as conn:
                rolled = set(
                    conn.scalars(
                        select(_ROLLED.period).where(
                            _ROLLED.period >= oldest, _ROLLED.period < settled
                        )
                    )
                )
                missing = [
                    p for p in range(settled - PERIOD, oldest - 1, -PERIOD) if p not in rolled
                ]
                if not missing or (rolled_some and time.monotonic() > deadline):
                    return len(missing)
                # periods newer than the newest row before them are empty: marked at once
                last = conn.scalar(
                    select(func.max(_EVENTS.at)).where(
                        _EVENTS.at >= utc(oldest), _EVENTS.at < utc(missing[0] + PERIOD)
                    )
                )
            last_period = int(last.timestamp()) // PERIOD * PERIOD if last else oldest - PERIOD
            empty = [p for p in missing if p > last_period]
            begun = time.monotonic()
            try:
                with self.store.unit() as repo:
                    self._roll(
                        repo.session.connection(), empty or missing[:size], oldest, not empty
                    )
            except IntegrityError:
                pass  # another dashboard rolled one of these periods up first: look again
            took = time.monotonic() - begun
            if not empty and took < CHUNK_SECONDS / 2:
                size = min(MAX_CHUNK, size * 2)
            elif took > CHUNK_SECONDS * 2:
                size = max(1, size // 2)
            rolled_some = True

    def _roll(self, conn: Connection, periods: list[int], oldest: int, read: bool) -> None:
        """Rolls ``periods`` up (``read``: False when they are known to have no rows)."""
        conn.execute(insert(AuditRolledPeriod.__table__), [{"period": p} for p in periods])
        period = _floor(self.dialect, _EVENTS.at, PERIOD)
        for start, end in _runs(periods) if read else ():
            in_run = (_EVENTS.at >= utc(start), _EVENTS.at < utc(end), CALLS)
            service = func.coalesce(_EVENTS.service_id, literal_column("''"))
            for table, columns, values in (
                (AuditCallsByCode, ["period", "code", "calls"], [_EVENTS.code, func.count()]),
                (
                    AuditCallsByService,
                    ["period", "service_id", "calls", "failures"],
                    [service, func.count(), _failures(_EVENTS.code)],
                ),
                (
                    AuditLatency,
                    ["period", "bucket", "calls"],
                    [_EVENT_BUCKET, func.count()],
                ),
            ):
                query = select(period, *values).where(*in_run).group_by(_FIRST, _SECOND)
                conn.execute(insert(table.__table__).from_select(columns, query))
        for old in (AuditRolledPeriod, AuditCallsByCode, AuditCallsByService, AuditLatency):
            conn.execute(delete(old.__table__).where(old.__table__.c.period < oldest))

    # -- reading ---------------------------------------------------------------------------------

    def _windows(self, conn: Connection, now: float) -> dict[str, core.WindowSummary]:
        """Both windows at once: rolled-up periods (``settled`` is later than either window's
        start) summed per window by conditional sums, and the newer rows, which belong to both,
        read once."""
        settled = _settled(now)
        firsts = [window.first_bar(now) for window in core.WINDOWS]
        recent = and_(_EVENTS.at >= utc(settled), CALLS)

        def rolled(table: Any) -> tuple[ColumnElement[bool], ...]:
            return (table.period >= min(firsts), table.period < settled)

        def per_window(table: Any, value: Any) -> list[ColumnElement[int]]:
            return [func.sum(case((table.period >= first, value), else_=0)) for first in firsts]

        periods = [
            *conn.execute(
                select(_BY_CODE.period, _BY_CODE.code, _BY_CODE.calls).where(*rolled(_BY_CODE))
            ),
            *conn.execute(
                select(_floor(self.dialect, _EVENTS.at, PERIOD), _EVENTS.code, func.count())
                .where(recent)
                .group_by(_FIRST, _SECOND)
            ),
        ]
        n = len(core.WINDOWS)
        services: list[dict[str, tuple[int, int]]] = [{} for _ in range(n)]
        newest_services = conn.execute(
            select(_EVENTS.service_id, func.count(), _failures(_EVENTS.code))
            .where(recent)
            .group_by(_FIRST)
        ).all()
        for service_id, *sums in [
            *conn.execute(
                select(
                    _BY_SERVICE.service_id,
                    *per_window(_BY_SERVICE, _BY_SERVICE.calls),
                    *per_window(_BY_SERVICE, _BY_SERVICE.failures),
                )
                .where(*rolled(_BY_SERVICE))
                .group_by(_FIRST)
            ),
            *((s, *[c] * n, *[f] * n) for s, c, f in newest_services),
        ]:
            for i in range(n):
                calls, failures = services[i].get(service_id or "", (0, 0))
                services[i][service_id or ""] = (
                    calls + int(sums[i]),
                    failures + int(sums[n + i]),
                )
        histograms: list[dict[int, int]] = [{} for _ in range(n)]
        newest_latency = conn.execute(
            select(_EVENT_BUCKET, func.count()).where(recent).group_by(_FIRST)
        ).all()
        for bucket, *sums in [
            *conn.execute(
                select(_LATENCY.bucket, *per_window(_LATENCY, _LATENCY.calls))
                .where(*rolled(_LATENCY))
                .group_by(_FIRST)
            ),
            *((b, *[c] * n) for b, c in newest_latency),
        ]:
            for i in range(n):
                histograms[i][int(bucket)] = histograms[i].get(int(bucket), 0) + int(sums[i])

        summaries = {}
        for i, window in enumerate(core.WINDOWS):
            rows = ((int(p), int(c), int(k)) for p, c, k in periods)
            by_service = [core.ServiceCalls(s, c, f) for s, (c, f) in services[i].items() if c]
            summaries[window.name] = core.WindowSummary(
                core.call_series(window, now, rows),
                core.latency({b: k for b, k in histograms[i].items() if k}),
                core.busiest(by_service),
                core.failing(by_service),
            )
        return summaries

    def _locked(self, conn: Connection) -> tuple[int, list[core.LockedToken]]:
        accounts = Account.__table__.c
        count = conn.scalar(select(func.count()).select_from(Token.__table__).where(LOCKED)) or 0
        rows = conn.execute(
            select(_TOKENS.serial, accounts.account, _TOKENS.locked_at)
            .select_from(Token.__table__.outerjoin(Account.__table__))
            .where(LOCKED)
            .order_by(_TOKENS.locked_at.desc())
            .limit(core.LOCKED_SHOWN)
        )
        return count, [
            core.LockedToken(serial, account, at.timestamp() if at else None)
            for serial, account, at in rows
        ]


def _settled(now: float) -> int:
    """Start of the first period not settled at ``now``: periods before it can be rolled up."""
    return int((now - SETTLE) // PERIOD) * PERIOD


def _runs(periods: list[int]) -> Iterator[tuple[int, int]]:
    """Contiguous spans ``(start, end)`` covering ``periods`` (any order)."""
    ordered = sorted(periods)
    start = previous = ordered[0]
    for period in ordered[1:]:
        if period != previous + PERIOD:
            yield start, previous + PERIOD
            start = period
        previous = period
    yield start, previous + PERIOD
