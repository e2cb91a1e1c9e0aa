"""The moving-factor searches of gspws.core.otp and gspws.core.hotp, and OTP.asmx's PIN split
(gspws.core.tokenauth), without a store: RFC 4226's values, windows and their edges."""

import base64

import pytest

from gspws.core.hotp import HOTP, TOTP, consecutive, counter_window, window_of
from gspws.core.otp import TotpParams, match_in, matching_step, time_window
from gspws.core.tokenauth import typed_codes
from gspws.core.verify import Policy, TokenState, plan

from helpers import TEST_PASSWORDS

RFC4226 = TotpParams(base64.b32encode(b"12345678901234567890").decode())
CODES = ("755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583")
POLICY = Policy(
    window=1,
    lockout_threshold=5,
    lockout_cooldown=900,
    hotp_window=10,
    sync_window=240,
    hotp_sync_window=1000,
)


def token(kind=TOTP, last=None, drift=0, pin=None, params=RFC4226, token_id=1) -> TokenState:
    return TokenState(token_id, params, False, None, last, kind=kind, drift=drift, pin_hash=pin)


def test_counter_window_starts_after_the_last_accepted_counter():
    assert counter_window(None, 10) == range(0, 10)
    assert counter_window(4, 10) == range(5, 15)


def test_match_in_finds_rfc4226_counters_earliest_or_latest():
    assert [match_in(RFC4226, c, range(0, 10), latest=False) for c in CODES] == list(range(8))
    assert match_in(RFC4226, CODES[3], range(4, 10), latest=False) is None
    assert match_in(RFC4226, "75522", range(0, 10), latest=False) is None  # malformed
    assert match_in(RFC4226, "７５５２２４", range(0, 10), latest=False) is None  # not ASCII


def test_time_window_is_centred_on_the_drift():
    step = RFC4226.step_at(1_000_000_000)
    assert time_window(RFC4226, 1_000_000_000, 1, drift=20) == range(step + 19, step + 22)
    code = RFC4226.totp().generate_otp(step + 20)
    assert matching_step(RFC4226, code, 1_000_000_000, 1) is None
    assert matching_step(RFC4226, code, 1_000_000_000, 1, drift=20) == step + 20
    assert window_of(HOTP, RFC4226, 2, 20, 1_000_000_000, 10) == range(3, 13)


def test_consecutive_codes():
    assert consecutive(RFC4226, CODES[5], CODES[6], range(0, 10)) == 5
    assert consecutive(RFC4226, CODES[5], CODES[7], range(0, 10)) is None
    assert consecutive(RFC4226, CODES[6], CODES[5], range(0, 10)) is None
    # the second code may lie one past the window's end
    assert consecutive(RFC4226, CODES[6], CODES[7], range(0, 7)) == 6
    assert consecutive(RFC4226, "", CODES[7], range(0, 10)) is None


@pytest.mark.parametrize("last, expected", [(None, 0), (0, None), (2, 3)])
def test_token_match_hotp_never_at_or_below_the_counter(last, expected):
    code = CODES[0] if expected in (0, None) else CODES[3]
    assert token(HOTP, last=last).match(code, 0.0, POLICY) == expected


def test_plan_takes_a_code_per_token():
    tokens = [token(HOTP, token_id=1), token(HOTP, token_id=2)]
    attempt = plan(tokens, {2: CODES[1]}, 0.0, POLICY)
    assert attempt is not None and attempt.candidates == ((2, 1),)
    assert attempt.usable == (1, 2)


def test_typed_codes_split_the_pin_from_the_code():
    pinned = token(HOTP, pin=TEST_PASSWORDS.hash("4711"), token_id=1)
    plain = token(HOTP, token_id=2)
    assert typed_codes([pinned, plain], "4711755224", TEST_PASSWORDS) == {
        1: "755224",
        2: "4711755224",
    }
    assert typed_codes([pinned, plain], "755224", TEST_PASSWORDS) == {1: None, 2: "755224"}
    assert typed_codes([pinned], "4712755224", TEST_PASSWORDS) == {1: None}
    assert typed_codes([pinned], None, TEST_PASSWORDS) == {1: None}


def test_needs_sync_per_kind_with_its_own_window():
    from dataclasses import replace

    from gspws.core.tokenauth import needs_sync

    hotp = token(HOTP)
    far = {1: RFC4226.totp().generate_otp(500)}
    assert needs_sync([hotp], far, 0.0, POLICY)
    assert needs_sync([hotp], far, 0.0, replace(POLICY, sync_window=0))  # TOTP's only
    assert not needs_sync([hotp], far, 0.0, replace(POLICY, hotp_sync_window=0))
    assert not needs_sync([hotp], {1: RFC4226.totp().generate_otp(1500)}, 0.0, POLICY)
    assert not needs_sync([token(HOTP, last=600)], far, 0.0, POLICY)  # at or below the counter
