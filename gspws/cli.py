"""``gspws``: the operator's command line. Thin: parses, validates, calls the store, prints.

Every listing takes ``--json``. Bad input is a one-line message on stderr and exit status 2
(click's usage errors) or 1 (an object that does not exist or already exists).
"""

import ipaddress
import json
import sys
from contextlib import contextmanager
from typing import Iterator

import click

from gspws.config import ConfigError, Settings
from gspws.core import otp
from gspws.core.access import FUNCTIONS, valid_service_id
from gspws.core.otp import TotpParams
from gspws.store.models import Account, Service, Token, TokenStatus
from gspws.store.repo import Repository, Store, StoreError


class Context:
    def __init__(self, database_url: str | None) -> None:
        self.settings = Settings.from_env(database_url=database_url)
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from gspws.wsgi import build_store
            self._store = build_store(self.settings)
        return self._store

    @contextmanager
    def repo(self) -> Iterator[Repository]:
        """One transaction; an operator error rolls it back and exits 1 with the message."""
        try:
            with self.store.unit() as repo:
                yield repo
        except (StoreError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None


pass_ctx = click.make_pass_decorator(Context)


def _emit(rows: list[dict], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


# -- argument checks ----------------------------------------------------------------------------

def _service_id(_ctx, _param, value: str) -> str:
    if not valid_service_id(value):
        raise click.BadParameter(f"{value!r} is not a ServiceID (APP followed by 7 digits)")
    return value


def _cidrs(_ctx, _param, values: tuple[str, ...]) -> list[str]:
    try:
        return [str(ipaddress.ip_network(v, strict=False)) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _secret(_ctx, _param, value: str | None) -> str | None:
    if value is not None:
        value = value.replace(" ", "").upper()
        if not otp.valid_secret(value):
            raise click.BadParameter("not a base32 secret of at least 112 bits (23 characters)")
    return value


FUNCTION = click.Choice(FUNCTIONS)
SERVICE_ID = click.argument("service_id", callback=_service_id)
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar="GSPWS_DATABASE_URL", metavar="URL",
              help="SQLAlchemy URL of the store (default: SQLite in $GSPWS_HOME).")
@click.version_option(package_name="gspws")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Operate gspws: the GSP-compatible TOTP web service."""
    try:
        ctx.obj = Context(database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


# -- db -----------------------------------------------------------------------------------------

@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(c: Context) -> None:
    """Apply the migrations (creates the store if needed)."""
    from gspws.store import migrate
    migrate.upgrade(c.store.engine)
    click.echo(f"database at the newest revision: {_safe_url(c.settings)}")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


# -- services -----------------------------------------------------------------------------------

@main.group()
def service() -> None:
    """Agency systems (ServiceIDs), their allowed networks and granted functions."""


def _service_row(s: Service) -> dict:
    return {"service_id": s.service_id, "name": s.name, "enabled": s.enabled,
            "allow": [n.cidr for n in s.networks],
            "grants": {g.function: ("suspended" if g.suspended else "active") for g in s.grants}}


@service.command("add")
@SERVICE_ID
@click.option("--name", required=True, help="The agency system's name.")
@click.option("--allow", "networks", multiple=True, required=True, callback=_cidrs,
              metavar="CIDR", help="Allowed client network (IPv4 or IPv6); repeatable.")
@click.option("--grant", "functions", multiple=True, type=FUNCTION,
              help="Function granted; repeatable. Default: VerifyTOTPCode.")
@pass_ctx
def service_add(c: Context, service_id: str, name: str, networks: list[str],
                functions: tuple[str, ...]) -> None:
    """Register an agency system."""
    with c.repo() as repo:
        repo.add_service(service_id, name, networks, list(functions or FUNCTIONS[:1]))
    click.echo(f"service {service_id} added")


def _grant_command(name: str, doc: str, action) -> None:
    @service.command(name, help=doc)
    @SERVICE_ID
    @click.argument("function", type=FUNCTION)
    @pass_ctx
    def command(c: Context, service_id: str, function: str) -> None:
        with c.repo() as repo:
            action(repo, service_id, function)
        click.echo(f"{service_id} {function}: {name}")


_grant_command("grant", "Grant a function.", Repository.grant)
_grant_command("revoke", "Revoke a function (calls answer 8108).", Repository.revoke)
_grant_command("suspend", "Suspend a granted function (calls answer 8109).",
               lambda r, s, f: r.set_suspended(s, f, True))
_grant_command("resume", "Resume a suspended function.",
               lambda r, s, f: r.set_suspended(s, f, False))


def _enable_command(name: str, doc: str, enabled: bool) -> None:
    @service.command(name, help=doc)
    @SERVICE_ID
    @pass_ctx
    def command(c: Context, service_id: str) -> None:
        with c.repo() as repo:
            repo.set_enabled(service_id, enabled)
        click.echo(f"service {service_id} {name}d")


_enable_command("disable", "Disable a service (all its calls answer 8109).", False)
_enable_command("enable", "Enable a disabled service.", True)


@service.command("list")
@JSON
@pass_ctx
def service_list(c: Context, as_json: bool) -> None:
    """List services."""
    with c.repo() as repo:
        rows = [_service_row(s) for s in repo.list_services()]
    if not as_json:
        for row in rows:
            row["allow"] = ",".join(row["allow"])
            row["grants"] = ",".join(f"{f}({s})" for f, s in row["grants"].items())
    _emit(rows, as_json, ["service_id", "name", "enabled", "allow", "grants"])


@service.command("show")
@SERVICE_ID
@JSON
@pass_ctx
def service_show(c: Context, service_id: str, as_json: bool) -> None:
    """Show one service."""
    with c.repo() as repo:
        row = _service_row(repo.get_service(service_id))
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    for key, value in row.items():
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} ({v})" for k, v in value.items()) or "(none)"
        click.echo(f"{key:11} {value}")


# -- accounts -----------------------------------------------------------------------------------

@main.group()
def account() -> None:
    """Citizens' accounts."""


@account.command("add")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--name", help="Display name.")
@click.option("--email")
@click.option("--phone")
@pass_ctx
def account_add(c: Context, account_name: str, name: str | None, email: str | None,
                phone: str | None) -> None:
    """Add an account."""
    if not account_name.strip() or len(account_name) > 128:
        raise click.BadParameter("must be 1 to 128 characters", param_hint="ACCOUNT")
    with c.repo() as repo:
        repo.add_account(account_name, name, email, phone)
    click.echo(f"account {account_name} added")


@account.command("list")
@JSON
@pass_ctx
def account_list(c: Context, as_json: bool) -> None:
    """List accounts with their number of active tokens."""
    with c.repo() as repo:
        rows = [_account_row(a) for a in repo.list_accounts()]
    _emit(rows, as_json, ["account", "name", "email", "phone", "active_tokens"])


def _account_row(a: Account) -> dict:
    return {"account": a.account, "name": a.name or "", "email": a.email or "",
            "phone": a.phone or "",
            "active_tokens": sum(t.status is TokenStatus.ACTIVE for t in a.tokens)}


# -- tokens -------------------------------------------------------------------------------------

@main.group()
def token() -> None:
    """TOTP tokens (authenticator devices)."""


@token.command("add")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--secret", callback=_secret, help="Base32 secret (default: a new random one).")
@click.option("--algorithm", type=click.Choice(tuple(otp.ALGORITHMS)), default=otp.DEFAULT_ALGORITHM,
              show_default=True)
@click.option("--digits", type=click.Choice([str(d) for d in otp.DIGITS]),
              default=str(otp.DEFAULT_DIGITS), show_default=True)
@click.option("--period", type=click.Choice([str(p) for p in otp.PERIODS]),
              default=str(otp.DEFAULT_PERIOD), show_default=True, help="Seconds per code.")
@click.option("--device-name", help="What the device is called (e.g. 'work phone').")
@click.option("--qr", is_flag=True, help="Also draw the otpauth URI as a QR code.")
@pass_ctx
def token_add(c: Context, account_name: str, secret: str | None, algorithm: str, digits: str,
              period: str, device_name: str | None, qr: bool) -> None:
    """Add an active TOTP token to ACCOUNT; prints its serial and otpauth URI.

    The URI contains the secret: show it only to the account's owner.
    """
    params = TotpParams(secret or otp.new_secret(), algorithm, int(digits), int(period))
    with c.repo() as repo:
        row = repo.add_token(repo.get_account(account_name), params, TokenStatus.ACTIVE,
                             device_name)
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
    _emit(rows, as_json, ["serial", "account", "type", "status", "algorithm", "digits", "period",
                          "failures", "device_name"])


def _token_row(t: Token) -> dict:
    return {"serial": t.serial, "account": t.account.account if t.account else "",
            "type": t.type.value, "status": t.status.value, "algorithm": t.algorithm,
            "digits": t.digits, "period": t.period, "failures": t.failures,
            "device_name": t.device_name or ""}


@token.command("unlock")
@click.argument("serial")
@pass_ctx
def token_unlock(c: Context, serial: str) -> None:
    """Unlock a token locked by failed codes (also clears its failure count)."""
    with c.repo() as repo:
        row = repo.get_token(serial)
        if row.status not in (TokenStatus.LOCKED, TokenStatus.ACTIVE):
            raise StoreError(f"token {serial} is {row.status.value}, not locked")
        row.status, row.failures, row.locked_at = TokenStatus.ACTIVE, 0, None
    click.echo(f"token {serial} unlocked")


@token.command("disable")
@click.argument("serial")
@pass_ctx
def token_disable(c: Context, serial: str) -> None:
    """Disable a token: its codes are no longer accepted."""
    with c.repo() as repo:
        repo.get_token(serial).status = TokenStatus.DISABLED
    click.echo(f"token {serial} disabled")


# -- serving ------------------------------------------------------------------------------------

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="GSPWS_HOST")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              envvar="GSPWS_PORT")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              envvar="GSPWS_WORKERS", help="Worker processes.")
@pass_ctx
def serve(c: Context, host: str, port: int, workers: int) -> None:
    """Serve the web service with gunicorn (production WSGI server)."""
    from gspws import serving
    from gspws.store import migrate
    if migrate.pending(c.store.engine):
        raise click.ClickException("the database schema is not current: run `gspws db upgrade`")
    serving.run(c.settings, host, port, workers)


@main.command()
@click.option("--url", default="http://127.0.0.1:8000/gsp2ws/TOTP.asmx", show_default=True,
              help="Where the server will answer (for the printed command).")
@pass_ctx
def demo(c: Context, url: str) -> None:
    """Seed a demo agency and account when the store is empty; print how to try a call."""
    from gspws import demo as demo_data
    with c.repo() as repo:
        info = demo_data.ensure(repo)
    if info is None:
        click.echo("The store already has accounts; no demo data was added.")
        return
    click.echo(demo_data.instructions(info, url, c.settings.issuer))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
