"""TOTP tokens (authenticator devices)."""

import click

from gspws.cli.base import JSON, Context, base32_secret, emit, main, pass_ctx
from gspws.core import otp
from gspws.core.otp import TotpParams
from gspws.store.models import Token, TokenStatus
from gspws.store.repo import StoreError


@main.group()
def token() -> None:
    """TOTP tokens (authenticator devices)."""


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
@click.option(
    "--period",
    type=click.Choice([str(p) for p in otp.PERIODS]),
    default=str(otp.DEFAULT_PERIOD),
    show_default=True,
    help="Seconds per code.",
)
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


@token.command("list")
@click.argument("account_name", metavar="[ACCOUNT]", required=False)
@JSON
@pass_ctx
def token_list(c: Context, account_name: str | None, as_json: bool) -> None:
    """List tokens (of one ACCOUNT, or all). Never shows secrets."""
    with c.repo() as repo:
        rows = [_token_row(t) for t in repo.list_tokens(account_name)]
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
            "device_name",
        ],
    )


def _token_row(t: Token) -> dict:
    return {
        "serial": t.serial,
        "account": t.account.account if t.account else "",
        "type": t.type.value,
        "status": t.status.value,
        "algorithm": t.algorithm,
        "digits": t.digits,
        "period": t.period,
        "failures": t.failures,
        "device_name": t.device_name or "",
    }


@token.command("unlock")
@click.argument("serial")
@pass_ctx
def token_unlock(c: Context, serial: str) -> None:
    """Unlock a token locked by failed codes (also clears its failure count)."""
    with c.repo() as repo:
        row = repo.get_token(serial)
        if not repo.unlock([row.id]):
            raise StoreError(f"token {serial} is {row.status.value}, not locked: nothing to unlock")
    click.echo(f"token {serial} unlocked")


@token.command("disable")
@click.argument("serial")
@pass_ctx
def token_disable(c: Context, serial: str) -> None:
    """Disable a token: its codes are no longer accepted."""
    with c.repo() as repo:
        repo.set_token_status(serial, TokenStatus.DISABLED)
    click.echo(f"token {serial} disabled")
