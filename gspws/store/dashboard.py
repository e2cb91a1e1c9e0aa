"""The dashboard's figures (gspws.core.dashboard.DashboardSource), read from a rollup of the
audit trail that the dashboard keeps up to date itself.

Why a rollup, and why filled by the dashboard (figures: ``bench/console.py``, 10,000,000 audit
rows over 7 days, machine loaded, see docs/admin.md): every figure read straight from
``audit_events`` means grouping the whole window; for 7 days that is every row of the table
(seconds on either database), far over the console's 300 ms. ``audit_rollup`` (calls per 10-minute
period, service and code) and ``audit_latency`` (calls per period and latency bucket) hold about
a thousand rows a period at most, so the 7-day figures are small GROUP BYs over them.

Who fills them: not the call. VerifyTOTPCode writes its audit row in the very statement that
settles the code (gspws.store.verification); adding an upsert of a per-minute counter row to it
would add a statement to every login and make all workers queue on the same hot counter row
(PostgreSQL row lock; on SQLite the write lock is held longer). Instead the dashboard, when it is
opened, rolls up the whole periods that ended at least :data:`SETTLE` seconds ago and are not
rolled up yet (:data:`CHUNK` periods per short transaction, so SQLite's write lock is never held
long), and reads everything newer straight from ``audit_events`` (at most ``SETTLE`` + one period
of rows, found through the index on ``at``). The rollup is exact, not sampled; an audit row
committed more than ``SETTLE`` after its ``at`` would be missed (no transaction of gspws lasts
that long: statements time out after ``GSPWS_DB_TIMEOUT``).

Several dashboards at once: the rows of a chunk and the move of ``audit_rollup_state`` are one
transaction, the move a conditional UPDATE from the mark read; a loser (0 rows, or a duplicate
key on PostgreSQL) rolls back and reads the winner's rows.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from gspws.core import dashboard as core
from gspws.store.models import (
    Account,
    AuditEvent,
    AuditLatency,
    AuditRollup,
    AuditRollupState,
    OutboxMessage,
    Token,
    TokenStatus,
)
from gspws.store.repo import Store
from gspws.store.verification import utc

#: Seconds of the rollup's periods (the 24-hour chart's bar).
PERIOD = 600
#: A period is rolled up once it ended this many seconds ago, so that every audit row of it has
#: been committed.
SETTLE = 120
#: Periods rolled up per transaction (1 hour: ~60,000 audit rows at 1,000 calls a minute).
CHUNK = 6

_EVENTS = AuditEvent.__table__.c
_ROLLUP = AuditRollup.__table__.c
_LATENCY = AuditLatency.__table__.c
_STATE = AuditRollupState.__table__.c
_BY_POSITION: tuple[ColumnElement[Any], ...] = (literal_column("1"), literal_column("2"))


def _floor(dialect: str, at: Any, width: int) -> ColumnElement[int]:
    """``at`` (a timestamp column) as the Unix start of its ``width``-second bar, in SQL."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", at), BigInteger) // width * width
    return cast(func.floor(func.extract("epoch", at) / width), BigInteger) * width


def _bucket(duration: Any) -> ColumnElement[int]:
    """gspws.core.dashboard.latency_bucket in SQL."""
    bounds = core.LATENCY_BOUNDS
    return case(*((duration <= bound, i) for i, bound in enumerate(bounds)), else_=len(bounds))


def _failures(code: Any, calls: Any) -> ColumnElement[int]:
    return func.sum(case((code.in_(sorted(core.SUCCESS_CODES)), 0), else_=calls))


class DashboardQueries:
    """:class:`gspws.core.dashboard.DashboardSource` on a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dialect = store.engine.dialect.name

    def overview(self, now: float) -> core.Overview:
        rolled_until = self.roll_up(now)
        with self._reading() as conn:
            windows = {w.name: self._window(conn, w, now, rolled_until) for w in core.WINDOWS}
            locked_count, locked = self._locked(conn)
            waiting = conn.scalar(
                select(func.count()).where(OutboxMessage.__table__.c.status == "pending")
            )
        return core.Overview(now, windows, locked_count, locked, waiting or 0)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.store.reading() as repo:
            yield repo.session.connection()

    # -- the rollup ------------------------------------------------------------------------------

    def roll_up(self, now: float) -> int:
        """Rolls up every whole period that settled by ``now`` and lies in the 7-day window;
        returns the mark: periods before it are in the rollup tables, rows from it are not."""
        target = int((now - SETTLE) // PERIOD) * PERIOD
        oldest = core.WEEK.first_bar(now)
        while True:
            try:
                with self.store.unit() as repo:
                    conn = repo.session.connection()
                    mark = self._mark(conn)
                    start = max(mark, oldest)
                    if start >= target:
                        return mark
                    end = min(target, start + CHUNK * PERIOD)
                    self._roll(conn, start, end, oldest)
                    moved = conn.execute(
                        update(AuditRollupState.__table__)
                        .where(_STATE.id == 1, _STATE.rolled_until == mark)
                        .values(rolled_until=end)
                    )
                    if moved.rowcount != 1:
                        raise _Overtaken
            except (_Overtaken, IntegrityError):
                continue  # another dashboard rolled these periods up first: read its mark

    def _mark(self, conn: Connection) -> int:
        mark = conn.scalar(select(_STATE.rolled_until).where(_STATE.id == 1))
        if mark is None:
            conn.execute(insert(AuditRollupState.__table__).values(id=1, rolled_until=0))
            return 0
        return int(mark)

    def _roll(self, conn: Connection, start: int, end: int, oldest: int) -> None:
        in_chunk = (_EVENTS.at >= utc(start), _EVENTS.at < utc(end))
        period = _floor(self.dialect, _EVENTS.at, PERIOD)
        conn.execute(
            insert(AuditRollup.__table__).from_select(
                ["period", "service_id", "code", "calls"],
                select(period, func.coalesce(_EVENTS.service_id, ""), _EVENTS.code, func.count())
                .where(*in_chunk)
                .group_by(*_BY_POSITION, literal_column("3")),
            )
        )
        conn.execute(
            insert(AuditLatency.__table__).from_select(
                ["period", "bucket", "calls"],
                select(period, _bucket(_EVENTS.duration_ms), func.count())
                .where(*in_chunk)
                .group_by(*_BY_POSITION),
            )
        )
        conn.execute(delete(AuditRollup.__table__).where(_ROLLUP.period < oldest))
        conn.execute(delete(AuditLatency.__table__).where(_LATENCY.period < oldest))

    # -- reading ---------------------------------------------------------------------------------

    def _window(
        self, conn: Connection, window: core.Window, now: float, rolled_until: int
    ) -> core.WindowSummary:
        first = window.first_bar(now)
        rolled = (_ROLLUP.period >= first, _ROLLUP.period < rolled_until)
        rolled_latency = (_LATENCY.period >= first, _LATENCY.period < rolled_until)
        recent = _EVENTS.at >= utc(max(first, rolled_until))

        bar = _ROLLUP.period // window.bar * window.bar
        rows = [
            *conn.execute(
                select(bar, _ROLLUP.code, func.sum(_ROLLUP.calls))
                .where(*rolled)
                .group_by(*_BY_POSITION)
            ),
            *conn.execute(
                select(_floor(self.dialect, _EVENTS.at, window.bar), _EVENTS.code, func.count())
                .where(recent)
                .group_by(*_BY_POSITION)
            ),
        ]
        series = core.call_series(window, now, ((int(s), int(c), int(n)) for s, c, n in rows))

        services: dict[str, tuple[int, int]] = {}
        for service_id, calls, failures in [
            *conn.execute(
                select(
                    _ROLLUP.service_id,
                    func.sum(_ROLLUP.calls),
                    _failures(_ROLLUP.code, _ROLLUP.calls),
                )
                .where(*rolled)
                .group_by(_ROLLUP.service_id)
            ),
            *conn.execute(
                select(_EVENTS.service_id, func.count(), _failures(_EVENTS.code, 1))
                .where(recent)
                .group_by(_EVENTS.service_id)
            ),
        ]:
            before = services.get(service_id or "", (0, 0))
            services[service_id or ""] = (before[0] + int(calls), before[1] + int(failures))
        by_service = [core.ServiceCalls(s, c, f) for s, (c, f) in services.items()]

        histogram: dict[int, int] = {}
        for bucket, calls in [
            *conn.execute(
                select(_LATENCY.bucket, func.sum(_LATENCY.calls))
                .where(*rolled_latency)
                .group_by(_LATENCY.bucket)
            ),
            *conn.execute(
                select(_bucket(_EVENTS.duration_ms), func.count())
                .where(recent)
                .group_by(literal_column("1"))
            ),
        ]:
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + int(calls)

        return core.WindowSummary(
            series, core.latency(histogram), core.busiest(by_service), core.failing(by_service)
        )

    def _locked(self, conn: Connection) -> tuple[int, list[core.LockedToken]]:
        tokens, accounts = Token.__table__.c, Account.__table__.c
        is_locked = tokens.status == TokenStatus.LOCKED
        count = conn.scalar(select(func.count()).where(is_locked)) or 0
        rows = conn.execute(
            select(tokens.serial, accounts.account, tokens.locked_at)
            .select_from(Token.__table__.outerjoin(Account.__table__))
            .where(is_locked)
            .order_by(tokens.locked_at.desc(), tokens.id.desc())
            .limit(core.LOCKED_SHOWN)
        )
        return count, [
            core.LockedToken(serial, account, at.timestamp() if at else None)
            for serial, account, at in rows
        ]


class _Overtaken(Exception):
    """Another dashboard moved the rollup's mark during this transaction."""
