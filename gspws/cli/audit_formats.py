r"""The formats of ``gspws audit export``: CSV with a header row, or JSON Lines.

Both write the columns the store reads (:data:`gspws.store.audit_export.COLUMNS`), times as
ISO-8601 UTC. The account and ServiceID are whatever callers sent, so neither format writes a
control character raw: a carriage return in an account forged a whole row on a terminal, and
escape sequences could rewrite the screen. CSV shows them as ``\xNN`` / ``\uNNNN``; JSON Lines
as JSON escapes (the value reads back exactly).
"""

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from gspws.store.audit_export import COLUMNS


def iso_utc(value: datetime) -> str:
    """``2026-05-01T08:00:00.123456Z``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


#: What a terminal or a line-splitting reader acts on: C0 and C1 controls, DEL, the Unicode line
#: and paragraph separators, and the bidirectional overrides (they reorder what is shown).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_FORMULA_START = ("=", "+", "-", "@")


def _visible(match: re.Match) -> str:
    char = ord(match.group())
    return f"\\x{char:02x}" if char < 0x100 else f"\\u{char:04x}"


def _json_escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def _cell(value) -> str:
    """A CSV cell: control characters made visible, and text starting like a spreadsheet formula
    given a leading ``'`` (an operator opening the file must not run a caller's formulas)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    text = UNSAFE.sub(_visible, str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Line:
    """What csv.writer writes to: keeps the last line, for :func:`csv_lines` to hand on."""

    text = ""

    def write(self, text: str) -> None:
        self.text = text


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    """The CSV, a line at a time (the header first): the console streams it as a download."""
    line = _Line()
    writer = csv.writer(line)
    writer.writerow(COLUMNS)
    yield line.text
    for row in rows:
        writer.writerow([_cell(row[name]) for name in COLUMNS])
        yield line.text


def write_csv(rows: Iterator[dict], out: IO[str]) -> int:
    count = -1  # (the header)
    for text in csv_lines(rows):
        out.write(text)
        count += 1
    return count


def write_json_lines(rows: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        record = {
            name: (iso_utc(value) if isinstance(value, datetime) else value)
            for name, value in row.items()
        }
        # json escapes C0 controls itself; the rest of UNSAFE is escaped here, as valid JSON.
        out.write(UNSAFE.sub(_json_escape, json.dumps(record, ensure_ascii=False)) + "\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "json": write_json_lines}
