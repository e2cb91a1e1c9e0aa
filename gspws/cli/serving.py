"""Serving, the demo data, and envelope replay."""

import sys
from pathlib import Path

import click

from gspws.cli.base import Context, main, pass_ctx


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="GSPWS_HOST")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), envvar="GSPWS_PORT"
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="GSPWS_WORKERS",
    help="Worker processes.",
)
@click.option(
    "--record",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every SOAP exchange to DIR for `gspws replay`. The files hold live "
    "codes: delete them after use.",
)
@click.option(
    "--record-secrets",
    is_flag=True,
    help="With --record: keep the secrets, otpauth URIs, QR images and binding links "
    "that binding answers hand out (redacted by default).",
)
@pass_ctx
def serve(
    c: Context, host: str, port: int, workers: int, record: Path | None, record_secrets: bool
) -> None:
    """Serve the web service (granian; requests read whole, with deadlines, before the app)."""
    from gspws import serving
    from gspws.store import migrate

    if migrate.pending(c.store.engine):
        raise click.ClickException("the database schema is not current: run `gspws db upgrade`")
    if record_secrets and record is None:
        raise click.UsageError("--record-secrets needs --record")
    if record is not None:
        from gspws.replay import recorder, recording

        try:
            recording.prepare(record)
        except OSError as exc:
            raise click.BadParameter(str(exc), param_hint="--record") from None
        click.secho(
            f"WARNING: {recorder.warning(record, record_secrets)}", err=True, fg="red", bold=True
        )
    serving.run(c.settings, host, port, workers, record, record_secrets)


@main.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8000/gsp2ws/TOTP.asmx",
    show_default=True,
    help="Where the server will answer (for the printed command).",
)
@pass_ctx
def demo(c: Context, url: str) -> None:
    """Seed a demo agency and account when the store is empty; print how to try a call."""
    from gspws import demo as demo_data

    with c.repo() as repo:
        info = demo_data.ensure(repo)
    if info is None:
        click.echo("The store already has accounts; no demo data was added.")
        return
    gateways = (c.settings.sms_gateway, c.settings.mail_gateway)
    spools = tuple(dict.fromkeys(g.partition(":")[2] for g in gateways if g.startswith("spool:")))
    click.echo(demo_data.instructions(info, url, c.settings.issuer, spools))


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--url",
    metavar="URL",
    help="Send to a running server (only its scheme, host "
    "and port are used; each request keeps its recorded path).",
)
@click.option(
    "--fixtures",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Send in-process to a throw-away store built from this JSON file, at the "
    "recorded instants.",
)
@click.option(
    "--junit",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JUnit XML.",
)
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
