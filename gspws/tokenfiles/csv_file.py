"""CSV token files: one token a line, for seed lists that do not come as PSKC.

UTF-8 (a byte-order mark is allowed), comma-separated, a header line naming the columns in any
order: ``serial, secret, type, algorithm, digits, period_or_counter`` and optionally ``account``.
No other column is accepted (a misspelt ``acount`` would otherwise be dropped silently).

* ``secret``: **hex** (what vendors' seed lists and the RFC test vectors are written in; spaces
  and a ``0x`` prefix are ignored). Base32 is not accepted: ``ABCDEF...`` reads as both.
* ``type``: ``totp``, ``hotp`` or ``ocra``.
* ``algorithm``: ``SHA1``, ``SHA256`` or ``SHA512`` (empty: SHA1); for OCRA the suite, e.g.
  ``OCRA-1:HOTP-SHA1-6:QN08``.
* ``digits``: 6 or 8 (empty: 6; for OCRA, empty or the suite's).
* ``period_or_counter``: TOTP: the period in seconds (30 or 60; empty: 30); HOTP and OCRA: the
  next counter value the token will use, as PSKC's ``Counter`` (empty or 0 for a new token).
* ``account``: the account the token is assigned to (it must exist); empty: the pool.
"""

import binascii
import csv
from pathlib import Path

from gspws.core.digits import whole_number
from gspws.tokenfiles.records import BadTokenFile, TokenRecord, no_duplicates, token_record

REQUIRED = ("serial", "secret", "type", "algorithm", "digits", "period_or_counter")
OPTIONAL = ("account",)


def read_csv(path: Path, users: bool = True) -> list[TokenRecord]:
    """Every token of the CSV file at ``path``; BadTokenFile for the first line refused.
    ``users=False`` ignores the ``account`` column (every token goes to the pool)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        try:
            rows = list(csv.reader(f))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BadTokenFile(str(path), f"not a UTF-8 CSV file ({exc})") from None
    if not rows:
        raise BadTokenFile(str(path), "empty file")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        raise BadTokenFile(
            "line 1",
            f"the header must name {', '.join(REQUIRED)} (and optionally account)"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else ""),
        )
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise BadTokenFile(f"line {number}", f"{len(row)} fields, the header has {len(header)}")
        fields = dict(zip(header, (cell.strip() for cell in row), strict=True))
        if not users:
            fields.pop("account", None)
        records.append(_record(f"line {number}", fields))
    if not records:
        raise BadTokenFile(str(path), "no token in the file")
    return no_duplicates(records)


def _record(entry: str, fields: dict[str, str]) -> TokenRecord:
    kind = fields["type"].lower()
    number = _integer(entry, "period_or_counter", fields["period_or_counter"])
    return token_record(
        entry,
        serial=fields["serial"],
        secret=_hex(entry, fields["secret"]),
        type=kind,
        algorithm=None if kind == "ocra" else fields["algorithm"] or None,
        digits=_integer(entry, "digits", fields["digits"]),
        period=number if kind == "totp" else None,
        counter=None if kind == "totp" else number,
        ocra_suite=fields["algorithm"] if kind == "ocra" else None,
        account=fields.get("account") or None,
    )


def _hex(entry: str, text: str) -> bytes:
    text = text.replace(" ", "")
    text = text[2:] if text[:2].lower() == "0x" else text
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise BadTokenFile(entry, "the secret is not hex (an even number of 0-9, a-f)") from None


def _integer(entry: str, column: str, text: str) -> int | None:
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise BadTokenFile(entry, f"{column} {text!r} is not a whole number")
    return number
