"""The outbox sender: hands each committed message to its gateway, once, while it is valid.

A use case commits a code and its message in one transaction (the outbox); this loop delivers it.
One message at a time: the store claims the oldest due one with one conditional UPDATE that sets
a lease (``claimed_until``), so any number of senders, on any number of nodes, never hold the same
message at once. The gateway's answer is then recorded:

* sent, with the gateway's reference;
* a temporary failure (timeout, gateway down or busy): due again after an exponential backoff with
  jitter (2 s, 4 s, 8 s … at most 60 s, each scaled by a random 0.5–1.0 so senders that failed
  together do not retry together), or expired when that would be past ``not_after``;
* a permanent failure: failed, until an operator fixes the cause and runs ``gspws outbox retry``.

A sender killed (kill -9) after the commit and before the record loses nothing: the message is
still pending, and once its lease has passed the next sender delivers it. The lease is
:data:`LEASE_WAITS` gateway timeouts plus :data:`LEASE_MARGIN`: SMTP waits up to 8 times (connect,
greeting, EHLO, MAIL, RCPT, DATA, end of data, QUIT), each bounded by ``GSPWS_SMS_TIMEOUT``, so a
live sender always records before its lease ends. ``last_error`` and the log name the message by
id and the gateway's reason: never its text, which holds the code.
"""

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from gspws.core.clock import Clock
from gspws.delivery.port import Gateway, Message, Permanent, Temporary

log = logging.getLogger(__name__)

LEASE_WAITS = 8
LEASE_MARGIN = 10.0  # seconds: the database round trips around a delivery
BACKOFF_FIRST, BACKOFF_LONGEST = 2.0, 60.0


@dataclass(frozen=True)
class Claimed:
    """A message this sender holds until ``lease``, with the attempts made so far
    (this one included)."""

    message: Message
    attempts: int
    lease: datetime


class Queue(Protocol):
    """What the sender needs of the outbox (gspws.store.outbox fills it)."""

    def claim_next(self, now: datetime, lease: datetime) -> Claimed | None: ...
    def record_sent(self, claimed: Claimed, now: datetime, ref: str | None) -> None: ...
    def record_retry(self, claimed: Claimed, due: datetime, error: str) -> None: ...
    def record_final(self, claimed: Claimed, status: str, error: str) -> None: ...
    def expire(self, now: datetime) -> int: ...


def backoff(attempts: int, rng: random.Random) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from BACKOFF_FIRST up to
    BACKOFF_LONGEST, times a random 0.5–1.0."""
    doubled: float = BACKOFF_FIRST * 2.0 ** max(0, attempts - 1)
    return min(BACKOFF_LONGEST, doubled) * rng.uniform(0.5, 1.0)


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Sender:
    def __init__(
        self,
        queue: Queue,
        gateways: dict[str, Gateway],
        clock: Clock,
        timeout: float,
        rng: random.Random | None = None,
    ) -> None:
        self.queue = queue
        self.gateways = gateways
        self.clock = clock
        self.timeout = timeout
        self.lease = LEASE_WAITS * timeout + LEASE_MARGIN
        self.rng = rng or random.Random()

    def run_once(self) -> int:
        """Deliver every message due now; how many were tried."""
        self.queue.expire(utc(self.clock()))
        tried = 0
        while True:
            now = self.clock()
            claimed = self.queue.claim_next(utc(now), utc(now + self.lease))
            if claimed is None:
                return tried
            self._deliver(claimed)
            tried += 1

    def run(self, stop: threading.Event, poll: float) -> None:
        """Deliver until ``stop`` is set, looking again every ``poll`` seconds when idle. A
        database that fails is logged and tried again at the next look."""
        while not stop.is_set():
            try:
                tried = self.run_once()
            except Exception as exc:  # the store: never the message's text
                log.warning("outbox: cannot use the store (%s)", type(exc).__name__)
                tried = 0
            if not tried:
                stop.wait(poll)

    def _deliver(self, claimed: Claimed) -> None:
        message = claimed.message
        gateway = self.gateways.get(message.channel)
        try:
            if gateway is None:
                raise Permanent(f"no gateway for channel {message.channel!r}")
            ref = gateway.deliver(message, self.timeout)
        except Permanent as exc:
            log.warning("outbox message %d (%s): failed: %s", message.id, message.channel, exc)
            self.queue.record_final(claimed, "failed", str(exc))
            return
        except Temporary as exc:
            error = str(exc)
        except Exception as exc:  # a gateway's bug: retried like an outage, logged without text
            error = f"{type(exc).__name__} in the gateway"
            log.error("outbox message %d (%s): %s", message.id, message.channel, error)
        else:
            self.queue.record_sent(claimed, utc(self.clock()), ref)
            log.info("outbox message %d (%s): sent", message.id, message.channel)
            return
        due = self.clock() + backoff(claimed.attempts, self.rng)
        if utc(due) >= message.not_after:
            log.warning("outbox message %d (%s): expired: %s", message.id, message.channel, error)
            self.queue.record_final(claimed, "expired", error)
        else:
            log.info("outbox message %d (%s): retry: %s", message.id, message.channel, error)
            self.queue.record_retry(claimed, utc(due), error)
