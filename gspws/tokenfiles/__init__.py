"""Token files (hardware tokens' seed files) read into checked records; no database here.

:func:`read_token_file` takes PSKC (RFC 6030, :mod:`.pskc_file`) or CSV (:mod:`.csv_file`),
told apart by content (XML starts with ``<``). A file is accepted whole or refused whole: the
first entry refused raises :class:`BadTokenFile` naming it (serial or line) and why. Storing the
records is :func:`gspws.store.pool.import_tokens`. Formats: docs/tokens.md.
"""

from pathlib import Path

from gspws.tokenfiles.csv_file import read_csv
from gspws.tokenfiles.pskc_file import read_pskc
from gspws.tokenfiles.records import BadTokenFile, TokenRecord

__all__ = ["BadTokenFile", "TokenRecord", "pskc_key", "read_token_file"]


def pskc_key(text: str) -> bytes:
    """A PSKC pre-shared key typed in hex (spaces allowed): an AES key of 128, 192 or 256 bits.
    ValueError with a message for a person otherwise (the CLI's --key, the console's form)."""
    try:
        key = bytes.fromhex(text.replace(" ", ""))
    except ValueError:
        raise ValueError("not hex") from None
    if len(key) not in (16, 24, 32):
        raise ValueError(f"{len(key) * 8} bits: an AES key has 128, 192 or 256")
    return key


def read_token_file(
    path: Path, key: bytes | None = None, password: str | None = None, users: bool = True
) -> list[TokenRecord]:
    """The tokens of the file at ``path``. ``key``/``password`` open an encrypted PSKC file;
    ``users=False`` ignores the user ids the file assigns (every token to the pool)."""
    try:
        with open(path, "rb") as f:
            start = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise BadTokenFile(str(path), exc.strerror or str(exc)) from None
    if start.startswith(b"<"):
        return read_pskc(path, key, password, users)
    if key is not None or password is not None:
        raise BadTokenFile(str(path), "a CSV file is not encrypted: --key/--password are for PSKC")
    return read_csv(path, users)
