"""Administrators' rules on a real store (SQLite and PostgreSQL): a sign-in code is single use
even when the same code is sent at once by several threads (one conditional UPDATE of the last
step); the password policy; a locked administrator stays locked whatever they send until the
cool-down has passed."""

import threading

import pytest
from admin_console import PASSWORD, totp

from gspws.compose import administrators_of
from gspws.core import pin
from gspws.core.admins import Actor, link_hash


@pytest.fixture
def admins(settings, store, clock):
    return administrators_of(settings, store, clock)


def _enrolled(admins, clock, name: str = "alice") -> str:
    token = admins.add(Actor("test", None, "Add"), name, "operator")
    key = admins.enrolment(token).params.secret
    assert admins.enrol(Actor(None, None, "Enrol"), token, PASSWORD, totp(key, clock())) is None
    return key


def test_the_same_code_signs_in_once_however_many_send_it_at_once(admins, clock):
    key = _enrolled(admins, clock)
    clock.advance(30)
    code = totp(key, clock())
    start = threading.Barrier(6)
    results = []

    def sign_in() -> None:
        start.wait()
        results.append(admins.sign_in(None, "alice", PASSWORD, code))

    threads = [threading.Thread(target=sign_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 6
    assert sum(result is not None for result in results) == 1


def test_an_enrolment_link_works_once(admins, clock, store):
    token = admins.add(Actor("test", None, "Add"), "alice", "operator")
    key = admins.enrolment(token).params.secret
    assert admins.enrol(Actor(None, None, "E"), token, PASSWORD, totp(key, clock())) is None
    assert admins.enrolment(token) is None
    assert admins.enrol(Actor(None, None, "E"), token, PASSWORD, totp(key, clock())) == (
        "link_invalid"
    )
    with store.reading() as repo:  # only the hash was ever stored, and now not even that
        from gspws.store.models import Admin

        row = repo.session.query(Admin).one()
        assert row.enrol_hash is None and link_hash(token) != token
        assert key.encode() not in row.totp_secret and PASSWORD not in row.password_hash


@pytest.mark.parametrize(
    "password, problem",
    [
        ("a" * 11, "length"),
        ("x" * 129, "length"),
        ("abababababab", "pattern"),
        ("hello alice, world", "contains_name"),
        ("Hello ALICE, world", "contains_name"),
        ("correct horse battery", None),
        ("十二個字的中文密碼也可以吧嗎", None),
    ],
    ids=["11", "129", "pattern", "name", "name-case", "ok", "cjk"],
)
def test_password_policy(password, problem):
    assert pin.password_problem(password, "alice") == problem


def test_locked_stays_locked_until_the_cool_down(admins, settings, clock):
    key = _enrolled(admins, clock)
    for _ in range(settings.lockout_threshold):
        clock.advance(30)
        assert admins.sign_in(None, "alice", "wrong password!", totp(key, clock())) is None
    clock.advance(settings.lockout_cooldown - 60)
    assert admins.sign_in(None, "alice", PASSWORD, totp(key, clock())) is None
    assert [admins.state(a) for a in admins.list()] == ["locked"]
    clock.advance(60)
    assert [admins.state(a) for a in admins.list()] == ["active"]
    assert admins.sign_in(None, "alice", PASSWORD, totp(key, clock())) is not None


def test_key_rotation_takes_the_administrators_keys_along(admins, settings, store, clock, demo):
    import dataclasses

    from cryptography.fernet import Fernet

    from gspws.store import rotation
    from gspws.wsgi import build_store

    key = _enrolled(admins, clock)
    old = settings.secret_key.encode()
    new = Fernet.generate_key()
    assert rotation.census(store.engine, [old], kind=rotation.ADMIN_KEYS).total == 1
    done = rotation.reencrypt(store.engine, [new, old])
    assert (done.total, done.admins, done.reencrypted) == (1, 1, 2) and not done.unreadable
    rotated = dataclasses.replace(settings, secret_key=new.decode())
    only_new = build_store(rotated)
    try:
        clock.advance(30)
        signed = administrators_of(rotated, only_new, clock).sign_in(
            None, "alice", PASSWORD, totp(key, clock())
        )
        assert signed is not None
        assert rotation.census(only_new.engine, [new], kind=rotation.ADMIN_KEYS).first_key == 1
    finally:
        only_new.engine.dispose()
