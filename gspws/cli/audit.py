"""Exporting the audit trail."""


import click

from gspws.cli.base import Context, db_error, main, pass_ctx


@main.group()
def audit() -> None:
    """The audit trail of SOAP calls (no codes, no secrets)."""


@audit.command("export")
@click.option("--since", default="24h", show_default=True, metavar="WHEN",
              help="From (inclusive): an age such as 30m, 24h, 7d, 2w, or an ISO-8601 date or "
                   "date-time (UTC unless it has an offset).")
@click.option("--until", metavar="WHEN", help="To (exclusive), same forms. Default: no limit.")
@click.option("--service", "service_id", metavar="SERVICE_ID", help="Only this ServiceID.")
@click.option("--account", help="Only this account.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="csv (with a header row) or json (JSON Lines: one object "
                                      "per line).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default="-",
              help="File to write (replaced when complete). Default: stdout.")
@pass_ctx
def audit_export(c: Context, since: str, until: str | None, service_id: str | None,
                 account: str | None, fmt: str, output: str) -> None:
    """Export audit events, oldest first: at (ISO-8601 UTC), service_id, client_addr, operation,
    account, code, duration_ms."""
    from datetime import datetime, timezone

    from gspws.store import audit_export as export
    now = datetime.now(timezone.utc)
    try:
        start = export.parse_time(since, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        end = export.parse_time(until, now) if until is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    if end is not None and end <= start:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    from sqlalchemy.exc import SQLAlchemyError
    engine = export.reading_engine(c.settings)
    query = export.Query(start, end, service_id, account)
    try:
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
            count = export.WRITERS[fmt](export.events(engine, query), out)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error: {db_error(exc)}") from None
    finally:
        engine.dispose()
    click.echo(f"{count} audit events exported", err=True)
