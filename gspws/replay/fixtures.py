"""The store a recording was made against, as one JSON file, built into a throw-away store.

A recorded answer can only be reproduced against the same services, accounts and token secrets,
and a recorded TOTP code only verifies at the time it was recorded. The fixtures file holds both:

    {
      "at": "2027-01-15T08:00:10Z",                    optional, see below
      "settings": {"GSPWS_TOTP_WINDOW": "1"},          optional GSPWS_* settings
      "services": [{"service_id": "APP0001931", "name": "Agency X",
                    "allow": ["127.0.0.1/32"], "grants": ["VerifyTOTPCode"],
                    "suspended": [], "enabled": true}],
      "accounts": [{"account": "wederlin",
                    "tokens": [{"secret": "JBSWY3DPEHPK3PXP…", "algorithm": "SHA1", "digits": 6,
                                "period": 30, "status": "active", "last_step": null,
                                "failures": 0, "serial": "TOTP0000000001",
                                "unreadable": false}],
                    "mobile": "0912345678", "mobile_verified": true,
                    "email": "zoe@example.org", "email_verified": false,
                    "otp_codes": [{"code": "246810", "purpose": "login", "channel": "sms",
                                   "age": 120, "ttl": 300, "attempts": 0}]}]
    }

``at`` (ISO-8601) is the instant the first exchange is replayed at; later exchanges keep their
recorded distance from it. Without ``at``, recordings replay at the very instants they were made.
``unreadable: true`` stores the token's secret encrypted under a key the server does not have (as
after a lost key), so verifying it fails inside the server: that is how a 3000 is replayed.

MobileOTP.asmx: an account's ``mobile`` and ``email`` (verified unless ``*_verified`` is false),
and ``otp_codes`` pending when the replay starts, so that a recorded VerifyOTPCode can be
answered as it was: each was sent ``age`` seconds before the first exchange (``at``, or the
moment the store is seeded when there is none) and lives ``ttl`` seconds; its ``channel`` and
destination are the account's verified mobile number, else its e-mail address, unless given.
The code is stored as the server stores codes (a keyed hash), never in clear.

JSON, because it needs no dependency and every agency's tooling writes it.
"""

import ipaddress
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from gspws.config import OPTIONS, ConfigError, Settings
from gspws.core import names, oob, otp
from gspws.core.access import FUNCTIONS, valid_service_id
from gspws.core.oob import CodeHasher, Destinations
from gspws.store import migrate
from gspws.store.models import OtpCode, TokenStatus
from gspws.store.oob import code_key
from gspws.store.repo import Repository, Store, StoreError
from gspws.store.secrets import SecretBox

#: Replay's own defaults: rate limits count real seconds, which a frozen clock cannot reproduce,
#: and services are re-read at once. A fixtures file may set them otherwise.
REPLAY_SETTINGS = {
    "GSPWS_RATE_LIMIT_SERVICE": "",
    "GSPWS_RATE_LIMIT_ACCOUNT": "",
    "GSPWS_REGISTRY_REFRESH": "0",
}
#: Settings replay decides itself: where the throw-away store lives and its key.
_OWNED = {"GSPWS_HOME", "GSPWS_DATABASE_URL", "GSPWS_SECRET_KEY", "GSPWS_KEY_FILE"}

_SERVICE = {
    "service_id": str,
    "name": str,
    "allow": list,
    "grants": list,
    "suspended": list,
    "enabled": bool,
}
_ACCOUNT = {
    "account": str,
    "tokens": list,
    "mobile": str,
    "mobile_verified": bool,
    "email": str,
    "email_verified": bool,
    "otp_codes": list,
}
_CODE = {
    "code": str,
    "purpose": str,
    "channel": str,
    "destination": str,
    "age": int,
    "ttl": int,
    "attempts": int,
}
_PURPOSES = (oob.LOGIN, oob.VERIFY_MOBILE, oob.VERIFY_EMAIL)
_TOKEN = {
    "secret": str,
    "algorithm": str,
    "digits": int,
    "period": int,
    "status": str,
    "last_step": (int, type(None)),
    "failures": int,
    "serial": str,
    "unreadable": bool,
}
_TOKEN_DEFAULTS = {
    "algorithm": otp.DEFAULT_ALGORITHM,
    "digits": otp.DEFAULT_DIGITS,
    "period": otp.DEFAULT_PERIOD,
    "status": "active",
    "last_step": None,
    "failures": 0,
    "serial": None,
    "unreadable": False,
}


class FixturesError(ValueError):
    """The fixtures file is not usable; the message says where and why."""


@dataclass(frozen=True)
class Fixtures:
    at: float | None
    settings: Mapping[str, str]
    services: tuple[dict, ...]
    accounts: tuple[dict, ...]


def load(path: Path) -> Fixtures:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FixturesError(f"{path}: {exc}") from None
    top = _fields(
        data,
        "the file",
        {"at": str, "settings": dict, "services": list, "accounts": list},
        required=(),
    )
    settings = {str(k): str(v) for k, v in top.get("settings", {}).items()}
    for name in settings:
        if name not in {o.env for o in OPTIONS}:
            raise FixturesError(f"settings: unknown setting {name!r}")
        if name in _OWNED:
            raise FixturesError(f"settings: {name} is chosen by replay, not by fixtures")
    services = tuple(_service(s, f"services[{i}]") for i, s in enumerate(top.get("services", [])))
    accounts = tuple(_account(a, f"accounts[{i}]") for i, a in enumerate(top.get("accounts", [])))
    return Fixtures(_instant(top["at"]) if "at" in top else None, settings, services, accounts)


def _fields(value: Any, where: str, schema: dict, required: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise FixturesError(f"{where}: must be an object")
    unknown = sorted(set(value) - set(schema))
    if unknown:
        raise FixturesError(f"{where}: unknown field {unknown[0]!r}")
    for key in required:
        if key not in value:
            raise FixturesError(f"{where}: {key!r} is required")
    for key, kind in schema.items():
        if key in value and (
            not isinstance(value[key], kind) or isinstance(value[key], bool) and kind is int
        ):
            raise FixturesError(f"{where}.{key}: wrong type")
    return value


def _instant(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FixturesError(f"at: {text!r} is not an ISO-8601 date-time") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _service(value: Any, where: str) -> dict:
    service = {
        "name": "",
        "grants": list(FUNCTIONS),
        "suspended": [],
        "enabled": True,
        **_fields(value, where, _SERVICE, required=("service_id", "allow")),
    }
    if not valid_service_id(service["service_id"]):
        raise FixturesError(f"{where}.service_id: {service['service_id']!r} is not APP + 7 digits")
    for function in service["grants"] + service["suspended"]:
        if function not in FUNCTIONS:
            raise FixturesError(f"{where}: unknown function {function!r}")
    try:
        service["allow"] = [str(ipaddress.ip_network(c, strict=False)) for c in service["allow"]]
    except (TypeError, ValueError) as exc:
        raise FixturesError(f"{where}.allow: {exc}") from None
    return service


def _account(value: Any, where: str) -> dict:
    account = {
        "tokens": [],
        "otp_codes": [],
        "mobile_verified": True,
        "email_verified": True,
        **_fields(value, where, _ACCOUNT, required=("account",)),
    }
    account["tokens"] = [_token(t, f"{where}.tokens[{i}]") for i, t in enumerate(account["tokens"])]
    try:
        if "mobile" in account:
            account["mobile"] = oob.mobile_number(account["mobile"])
        if "email" in account:
            account["email"] = names.email_address(account["email"])
    except ValueError as exc:
        raise FixturesError(f"{where}: {exc}") from None
    account["otp_codes"] = [
        _code(c, f"{where}.otp_codes[{i}]", account) for i, c in enumerate(account["otp_codes"])
    ]
    return account


def _code(value: Any, where: str, account: dict) -> dict:
    code: dict[str, Any] = {"purpose": oob.LOGIN, "age": 0, "ttl": 300, "attempts": 0}
    code |= _fields(value, where, _CODE, required=("code",))
    if not otp.well_formed(code["code"], 6):
        raise FixturesError(f"{where}.code: a code is 6 digits")
    if code["purpose"] not in _PURPOSES:
        raise FixturesError(f"{where}.purpose: one of {', '.join(_PURPOSES)}")
    found = Destinations(
        0,
        account.get("mobile"),
        account["mobile_verified"],
        account.get("email"),
        account["email_verified"],
    ).verified(code.get("channel"))
    if "destination" not in code and found is None:
        raise FixturesError(f"{where}: the account has no verified destination for it")
    code.setdefault("channel", found[0] if found else oob.SMS)
    code.setdefault("destination", found[1] if found else "")
    if code["channel"] not in oob.CHANNELS:
        raise FixturesError(f"{where}.channel: one of {', '.join(oob.CHANNELS)}")
    return code


def _token(value: Any, where: str) -> dict:
    token = {**_TOKEN_DEFAULTS, **_fields(value, where, _TOKEN, required=("secret",))}
    checks = (
        ("secret", otp.valid_secret(token["secret"])),
        ("algorithm", token["algorithm"] in otp.ALGORITHMS),
        ("digits", token["digits"] in otp.DIGITS),
        ("period", token["period"] in otp.PERIODS),
        ("status", token["status"] in {s.value for s in TokenStatus}),
    )
    for field, ok in checks:
        if not ok:
            raise FixturesError(f"{where}.{field}: {token[field]!r} is not allowed")
    return token


def settings_for(fixtures: Fixtures, home: Path, secret_key: str) -> Settings:
    """Settings of a throw-away SQLite store in ``home``, never read from the environment."""
    try:
        return Settings.from_env(
            {**REPLAY_SETTINGS, **fixtures.settings},
            home=home,
            database_url=f"sqlite:///{home / 'replay.db'}",
            secret_key=secret_key,
        )
    except ConfigError as exc:
        raise FixturesError(f"settings: {exc}") from None


def build(fixtures: Fixtures, home: Path) -> tuple[Settings, Store]:
    """A new store in ``home`` (migrated, under a new key) holding the fixtures."""
    from gspws.wsgi import build_store

    settings = settings_for(fixtures, home, Fernet.generate_key().decode())
    store = build_store(settings)
    migrate.upgrade(store.engine)
    populate(store, fixtures)
    return settings, store


def populate(store: Store, fixtures: Fixtures, now: float | None = None) -> None:
    """Add the fixtures' services, accounts, tokens and pending codes to ``store``, in one
    transaction. Codes are sent relative to ``now`` (a live server's clock: ``gspws db seed``),
    else to the fixtures' ``at``, else to the system clock."""
    locked_at = datetime.fromtimestamp(fixtures.at, UTC) if fixtures.at else None
    start = now if now is not None else fixtures.at if fixtures.at else time.time()
    hasher = CodeHasher(code_key(store.secrets.encryption_key))
    try:
        with store.unit() as repo:
            for service in fixtures.services:
                _add_service(repo, service)
            for account in fixtures.accounts:
                row = repo.add_account(account["account"])
                for token in account["tokens"]:
                    _add_token(repo, row, token, locked_at)
                _add_destinations(repo, row, account)
                for code in account["otp_codes"]:
                    _add_code(repo, row, code, hasher, start)
    except StoreError as exc:
        raise FixturesError(str(exc)) from None


def _add_destinations(repo: Repository, row, account: dict) -> None:
    mobile, email = account.get("mobile"), account.get("email")
    row.mobile, row.mobile_verified = mobile, bool(mobile) and account["mobile_verified"]
    row.email, row.email_verified = email, bool(email) and account["email_verified"]


def _add_code(repo: Repository, row, code: dict, hasher: CodeHasher, start: float) -> None:
    """A pending code as SendOTPCode stores it (its message is not queued: it was sent)."""
    repo.session.flush()  # the account's id
    sent = start - code["age"]
    repo.session.add(
        OtpCode(
            account_id=row.id,
            purpose=code["purpose"],
            channel=code["channel"],
            destination=code["destination"],
            code_hash=hasher(code["code"]),
            created_at=datetime.fromtimestamp(sent, UTC),
            expires_at=datetime.fromtimestamp(sent + code["ttl"], UTC),
            attempts=code["attempts"],
        )
    )


def _add_service(repo: Repository, service: dict) -> None:
    sid = service["service_id"]
    repo.add_service(sid, service["name"], service["allow"], service["grants"])
    for function in service["suspended"]:
        repo.set_suspended(sid, function, True)
    if not service["enabled"]:
        repo.set_enabled(sid, False)


def _add_token(repo: Repository, account, token: dict, locked_at: datetime | None) -> None:
    params = otp.TotpParams(token["secret"], token["algorithm"], token["digits"], token["period"])
    row = repo.add_token(account, params, TokenStatus(token["status"]), serial=token["serial"])
    row.last_step, row.failures = token["last_step"], token["failures"]
    if row.status is TokenStatus.LOCKED:
        row.locked_at = locked_at or datetime.now(UTC)
    if token["unreadable"]:
        row.secret = SecretBox([Fernet.generate_key()]).encrypt(token["secret"])
