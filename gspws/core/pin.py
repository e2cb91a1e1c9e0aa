"""Static PINs typed before a token's code (OTP.asmx ``Auth``: password = PIN + code).

argon2-cffi's argon2id with its defaults (RFC 9106's second recommended profile); only the hash
is stored (``tokens.pin_hash``). ``PasswordHasher.verify`` compares in constant time.
"""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()

MIN_LENGTH, MAX_LENGTH = 4, 16


def valid_pin(pin: str) -> bool:
    """4–16 ASCII digits or letters: what a person can type before a code on any keypad."""
    return MIN_LENGTH <= len(pin) <= MAX_LENGTH and pin.isascii() and pin.isalnum()


def hash_pin(pin: str) -> str:
    return _HASHER.hash(pin)


def pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return _HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


# -- administrators' passwords (the operator console, gspws.core.admins) -------------------------

PASSWORD_MIN, PASSWORD_MAX = 12, 128
#: Fewer distinct characters than this is a pattern (``aaaaaaaaaaaa``, ``abababababab``).
PASSWORD_DISTINCT = 5


def password_problem(password: str, name: str) -> str | None:
    """Why ``password`` is not acceptable for administrator ``name``, or None. NIST SP 800-63B's
    idea: length over composition rules. 12–128 characters (any, spaces too), at least
    :data:`PASSWORD_DISTINCT` different ones, and not containing the administrator's name."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return "length"
    if len(set(password)) < PASSWORD_DISTINCT:
        return "pattern"
    if name and name.lower() in password.lower():
        return "contains_name"
    return None


def hash_password(password: str) -> str:
    """argon2id, with the same hasher (and parameters) as PINs."""
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    """Verified against when there is no administrator of the name, so that a sign-in with an
    unknown name costs as long as one with a wrong password (made once, when first needed)."""
    return _HASHER.hash("gspws: no such administrator")


def password_matches(password_hash: str | None, password: str) -> bool:
    """Constant-time check (argon2); a missing hash costs the same (:func:`_dummy_hash`)."""
    return pin_matches(password_hash or _dummy_hash(), password) and password_hash is not None
