"""Tokens: authenticator apps (``token add``) and imported hardware tokens (``token import``,
the pool and the lifecycle commands; formats and semantics in docs/tokens.md). Every state
change is one function of :mod:`gspws.store.pool`; nothing here edits a row."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gspws.cli.base import JSON, Context, base32_secret, emit, main, pass_ctx
from gspws.compose import passwords_of
from gspws.core import otp
from gspws.core.otp import TotpParams
from gspws.core.pin import MAX_LENGTH, MIN_LENGTH, valid_pin
from gspws.store import pool
from gspws.store.models import Token, TokenStatus, TokenType
from gspws.store.repo import Repository
from gspws.tokenfiles import pskc_key, read_token_file


@main.group()
def token() -> None:
    """Tokens: authenticator apps and imported hardware tokens (see docs/tokens.md)."""


#: ``--period``, of `token add` and `token stock`.
_PERIOD = click.option(
    "--period",
    type=click.Choice([str(p) for p in otp.PERIODS]),
    default=str(otp.DEFAULT_PERIOD),
    show_default=True,
    help="Seconds per code.",
)


@token.command("add")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--secret", callback=base32_secret, help="Base32 secret (default: a new random one).")
@click.option(
    "--algorithm",
    type=click.Choice(tuple(otp.ALGORITHMS)),
    default=otp.DEFAULT_ALGORITHM,
    show_default=True,
)
@click.option(
    "--digits",
    type=click.Choice([str(d) for d in otp.DIGITS]),
    default=str(otp.DEFAULT_DIGITS),
    show_default=True,
)
@_PERIOD
@click.option("--device-name", help="What the device is called (e.g. 'work phone').")
@click.option("--qr", is_flag=True, help="Also draw the otpauth URI as a QR code.")
@pass_ctx
def token_add(
    c: Context,
    account_name: str,
    secret: str | None,
    algorithm: str,
    digits: str,
    period: str,
    device_name: str | None,
    qr: bool,
) -> None:
    """Add an active TOTP token to ACCOUNT; prints its serial and otpauth URI.

    The URI contains the secret: show it only to the account's owner.
    """
    params = TotpParams(secret or otp.new_secret(), algorithm, int(digits), int(period))
    with c.repo() as repo:
        row = repo.add_token(
            repo.get_account(account_name), params, TokenStatus.ACTIVE, device_name
        )
        serial = row.serial
    uri = otp.provisioning_uri(params, account_name, c.settings.issuer)
    click.echo(f"serial: {serial}\notpauth URI: {uri}")
    if qr:
        import segno

        segno.make(uri, error="m").terminal(compact=True)


@token.command("stock")
@click.argument("count", type=click.IntRange(1, 10_000))
@_PERIOD
@pass_ctx
def token_stock(c: Context, count: int, period: str) -> None:
    """Add COUNT soft TOTP tokens to the pool, for people to take on the binding page
    (申請綁定, docs/qr-login.md): random keys, never printed; each is shown once, to the person
    who takes it. Prints the serials."""
    with c.repo() as repo:
        serials = [
            repo.add_token(
                None, TotpParams(otp.new_secret(), period=int(period)), TokenStatus.ACTIVE
            ).serial
            for _ in range(count)
        ]
    click.echo("\n".join(serials))


@token.command("list")
@click.argument("account_name", metavar="[ACCOUNT]", required=False)
@click.option("--account", "account_option", metavar="ACCOUNT", help="Only ACCOUNT's tokens.")
@click.option("--unassigned", is_flag=True, help="Only the pool: tokens of no account.")
@JSON
@pass_ctx
def token_list(
    c: Context,
    account_name: str | None,
    account_option: str | None,
    unassigned: bool,
    as_json: bool,
) -> None:
    """List tokens (of one ACCOUNT, or the pool's, or all). Never shows secrets or PINs."""
    if account_name and account_option and account_name != account_option:
        raise click.UsageError("give the account once (ACCOUNT or --account)")
    with c.repo() as repo:
        tokens = pool.pool_tokens(repo, account_name or account_option, unassigned)
        rows = [_token_row(t) for t in tokens]
    emit(
        rows,
        as_json,
        [
            "serial",
            "account",
            "type",
            "status",
            "algorithm",
            "digits",
            "period",
            "failures",
            "hardware",
            "pin",
            "device_name",
        ],
    )


def _token_row(t: Token) -> dict:
    return {
        "serial": t.serial,
        "account": t.account.account if t.account else "",
        "type": t.type.value,
        "status": t.status.value,
        "algorithm": t.ocra_suite or t.algorithm,
        "digits": t.digits,
        "period": t.period if t.type is TokenType.TOTP else "",
        "failures": t.failures,
        "hardware": t.hardware,
        "pin": t.pin_hash is not None,
        "device_name": t.device_name or "",
    }


def _serial_change(name: str, change: Callable[..., None], doc: str, said: str) -> None:
    """``gspws token NAME SERIAL``: ``change(repo, serial)`` in one transaction, then ``said``."""

    @token.command(name, help=doc)
    @click.argument("serial")
    @pass_ctx
    def command(c: Context, serial: str) -> None:
        with c.repo() as repo:
            change(repo, serial)
        click.echo(f"token {serial} {said}")


_serial_change(
    "unlock",
    Repository.unlock_serial,
    "Unlock a token locked by failed codes (also clears its failure count).",
    "unlocked",
)
_serial_change(
    "disable",
    Repository.disable_serial,
    "Disable a token: its codes are no longer accepted.",
    "disabled",
)


# -- imported tokens: the pool and its lifecycle (docs/tokens.md) -------------------------------


def _hex_key(_ctx, _param, value: str | None) -> bytes | None:
    if value is None:
        return None
    if value == "-":
        value = click.prompt("PSKC key (hex)", hide_input=True)
    try:
        return pskc_key(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@token.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    callback=_hex_key,
    metavar="HEX",
    help="Pre-shared key of an encrypted PSKC file; '-' asks for it (hidden, not in `ps`).",
)
@click.option(
    "--password",
    help="Password of a PBKDF2-encrypted PSKC file; '-' asks for it (hidden, not in `ps`).",
)
@click.option(
    "--assign", metavar="ACCOUNT", help="Assign every token to ACCOUNT (which must exist)."
)
@click.option(
    "--pool", "to_pool", is_flag=True, help="Ignore the file's users: every token to the pool."
)
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
@pass_ctx
def token_import(
    c: Context,
    file: Path,
    key: bytes | None,
    password: str | None,
    assign: str | None,
    to_pool: bool,
    dry_run: bool,
) -> None:
    """Import the hardware tokens of FILE (PSKC or CSV): active, unassigned (in the pool) unless
    the file or --assign names an account. Serials already stored are reported and left alone;
    a file with any bad entry imports nothing and names it."""
    if key is not None and password is not None:
        raise click.UsageError("give --key or --password, not both")
    if assign and to_pool:
        raise click.UsageError("give --assign or --pool, not both")
    if password == "-":
        password = click.prompt("PSKC password", hide_input=True)
    records = read_token_file(file, key, password, users=not (assign or to_pool))
    with c.repo() as repo, _progress(len(records)) as advance:
        report = pool.import_tokens(repo, records, assign, dry_run, advance)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb}: {len(report.imported)}")
    click.echo(f"already present: {len(report.present)}{_some(report.present)}")
    click.echo("refused: 0")


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; nothing when the output goes elsewhere."""
    if not sys.stdout.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label="importing") as bar:
        yield bar.update


def _some(serials: list[str], shown: int = 10) -> str:
    if not serials:
        return ""
    more = f" and {len(serials) - shown} more" if len(serials) > shown else ""
    return f" ({', '.join(serials[:shown])}{more})"


@token.command("assign")
@click.argument("serial")
@click.argument("account_name", metavar="ACCOUNT")
@pass_ctx
def token_assign(c: Context, serial: str, account_name: str) -> None:
    """Hand the pool token SERIAL to ACCOUNT."""
    with c.repo() as repo:
        pool.assign(repo, serial, account_name)
    click.echo(f"token {serial} assigned to {account_name}")


_serial_change(
    "unassign",
    pool.unassign,
    "Take the imported token SERIAL back into the pool (its PIN is cleared).",
    "back in the pool",
)
_serial_change(
    "lost",
    pool.report_lost,
    "Report SERIAL lost (掛失): every code of it is refused until `gspws token found`.",
    "reported lost: refused until found",
)
_serial_change(
    "found",
    pool.found,
    "A token reported lost is back: active again, failures cleared.",
    "found: active again",
)


@token.command("pin")
@click.argument("serial")
@click.option("--clear", is_flag=True, help="Remove the PIN.")
@pass_ctx
def token_pin(c: Context, serial: str, clear: bool) -> None:
    """Set SERIAL's static PIN (typed before the code in OTP.asmx Auth), asked twice, hidden;
    or --clear it. Only its argon2id hash is stored."""
    pin_hash = value = None
    if not clear:
        with c.store.reading() as repo:
            repo.get_token(serial)  # an unknown serial is said before the PIN is asked
        value = click.prompt("PIN", hide_input=True, confirmation_prompt=True)
        if not valid_pin(value):
            raise click.BadParameter(
                f"a PIN is {MIN_LENGTH} to {MAX_LENGTH} ASCII letters or digits", param_hint="PIN"
            )
        pin_hash = passwords_of(c.settings).hash(value)
    with c.repo() as repo:
        pool.set_pin(repo, serial, pin_hash)
        # an OCRA suite's PIN input (P) needs the PIN's digest itself (gspws.store.challenges)
        repo.set_ocra_pin(serial, None if clear else value)
    click.echo(f"token {serial}: PIN {'cleared' if clear else 'set'}")
