"""``gspws``: the operator's command line. Thin: parses, validates, calls the store, prints.

Every listing takes ``--json``. Bad input is a one-line message on stderr and exit status 2
(click's usage errors) or 1 (an object that does not exist or already exists).
"""

import ipaddress
import json
import sys
from contextlib import contextmanager
from pathlib import Path
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


@db.command("seed")
@click.argument("fixtures", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def db_seed(c: Context, fixtures: Path) -> None:
    """Add the services, accounts and tokens of a replay fixtures file (JSON) to the store.

    For a server to replay recordings against with `gspws replay --url`: the same data the
    recordings were made with. Its `settings` are not applied; set them in the environment.
    """
    from gspws.replay import fixtures as fixtures_file
    try:
        fixtures_file.populate(c.store, fixtures_file.load(fixtures))
    except fixtures_file.FixturesError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"seeded from {fixtures}")


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


def _binding_link(settings: Settings, store: Store, account_name: str, invite: bool) -> str:
    """A new binding link for the account (see gspws.core.enroll); exits 1 when refused."""
    from gspws.core.enroll import Person
    from gspws.wsgi import enrollment_of
    operation = "cli:InviteToBinding" if invite else "cli:CreateBindingLink"
    outcome = enrollment_of(settings, store).create_link(Person(None, operation), account_name,
                                                         invite=invite)
    if not outcome.ok:
        raise click.ClickException(f"no account {account_name!r}" if outcome.problem
                                   else "the link could not be created (see the log)")
    return outcome.value


@account.command("link")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--ttl", type=click.IntRange(1, 7 * 86400), metavar="SECONDS",
              help="Validity of the link. Default: GSPWS_LINK_TTL (600).")
@pass_ctx
def account_link(c: Context, account_name: str, ttl: int | None) -> None:
    """Print a single-use link to the binding page for ACCOUNT. Hand it only to its owner."""
    from dataclasses import replace
    settings = replace(c.settings, link_ttl=ttl) if ttl else c.settings
    click.echo(_binding_link(settings, c.store, account_name, invite=False))
    click.echo(f"valid {settings.link_ttl // 60 or 1} min, once", err=True)


@account.command("invite")
@click.argument("account_name", metavar="ACCOUNT")
@pass_ctx
def account_invite(c: Context, account_name: str) -> None:
    """E-mail ACCOUNT's owner a binding link valid GSPWS_INVITE_TTL (an hour); earlier unused
    links of the account stop working. Run it again to send a new one."""
    import smtplib

    from gspws import mail
    with c.repo() as repo:
        email = repo.get_account(account_name).email
    if not email:
        raise click.ClickException(f"account {account_name!r} has no e-mail address")
    url = _binding_link(c.settings, c.store, account_name, invite=True)
    message = mail.invitation(c.settings.smtp_sender, email, account_name, url,
                              c.settings.invite_ttl)
    try:
        mail.send(c.settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        raise click.ClickException(f"cannot send the invitation through "
                                   f"{c.settings.smtp_host}: {exc}") from None
    click.echo(f"invitation for {account_name} sent to {email}")


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
@click.option("--record", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Write every SOAP exchange to DIR for `gspws replay`. The files hold live "
                   "codes: delete them after use.")
@pass_ctx
def serve(c: Context, host: str, port: int, workers: int, record: Path | None) -> None:
    """Serve the web service with gunicorn (production WSGI server)."""
    from gspws import serving
    from gspws.store import migrate
    if migrate.pending(c.store.engine):
        raise click.ClickException("the database schema is not current: run `gspws db upgrade`")
    if record is not None:
        from gspws.replay import recorder, recording
        try:
            recording.prepare(record)
        except OSError as exc:
            raise click.BadParameter(str(exc), param_hint="--record") from None
        click.secho(f"WARNING: {recorder.WARNING.format(directory=record)}", err=True,
                    fg="red", bold=True)
    serving.run(c.settings, host, port, workers, record)


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


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--url", metavar="URL", help="Send to a running server (only its scheme, host "
              "and port are used; each request keeps its recorded path).")
@click.option("--fixtures", metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Send in-process to a throw-away store built from this JSON file, at the "
                   "recorded instants.")
@click.option("--junit", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JUnit XML.")
def replay(directory: Path, url: str | None, fixtures: Path | None, junit: Path | None) -> None:
    """Send recorded SOAP requests again; compare each answer with the recorded one.

    DIRECTORY holds `gspws serve --record` recordings, bare XML envelopes (*.xml) or raw HTTP
    requests (*.http, *.txt: Fiddler, curl --trace). Differences are shown as unified diffs of
    the XML meaning, then a table. Exit status 1 when any answer differs.
    """
    from gspws.replay import command
    from gspws.replay.capture import CaptureError
    from gspws.replay.fixtures import FixturesError
    from gspws.replay.runner import UrlError
    if (url is None) == (fixtures is None):
        raise click.UsageError("give exactly one of --url and --fixtures")
    try:
        status = command.run(directory, url, fixtures, junit, click.echo)
    except CaptureError as exc:
        raise click.BadParameter(str(exc), param_hint="DIRECTORY") from None
    except FixturesError as exc:
        raise click.BadParameter(str(exc), param_hint="--fixtures") from None
    except UrlError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None
    sys.exit(status)


# -- keys ---------------------------------------------------------------------------------------

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
    from sqlalchemy.exc import SQLAlchemyError
    engine = make_engine(c.settings)
    try:
        if migrate.pending(engine):
            raise click.ClickException("the database schema is not current: run `gspws db upgrade`")
    except SQLAlchemyError as exc:
        engine.dispose()
        raise click.ClickException(f"cannot use the database: {_db_error(exc)}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def _db_error(exc: Exception) -> str:
    """The first line of a database error (the driver's message, no SQL, no parameters)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _key_source(c: Context):
    from gspws.store import rotation
    try:
        return rotation.key_source(c.settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


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
    from sqlalchemy.exc import SQLAlchemyError
    try:
        counts = rotation.census(engine, source.keys)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error: {_db_error(exc)}") from None
    finally:
        engine.dispose()
    row = {"mode": source.mode,
           "key_file": str(source.path) if source.path else None,
           "keys": source.fingerprints,
           "tokens": {"total": counts.total, "first_key": counts.first_key,
                      "older_keys": counts.older_keys, "unreadable": len(counts.unreadable)},
           "unreadable_serials": counts.unreadable}
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(f"keys from:  {source.description}"
               + (" (does not exist yet)" if source.mode == "file" and not source.keys else ""))
    click.echo(f"keys:       {len(source.keys)}")
    for index, fp in enumerate(source.fingerprints):
        click.echo(f"  {fp}" + ("  (encrypts)" if index == 0 else ""))
    click.echo(f"tokens:     {counts.total}: {counts.first_key} under the first key, "
               f"{counts.older_keys} under older keys, {len(counts.unreadable)} unreadable")
    if counts.unreadable:
        click.echo("unreadable: " + " ".join(counts.unreadable[:20])
                   + (" ..." if len(counts.unreadable) > 20 else ""))
    if source.mode == "file" and len(source.keys) > 1:
        click.echo("The key file holds several keys: a rotation was started and not finished; "
                   "`gspws keys rotate` finishes it.")


class _RotationProgress:
    """click progress bars on stderr, one per pass (1: re-encrypting, then: verifying)."""

    def __init__(self) -> None:
        self._bar = None
        self._number = 0

    def __call__(self, state) -> None:
        if state.number != self._number:
            self.close()
            self._number = state.number
            label = "re-encrypting" if state.number == 1 else f"verifying (pass {state.number})"
            self._bar = click.progressbar(
                length=max(state.total, 1), label=label, file=sys.stderr, show_pos=True,
                item_show_func=lambda s: s and (f"re-encrypted {s.reencrypted}, "
                                                f"already current {s.skipped}"))
            self._bar.__enter__()
        self._bar.update(max(0, min(state.done, self._bar.length) - self._bar.pos), state)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _unreadable_message(serials: list[str]) -> str:
    shown = " ".join(serials[:20]) + (" ..." if len(serials) > 20 else "")
    return (f"{len(serials)} token secrets cannot be decrypted with any configured key "
            f"(serials: {shown})")


@keys.command("rotate")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Tokens re-encrypted per transaction.")
@click.option("--allow-unreadable", is_flag=True,
              help="Retire the old keys even if some secrets open with no configured key.")
@pass_ctx
def keys_rotate(c: Context, batch_size: int, allow_unreadable: bool) -> None:
    """Re-encrypt every token secret under a new key and retire the old one(s).

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
            "`gspws keys rotate` again; finally set GSPWS_SECRET_KEY=NEW and restart.")
    engine = _engine(c)
    progress = _RotationProgress()

    def started(fp: str, resumed: bool) -> None:
        if resumed:
            click.echo(f"{source.path} already holds several keys (an earlier rotation did not "
                       f"finish): continuing with key {fp}", err=True)
        else:
            click.echo(f"new key {fp} added to {source.path}", err=True)

    try:
        if source.mode == "file":
            result = rotation.rotate_key_file(engine, source.path, batch_size, progress,
                                              allow_unreadable, on_start=started)
            done = result.reencryption
        else:
            done = rotation.reencrypt(engine, source.keys, batch_size, progress)
    except (rotation.RotationError, ConfigError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"database error: {_db_error(exc)}. No secret is lost: every key that may still be "
            f"needed is kept; run `gspws keys rotate` again.") from None
    finally:
        progress.close()
        engine.dispose()

    click.echo(f"tokens:        {done.total}")
    click.echo(f"re-encrypted:  {done.reencrypted}")
    click.echo(f"skipped:       {done.already_current} (already under the new key)")
    if source.mode == "file":
        click.echo(f"key:           {result.key}")
        if not result.completed:
            raise click.ClickException(
                _unreadable_message(done.unreadable) + f"; the old keys were kept in "
                f"{source.path}. Restore the key they were written with, or accept their loss "
                f"with --allow-unreadable.")
        click.echo(f"retired:       {', '.join(result.retired) or '(none)'}")
        if done.unreadable:
            click.echo("warning: " + _unreadable_message(done.unreadable), err=True)
        click.echo(f"{source.path} now holds only key {result.key}. Database backups made "
                   f"before this rotation need the retired key.")
        return
    first, others = source.fingerprints[0], source.fingerprints[1:]
    click.echo(f"key:           {first} (the first in GSPWS_SECRET_KEY)")
    if done.unreadable and not allow_unreadable:
        raise click.ClickException(
            _unreadable_message(done.unreadable) + ". Restore the key they were written with, "
            "or accept their loss with --allow-unreadable.")
    if done.unreadable:
        click.echo("warning: " + _unreadable_message(done.unreadable), err=True)
    click.echo(f"Every token secret is now under key {first}. Remove the other keys "
               f"({', '.join(others)}) from GSPWS_SECRET_KEY on every node and restart gspws "
               f"there. Database backups made before this rotation need them.")


# -- audit --------------------------------------------------------------------------------------

@main.group()
def audit() -> None:
    """The audit trail of SOAP calls (no codes, no secrets)."""


@audit.command("export")
@click.option("--since", default="24h", show_default=True, metavar="WHEN",
              help="From (inclusive): an age such as 30m, 24h, 7d, 2w, or an ISO-8601 date or "
                   "date-time (UTC unless it has an offset).")
@click.option("--until", metavar="WHEN", help="To (exclusive), same forms. Default: no limit.")
@click.option("--service", "service_id", metavar="SERVICE_ID", help="Only this ServiceID.")
@click.option("--account", help="Only this account.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="csv (with a header row) or json (JSON Lines: one object "
                                      "per line).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default="-",
              help="File to write (replaced when complete). Default: stdout.")
@pass_ctx
def audit_export(c: Context, since: str, until: str | None, service_id: str | None,
                 account: str | None, fmt: str, output: str) -> None:
    """Export audit events, oldest first: at (ISO-8601 UTC), service_id, client_addr, operation,
    account, code, duration_ms."""
    from datetime import datetime, timezone

    from gspws.store import audit_export as export
    now = datetime.now(timezone.utc)
    try:
        start = export.parse_time(since, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        end = export.parse_time(until, now) if until is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    if end is not None and end <= start:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    from sqlalchemy.exc import SQLAlchemyError
    engine = export.reading_engine(c.settings)
    query = export.Query(start, end, service_id, account)
    try:
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
            count = export.WRITERS[fmt](export.events(engine, query), out)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error: {_db_error(exc)}") from None
    finally:
        engine.dispose()
    click.echo(f"{count} audit events exported", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
