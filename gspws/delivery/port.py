"""What the sender needs of a gateway: deliver one message within a deadline, or say why not.

A gateway answers with the gateway's own reference for the message (kept as ``gateway_ref``), or
raises :class:`Temporary` (worth another try while the code is valid: a timeout, a gateway that is
down or busy) or :class:`Permanent` (no retry will help: a refused number, wrong credentials).
Their messages are stored as ``last_error`` and logged: they never hold the message's text.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: Longest ``last_error`` kept (characters): enough for a gateway's status and reason.
MAX_ERROR = 200


@dataclass(frozen=True)
class Message:
    """One outgoing message, decrypted. ``key`` is stable across attempts and unique per message,
    so a gateway that deduplicates (Mitake's ``clientid``, a webhook's receiver) can drop a
    repeat sent after a crash between its acceptance and our record of it."""

    id: int
    channel: str  # "sms" or "email"
    destination: str
    subject: str | None
    text: str
    not_after: datetime
    key: str


class DeliveryError(Exception):
    """Why a delivery did not happen; ``str()`` is bounded and holds no message text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason[:MAX_ERROR])


class Temporary(DeliveryError):
    """Try again later (with backoff), while the message is still valid."""


class Permanent(DeliveryError):
    """Do not try again: an operator must fix something first (``gspws outbox retry ID``)."""


class Gateway(Protocol):
    def deliver(self, message: Message, timeout: float) -> str | None:
        """Hand ``message`` over within ``timeout`` seconds of each network wait; return the
        gateway's reference for it (or None), raise Temporary or Permanent."""
        ...
