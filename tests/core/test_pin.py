"""argon2id's cost (GSPWS_PASSWORD_HASHING, gspws.core.pin): production's by default, and hashes
made at one cost checked at another, since the tests hash at the cheapest (helpers.TEST_HASHING)."""

import pytest

from gspws.config import ConfigError, Settings
from gspws.core.pin import Passwords

from helpers import TEST_PASSWORDS


def test_the_default_cost_is_rfc_9106s_second_profile():
    settings = Settings.from_env({})
    assert settings.password_hashing == "rfc9106-low-memory"
    stored = Passwords(settings.password_hashing).hash("4711")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_hash_is_checked_at_its_own_cost_whatever_the_setting():
    production = Passwords()
    assert production.matches(TEST_PASSWORDS.hash("4711"), "4711")
    assert TEST_PASSWORDS.matches(production.hash("4711"), "4711")
    assert not TEST_PASSWORDS.matches(production.hash("4711"), "4712")


def test_a_missing_or_unreadable_hash_never_matches():
    assert not TEST_PASSWORDS.password_matches(None, "gspws: no such administrator")
    assert not TEST_PASSWORDS.matches("not a hash", "4711")


def test_an_unknown_cost_is_refused_by_name():
    with pytest.raises(ConfigError, match="GSPWS_PASSWORD_HASHING='fast': must be one of"):
        Settings.from_env({"GSPWS_PASSWORD_HASHING": "fast"})
