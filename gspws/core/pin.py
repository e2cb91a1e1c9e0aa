"""Static PINs typed before a token's code (OTP.asmx ``Auth``: password = PIN + code), activation
passwords and administrators' passwords: argon2id (argon2-cffi), only the hash stored.

The cost is a setting (``GSPWS_PASSWORD_HASHING``): the composition builds a :class:`Passwords`
from it (gspws.compose.passwords_of) for each use case that hashes or checks. Production's
default is RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes): about 0.4 s a hash
on the 2-core test machine, which was 18 of the 26 s of the console sign-in tests; the test
suite runs argon2-cffi's ``cheapest`` (0.2 ms). A stored hash carries its own parameters, so one
made under any profile is checked under any other: changing the setting never locks a PIN or
password out.
"""

from functools import cached_property

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

#: GSPWS_PASSWORD_HASHING's choices: argon2-cffi's profiles.
PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
DEFAULT_PROFILE = "rfc9106-low-memory"

MIN_LENGTH, MAX_LENGTH = 4, 16


class Passwords:
    """argon2id hashes at one profile's cost, checked in constant time
    (``PasswordHasher.verify``)."""

    def __init__(self, profile: str = DEFAULT_PROFILE) -> None:
        self._hasher = PasswordHasher.from_parameters(PROFILES[profile])

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def matches(self, stored: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False

    @cached_property
    def _dummy(self) -> str:
        """Checked against when there is no administrator of the name, so that a sign-in with
        an unknown name costs as long as one with a wrong password (made once, when needed)."""
        return self.hash("gspws: no such administrator")

    def password_matches(self, stored: str | None, password: str) -> bool:
        """An administrator's password; a missing hash costs the same (:attr:`_dummy`)."""
        return self.matches(stored or self._dummy, password) and stored is not None


def valid_pin(pin: str) -> bool:
    """4–16 ASCII digits or letters: what a person can type before a code on any keypad."""
    return MIN_LENGTH <= len(pin) <= MAX_LENGTH and pin.isascii() and pin.isalnum()


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
