"""Encryption keys: generate, status, rotate."""

import json
import sys
from typing import TYPE_CHECKING

import click

from gspws.cli.base import (
    JSON,
    Context,
    db_error,
    main,
    pass_ctx,
)

if TYPE_CHECKING:  # (imported when a command runs, not when the CLI starts)
    from click._termui_impl import ProgressBar

    from gspws.store.rotation import PassProgress


@main.group()
def keys() -> None:
    """Encryption keys of token secrets: generate, status, rotate.

    Nothing here prints a key except `keys generate`; keys are shown by fingerprint (the first 8
    hex digits of the SHA-256 of the key).
    """


def _engine(c: Context):
    """The store's engine without the secret box (which would create a missing key file)."""
    from gspws.store import migrate
    from gspws.store.db import make_engine

    engine = make_engine(c.settings)
    try:
        if migrate.pending(engine):
            raise click.ClickException("the database schema is not current: run `gspws db upgrade`")
    except BaseException:
        engine.dispose()
        raise
    return engine


def _key_source(c: Context):
    from gspws.store.secrets import key_source

    return key_source(c.settings)


@keys.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key (for GSPWS_SECRET_KEY). It is a secret: store it like one."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@keys.command("status")
@JSON
@pass_ctx
def keys_status(c: Context, as_json: bool) -> None:
    """Where the keys come from, their fingerprints, and how many tokens each can open."""
    from gspws.store import rotation

    source = _key_source(c)
    engine = _engine(c)
    try:
        counts = rotation.census(engine, source.keys)
        bodies = rotation.census(engine, source.keys, kind=rotation.OUTBOX_BODIES)
        admins = rotation.census(engine, source.keys, kind=rotation.ADMIN_KEYS)
    finally:
        engine.dispose()
    row = {
        "mode": source.mode,
        "key_file": str(source.path) if source.path else None,
        "keys": source.fingerprints,
        "tokens": {
            "total": counts.total,
            "first_key": counts.first_key,
            "older_keys": counts.older_keys,
            "unreadable": len(counts.unreadable),
        },
        "unreadable_serials": counts.unreadable,
        "outbox_messages": {
            "total": bodies.total,
            "first_key": bodies.first_key,
            "older_keys": bodies.older_keys,
            "unreadable": len(bodies.unreadable),
        },
        "administrators": {
            "total": admins.total,
            "first_key": admins.first_key,
            "older_keys": admins.older_keys,
            "unreadable": len(admins.unreadable),
        },
    }
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(
        f"keys from:  {source.description}"
        + (" (does not exist yet)" if source.mode == "file" and not source.keys else "")
    )
    click.echo(f"keys:       {len(source.keys)}")
    for index, fp in enumerate(source.fingerprints):
        click.echo(f"  {fp}" + ("  (encrypts)" if index == 0 else ""))
    click.echo(
        f"tokens:     {counts.total}: {counts.first_key} under the first key, "
        f"{counts.older_keys} under older keys, {len(counts.unreadable)} unreadable"
    )
    click.echo(
        f"outbox:     {bodies.total} messages to deliver: {bodies.first_key} under the first "
        f"key, {bodies.older_keys} under older keys, {len(bodies.unreadable)} unreadable"
    )
    click.echo(
        f"admins:     {admins.total} console administrators' TOTP keys: {admins.first_key} "
        f"under the first key, {admins.older_keys} under older keys, "
        f"{len(admins.unreadable)} unreadable"
    )
    if counts.unreadable:
        click.echo(
            "unreadable: "
            + " ".join(counts.unreadable[:20])
            + (" ..." if len(counts.unreadable) > 20 else "")
        )
    if source.mode == "file" and len(source.keys) > 1:
        click.echo(
            "The key file holds several keys: a rotation was started and not finished; "
            "`gspws keys rotate` finishes it."
        )


class _RotationProgress:
    """click progress bars on stderr, one per pass (1: re-encrypting, then: verifying)."""

    def __init__(self) -> None:
        self._bar: ProgressBar[PassProgress] | None = None
        self._number = 0

    def __call__(self, state) -> None:
        if state.number != self._number:
            self.close()
            self._number = state.number
            label = "re-encrypting" if state.number == 1 else f"verifying (pass {state.number})"
            self._bar = click.progressbar(
                length=max(state.total, 1),
                label=label,
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda s: (
                    s and (f"re-encrypted {s.reencrypted}, already current {s.skipped}")
                ),
            )
            self._bar.__enter__()
        assert self._bar is not None  # opened by pass 1
        self._bar.update(max(0, min(state.done, self._bar.length) - self._bar.pos), state)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _unreadable_message(serials: list[str]) -> str:
    shown = " ".join(serials[:20]) + (" ..." if len(serials) > 20 else "")
    return (
        f"{len(serials)} secrets cannot be decrypted with any configured key "
        f"(token serials, outbox:ID for queued messages: {shown})"
    )


@keys.command("rotate")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Tokens re-encrypted per transaction.",
)
@click.option(
    "--allow-unreadable",
    is_flag=True,
    help="Retire the old keys even if some secrets open with no configured key.",
)
@pass_ctx
def keys_rotate(c: Context, batch_size: int, allow_unreadable: bool) -> None:
    """Re-encrypt every token secret and queued message under a new key; retire the old one(s).

    Key file: adds a new key (or, when the file already holds several, finishes the rotation an
    earlier run started), re-encrypts in batches while the server keeps verifying, then leaves
    only the new key in the file. Safe to interrupt and run again.

    GSPWS_SECRET_KEY: re-encrypts under the first key listed; the others can then be removed.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from gspws.store import rotation

    source = _key_source(c)
    if source.mode == "env" and len(source.keys) < 2:
        raise click.ClickException(
            "GSPWS_SECRET_KEY holds one key, and this command cannot change the environment. "
            "To rotate: generate a key with `gspws keys generate`; on every node set "
            "GSPWS_SECRET_KEY=NEW,OLD (the new key first) and restart gspws; then run "
            "`gspws keys rotate` again; finally set GSPWS_SECRET_KEY=NEW and restart."
        )
    engine = _engine(c)
    progress = _RotationProgress()

    def started(fp: str, resumed: bool) -> None:
        if resumed:
            click.echo(
                f"{source.path} already holds several keys (an earlier rotation did not "
                f"finish): continuing with key {fp}",
                err=True,
            )
        else:
            click.echo(f"new key {fp} added to {source.path}", err=True)

    try:
        if source.mode == "file":
            result = rotation.rotate_key_file(
                engine, source.path, batch_size, progress, allow_unreadable, on_start=started
            )
            done = result.reencryption
        else:
            done = rotation.reencrypt(engine, source.keys, batch_size, progress)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"database error: {db_error(exc)}. No secret is lost: every key that may still be "
            f"needed is kept; run `gspws keys rotate` again."
        ) from None
    finally:
        progress.close()
        engine.dispose()

    click.echo(f"tokens:        {done.total}")
    click.echo(f"messages:      {done.messages} (queued in the outbox)")
    click.echo(f"admins:        {done.admins} (the console's administrators' TOTP keys)")
    click.echo(f"re-encrypted:  {done.reencrypted}")
    click.echo(f"skipped:       {done.already_current} (already under the new key)")
    if source.mode == "file":
        click.echo(f"key:           {result.key}")
        if not result.completed:
            raise click.ClickException(
                _unreadable_message(done.unreadable) + f"; the old keys were kept in "
                f"{source.path}. Restore the key they were written with, or accept their loss "
                f"with --allow-unreadable."
            )
        click.echo(f"retired:       {', '.join(result.retired) or '(none)'}")
        if done.unreadable:
            click.echo("warning: " + _unreadable_message(done.unreadable), err=True)
        click.echo(
            f"{source.path} now holds only key {result.key}. Database backups made "
            f"before this rotation need the retired key."
        )
        return
    first, others = source.fingerprints[0], source.fingerprints[1:]
    click.echo(f"key:           {first} (the first in GSPWS_SECRET_KEY)")
    if done.unreadable and not allow_unreadable:
        raise click.ClickException(
            _unreadable_message(done.unreadable) + ". Restore the key they were written with, "
            "or accept their loss with --allow-unreadable."
        )
    if done.unreadable:
        click.echo("warning: " + _unreadable_message(done.unreadable), err=True)
    click.echo(
        f"Every token secret and queued message is now under key {first}. Remove the other keys "
        f"({', '.join(others)}) from GSPWS_SECRET_KEY on every node and restart gspws "
        f"there. Database backups made before this rotation need them."
    )
