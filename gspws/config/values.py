"""How the text of an environment variable becomes a setting's value.

Each parser takes the variable's text and returns the value or raises ``ValueError`` with what
the text must be; :meth:`gspws.config.Settings.from_env` names the variable in front of it.
"""

import ipaddress
from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Number = TypeVar("Number", int, float)


def number(
    convert: Callable[[str], Number], minimum: Number, message: str, *, exclusive: bool = False
) -> Callable[[str], Number]:
    """A parser of numbers at or above ``minimum`` (above it when ``exclusive``)."""

    def parse(text: str) -> Number:
        value = convert(text)
        if value < minimum or (exclusive and value == minimum):
            raise ValueError(message)
        return value

    return parse


positive_seconds = number(int, 1, "must be a positive number of seconds")
positive_count = number(int, 1, "must be a positive number")
non_negative = number(int, 0, "must be 0 or more")
seconds = number(float, 0.0, "must be a positive number of seconds", exclusive=True)


def networks(text: str) -> tuple:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return text.lower()

    return parse


def gateway(*kinds: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        kind, _, target = text.strip().partition(":")
        if text.strip() and kind not in kinds:
            raise ValueError(f"must start with one of {', '.join(kinds)}")
        if kind in ("spool", "webhook") and not target:
            raise ValueError(f"{kind}: needs a {'directory' if kind == 'spool' else 'URL'}")
        return text.strip()

    return parse


def zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError("not an IANA time zone (e.g. Asia/Taipei, UTC)") from None


def optional_port(text: str) -> int | None:
    return int(text) if text.strip() else None


def base_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return text.rstrip("/")
