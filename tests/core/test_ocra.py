"""OCRA math (gspws.core.ocra): every RFC 6287 Appendix C vector, suite parsing, the DataInput's
challenge encoding, and which moving factor a response matches."""

import pytest

from gspws.core import ocra

from ocra_vectors import ALL, PIN, PIN_SHA1, T_MINUTES, T_SECONDS


def _pin(vector):
    suite = ocra.parse_suite(vector.suite)
    return ocra.pin_digest(suite, vector.pin) if vector.pin else None


@pytest.mark.parametrize("vector", ALL, ids=lambda v: f"{v.kind}-{v.id}")
def test_rfc6287_appendix_c(vector):
    suite = ocra.parse_suite(vector.suite)
    step = ocra.time_step_at(suite, vector.time) if vector.time is not None else None
    value = ocra.response(
        suite, vector.key, vector.question, vector.counter, _pin(vector), time_step=step
    )
    assert value == vector.response


def test_the_rfcs_pin_hash_and_time_step():
    suite = ocra.parse_suite("OCRA-1:HOTP-SHA256-8:QN08-PSHA1")
    assert ocra.pin_digest(suite, PIN) == PIN_SHA1
    timed = ocra.parse_suite("OCRA-1:HOTP-SHA512-8:QN08-T1M")
    assert ocra.time_step_at(timed, T_SECONDS + 59) == T_MINUTES


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "OCRA-1:HOTP-SHA1-6:QN08",
            ocra.Suite("OCRA-1:HOTP-SHA1-6:QN08", "SHA1", 6, False, ("N", 8)),
        ),
        (
            "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
            ocra.Suite("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", "SHA256", 8, True, ("N", 8), "SHA1"),
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            ocra.Suite(
                "OCRA-1:HOTP-SHA512-8:QA10-T1M", "SHA512", 8, False, ("A", 10), None, None, 60
            ),
        ),
        (
            "OCRA-1:HOTP-SHA1-4:QH64-S128-T48H",
            ocra.Suite(
                "OCRA-1:HOTP-SHA1-4:QH64-S128-T48H", "SHA1", 4, False, ("H", 64), None, 128, 172800
            ),
        ),
        (
            "OCRA-1:HOTP-SHA1-10:QN04-S",
            ocra.Suite("OCRA-1:HOTP-SHA1-10:QN04-S", "SHA1", 10, False, ("N", 4), None, 64),
        ),
    ],
    ids=["plain", "counter-pin", "time", "session-hours", "session-default"],
)
def test_parse_suite(text, expected):
    assert ocra.parse_suite(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "OCRA-2:HOTP-SHA1-6:QN08",
        "OCRA-1:TOTP-SHA1-6:QN08",
        "OCRA-1:HOTP-SHA3-6:QN08",
        "OCRA-1:HOTP-SHA1-3:QN08",
        "OCRA-1:HOTP-SHA1-11:QN08",
        "OCRA-1:HOTP-SHA1-0:QN08",
        "OCRA-1:HOTP-SHA1-6:QX08",
        "OCRA-1:HOTP-SHA1-6:QN03",
        "OCRA-1:HOTP-SHA1-6:QN65",
        "OCRA-1:HOTP-SHA1-6:Q",
        "OCRA-1:HOTP-SHA1-6:C",
        "OCRA-1:HOTP-SHA1-6:QN08-PSHA3",
        "OCRA-1:HOTP-SHA1-6:QN08-T60M",
        "OCRA-1:HOTP-SHA1-6:QN08-T49H",
        "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1",
        "OCRA-1:HOTP-SHA1-6:QN08-T1M-T1M",
        "OCRA-1:HOTP-SHA1-6:QN08-X",
        "OCRA-1:HOTP-SHA1-6:QN08:extra",
        "OCRA-1:HOTP-SHA1-6:X-QN08",
    ],
)
def test_parse_suite_refuses(text):
    with pytest.raises(ValueError):
        ocra.parse_suite(text)


def test_question_bytes_as_the_rfc_pads_them():
    numeric = ocra.parse_suite("OCRA-1:HOTP-SHA1-6:QN08")
    # 22222222 = 0x153158E: an odd number of hex digits, padded on the right (as liboath shows)
    assert ocra.question_bytes(numeric, "22222222")[:5] == b"\x15\x31\x58\xe0\x00"
    assert ocra.question_bytes(numeric, "00000000") == bytes(128)
    hexadecimal = ocra.parse_suite("OCRA-1:HOTP-SHA1-6:QH08")
    assert ocra.question_bytes(hexadecimal, "abcde")[:4] == b"\xab\xcd\xe0\x00"
    alpha = ocra.parse_suite("OCRA-1:HOTP-SHA1-6:QA08")
    assert ocra.question_bytes(alpha, "SIG10000") == b"SIG10000".ljust(128, b"\0")


@pytest.mark.parametrize(
    "suite, question",
    [
        ("OCRA-1:HOTP-SHA1-6:QN08", "١٢٣٤٥٦٧٨"),  # Arabic-Indic digits are not ASCII digits
        ("OCRA-1:HOTP-SHA1-6:QN08", "1234567x"),
        ("OCRA-1:HOTP-SHA1-6:QN08", "-1234567"),
        ("OCRA-1:HOTP-SHA1-6:QA08", "ÄÖÜabc12"),
        ("OCRA-1:HOTP-SHA1-6:QH08", "0x123456"),
        ("OCRA-1:HOTP-SHA1-6:QN08", "123"),
        ("OCRA-1:HOTP-SHA1-6:QN08", ""),
    ],
    ids=["arabic-digits", "letter", "minus", "non-ascii", "0x", "short", "empty"],
)
def test_questions_of_another_format_are_refused(suite, question):
    parsed = ocra.parse_suite(suite)
    assert not ocra.valid_question(parsed, question)
    with pytest.raises(ValueError):
        ocra.question_bytes(parsed, question)


def test_data_input_needs_every_input_the_suite_names():
    suite = ocra.parse_suite("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1")
    with pytest.raises(ValueError):
        ocra.data_input(suite, "12345678", counter=None, pin=PIN_SHA1)
    with pytest.raises(ValueError):
        ocra.data_input(suite, "12345678", counter=0, pin=None)
    with pytest.raises(ValueError):
        ocra.data_input(suite, "12345678", counter=0, pin=b"short")
    timed = ocra.parse_suite("OCRA-1:HOTP-SHA512-8:QN08-T1M")
    with pytest.raises(ValueError):
        ocra.data_input(timed, "12345678")
    data = ocra.data_input(suite, "12345678", counter=1, pin=PIN_SHA1)
    assert len(data) == len(suite.text) + 1 + 8 + 128 + 20


def test_matching_factor_finds_the_counter_and_the_time_step():
    from ocra_vectors import KEY32, KEY64

    counter = ocra.parse_suite("OCRA-1:HOTP-SHA512-8:C-QN08")
    # C=3's response, looked for from 0 in a window of 10: counter 3
    assert ocra.matching_factor(counter, KEY64, "33333333", "25341727", counter_window=10) == 3
    # ... but not from 4 on (a used counter), nor with a window too short to reach it
    assert ocra.matching_factor(counter, KEY64, "33333333", "25341727", next_counter=4) is None
    assert ocra.matching_factor(counter, KEY64, "33333333", "25341727", counter_window=3) is None
    timed = ocra.parse_suite("OCRA-1:HOTP-SHA512-8:QN08-T1M")
    a_minute_later = T_SECONDS + 60
    assert ocra.matching_factor(timed, KEY64, "00000000", "95209754", now=a_minute_later) is None
    assert (
        ocra.matching_factor(
            timed, KEY64, "00000000", "95209754", now=a_minute_later, time_window=1
        )
        == 0
    )
    plain = ocra.parse_suite("OCRA-1:HOTP-SHA256-8:QN08-PSHA1")
    assert ocra.matching_factor(plain, KEY32, "00000000", "83238735", pin=PIN_SHA1) == 0
    assert ocra.matching_factor(plain, KEY32, "00000000", "83238736", pin=PIN_SHA1) is None
    for malformed in ("8323873", "832387355", "８３２３８７３５", ""):
        assert ocra.matching_factor(plain, KEY32, "00000000", malformed, pin=PIN_SHA1) is None


@pytest.mark.parametrize(
    "text", ["OCRA-1:HOTP-SHA1-6:QN08", "OCRA-1:HOTP-SHA1-6:QA10", "OCRA-1:HOTP-SHA1-6:QH64"]
)
def test_new_challenge_is_of_the_suites_format(text):
    suite = ocra.parse_suite(text)
    challenges = {ocra.new_challenge(suite) for _ in range(50)}
    assert len(challenges) == 50
    assert all(ocra.valid_question(suite, c) and len(c) == suite.question[1] for c in challenges)
