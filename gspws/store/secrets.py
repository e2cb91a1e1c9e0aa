"""Token secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a rotatable MultiFernet.

A copy of the database alone reveals no secret: the keys live in ``GSPWS_SECRET_KEY`` or in a key
file outside the database (``$GSPWS_HOME/secret.key`` by default), created with mode 0600.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from gspws.config import ConfigError, Settings


class SecretBox:
    """Encrypts with the first key, decrypts with any (so keys can rotate)."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigError("no encryption key configured")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise ConfigError(f"invalid Fernet key: {exc}") from None

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode("ascii"))

    def decrypt(self, blob: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(blob)).decode("ascii")
        except InvalidToken:
            raise ConfigError("a token secret cannot be decrypted with the configured keys") from None

    @classmethod
    def from_settings(cls, settings: Settings, create: bool = True) -> "SecretBox":
        if settings.secret_key:
            return cls([k.strip().encode() for k in settings.secret_key.split(",") if k.strip()])
        return cls(read_key_file(settings.effective_key_file, create=create))


def read_key_file(path: Path, create: bool = True) -> list[bytes]:
    """Keys from ``path`` (one per line, newest first); creates it with one new key if absent."""
    if not path.exists():
        if not create:
            raise ConfigError(f"key file {path} does not exist")
        _create_key_file(path)
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` atomically: a complete 0600 file appears, or none does.

    The key is written to a private temporary file and hard-linked into place, so concurrent first
    starts of several workers agree on one key and none reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; its key is the one
    finally:
        tmp.unlink(missing_ok=True)
