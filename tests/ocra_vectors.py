"""RFC 6287 Appendix C, all of it: the one-way (C.1), mutual (C.2) and plain signature (C.3)
test vectors, as data shared by the core tests and the SOAP tests.

Keys are the RFC's "standard" keys (ASCII ``1234567890...``); the PIN is ``1234``, whose SHA1 the
RFC gives; time-based vectors are at T = 0x132d0b6 minutes (2008-03-25 12:06 UTC).
"""

from dataclasses import dataclass

KEY20 = bytes.fromhex("3132333435363738393031323334353637383930")
KEY32 = bytes.fromhex("3132333435363738393031323334353637383930313233343536373839303132")
KEY64 = bytes.fromhex(
    "3132333435363738393031323334353637383930313233343536373839303132"
    "3334353637383930313233343536373839303132333435363738393031323334"
)
PIN = "1234"
PIN_SHA1 = bytes.fromhex("7110eda4d09e062aa5e4a390b0a572ac0d2c0220")
T_MINUTES = 0x132D0B6
#: The Unix time of the time-based vectors (any second of that minute gives the same T).
T_SECONDS = T_MINUTES * 60


@dataclass(frozen=True)
class Vector:
    suite: str
    key: bytes
    question: str
    response: str
    counter: int | None = None
    pin: str | None = None
    time: int | None = None  # Unix seconds (the RFC gives T in minutes: T_MINUTES)
    kind: str = "one-way"  # "one-way", "signature", or "mutual" (server or client side)

    @property
    def id(self) -> str:
        c = f"-C{self.counter}" if self.counter is not None else ""
        return f"{self.suite}-{self.question}{c}"


def _each(suite, key, rows, **common):
    return [Vector(suite, key, q, r, **common, **extra) for q, r, extra in rows]


ONE_WAY = (
    _each(
        "OCRA-1:HOTP-SHA1-6:QN08",
        KEY20,
        [
            (str(i) * 8, r, {})
            for i, r in enumerate(
                "237653 243178 653583 740991 608993 388898 816933 224598 750600 294470".split()
            )
        ],
    )
    + _each(
        "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
        KEY32,
        [
            ("12345678", r, {"counter": i})
            for i, r in enumerate(
                "65347737 86775851 78192410 71565254 10104329 "
                "65983500 70069104 91771096 75011558 08522129".split()
            )
        ],
        pin=PIN,
    )
    + _each(
        "OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
        KEY32,
        [
            (str(i) * 8, r, {})
            for i, r in enumerate("83238735 01501458 17957585 86776967 86807031".split())
        ],
        pin=PIN,
    )
    + _each(
        "OCRA-1:HOTP-SHA512-8:C-QN08",
        KEY64,
        [
            (str(i) * 8, r, {"counter": i})
            for i, r in enumerate(
                "07016083 63947962 70123924 25341727 33203315 "
                "34205738 44343969 51946085 20403879 31409299".split()
            )
        ],
    )
    + _each(
        "OCRA-1:HOTP-SHA512-8:QN08-T1M",
        KEY64,
        [
            (str(i) * 8, r, {})
            for i, r in enumerate("95209754 55907591 22048402 24218844 36209546".split())
        ],
        time=T_SECONDS,
    )
)

SIGNATURE = _each(
    "OCRA-1:HOTP-SHA256-8:QA08",
    KEY32,
    [
        (f"SIG1{i}000", r, {})
        for i, r in enumerate("53095496 04110475 31331128 76028668 46554205".split())
    ],
    kind="signature",
) + _each(
    "OCRA-1:HOTP-SHA512-8:QA10-T1M",
    KEY64,
    [
        (f"SIG1{i}00000", r, {})
        for i, r in enumerate("77537423 31970405 10235557 95213541 65360607".split())
    ],
    time=T_SECONDS,
    kind="signature",
)


def _mutual(suite, key, template, responses, **common):
    return [
        Vector(suite, key, template.format(i=i), r, kind="mutual", **common)
        for i, r in enumerate(responses.split())
    ]


#: The mutual vectors' questions are the two 8-character challenges joined (16 characters for a
#: QA08 suite): the RFC's server and client computations.
MUTUAL = (
    _mutual(
        "OCRA-1:HOTP-SHA256-8:QA08",
        KEY32,
        "CLI2222{i}SRV1111{i}",
        "28247970 01984843 65387857 03351211 83412541",
    )
    + _mutual(
        "OCRA-1:HOTP-SHA256-8:QA08",
        KEY32,
        "SRV1111{i}CLI2222{i}",
        "15510767 90175646 33777207 95285278 28934924",
    )
    + _mutual(
        "OCRA-1:HOTP-SHA512-8:QA08",
        KEY64,
        "CLI2222{i}SRV1111{i}",
        "79496648 76831980 12250499 90856481 12761449",
    )
    + _mutual(
        "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
        KEY64,
        "SRV1111{i}CLI2222{i}",
        "18806276 70020315 01600026 18951020 32528969",
        pin=PIN,
    )
)

#: What a token answers to a challenge gspws issued: every vector but the mutual ones.
ISSUABLE = ONE_WAY + SIGNATURE
ALL = ISSUABLE + MUTUAL
