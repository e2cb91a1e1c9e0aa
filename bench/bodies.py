"""The request bodies of the benchmark: VerifyTOTPCode envelopes with valid or wrong codes for
the seeded accounts (bench/seed.py); MobileOTP.asmx's SendOTPCode and VerifyOTPCode envelopes."""

import hashlib
import hmac
import math
import random
import sys
import time
from dataclasses import dataclass

SERVICE_ID = "APP0000001"
PATH = "/gsp2ws/TOTP.asmx"
OTP_PATH = "/gsp2ws/MobileOTP.asmx"
OCRA_PATH = "/gsp2ws/OTP.asmx"
PERIOD = 30
WRONG_CODE = "000000"  # bench/floor.py answers it with the 9999 bytes
FAILURE_BODIES = 20_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# As a .NET caller writes a SOAP 1.1 call (the shape of tests/helpers.py's envelope()).
_BODY_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
    'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Header>'
    '<ServiceHeader xmlns="http://cp.gov.tw/gsp2">'
    f"<ServiceID>{SERVICE_ID}</ServiceID></ServiceHeader></soap:Header><soap:Body>"
    '<VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2"><account>'
)


def envelope(account: str, code: str) -> bytes:
    return (
        f"{_BODY_HEAD}{account}</account><TOTPCode>{code}</TOTPCode></VerifyTOTPCode>"
        "</soap:Body></soap:Envelope>"
    ).encode()


def otp_envelope(operation: str, account: str, code: str | None = None) -> bytes:
    """A MobileOTP.asmx call (SendOTPCode without ``code``, VerifyOTPCode with it)."""
    head = _BODY_HEAD.replace("<VerifyTOTPCode ", f"<{operation} ")
    field = f"<OTPCode>{code}</OTPCode>" if code is not None else ""
    return (f"{head}{account}</account>{field}</{operation}></soap:Body></soap:Envelope>").encode()


def totp(key: bytes, step: int) -> str:
    """RFC 6238 SHA1/6 code of ``step`` (checked against gspws.core.otp at start)."""
    mac = hmac.new(key, step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset : offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


class Accounts:
    """The seeded accounts: names and the plaintext secrets (raw keys), index i = account i+1."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.width = max(6, len(str(count)))
        self.keys: list[bytes] = []

    def name(self, index: int) -> str:
        return f"user{index + 1:0{self.width}d}"


@dataclass
class Bodies:
    items: list[bytes]
    uses_per_token: int = 1
    note: str = ""


def success_bodies(accounts: Accounts, needed: int, duration: float, senders: int = 1) -> Bodies:
    """Distinct valid codes, one use each, valid for ``duration`` seconds from now.

    A token's codes of successive steps must arrive in order (an older step after a newer one is
    refused). The load generator deals the bodies out to ``senders`` threads in turn (wrk: body
    i to thread i mod senders), so each step's block of bodies is made a multiple of
    ``senders`` long: a token's codes then go to one thread, which sends them in order. With a
    block of 9,999, a run on a busy machine had 141 of ~14,000 codes refused: one thread had run
    ahead of the other."""
    k = accounts.count
    uses = min(3, max(1, math.ceil(needed / (k - 1))))
    if uses == 3:
        left = PERIOD - time.time() % PERIOD
        if left < duration + 3:
            log(f"  waiting {left:.1f} s for a fresh 30-s step (3 codes per token)")
            time.sleep(left + 0.05)
    step = int(time.time() // PERIOD)
    steps = {1: [step], 2: [step, step + 1], 3: [step - 1, step, step + 1]}[uses]
    # Account 0 is left out: bench/run.py checks the response bytes with it.
    order = random.sample(range(1, k), min(k - 1, needed) if uses == 1 else k - 1)
    if uses > 1:
        order = order[: len(order) - len(order) % senders]
    items = [envelope(accounts.name(i), totp(accounts.keys[i], s)) for s in steps for i in order]
    note = f"{uses} code(s) per token (steps {', '.join(f'{s - step:+d}' for s in steps)})"
    return Bodies(items, uses, note)


def failure_bodies(accounts: Accounts) -> Bodies:
    step = int(time.time() // PERIOD)
    items = []
    for i in random.sample(range(accounts.count), min(accounts.count, FAILURE_BODIES)):
        if wrong_throughout(accounts.keys[i], range(step - 1, step + 3)):
            items.append(envelope(accounts.name(i), WRONG_CODE))
    return Bodies(items)


def wrong_throughout(key: bytes, steps: range) -> bool:
    """Whether WRONG_CODE is not the code of ``key``'s token at any of ``steps`` (it is, for
    about one token in a million a step)."""
    return all(totp(key, step) != WRONG_CODE for step in steps)


def otp_bodies(accounts: Accounts, codes: list[str] | None = None) -> Bodies:
    """One SendOTPCode per account (``codes`` None: a second send within GSPWS_OTP_RESEND would
    answer 9999), or one VerifyOTPCode with its seeded code; account 0 left out, shuffled."""
    order = random.sample(range(1, accounts.count), accounts.count - 1)
    if codes is None:
        return Bodies(
            [otp_envelope("SendOTPCode", accounts.name(i)) for i in order],
            note="one send per account",
        )
    return Bodies(
        [otp_envelope("VerifyOTPCode", accounts.name(i), codes[i]) for i in order],
        note="one seeded code per account, each used once",
    )


def ocra_bodies(calls: list[tuple[str, str, str]]) -> Bodies:
    """One OTP.asmx VerifyResponse per seeded challenge, with the token's right response (token
    0 left out), shuffled."""
    head = _BODY_HEAD.replace("<VerifyTOTPCode ", "<VerifyResponse ").replace(
        "<account>", "<tokenSN>"
    )
    items = [
        (
            f"{head}{serial}</tokenSN><challenge>{challenge}</challenge>"
            f"<response>{response}</response></VerifyResponse></soap:Body></soap:Envelope>"
        ).encode()
        for serial, challenge, response in random.sample(calls[1:], len(calls) - 1)
    ]
    return Bodies(items, note="one seeded challenge per OCRA token, each answered once")
