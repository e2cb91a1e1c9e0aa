"""Token secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a rotatable MultiFernet.

A copy of the database alone reveals no secret: the keys live in ``GSPWS_SECRET_KEY`` or in a key
file outside the database (``$GSPWS_HOME/secret.key`` by default), created with mode 0600.

Key rotation (``gspws keys rotate``, see :mod:`gspws.store.rotation`) rewrites the key file while
workers run. A :class:`SecretBox` built from the key file therefore follows it:

* when a secret does not decrypt with the keys it holds, it re-reads the file and tries once more
  (the rotation writes the new key to the file *before* it re-encrypts anything, so a secret
  under a key the box does not know means the file has changed). The file is re-read at once when
  its ``stat`` changed, otherwise at most once per :data:`RELOAD_INTERVAL`, so a corrupt row costs
  a ``stat`` per request, not a read;
* before it encrypts, it re-reads the file if its ``stat`` changed, so a long-running process never
  writes a secret under a key that a rotation has retired.

Keys from ``GSPWS_SECRET_KEY`` are fixed for the life of the process.
"""

import hashlib
import os
import secrets as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from gspws.config import Settings
from gspws.errors import ConfigError, DataError

#: Seconds between two re-reads of an unchanged key file after a failed decryption.
RELOAD_INTERVAL = 1.0


class UnreadableSecret(DataError):
    """One stored secret opens with none of the configured keys (a data problem: the keys may be
    right for every other row)."""


def fingerprint(key: bytes | str) -> str:
    """What may be shown of a key: the first 8 hex digits of the SHA-256 of the key as written."""
    if isinstance(key, str):
        key = key.encode()
    return hashlib.sha256(key.strip()).hexdigest()[:8]


def _fernets(keys: list[bytes]) -> list[Fernet]:
    if not keys:
        raise ConfigError("no encryption key configured")
    try:
        return [Fernet(k) for k in keys]
    except ValueError as exc:
        raise ConfigError(f"invalid Fernet key: {exc}") from None


def env_keys(secret_key: str) -> list[bytes]:
    """The keys of a ``GSPWS_SECRET_KEY`` value (comma-separated, first encrypts)."""
    return [k.strip().encode() for k in secret_key.split(",") if k.strip()]


@dataclass(frozen=True)
class KeySource:
    """Where the keys come from: ``mode`` is ``file`` or ``env``; ``keys`` newest first."""

    mode: str
    keys: list[bytes]
    path: Path | None = None

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(k) for k in self.keys]

    @property
    def description(self) -> str:
        return f"key file {self.path}" if self.mode == "file" else "GSPWS_SECRET_KEY"


def key_source(settings: Settings, create: bool = False) -> KeySource:
    """The configured keys, decided here only: ``GSPWS_SECRET_KEY`` when set, else the key file.
    An absent key file has no keys, unless ``create`` writes it with one new key."""
    if settings.secret_key:
        return KeySource("env", env_keys(settings.secret_key))
    path = settings.effective_key_file
    keys = read_key_file(path, create=create) if create or path.exists() else []
    return KeySource("file", keys, path)


class SecretBox:
    """Encrypts with the first key, decrypts with any (so keys can rotate).

    Built with ``key_file``, it follows that file's changes (see the module documentation).
    """

    def __init__(
        self,
        keys: list[bytes],
        key_file: Path | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = list(keys)
        self._fernet = MultiFernet(_fernets(self._keys))
        self._key_file = key_file
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stat = _stat_or_none(key_file) if key_file else None
        self._loaded_at = monotonic()

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(k) for k in self._keys]

    @property
    def encryption_key(self) -> bytes:
        """The key new secrets are encrypted with (the binding page derives its own from it)."""
        return self._keys[0]

    def encrypt(self, secret: str) -> bytes:
        if self._key_file is not None:
            self._reload(only_if_changed=True)
        return self._fernet.encrypt(secret.encode("utf-8"))

    def decrypt(self, blob: bytes) -> str:
        blob = bytes(blob)
        fernet = self._fernet
        try:
            return fernet.decrypt(blob).decode("utf-8")
        except InvalidToken:
            pass
        if self._key_file is not None and self._reload(only_if_changed=False):
            try:
                return self._fernet.decrypt(blob).decode("utf-8")
            except InvalidToken:
                pass
        raise UnreadableSecret("a token secret cannot be decrypted with the configured keys")

    def _reload(self, only_if_changed: bool) -> bool:
        """Re-read the key file if it changed (or, unless ``only_if_changed``, if the last read is
        older than RELOAD_INTERVAL). True when new keys were loaded."""
        assert self._key_file is not None  # (callers check: fixed keys are never reloaded)
        with self._lock:
            try:
                current = _file_stat(self._key_file)
            except OSError:
                return False  # the file vanished or is unreadable: keep the keys we have
            now = self._monotonic()
            changed = current != self._stat
            if not changed and (only_if_changed or now - self._loaded_at < RELOAD_INTERVAL):
                return False
            try:
                keys = read_key_file(self._key_file, create=False)
                fernet = MultiFernet(_fernets(keys))
            except (OSError, ConfigError):
                return False
            self._stat, self._loaded_at = current, now
            if keys == self._keys:
                return False
            self._keys, self._fernet = keys, fernet
            return True

    @classmethod
    def from_settings(cls, settings: Settings, create: bool = True) -> "SecretBox":
        """The configured keys (:func:`key_source`); a key file is followed, environment keys are
        fixed. ``create=False``: an absent key file is a ConfigError."""
        source = key_source(settings, create)
        if source.path is not None and not source.path.exists():
            raise ConfigError(f"key file {source.path} does not exist")
        return cls(source.keys, key_file=source.path)


def _stat_or_none(path: Path) -> tuple[int, ...] | None:
    try:
        return _file_stat(path)
    except OSError:
        return None


def _file_stat(path: Path) -> tuple[int, ...]:
    st = os.stat(path)
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_key_file(path: Path, create: bool = True) -> list[bytes]:
    """Keys from ``path`` (one per line, newest first); creates it with one new key if absent."""
    if not path.exists():
        if not create:
            raise ConfigError(f"key file {path} does not exist")
        _create_key_file(path)
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Replace the keys in ``path`` atomically: readers see the old file or the new one, whole.

    A private (0600) temporary file in the same directory is written, flushed to disk and renamed
    over ``path``; the directory is synced so the rename survives a crash.
    """
    _fernets(keys)  # never write a file the server could not use
    path = Path(os.path.realpath(path))  # a symlinked key file stays a symlink
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        current = os.stat(path)
    except FileNotFoundError:
        current = None
    # The server must still be able to read the file: keep its owner and group (an operator may
    # run the rotation as root), and its group-read bit; nothing else is ever granted.
    mode = 0o600 | (current.st_mode & 0o040 if current else 0)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{_random.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            if current is not None and (current.st_uid, current.st_gid) != (
                os.geteuid(),
                os.getegid(),
            ):
                try:
                    os.fchown(f.fileno(), current.st_uid, current.st_gid)
                except PermissionError:
                    raise ConfigError(
                        f"{path} belongs to uid {current.st_uid}, gid "
                        f"{current.st_gid}: change it as that user (or root)"
                    ) from None
            os.fchmod(f.fileno(), mode)
            f.write(b"".join(k.strip() + b"\n" for k in keys))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` atomically: a complete 0600 file appears, or none does.

    The key is written to a private temporary file and hard-linked into place, so concurrent first
    starts of several workers agree on one key and none reads a half-written file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
