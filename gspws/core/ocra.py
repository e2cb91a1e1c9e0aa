"""OCRA (RFC 6287): suites, DataInput, the response, and which moving factor a response matches.

Why not a library: the ``oath`` package (PyPI, python-oath 1.4.5, evaluated 2026-12-01) has the
OCRA algorithm and reproduces all 70 values of RFC 6287 Appendix C (one-way, mutual and
signature suites) when given the time-step precomputed, but

* its timestamp-from-seconds path is broken (``suite(key, Q=..., T=seconds)`` raises TypeError:
  ``is_int(None)`` lets ``int(None)`` through);
* numeric and alphanumeric challenges are checked with ``str.isdigit``/``isalnum``, so ``١٢٣``
  (Arabic-Indic digits) passes as a number and a non-ASCII alphanumeric challenge is padded by
  characters, not bytes (a wrong DataInput length); odd-length hex challenges raise ValueError
  from ``bytes.fromhex`` rather than being padded as the RFC's reference code pads them;
* its challenge generator uses :mod:`random`, not :mod:`secrets`;
* it is Python 2-era code without type hints (``mypy --strict`` of gspws.core would need it
  ignored), ``__version__`` still says 1.4.0, and it has seen one release in about four years.

So the RFC's algorithm is written here, on ``cryptography``'s HMAC (no HMAC of our own):
suite parsing (:func:`parse_suite`), DataInput assembly (:func:`data_input`), and the RFC 4226
dynamic truncation (:func:`response`). Every Appendix C vector is a test (tests/core/test_ocra.py);
the 50 one-way and signature ones also go through VerifyResponse (tests/soap/test_otp_challenge.py).

Supported: ``OCRA-1:HOTP-{SHA1,SHA256,SHA512}-{4..10}:[C-]Q{N,A,H}{04..64}[-P{SHA1,SHA256,SHA512}]
[-Snnn][-T{n}{S,M,H}]``. Truncation length 0 (the full HMAC) is not: no token shows one.
"""

import hmac as _compare
import re
import secrets
import string
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac

from gspws.core.otp import well_formed

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA512": hashes.SHA512,
}
_CRYPTO = re.compile(r"HOTP-(SHA1|SHA256|SHA512)-(\d+)")
_QUESTION = re.compile(r"Q([NAH])(\d\d)")
_PIN = re.compile(r"P(SHA1|SHA256|SHA512)")
_SESSION = re.compile(r"S(\d{3})?")
_TIME = re.compile(r"T(\d+)([SMH])")
_UNITS = {"S": (1, 59), "M": (60, 59), "H": (3600, 48)}
_ALPHABETS = {
    "N": string.digits,
    "A": string.ascii_letters + string.digits,
    "H": string.digits + "abcdef",
}
_MATCHES = {
    "N": re.compile(r"[0-9]+"),
    "A": re.compile(r"[A-Za-z0-9]+"),
    "H": re.compile(r"[0-9A-Fa-f]+"),
}


@dataclass(frozen=True)
class Suite:
    """A parsed OCRASuite. ``question`` is the challenge format (N numeric, A alphanumeric, H
    hex) and its length; ``pin`` the hash of the PIN input; ``session`` its length in bytes;
    ``time_step`` in seconds."""

    text: str
    hash: str
    digits: int
    counter: bool
    question: tuple[str, int]
    pin: str | None = None
    session: int | None = None
    time_step: int | None = None


def parse_suite(text: str) -> Suite:
    """The suite ``text`` names; ValueError (naming the part) when it is not one we support."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != "OCRA-1":
        raise ValueError(f"{text!r}: an OCRA suite is OCRA-1:HOTP-<hash>-<digits>:<inputs>")
    crypto = _CRYPTO.fullmatch(parts[1])
    if crypto is None or not 4 <= int(crypto.group(2)) <= 10:
        raise ValueError(f"{parts[1]!r}: the crypto function is HOTP-SHA1|SHA256|SHA512-4..10")
    inputs = parts[2].split("-")
    counter = inputs[0] == "C"
    if counter:
        inputs = inputs[1:]
    question = _QUESTION.fullmatch(inputs[0]) if inputs else None
    if question is None or not 4 <= int(question.group(2)) <= 64:
        raise ValueError(f"{parts[2]!r}: the inputs are [C-]QFxx (F = N, A or H; xx = 04..64)")
    found: dict[str, object] = {}
    for item in inputs[1:]:
        if (match := _PIN.fullmatch(item)) and "pin" not in found and not found:
            found["pin"] = match.group(1)
        elif (match := _SESSION.fullmatch(item)) and not {"session", "time_step"} & found.keys():
            found["session"] = int(match.group(1) or 64)
        elif (match := _TIME.fullmatch(item)) and "time_step" not in found:
            unit, most = _UNITS[match.group(2)]
            if not 1 <= int(match.group(1)) <= most:
                raise ValueError(f"{item!r}: a time step is 1-59S, 1-59M or 1-48H")
            found["time_step"] = int(match.group(1)) * unit
        else:
            raise ValueError(f"{item!r}: expected P<hash>, Snnn or T<n><S|M|H>, in that order")
    return Suite(
        text,
        crypto.group(1),
        int(crypto.group(2)),
        counter,
        (question.group(1), int(question.group(2))),
        pin=found.get("pin"),  # type: ignore[arg-type]
        session=found.get("session"),  # type: ignore[arg-type]
        time_step=found.get("time_step"),  # type: ignore[arg-type]
    )


def valid_question(suite: Suite, question: str, longest: int | None = None) -> bool:
    """Whether ``question`` is a challenge of the suite's format: ASCII characters of its kind,
    4 to ``longest`` (default: the suite's length) of them."""
    kind, length = suite.question
    return 4 <= len(question) <= (longest or length) and bool(_MATCHES[kind].fullmatch(question))


def question_bytes(suite: Suite, question: str) -> bytes:
    """The 128 bytes of Q: a numeric challenge as its number in hex, a hex one as is (both
    right-padded with hex ``0`` as the RFC's reference code pads them), an alphanumeric one as
    ASCII; then zero bytes. ValueError when it is not of the suite's format."""
    if not valid_question(suite, question, longest=128):
        raise ValueError("the challenge is not of the suite's format")
    kind = suite.question[0]
    if kind == "A":
        raw = question.encode("ascii")
    else:
        digits = format(int(question), "x") if kind == "N" else question
        if len(digits) > 256:
            raise ValueError("the challenge is longer than 128 bytes")
        raw = bytes.fromhex(digits.ljust(len(digits) + len(digits) % 2, "0"))
    if len(raw) > 128:
        raise ValueError("the challenge is longer than 128 bytes")
    return raw.ljust(128, b"\0")


def pin_digest(suite: Suite, pin: str) -> bytes:
    """What a ``P`` suite's DataInput holds of a PIN: its hash under the suite's algorithm."""
    if suite.pin is None:
        raise ValueError(f"{suite.text} takes no PIN")
    digest = hashes.Hash(HASHES[suite.pin]())
    digest.update(pin.encode("utf-8"))
    return digest.finalize()


def data_input(
    suite: Suite,
    question: str,
    counter: int | None = None,
    pin: bytes | None = None,
    session: bytes | None = None,
    time_step: int | None = None,
) -> bytes:
    """The RFC's DataInput: suite, 0x00, C (8 bytes), Q (128), P (the PIN's digest), S, T (8).
    Each input the suite names must be given; ValueError otherwise."""
    parts = [suite.text.encode("ascii"), b"\0"]
    if suite.counter:
        if counter is None or not 0 <= counter < 2**64:
            raise ValueError("the suite needs a counter (0 to 2**64 - 1)")
        parts.append(counter.to_bytes(8, "big"))
    parts.append(question_bytes(suite, question))
    if suite.pin is not None:
        if pin is None or len(pin) != HASHES[suite.pin]().digest_size:
            raise ValueError(f"the suite needs the PIN's {suite.pin} digest")
        parts.append(pin)
    if suite.session is not None:
        if session is None or len(session) != suite.session:
            raise ValueError(f"the suite needs {suite.session} bytes of session information")
        parts.append(session)
    if suite.time_step is not None:
        if time_step is None or time_step < 0:
            raise ValueError("the suite needs a time-step count")
        parts.append(time_step.to_bytes(8, "big"))
    return b"".join(parts)


def response(
    suite: Suite,
    key: bytes,
    question: str,
    counter: int | None = None,
    pin: bytes | None = None,
    session: bytes | None = None,
    time_step: int | None = None,
) -> str:
    """The OCRA value: HMAC(key, DataInput) dynamically truncated (RFC 4226) to the suite's
    digits."""
    mac = hmac.HMAC(key, HASHES[suite.hash]())
    mac.update(data_input(suite, question, counter, pin, session, time_step))
    digest = mac.finalize()
    offset = digest[-1] & 0x0F
    binary = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**suite.digits).zfill(suite.digits)


def time_step_at(suite: Suite, now: float) -> int:
    """The RFC's T for Unix time ``now``: whole time steps since the epoch."""
    assert suite.time_step is not None
    return int(now // suite.time_step)


def matching_factor(
    suite: Suite,
    key: bytes,
    question: str,
    answer: str,
    *,
    pin: bytes | None = None,
    next_counter: int = 0,
    counter_window: int = 1,
    now: float = 0.0,
    time_window: int = 0,
) -> int | None:
    """Whether ``answer`` is the response to ``question``, and at which moving factor.

    A counter suite's response is looked for at ``next_counter`` and the ``counter_window - 1``
    counters after it, the returned counter (to be stored as the last one used); a time suite's
    within ``±time_window`` steps of ``now``. A suite with neither returns 0. Every candidate is
    computed and compared (constant time), whatever matched earlier; None when none matches."""
    if not well_formed(answer, suite.digits):
        return None
    counters = range(next_counter, next_counter + counter_window) if suite.counter else [None]
    if suite.time_step is not None:
        current = time_step_at(suite, now)
        steps: range | list[None] = range(current - time_window, current + time_window + 1)
    else:
        steps = [None]
    expected = answer.encode("ascii")
    matched = None
    for counter in counters:
        for step in steps:
            value = response(suite, key, question, counter, pin, time_step=step)
            if _compare.compare_digest(value.encode("ascii"), expected) and matched is None:
                matched = counter if counter is not None else 0
    return matched


def new_challenge(suite: Suite) -> str:
    """A random challenge of the suite's format and full length (from :mod:`secrets`)."""
    kind, length = suite.question
    alphabet = _ALPHABETS[kind]
    return "".join(secrets.choice(alphabet) for _ in range(length))
