"""The outbox of codes sent by SMS and e-mail: ``gspws outbox list|retry`` and the sender,
``gspws deliver`` (docs/delivery.md)."""

import os
import signal
import threading
from datetime import UTC, datetime

import click

from gspws.cli.base import JSON, Context, emit, main, pass_ctx
from gspws.config import Settings
from gspws.delivery.sender import Sender
from gspws.store.outbox import STATUSES, Outbox


def outbox_of(c: Context) -> Outbox:
    return Outbox(c.store.engine, c.store.secrets)


@main.group()
def outbox() -> None:
    """Codes waiting for delivery by SMS or e-mail, and what became of them."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only messages in this state.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1), help="The newest this many."
)
@JSON
@pass_ctx
def outbox_list(c: Context, status: str | None, limit: int, as_json: bool) -> None:
    """List messages, newest first: destinations masked, never the text (it holds the code)."""
    from gspws.core.oob import mask

    rows = [
        {
            "id": e.id,
            "channel": e.channel,
            "to": mask(e.channel, e.destination),
            "status": e.status,
            "attempts": e.attempts,
            "created_at": _iso(e.created_at),
            "not_after": _iso(e.not_after),
            "next_attempt_at": _iso(e.next_attempt_at) if e.status == "pending" else "",
            "sent_at": _iso(e.sent_at),
            "last_error": e.last_error or "",
            "gateway_ref": e.gateway_ref or "",
        }
        for e in outbox_of(c).entries(status, limit)
    ]
    emit(
        rows,
        as_json,
        ["id", "channel", "to", "status", "attempts", "created_at", "sent_at", "last_error"],
    )


@outbox.command("retry")
@click.argument("message_id", metavar="ID", type=int)
@pass_ctx
def outbox_retry(c: Context, message_id: int) -> None:
    """Send a failed or expired message again, if its code is still valid."""
    outbox_of(c).retry(message_id, datetime.now(UTC))
    click.echo(f"message {message_id} is pending again")


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--parent", type=int, hidden=True, help="Exit when this process is gone (gspws serve's sender)."
)
@pass_ctx
def deliver(c: Context, once: bool, parent: int | None) -> None:
    """Deliver the outbox's messages through the configured gateways, until stopped."""
    from gspws.logs import configure_logging

    configure_logging(c.settings.log_level, c.settings.log_format)
    sender = sender_of(c.settings, outbox_of(c))
    if once:
        sender.run_once()
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if parent is not None:
        threading.Thread(
            target=_watch_parent, args=(parent, stop, c.settings.delivery_poll), daemon=True
        ).start()
    sender.run(stop, c.settings.delivery_poll)


def sender_of(settings: Settings, queue: Outbox) -> Sender:
    from gspws.core.clock import system_clock
    from gspws.delivery.gateways import by_channel

    return Sender(queue, by_channel(settings), system_clock, settings.sms_timeout)


def _watch_parent(parent: int, stop: threading.Event, poll: float) -> None:
    while not stop.wait(poll):
        if os.getppid() != parent:
            stop.set()


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""
