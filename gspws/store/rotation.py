"""Key rotation: re-encrypt every token secret under the first key, then retire the others.
(The operator console's administrators' TOTP keys are under the same keys: they are re-encrypted
and counted with the token secrets, listed as ``admin:NAME``.)

Key-file mode (``GSPWS_SECRET_KEY`` empty), :func:`rotate_key_file`:

1. *Start*: if the file holds one key, write ``[new, old]`` (atomically). If it already holds more
   than one, an earlier rotation was interrupted (or an operator put a key first): no key is added,
   the first one is the target. The new key is in the file before any secret is encrypted with it,
   so a running worker that meets such a secret re-reads the file and finds it
   (:class:`~gspws.store.secrets.SecretBox`).
2. *Re-encrypt* in batches by primary key, one transaction per batch, with
   ``UPDATE tokens SET secret = :new WHERE id = :id AND secret = :old``: a secret changed meanwhile
   is left alone (and picked up by the next pass). Secrets already under the first key are skipped,
   which makes a re-run after an interruption cheap.
3. *Verify*: passes repeat until one finds every secret readable by the first key alone.
4. *Retire*: the file is rewritten with the first key only.

Interrupted anywhere, the file still holds every key some secret may be under, and a re-run
continues from step 2. Two rotations at once are refused (a lock file next to the key file).

Environment mode: the command cannot change ``GSPWS_SECRET_KEY``, so it does steps 2 and 3 under
the first configured key and the operator removes the others (:func:`reencrypt`).

Nothing here prints, logs or returns a key: only :func:`~gspws.store.secrets.fingerprint`.
"""

import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import ColumnElement, Table, func, literal, select, update
from sqlalchemy.engine import Connection, Engine, Row

from gspws.errors import ConfigError, GspwsError
from gspws.store.models import Admin, Token
from gspws.store.secrets import fingerprint, read_key_file, write_key_file

Rows = Sequence[Row[Any, Any, Any]]  # (id, serial, secret) of tokens (or administrators)

TOKENS = Token.__table__


@dataclass(frozen=True)
class Secrets:
    """A table with secrets under the keys: its secret column, and what names a row in a list
    of unreadable ones (a token's serial; ``admin:NAME`` for an administrator's TOTP key)."""

    table: Table
    secret: str
    label: ColumnElement[str]


#: Every secret under the keys: token secrets, then the console administrators' TOTP keys.
SECRETS = (
    Secrets(TOKENS, "secret", TOKENS.c.serial),
    Secrets(Admin.__table__, "totp_secret", literal("admin:") + Admin.__table__.c.name),
)
DEFAULT_BATCH_SIZE = 500
MAX_PASSES = 5


class RotationError(GspwsError):
    """The rotation cannot start or finish; the message is for a person and names no key."""


def _check_keys(keys: list[bytes]) -> None:
    for index, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"key {index} ({fingerprint(key)}) is not a valid Fernet key"
            ) from None


# -- counting -----------------------------------------------------------------------------------


@dataclass
class Census:
    """How many token secrets are under the first key, under another configured key, or none."""

    total: int = 0
    first_key: int = 0
    older_keys: int = 0
    unreadable: list[str] = field(default_factory=list)  # serials


def census(engine: Engine, keys: list[bytes], batch_size: int = DEFAULT_BATCH_SIZE) -> Census:
    _check_keys(keys)
    first = Fernet(keys[0]) if keys else None
    others = [Fernet(k) for k in keys[1:]]
    result = Census()
    for rows in (rows for kind in SECRETS for rows in _batches(engine, batch_size, kind=kind)):
        for row in rows:
            result.total += 1
            blob = bytes(row.secret)
            if first is not None and _readable(first, blob):
                result.first_key += 1
            elif any(_readable(f, blob) for f in others):
                result.older_keys += 1
            else:
                result.unreadable.append(row.serial)
    return result


def _readable(fernet: Fernet, blob: bytes) -> bool:
    try:
        fernet.decrypt(blob)
    except InvalidToken:
        return False
    return True


def _batches(
    engine: Engine,
    batch_size: int,
    handle: Callable[[Connection, Rows], None] | None = None,
    kind: Secrets = SECRETS[0],
) -> Iterator[Rows]:
    """Rows (id, serial, secret) of ``kind`` with a secret, by ascending id, ``batch_size`` per
    transaction; ``handle`` runs inside each batch's transaction."""
    table = kind.table
    secret = table.c[kind.secret]
    last = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(table.c.id, kind.label.label("serial"), secret.label("secret"))
                .where(table.c.id > last, secret.is_not(None))
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
            if rows and handle is not None:
                handle(conn, rows)
        if not rows:
            return
        yield rows
        last = rows[-1].id


# -- re-encrypting ------------------------------------------------------------------------------


@dataclass
class PassProgress:
    """Reported after each batch: ``number`` 1 re-encrypts, later passes verify."""

    number: int
    total: int
    done: int = 0
    reencrypted: int = 0
    skipped: int = 0
    unreadable: int = 0
    conflicts: int = 0


@dataclass
class Reencryption:
    total: int = 0
    reencrypted: int = 0  # over all passes
    already_current: int = 0  # found under the first key by the first pass
    unreadable: list[str] = field(default_factory=list)  # serials no configured key opens
    passes: int = 0


Progress = Callable[[PassProgress], None]


def _pass_handler(
    first: Fernet,
    every: MultiFernet,
    state: PassProgress,
    unreadable: list[str],
    kind: Secrets = SECRETS[0],
) -> Callable[[Connection, Rows], None]:
    """One pass's work on a batch: re-encrypt what ``first`` cannot open, counting in ``state``
    and listing in ``unreadable`` the serials no key opens."""

    def handle(conn: Connection, rows: Rows) -> None:
        for row in rows:
            old = bytes(row.secret)
            if _readable(first, old):
                state.skipped += 1
                continue
            try:
                new = every.rotate(old)
            except InvalidToken:
                unreadable.append(row.serial)
                continue
            column = kind.table.c[kind.secret]
            changed = conn.execute(
                update(kind.table)
                .where(kind.table.c.id == row.id, column == old)
                .values({kind.secret: new})
            ).rowcount
            if changed == 1:
                state.reencrypted += 1
            else:
                state.conflicts += 1  # changed or deleted meanwhile: the next pass looks again

    return handle


def reencrypt(
    engine: Engine,
    keys: list[bytes],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> Reencryption:
    """Put every token secret under ``keys[0]``; returns once a full pass changed nothing."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    _check_keys(keys)
    first, every = Fernet(keys[0]), MultiFernet([Fernet(k) for k in keys])
    result = Reencryption()
    for number in range(1, MAX_PASSES + 1):
        state = PassProgress(number, _count(engine))
        unreadable: list[str] = []
        for kind in SECRETS:
            handle = _pass_handler(first, every, state, unreadable, kind)
            for rows in _batches(engine, batch_size, handle, kind):
                state.done += len(rows)
                state.unreadable = len(unreadable)
                if progress is not None:
                    progress(state)
        result.passes = number
        result.reencrypted += state.reencrypted
        if number == 1:
            result.already_current = state.skipped
        result.total, result.unreadable = state.done, unreadable
        if state.reencrypted == 0 and state.conflicts == 0:
            return result
    raise RotationError(f"token secrets kept changing during {MAX_PASSES} passes; run it again")


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(
            conn.scalar(
                select(func.count())
                .select_from(kind.table)
                .where(kind.table.c[kind.secret].is_not(None))
            )
            or 0
            for kind in SECRETS
        )


# -- the key file -------------------------------------------------------------------------------


@dataclass
class FileRotation:
    path: Path
    key: str  # fingerprint of the key everything is under now
    retired: list[str]  # fingerprints of the keys removed from the file
    resumed: bool  # the file already held several keys (an earlier run stopped)
    reencryption: Reencryption
    completed: bool  # False: unreadable secrets, the old keys were kept


def rotate_key_file(
    engine: Engine,
    path: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    allow_unreadable: bool = False,
    on_start: Callable[[str, bool], None] | None = None,
) -> FileRotation:
    """Add a key (unless a rotation is already under way), re-encrypt, retire the old keys."""
    if not path.exists():
        raise RotationError(f"key file {path} does not exist: there is nothing to rotate")
    with _exclusive(path):
        keys = read_key_file(path, create=False)
        _check_keys(keys)
        if not keys:
            raise RotationError(f"key file {path} holds no key")
        resumed = len(keys) > 1
        if not resumed:
            keys = [Fernet.generate_key(), *keys]
            write_key_file(path, keys)
        if on_start is not None:
            on_start(fingerprint(keys[0]), resumed)
        done = reencrypt(engine, keys, batch_size, progress)
        completed = not done.unreadable or allow_unreadable
        if completed:
            write_key_file(path, keys[:1])
        return FileRotation(
            path,
            fingerprint(keys[0]),
            [fingerprint(k) for k in keys[1:]] if completed else [],
            resumed,
            done,
            completed,
        )


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold ``<key file>.lock`` so that two rotations of one key file cannot interleave (each would
    add its own key and re-encrypt under it)."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RotationError(
                f"another key rotation holds {lock_path}; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)
