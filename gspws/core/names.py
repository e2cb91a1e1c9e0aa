"""What an account name and an e-mail address may be: the one rule every door applies.

**Account names** are GSP account IDs: short identifiers such as ``wederlin``, or Chinese ones
such as ``測試帳號`` (callers send them in UTF-8, UTF-16 or Big5). An account name is taken in its
canonical form:

1. Unicode NFKC, so compatibility forms read as what they look like (full-width ``ａｌｉｃｅ`` is
   ``alice``);
2. surrounding white space dropped (SQL Server, under the legacy service, ignores trailing
   spaces when comparing);
3. case folded (Unicode ``casefold``, then NFKC again): the legacy service ran on SQL Server,
   whose default collation compares case-insensitively, so ``Alice`` and ``alice`` were one
   account there and are one here;
4. then it must be 1 to :data:`MAX_ACCOUNT_LENGTH` characters, each a letter or a decimal digit
   of any script, or one of ``.``, ``_``, ``-``, ``@`` (some agencies use e-mail-like IDs),
   starting with a letter or digit.

So no control or format characters (nothing that moves a terminal's cursor or reorders text), no
``/`` or ``..`` paths, no spaces or symbols, and no two accounts that differ only in width or
case. (Letters of different scripts that look alike, Latin ``a`` and Cyrillic ``а``, stay
distinct: real IDs of either script exist.) Operators create accounts in this form; a caller's
account is looked up in it, and one that cannot be put in it cannot exist (3001).

**E-mail addresses**: one plain ``local@domain`` address per field (no display name, comment or
list), ASCII, dot-atom local part, a domain name with a dot, at most 254 characters (RFC 5321):
an invitation goes to exactly the address an operator meant.
"""

import re
import unicodedata
from email.utils import getaddresses

MAX_ACCOUNT_LENGTH = 128  # the store's column; real GSP IDs are far shorter
MAX_EMAIL_LENGTH = 254

_PUNCTUATION = frozenset("._-@")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")


def account_name(text: str) -> str:
    """The canonical form of an account name; ValueError (saying why) when there is none."""
    name = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).strip().casefold())
    if (
        not 1 <= len(name) <= MAX_ACCOUNT_LENGTH
        or not _alphanumeric(name[0])
        or not all(_alphanumeric(ch) or ch in _PUNCTUATION for ch in name)
    ):
        raise ValueError(
            f"an account name is 1 to {MAX_ACCOUNT_LENGTH} letters, digits, '.', "
            "'_', '-' or '@', starting with a letter or digit (case does not matter)"
        )
    return name


def _alphanumeric(ch: str) -> bool:
    """A letter or a decimal digit, of any script."""
    return unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"


def lookup(text: str | None) -> str | None:
    """The account a caller's ``text`` names, canonical; None when no account can have it."""
    try:
        return account_name(text) if text else None
    except ValueError:
        return None


def email_address(text: str) -> str:
    """``text`` as one plain e-mail address; ValueError when it is not exactly that."""
    text = text.strip()
    pairs = getaddresses([text])
    if len(text) > MAX_EMAIL_LENGTH or pairs != [("", text)] or not _EMAIL.fullmatch(text):
        raise ValueError(f"{text!r} is not one plain e-mail address (local@domain.example)")
    return text
