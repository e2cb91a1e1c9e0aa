"""The formats of ``gspws audit export``: CSV with a header row, or JSON Lines.

Both write the columns the store reads (:data:`gspws.store.audit_export.COLUMNS`), times as
ISO-8601 UTC.
"""

import csv
import json
from datetime import datetime, timezone
from typing import IO, Iterator

from gspws.store.audit_export import COLUMNS


def iso_utc(value: datetime) -> str:
    """``2026-05-01T08:00:00.123456Z``."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


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
