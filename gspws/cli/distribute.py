"""``gspws token distribute``: hand a token over on paper (seed 003's offline distribution).

Thin: the decision (which token, what may be distributed) is gspws.core.activation's; this
prints the sheet. The activation code and password are printed once and stored only hashed.
"""

from datetime import UTC, datetime

import click

from gspws.cli.base import Context, pass_ctx
from gspws.cli.tokens import token
from gspws.compose import Wiring
from gspws.core.enroll import Person
from gspws.errors import GspwsError
from gspws.web.activate import ACTIVATE_PATH

OPERATOR = Person(None, "cli:DistributeToken")


@token.command("distribute")
@click.argument("target", metavar="SERIAL|ACCOUNT")
@click.option(
    "--offline",
    is_flag=True,
    required=True,
    help="Print serial, activation code and activation password (the only way so far).",
)
@click.option("--account", help="With a SERIAL: the account the pool token is assigned to.")
@click.option(
    "--send",
    is_flag=True,
    help="Also send the sheet to the account's verified mobile number (else e-mail address) "
    "through the outbox.",
)
@pass_ctx
def token_distribute(
    c: Context, target: str, offline: bool, account: str | None, send: bool
) -> None:
    """Distribute a token offline: SERIAL, an unassigned TOTP token of the pool, or ACCOUNT, for
    which a new soft token is made. Both stay pending until the person activates them on
    /owin/activate with the printed sheet (GSPWS_ACTIVATION_DAYS, GSPWS_ACTIVATION_RETRIES).
    Distributing again replaces an unused earlier sheet."""
    if not offline:
        raise click.UsageError("only --offline distribution exists")
    outcome = Wiring(c.settings, c.store).activations().distribute(OPERATOR, target, account, send)
    if not outcome.ok or outcome.value is None:
        raise GspwsError(
            f"cannot distribute {target!r}: {outcome.code} (a SERIAL must be an unassigned TOTP "
            "token of the pool; an ACCOUNT or --account must exist; --send needs the account's "
            "verified mobile number or e-mail address)"
        )
    sheet = outcome.value
    until = datetime.fromtimestamp(sheet.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    click.echo(
        "\n".join(
            [
                "動態密碼令牌啟用單 (token activation sheet)",
                f"  帳號 account: {sheet.account or '(none)'}",
                f"  令牌序號 serial: {sheet.serial}",
                f"  啟用碼 activation code: {sheet.activation_code}",
                f"  啟用密碼 activation password: {sheet.activation_password}",
                f"  有效期限 valid until: {until}",
                f"  啟用網址 activate at: {c.settings.public_url}{ACTIVATE_PATH}",
                *([f"  已寄送至 sent to: {sheet.sent_to}"] if sheet.sent_to else []),
            ]
        )
    )
