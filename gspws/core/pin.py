"""Static PINs typed before a token's code (OTP.asmx ``Auth``: password = PIN + code).

argon2-cffi's argon2id with its defaults (RFC 9106's second recommended profile); only the hash
is stored (``tokens.pin_hash``). ``PasswordHasher.verify`` compares in constant time.
"""

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
