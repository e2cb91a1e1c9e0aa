"""The audit trail: filter by time range, ServiceID, account, operation and return code, newest
first in keyset pages; export the filtered rows as CSV by the rules and code of
``gspws audit export`` (gspws.store.audit_export reads, gspws.cli.audit_formats writes; times as
the command takes them, gspws.cli.audit.parse_time)."""

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from gspws.admin.app import Console, Page
from gspws.cli.audit import parse_time
from gspws.cli.audit_formats import csv_lines, iso_utc
from gspws.core import codes
from gspws.core.digits import ascii_digits
from gspws.store import audit_export as export

PAGE = 50
FILTERS = ("since", "until", "service_id", "account", "operation", "code")


@dataclass(frozen=True)
class Filters:
    query: export.Query | None  # None: a filter is not understood (``problem`` says which)
    problem: str | None
    values: dict[str, str]


def filters(args: MultiDict, now: datetime, zone: tzinfo = UTC) -> Filters:
    """The filter the query asks for; times without an offset are read in ``zone``."""
    values = {name: args.get(name, "").strip() for name in FILTERS}
    values["since"] = values["since"] or "24h"
    try:
        since = parse_time(values["since"], now, zone)
        until = parse_time(values["until"], now, zone) if values["until"] else None
    except ValueError as exc:
        return Filters(None, str(exc), values)
    code = values["code"]
    if code and not (ascii_digits(code.lstrip("-")) and len(code) <= 9):
        return Filters(None, f"{code!r} is not a return code", values)
    query = export.Query(
        since,
        until,
        values["service_id"] or None,
        values["account"] or None,
        values["operation"] or None,
        int(code) if code else None,
    )
    return Filters(query, None, values)


def _before(text: str) -> tuple[datetime, int] | None:
    """The keyset of the next page: ``<ISO time>~<id>``."""
    at, _, last_id = text.rpartition("~")
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")), int(last_id)
    except ValueError:
        return None


def audit(page: Page, console: Console) -> Response:
    chosen = filters(page.request.args, _now(console), page.zone)
    rows: list = []
    following = None
    if chosen.query is not None:
        before = _before(page.request.args.get("before", ""))
        with console.store.reading() as repo:
            rows = export.newest_first(repo.session.connection(), chosen.query, before, PAGE + 1)
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            following = f"{iso_utc(rows[-1]['at'])}~{rows[-1]['id']}"
    return page.render(
        "audit",
        400 if chosen.problem else 200,
        rows=rows,
        f=chosen.values,
        error=chosen.problem,
        following=following,
        messages={code: rc.message for code, rc in codes.BY_CODE.items()},
        iso=iso_utc,
    )


def export_csv(page: Page, console: Console) -> Response:
    chosen = filters(page.request.args, _now(console), page.zone)
    if chosen.query is None:
        return audit(page, console)
    console.admins.audit(
        page.actor("ExportAudit"), codes.OK
    )  # (not under the filter's ServiceID or account: nothing was done to them)
    engine = export.reading_engine(console.settings)
    rows = export.events(engine, chosen.query)

    def stream():
        try:
            for line in csv_lines(rows):
                yield line.encode("utf-8")
        finally:
            engine.dispose()

    stamp = _now(console).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        stream(),
        200,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="gspws-audit-{stamp}.csv"'},
    )


def _now(console: Console) -> datetime:
    return datetime.fromtimestamp(console.clock(), UTC)


ROUTES = [
    ("audit", "audit", ["GET"], audit),
    ("audit/export", "audit_export", ["GET"], export_csv),
]
