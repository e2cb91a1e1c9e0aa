"""Database schema and seeding commands."""

from pathlib import Path

import click

from gspws.cli.base import Context, main, pass_ctx


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(c: Context) -> None:
    """Apply the migrations (creates the store if needed)."""
    from gspws.store import migrate

    migrate.upgrade(c.store.engine)
    click.echo(f"database at the newest revision: {c.safe_url}")


@db.command("seed")
@click.argument("fixtures", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def db_seed(c: Context, fixtures: Path) -> None:
    """Add the services, accounts, tokens and pending codes of a replay fixtures file (JSON).

    For a server to replay recordings against with `gspws replay --url`: the same data the
    recordings were made with. Its `settings` are not applied; set them in the environment.
    Pending codes (`otp_codes`) count their `age` back from now: the server's clock is real.
    """
    import time

    from gspws.replay import fixtures as fixtures_file

    try:
        fixtures_file.populate(c.store, fixtures_file.load(fixtures), now=time.time())
    except fixtures_file.FixturesError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"seeded from {fixtures}")
