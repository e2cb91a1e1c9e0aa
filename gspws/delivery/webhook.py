"""``GSPWS_SMS_GATEWAY=webhook:URL``: any other SMS gateway, through a small relay of your own.

gspws POSTs each message as JSON (``{"id", "key", "channel", "to", "text", "not_after"}``) to URL
with two headers: ``X-Gspws-Timestamp`` (Unix seconds) and ``X-Gspws-Signature``
(``sha256=`` + hex HMAC-SHA256 under ``GSPWS_SMS_WEBHOOK_SECRET`` of ``TIMESTAMP.BODY``, the body
as sent, bytes). The receiver recomputes the signature over the raw body, compares it in constant
time and refuses old timestamps (docs/delivery.md has a sample). ``key`` is the same on every
attempt for one message: a receiver that remembers keys delivers each message once.

A 2xx answer is success (an optional JSON ``{"id": "…"}`` is kept as the gateway reference);
408, 429 and 5xx, timeouts and connection errors are retried; other statuses are not.
"""

import hashlib
import hmac
import json
from collections.abc import Callable

import requests

from gspws.delivery.port import Message, Permanent, Temporary

MAX_ANSWER = 8192
RETRIED_STATUSES = frozenset({408, 425, 429})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What ``X-Gspws-Signature`` carries for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, received: str) -> bool:
    """The receiver's check (the freshness of ``timestamp`` is the receiver's to judge)."""
    return hmac.compare_digest(signature(secret, timestamp, body), received)


class WebhookGateway:
    def __init__(
        self,
        url: str,
        secret: str,
        clock_seconds: Callable[[], float],
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.clock_seconds = clock_seconds
        self.session = session or requests.Session()

    def deliver(self, message: Message, timeout: float) -> str | None:
        body = json.dumps(
            {
                "id": message.id,
                "key": message.key,
                "channel": message.channel,
                "to": message.destination,
                "text": message.text,
                "not_after": message.not_after.isoformat(),
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(self.clock_seconds()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Gspws-Timestamp": timestamp,
            "X-Gspws-Signature": signature(self.secret, timestamp, body),
        }
        try:
            with self.session.post(
                self.url, data=body, headers=headers, timeout=(timeout, timeout), stream=True
            ) as response:
                status = response.status_code
                raw = response.raw.read(MAX_ANSWER, decode_content=True)
        except requests.RequestException as exc:
            raise Temporary(f"webhook: {type(exc).__name__}") from None
        if 200 <= status < 300:
            return _reference(raw)
        reason = f"webhook: HTTP {status}"
        raise (Temporary if status >= 500 or status in RETRIED_STATUSES else Permanent)(reason)


def _reference(raw: bytes) -> str | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    ref = answer.get("id") if isinstance(answer, dict) else None
    return str(ref)[:100] if ref is not None else None
