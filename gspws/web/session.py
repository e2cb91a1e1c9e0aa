"""Sessions of the binding page: a signed, expiring cookie, and CSRF tokens bound to it.

gspws keeps no citizen passwords, so a session starts when a binding link is used and names the
link's account. Before that, a visitor gets an anonymous session, so that the form that uses the
link carries a CSRF token too (nobody can be signed in to someone else's account by a page of
theirs).

The cookie is ``payload.mac``: the payload (account, a random nonce, the expiry, the account's
session epoch) in base64url, and an HMAC-SHA256 of it under the session key, checked in constant
time. The server keeps one number per account, its session epoch: a signed-in session is valid
only while the epoch it carries is the account's current one. So a session ends when it expires
(``GSPWS_SESSION_TTL``), when its holder signs out (登出 moves the epoch on: every copy of the
cookie stops working, not only the browser's), or when a new binding link is made for the
account. A new nonce is drawn whenever a link is used, so a session cannot be fixed in advance. A
form's CSRF token is an HMAC of the session's nonce, so it is worthless in any other session.

The key is derived with HKDF-SHA256 from ``GSPWS_SESSION_SECRET`` or, when that is empty, from the
first encryption key (the composition, :mod:`gspws.compose`, hands it over): never that key itself, so the MAC key and the encryption key stay independent
(knowing one, e.g. from a leaked session key, says nothing about the other).
"""

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gspws.core.clock import Clock

COOKIE = "gspws_session"
_HKDF_INFO = b"gspws binding page sessions v1"


def session_key(session_secret: str, encryption_key: bytes, info: bytes = _HKDF_INFO) -> bytes:
    """The MAC key: from ``GSPWS_SESSION_SECRET`` when set, else from the encryption key.
    ``info`` separates the doors: the operator console's sessions are keyed with its own
    (:data:`gspws.admin.app.SESSION_INFO`), so no binding-page cookie or CSRF token is worth
    anything there."""
    if session_secret:
        material = session_secret.encode()
    else:
        material = base64.urlsafe_b64decode(encryption_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


@dataclass(frozen=True)
class Session:
    account: str | None  # None: anonymous, before a link was used
    nonce: str
    expires_at: float
    epoch: int | None = None  # the account's session epoch it began in (None: anonymous)


Epochs = Callable[[str], int | None]
"""An account's current session epoch (None: no such account), as the store holds it."""


class Sessions:
    def __init__(self, key: bytes, ttl: int, clock: Clock, epochs: Epochs) -> None:
        self._key = key
        self._ttl = ttl
        self._clock = clock
        self._epochs = epochs

    @property
    def ttl(self) -> int:
        return self._ttl

    def new(self, account: str | None = None, epoch: int | None = None) -> Session:
        return Session(account, secrets.token_urlsafe(16), self._clock() + self._ttl, epoch)

    def encode(self, session: Session) -> str:
        payload = _b64(
            json.dumps([session.account, session.nonce, session.expires_at, session.epoch]).encode()
        )
        return f"{payload}.{self._mac(b'session', payload.encode())}"

    def decode(self, cookie: str | None) -> Session | None:
        """The session of a cookie value, or None if it is missing, forged, expired or ended
        (its account's session epoch moved on)."""
        if not cookie or not cookie.isascii():
            return None
        payload, _, mac = cookie.partition(".")
        expected = self._mac(b"session", payload.encode())
        if not payload or not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        fields = json.loads(base64.urlsafe_b64decode(payload + "=="))
        if len(fields) != 4:  # signed before sessions carried an epoch
            return None
        session = Session(*fields)
        if self._clock() >= session.expires_at:
            return None
        if session.account is not None and self._epochs(session.account) != session.epoch:
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        return self._mac(b"csrf", session.nonce.encode())

    def csrf_valid(self, session: Session | None, token: str | None) -> bool:
        return session is not None and hmac.compare_digest(
            (token or "").encode(), self.csrf_token(session).encode()
        )

    def _mac(self, purpose: bytes, data: bytes) -> str:
        return _b64(hmac.new(self._key, purpose + b"\0" + data, hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
