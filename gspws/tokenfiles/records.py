"""One token as a file describes it, checked against gspws's rules before anything is stored.

Both readers (PSKC, CSV) turn each entry into a :class:`TokenRecord` through :func:`token_record`,
so a token is accepted or refused by the same rules whichever file it came in, and those rules are
gspws's own (:mod:`gspws.core.otp`: secret length, algorithms, digits, periods;
:mod:`gspws.core.names`: account names), never a second copy of them.
"""

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gspws.core import names, otp
from gspws.errors import GspwsError

TYPES = ("totp", "hotp", "ocra")
#: What a serial may be: what hardware tokens print on their back, and fits ``tokens.serial``.
SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
#: The shape of an RFC 6287 suite: ``OCRA-1:HOTP-<hash>-<digits>:<data input>``. (The data input,
#: e.g. ``C-QN08-PSHA1``, is checked by the OCRA verifier when the token is used.)
OCRA_SUITE = re.compile(r"OCRA-1:HOTP-(SHA1|SHA256|SHA512)-(\d{1,2}):([A-Za-z0-9-]{1,40})")


class BadTokenFile(GspwsError):
    """A token file gspws refuses as a whole: names the entry (serial or line) and the reason."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(f"{entry}: {reason}; nothing imported")
        self.entry, self.reason = entry, reason


@dataclass(frozen=True)
class TokenRecord:
    """A token to import. ``secret`` is base32 (as every token's secret is kept, encrypted);
    ``last_step`` the last counter used (``None``: none yet), from a file's *next* counter;
    ``account`` the canonical name of the account the file assigns it to, or None."""

    entry: str
    serial: str
    secret: str
    type: str
    algorithm: str
    digits: int
    period: int
    last_step: int | None
    drift: int = 0
    ocra_suite: str | None = None
    account: str | None = None


def token_record(
    entry: str,
    *,
    serial: str | None,
    secret: bytes | None,
    type: str,
    algorithm: str | None,
    digits: int | None,
    period: int | None = None,
    counter: int | None = None,
    drift: int | None = None,
    ocra_suite: str | None = None,
    account: str | None = None,
) -> TokenRecord:
    """The checked record, or BadTokenFile naming ``entry`` and what is wrong.

    ``counter`` is the next counter value the token will use (PSKC's ``Counter``; 0 for a new
    token); ``algorithm`` and ``digits`` default to SHA1 and 6, and come from the suite for OCRA.
    """

    def refuse(reason: str) -> BadTokenFile:
        return BadTokenFile(entry, reason)

    if not serial or not SERIAL.fullmatch(serial):
        raise refuse(
            f"serial {serial!r} is not 1 to 32 letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit)"
        )
    if type not in TYPES:
        raise refuse(f"type {type!r} is not one of {', '.join(TYPES)}")
    if secret is None:
        raise refuse("no secret")
    encoded = base64.b32encode(secret).decode("ascii").rstrip("=")
    if not otp.valid_secret(encoded):
        raise refuse(f"the secret has {len(secret) * 8} bits; gspws needs at least 112")
    if type == "ocra":
        algorithm, digits = _from_suite(ocra_suite, digits, refuse)
    else:
        ocra_suite = None
    algorithm = (algorithm or otp.DEFAULT_ALGORITHM).upper().replace("-", "").replace("HMAC", "")
    if algorithm not in otp.ALGORITHMS:
        raise refuse(f"algorithm {algorithm!r} is not one of {_listed(otp.ALGORITHMS)}")
    digits = otp.DEFAULT_DIGITS if digits is None else digits
    if digits not in otp.DIGITS:
        raise refuse(f"{digits} digits: gspws takes {_listed(otp.DIGITS)}")
    if type == "totp":
        period = otp.DEFAULT_PERIOD if period is None else period
        if period not in otp.PERIODS:
            raise refuse(f"period {period} s is not one of {_listed(otp.PERIODS)}")
        counter = None
    elif period is not None:
        raise refuse(f"a {type.upper()} token has a counter, not a period")
    if counter is not None and counter < 0:
        raise refuse(f"counter {counter} is negative")
    if account is not None:
        try:
            account = names.account_name(account)
        except ValueError as exc:
            raise refuse(f"user {account!r}: {exc}") from None
    return TokenRecord(
        entry=entry,
        serial=serial,
        secret=encoded,
        type=type,
        algorithm=algorithm,
        digits=digits,
        period=period or otp.DEFAULT_PERIOD,
        last_step=counter - 1 if counter else None,
        drift=drift or 0,
        ocra_suite=ocra_suite,
        account=account,
    )


def _from_suite(
    suite: str | None, digits: int | None, refuse: Callable[[str], BadTokenFile]
) -> tuple[str, int]:
    """An OCRA token's hash and digits, which its suite fixes (a file saying other digits is
    refused rather than guessed at)."""
    match = OCRA_SUITE.fullmatch(suite or "")
    if match is None:
        raise refuse(f"OCRA suite {suite!r} is not of the form OCRA-1:HOTP-SHA1-6:QN08")
    suite_digits = int(match.group(2))
    if digits is not None and digits != suite_digits:
        raise refuse(f"{digits} digits contradict the suite {suite}")
    return match.group(1), suite_digits


def _listed(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


def no_duplicates(records: list[TokenRecord]) -> list[TokenRecord]:
    """``records``, or BadTokenFile naming the second entry of a serial the file repeats."""
    first: dict[str, str] = {}
    for record in records:
        if record.serial in first:
            also = first[record.serial]
            raise BadTokenFile(
                record.entry,
                f"serial {record.serial} appears twice"
                + (f" (also {also})" if also != record.entry else " in the file"),
            )
        first[record.serial] = record.entry
    return records
