"""Key rotation: re-encrypt every token secret under the first key, then retire the others.
(The operator console's administrators' TOTP keys are under the same keys: re-encrypted in the
same passes, listed as ``admin:NAME`` when unreadable, :data:`ADMIN_KEYS`.)

The same steps cover the outbox (:data:`ENCRYPTED`): the body of every message that may still be
delivered (not sent, its code not expired) is re-encrypted with the same conditional UPDATE, in
batches of the same passes, so a message queued before the rotation is still delivered after the
old key is gone. Bodies of sent or expired messages are left as they are: nothing decrypts them
again (``gspws outbox retry`` refuses a message whose code has expired).

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import ColumnElement, Select, Table, func, select, true, update
from sqlalchemy.engine import Connection, Engine, Row

from gspws.errors import ConfigError, GspwsError
from gspws.store.models import Admin, OutboxMessage, Token
from gspws.store.secrets import fingerprint, read_key_file, write_key_file

Rows = Sequence[Row[Any, Any, Any]]  # (id, label, blob)

TOKENS = Token.__table__
OUTBOX = OutboxMessage.__table__
DEFAULT_BATCH_SIZE = 500
MAX_PASSES = 5


@dataclass(frozen=True)
class Encrypted:
    """A column of Fernet ciphertext that rotation keeps under the first key; ``key`` names a row
    to a person (after ``prefix``: a token's serial, ``outbox:ID``), ``live`` picks the rows
    whose ciphertext may still be read."""

    table: Table
    column: str
    key: str
    prefix: str
    live: Callable[[datetime], ColumnElement[bool]]

    def rows(self, now: datetime, after: int, limit: int) -> Select[Any]:
        t = self.table.c
        return (
            select(t.id, t[self.key].label("key"), t[self.column].label("blob"))
            .where(t.id > after, self.live(now))
            .order_by(t.id)
            .limit(limit)
        )

    def label(self, row: Row[Any, Any, Any]) -> str:
        return f"{self.prefix}{row.key}"


TOKEN_SECRETS = Encrypted(TOKENS, "secret", "serial", "", lambda now: true())
OUTBOX_BODIES = Encrypted(
    OUTBOX,
    "body_encrypted",
    "id",
    "outbox:",
    lambda now: (OUTBOX.c.status != "sent") & (OUTBOX.c.not_after > now),
)
ADMINS = Admin.__table__
ADMIN_KEYS = Encrypted(
    ADMINS, "totp_secret", "name", "admin:", lambda now: ADMINS.c.totp_secret.is_not(None)
)
ENCRYPTED = (TOKEN_SECRETS, OUTBOX_BODIES, ADMIN_KEYS)


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
    """How many secrets of one kind are under the first key, under another configured key, or
    none (``unreadable`` names those)."""

    total: int = 0
    first_key: int = 0
    older_keys: int = 0
    unreadable: list[str] = field(default_factory=list)  # labels: serials, outbox:ID


def census(
    engine: Engine,
    keys: list[bytes],
    batch_size: int = DEFAULT_BATCH_SIZE,
    kind: Encrypted = TOKEN_SECRETS,
    now: datetime | None = None,
) -> Census:
    _check_keys(keys)
    first = Fernet(keys[0]) if keys else None
    others = [Fernet(k) for k in keys[1:]]
    result = Census()
    for rows in _batches(engine, kind, now or datetime.now(UTC), batch_size):
        for row in rows:
            result.total += 1
            blob = bytes(row.blob)
            if first is not None and _readable(first, blob):
                result.first_key += 1
            elif any(_readable(f, blob) for f in others):
                result.older_keys += 1
            else:
                result.unreadable.append(kind.label(row))
    return result


def _readable(fernet: Fernet, blob: bytes) -> bool:
    try:
        fernet.decrypt(blob)
    except InvalidToken:
        return False
    return True


def _batches(
    engine: Engine,
    kind: Encrypted,
    now: datetime,
    batch_size: int,
    handle: Callable[[Connection, Rows], None] | None = None,
) -> Iterator[Rows]:
    """``kind``'s live rows (id, key, blob) by ascending id, ``batch_size`` per transaction;
    ``handle`` runs inside each batch's transaction."""
    last = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(kind.rows(now, last, batch_size)).all()
            if rows and handle is not None:
                handle(conn, rows)
        if not rows:
            return
        yield rows
        last = rows[-1].id


# -- re-encrypting ------------------------------------------------------------------------------


@dataclass
class PassProgress:
    """Reported after each batch: ``number`` 1 re-encrypts, later passes verify; ``total`` counts
    token secrets and live outbox bodies."""

    number: int
    total: int
    done: int = 0
    reencrypted: int = 0
    skipped: int = 0
    unreadable: int = 0
    conflicts: int = 0


@dataclass
class Reencryption:
    total: int = 0  # token secrets
    messages: int = 0  # bodies of outbox messages that may still be delivered
    admins: int = 0  # the operator console's administrators' TOTP keys
    reencrypted: int = 0  # over all passes, every kind
    already_current: int = 0  # found under the first key by the first pass
    unreadable: list[str] = field(default_factory=list)  # labels no configured key opens
    passes: int = 0


Progress = Callable[[PassProgress], None]


def _pass_handler(
    kind: Encrypted,
    first: Fernet,
    every: MultiFernet,
    state: PassProgress,
    unreadable: list[str],
) -> Callable[[Connection, Rows], None]:
    """One pass's work on a batch: re-encrypt what ``first`` cannot open, counting in ``state``
    and listing in ``unreadable`` the rows no key opens."""
    column = kind.table.c[kind.column]

    def handle(conn: Connection, rows: Rows) -> None:
        for row in rows:
            old = bytes(row.blob)
            if _readable(first, old):
                state.skipped += 1
                continue
            try:
                new = every.rotate(old)
            except InvalidToken:
                unreadable.append(kind.label(row))
                continue
            changed = conn.execute(
                update(kind.table)
                .where(kind.table.c.id == row.id, column == old)
                .values({kind.column: new})
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
    now: datetime | None = None,
) -> Reencryption:
    """Put every token secret and live outbox body under ``keys[0]``; returns once a full pass
    changed nothing. ``now`` (default: the system clock) decides which messages are live."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    _check_keys(keys)
    first, every = Fernet(keys[0]), MultiFernet([Fernet(k) for k in keys])
    now = now or datetime.now(UTC)
    result = Reencryption()
    for number in range(1, MAX_PASSES + 1):
        state = PassProgress(number, sum(_count(engine, kind, now) for kind in ENCRYPTED))
        unreadable: list[str] = []
        seen = []
        for kind in ENCRYPTED:
            handle = _pass_handler(kind, first, every, state, unreadable)
            before = state.done
            for rows in _batches(engine, kind, now, batch_size, handle):
                state.done += len(rows)
                state.unreadable = len(unreadable)
                if progress is not None:
                    progress(state)
            seen.append(state.done - before)
        result.passes = number
        result.reencrypted += state.reencrypted
        if number == 1:
            result.already_current = state.skipped
        result.total, result.messages, result.admins = seen
        result.unreadable = unreadable
        if state.reencrypted == 0 and state.conflicts == 0:
            return result
    raise RotationError(f"secrets kept changing during {MAX_PASSES} passes; run it again")


def _count(engine: Engine, kind: Encrypted, now: datetime) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(kind.table).where(kind.live(now))
        return conn.scalar(query) or 0


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
