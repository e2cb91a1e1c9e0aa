"""Citizens' accounts and their binding links."""

import click

from gspws.cli.base import JSON, Context, emit, main, pass_ctx
from gspws.config import Settings
from gspws.store.models import Account, TokenStatus
from gspws.store.repo import Store


@main.group()
def account() -> None:
    """Citizens' accounts."""


def _checked(value: str | None, rule, hint: str) -> str | None:
    """``value`` in the canonical form ``rule`` gives it; a usage error when it has none."""
    try:
        return rule(value) if value is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


MOBILE = click.option("--mobile", help="Mobile number for codes (09xxxxxxxx or 8869xxxxxxxx).")


@account.command("add")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--name", help="Display name.")
@click.option("--email")
@MOBILE
@click.option("--phone")
@pass_ctx
def account_add(
    c: Context,
    account_name: str,
    name: str | None,
    email: str | None,
    mobile: str | None,
    phone: str | None,
) -> None:
    """Add an account. ACCOUNT is kept in its canonical form (lower case; see the README's
    account names); --email takes one plain address. An e-mail address or mobile number an
    operator sets counts as verified (MobileOTP.asmx sends codes there)."""
    from gspws.core import names, oob

    _checked(account_name, names.account_name, "ACCOUNT")
    email = _checked(email, names.email_address, "--email")
    mobile = _checked(mobile, oob.mobile_number, "--mobile")
    with c.repo() as repo:  # stores both in their canonical form
        added = repo.add_account(account_name, name, email, phone)
        repo.set_destinations(added, mobile, email, verified=True)
    click.echo(f"account {added.account} added")


@account.command("set")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--email")
@MOBILE
@pass_ctx
def account_set(c: Context, account_name: str, email: str | None, mobile: str | None) -> None:
    """Change ACCOUNT's e-mail address and/or mobile number (verified, as set by an operator)."""
    from gspws.core import names, oob

    email = _checked(email, names.email_address, "--email")
    mobile = _checked(mobile, oob.mobile_number, "--mobile")
    if email is None and mobile is None:
        raise click.UsageError("give --email, --mobile or both")
    with c.repo() as repo:
        repo.set_destinations(repo.get_account(account_name), mobile, email, verified=True)
    click.echo(f"account {account_name} changed")


@account.command("list")
@JSON
@pass_ctx
def account_list(c: Context, as_json: bool) -> None:
    """List accounts with their number of active tokens."""
    with c.repo() as repo:
        rows = [_account_row(a) for a in repo.list_accounts()]
    emit(rows, as_json, ["account", "name", "email", "phone", "active_tokens"])


def _account_row(a: Account) -> dict:
    return {
        "account": a.account,
        "name": a.name or "",
        "email": a.email or "",
        "phone": a.phone or "",
        "active_tokens": sum(t.status is TokenStatus.ACTIVE for t in a.tokens),
    }


def _binding_link(settings: Settings, store: Store, account_name: str) -> str:
    """A new binding link for the account (see gspws.core.enroll); exits 1 when refused."""
    from gspws.compose import Wiring
    from gspws.core.enroll import Person

    outcome = (
        Wiring(settings, store)
        .enrollment()
        .create_link(Person(None, "cli:CreateBindingLink"), account_name)
    )
    if not outcome.ok:
        raise click.ClickException(
            f"no account {account_name!r}"
            if outcome.problem
            else "the link could not be created (see the log)"
        )
    assert outcome.value is not None  # an ok outcome carries its value
    return outcome.value


@account.command("link")
@click.argument("account_name", metavar="ACCOUNT")
@click.option(
    "--ttl",
    type=click.IntRange(1, 7 * 86400),
    metavar="SECONDS",
    help="Validity of the link. Default: GSPWS_LINK_TTL (600).",
)
@pass_ctx
def account_link(c: Context, account_name: str, ttl: int | None) -> None:
    """Print a single-use link to the binding page for ACCOUNT. Hand it only to its owner."""
    from dataclasses import replace

    settings = replace(c.settings, link_ttl=ttl) if ttl else c.settings
    click.echo(_binding_link(settings, c.store, account_name))
    click.echo(f"valid {settings.link_ttl // 60 or 1} min, once", err=True)


@account.command("invite")
@click.argument("account_name", metavar="ACCOUNT")
@pass_ctx
def account_invite(c: Context, account_name: str) -> None:
    """E-mail ACCOUNT's owner a binding link valid GSPWS_INVITE_TTL (an hour); earlier unused
    links of the account stop working. Run it again to send a new one."""
    from gspws.compose import Wiring
    from gspws.core.enroll import Person
    from gspws.mail import send_invitation

    with c.repo() as repo:
        email = repo.get_account(account_name).email
    enrollment = Wiring(c.settings, c.store).enrollment()
    send_invitation(
        c.settings, enrollment, Person(None, "cli:InviteToBinding"), account_name, email
    )
    click.echo(f"invitation for {account_name} sent to {email}")
