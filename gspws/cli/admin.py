"""Administrators of the operator console (``/admin/``, docs/admin.md)."""

import click

from gspws.cli.base import JSON, Context, emit, main, pass_ctx
from gspws.core.admins import ROLES, Actor, Administrators, valid_name


def _admins(c: Context) -> Administrators:
    from gspws.compose import administrators_of

    return administrators_of(c.settings, c.store)


def _name(_ctx, _param, value: str) -> str:
    if not valid_name(value):
        raise click.BadParameter(
            f"{value!r}: 1-32 of a-z 0-9 . _ -, starting with a letter", param_hint="NAME"
        )
    return value


NAME = click.argument("admin_name", metavar="NAME", callback=_name)


def _link(c: Context, token: str) -> str:
    return f"{c.settings.public_url}/admin/enrol/{token}"


@main.group()
def admin() -> None:
    """Administrators of the operator console /admin/ (operators change, auditors read)."""


@admin.command("add")
@NAME
@click.option("--role", type=click.Choice(ROLES), required=True)
@pass_ctx
def admin_add(c: Context, admin_name: str, role: str) -> None:
    """Add an administrator; prints their single-use enrolment link (password + authenticator).
    Hand it only to them."""
    token = _admins(c).add(Actor("cli", None, f"AddAdmin:{admin_name}"), admin_name, role)
    if token is None:
        raise click.ClickException(f"administrator {admin_name} already exists")
    click.echo(_link(c, token))
    click.echo(f"valid {c.settings.admin_enrol_ttl // 3600 or 1} h, once", err=True)


@admin.command("list")
@JSON
@pass_ctx
def admin_list(c: Context, as_json: bool) -> None:
    """List administrators (never a password or key)."""
    admins = _admins(c)
    rows = [
        {"name": a.name, "role": a.role, "state": admins.state(a), "failures": a.failures}
        for a in admins.list()
    ]
    emit(rows, as_json, ["name", "role", "state", "failures"])


def _disable_command(name: str, doc: str, disabled: bool) -> None:
    @admin.command(name, help=doc)
    @NAME
    @pass_ctx
    def command(c: Context, admin_name: str) -> None:
        actor = Actor("cli", None, f"{name.capitalize()}Admin:{admin_name}")
        if not _admins(c).set_disabled(actor, admin_name, disabled):
            raise click.ClickException(f"no administrator {admin_name}")
        click.echo(f"administrator {admin_name} {name}d")


_disable_command(
    "disable", "Disable an administrator: no sign-in, and their sessions end at once.", True
)
_disable_command("enable", "Enable a disabled administrator.", False)


@admin.command("reset")
@NAME
@pass_ctx
def admin_reset(c: Context, admin_name: str) -> None:
    """Forget NAME's password and authenticator, unlock, end their sessions; prints a new
    enrolment link (a lost phone, a forgotten password, a lockout)."""
    token = _admins(c).reset(Actor("cli", None, f"ResetAdmin:{admin_name}"), admin_name)
    if token is None:
        raise click.ClickException(f"no administrator {admin_name}")
    click.echo(_link(c, token))
    click.echo(f"valid {c.settings.admin_enrol_ttl // 3600 or 1} h, once", err=True)
