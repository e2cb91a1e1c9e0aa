"""Exporting the audit trail: the command parses its times, the store reads
(:mod:`gspws.store.audit_export`), :mod:`gspws.cli.audit_formats` writes."""

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

import click

from gspws.cli.base import Context, main, pass_ctx

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """An instant from ``text``: a relative age (``90m``, ``24h``, ``7d``, ``2w``: that long before
    ``now``), an ISO-8601 date (midnight in ``zone``) or an ISO-8601 date and time (in ``zone``
    unless it carries an offset, e.g. ``2026-05-01T08:00+08:00``); ``zone`` is UTC for the CLI,
    GSPWS_ADMIN_TIMEZONE for the console. Raises ValueError with a message for a person."""
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO-8601 date/time (2026-05-01, "
            f"2026-05-01T08:00:00Z, 2026-05-01T08:00+08:00) nor an age such as "
            f"30m, 24h or 7d"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _when(text: str, now: datetime, option: str) -> datetime:
    try:
        return parse_time(text, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


@main.group()
def audit() -> None:
    """The audit trail of SOAP calls (no codes, no secrets)."""


@audit.command("export")
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="WHEN",
    help="From (inclusive): an age such as 30m, 24h, 7d, 2w, or an ISO-8601 date or "
    "date-time (UTC unless it has an offset).",
)
@click.option("--until", metavar="WHEN", help="To (exclusive), same forms. Default: no limit.")
@click.option("--service", "service_id", metavar="SERVICE_ID", help="Only this ServiceID.")
@click.option("--account", help="Only this account.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv (with a header row) or json (JSON Lines: one object per line).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="File to write (replaced when complete). Default: stdout.",
)
@pass_ctx
def audit_export(
    c: Context,
    since: str,
    until: str | None,
    service_id: str | None,
    account: str | None,
    fmt: str,
    output: str,
) -> None:
    """Export audit events, oldest first: at (ISO-8601 UTC), service_id, client_addr, operation,
    account, code, duration_ms."""
    from gspws.cli.audit_formats import WRITERS
    from gspws.store import audit_export as export

    now = datetime.now(UTC)
    start = _when(since, now, "--since")
    end = _when(until, now, "--until") if until is not None else None
    if end is not None and end <= start:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    engine = export.reading_engine(c.settings)
    query = export.Query(start, end, service_id, account)
    try:
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
            count = WRITERS[fmt](export.events(engine, query), out)
    finally:
        engine.dispose()
    click.echo(f"{count} audit events exported", err=True)


@audit.command("summarise")
@pass_ctx
def audit_summarise(c: Context) -> None:
    """Summarise the last 7 days for the operator console's dashboard now, rather than a little
    at each view: once after upgrading (the benchmark rolled 10,000,000 rows up in about 2
    minutes), or from a timer every few minutes so that no view waits (gspws.store.dashboard)."""
    import time

    from gspws.store.dashboard import DashboardQueries

    left = DashboardQueries(c.store, budget=float("inf")).roll_up(time.time())
    click.echo(f"audit trail summarised ({left} periods left)", err=True)
