"""What every command shares: the context (settings, store), output, argument checks, and
the ``gspws`` group the commands attach to, which turns gspws's own errors and a database it
cannot use into one line on stderr and exit status 1."""

import json
import unicodedata
from contextlib import AbstractContextManager

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from gspws import __version__
from gspws.config import Settings
from gspws.core import otp
from gspws.core.access import FUNCTIONS, network_list, valid_service_id
from gspws.errors import GspwsError
from gspws.store.db import DatabaseUnavailable
from gspws.store.repo import Repository, Store


class Context:
    def __init__(self, database_url: str | None) -> None:
        self.settings = Settings.from_env(database_url=database_url)
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from gspws.compose import build_store

            store = build_store(self.settings)
            with store.engine.connect():  # a database it cannot use fails here, in every command
                pass  # (the use cases would answer 3000 and hide why)
            self._store = store
        return self._store

    def repo(self) -> AbstractContextManager[Repository]:
        """One transaction; an operator error (a GspwsError) rolls it back and exits 1 with the
        message (see :class:`Commands`)."""
        return self.store.unit()

    @property
    def safe_url(self) -> str:
        """The store's URL without its password."""
        return make_url(self.settings.effective_database_url).render_as_string(hide_password=True)


pass_ctx = click.make_pass_decorator(Context)


def emit(rows: list[dict], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(none)")
        return
    rows = [{c: terminal_safe(str(r[c])) for c in columns} for r in rows]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


def terminal_safe(text: str) -> str:
    """``text`` with control and format characters (escape sequences, carriage returns, bidi
    overrides) written as ``\\x1b``-style escapes, so a stored value cannot drive the terminal
    or forge a table row."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf")
        else ch
        for ch in text
    )


# -- argument checks ----------------------------------------------------------------------------


def _service_id(_ctx, _param, value: str) -> str:
    if not valid_service_id(value):
        raise click.BadParameter(f"{value!r} is not a ServiceID (APP followed by 7 digits)")
    return value


def cidrs(_ctx, _param, values: tuple[str, ...]) -> list[str]:
    try:
        return network_list(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def base32_secret(_ctx, _param, value: str | None) -> str | None:
    if value is not None:
        value = value.replace(" ", "").upper()
        if not otp.valid_secret(value):
            raise click.BadParameter("not a base32 secret of at least 112 bits (23 characters)")
    return value


FUNCTION = click.Choice(FUNCTIONS)
SERVICE_ID = click.argument("service_id", callback=_service_id)
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


class Commands(click.Group):
    """The ``gspws`` group. The one place where a command's expected failures become one line:
    a database that is unreachable, missing or refuses (with its URL, without the password, and
    what to do), and any other GspwsError (its message). Anything else is a bug: traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (DBAPIError, DatabaseUnavailable) as exc:
            raise click.ClickException(_unusable_database(ctx.obj, exc)) from None
        except GspwsError as exc:
            raise click.ClickException(str(exc)) from None


def _unusable_database(c: Context, exc: Exception) -> str:
    """What failed, where (the URL without its password) and what to do, on one line."""
    url = make_url(c.settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        advice = (
            "its directory must exist or be creatable, and be writable; a new database "
            "needs `gspws db upgrade`"
        )
    else:
        advice = (
            "the server must be running and reachable, accept this user, and have this "
            "database (create it, then run `gspws db upgrade`)"
        )
    return (
        f"cannot use the database {c.safe_url}: {db_error(exc)}. Check --database-url "
        f"(GSPWS_DATABASE_URL): {advice}."
    )


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="GSPWS_DATABASE_URL",
    metavar="URL",
    help="SQLAlchemy URL of the store (default: SQLite in $GSPWS_HOME).",
)
@click.version_option(__version__, prog_name="gspws")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Operate gspws: the GSP-compatible TOTP web service."""
    ctx.obj = Context(database_url)


def db_error(exc: Exception) -> str:
    """The first line of a database error (the driver's message, no SQL, no parameters)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
