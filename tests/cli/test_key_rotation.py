"""`gspws keys rotate`: a new key, every secret re-encrypted, the old key retired, while a running
server keeps verifying; interrupted (SIGKILL) and run again, it finishes without losing a token.

Each test runs on SQLite and PostgreSQL. The rotations run as real processes (the console script)
against a store that an in-process server keeps using.
"""

import fcntl
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import insert, select

from gspws.cli import main
from gspws.core import otp
from gspws.store import migrate
from gspws.store import secrets as secrets_module
from gspws.store.models import Token, TokenStatus, TokenType
from gspws.store.secrets import (
    SecretBox,
    UnreadableSecret,
    fingerprint,
    read_key_file,
    write_key_file,
)
from gspws.wsgi import build_store, create_app

from helpers import (
    GSPWS,
    REPO,
    LiveServer,
    call,
    gspws_env,
    make_settings,
    run_gspws,
    seed_demo,
    zeep_service,
)

TOKENS = Token.__table__


# -- helpers ------------------------------------------------------------------------------------


def key_file_store(tmp_path: Path, database_url: str):
    """Settings and a migrated store in key-file mode ($GSPWS_HOME/secret.key)."""
    settings = make_settings(tmp_path, database_url, secret_key="")
    assert settings.secret_key == ""
    store = build_store(settings)
    migrate.upgrade(store.engine)
    return settings, store


def seed_tokens(engine, box: SecretBox, count: int, prefix: str = "ROT") -> dict[str, str]:
    """``count`` unbound active tokens in one transaction; returns serial -> base32 secret."""
    plain = {f"{prefix}{i:010d}": otp.new_secret() for i in range(count)}
    with engine.begin() as conn:
        conn.execute(
            insert(TOKENS),
            [
                {
                    "serial": serial,
                    "type": TokenType.TOTP,
                    "algorithm": "SHA1",
                    "digits": 6,
                    "period": 30,
                    "secret": box.encrypt(secret),
                    "status": TokenStatus.ACTIVE,
                    "failures": 0,
                }
                for serial, secret in plain.items()
            ],
        )
    return plain


def stored_secrets(engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        return {
            row.serial: bytes(row.secret)
            for row in conn.execute(select(TOKENS.c.serial, TOKENS.c.secret))
        }


def decrypt_all(engine, key: bytes) -> dict[str, str]:
    """Every secret decrypted with ``key`` alone (raises InvalidToken if one is not under it)."""
    fernet = Fernet(key)
    return {
        serial: fernet.decrypt(blob).decode() for serial, blob in stored_secrets(engine).items()
    }


def under(engine, key: bytes) -> int:
    fernet, count = Fernet(key), 0
    for blob in stored_secrets(engine).values():
        try:
            fernet.decrypt(blob)
            count += 1
        except InvalidToken:
            pass
    return count


def keys_in(path: Path) -> list[bytes]:
    return read_key_file(path, create=False)


def rotate_command(*args: str) -> list[str]:
    return [GSPWS, "keys", "rotate", *args]


def rotate_env(home: Path, database_url: str, secret_key: str = "") -> dict:
    return gspws_env(home, secret_key, GSPWS_DATABASE_URL=database_url, GSPWS_REGISTRY_REFRESH="0")


def run(args: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return run_gspws(
        args,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_no_key_in(text: str, keys: list[bytes]) -> None:
    for key in keys:
        assert key.decode() not in text, "a key was printed"
        assert key.decode()[:20] not in text, "part of a key was printed"


# -- (1) a running server keeps verifying before, during and after a rotation --------------------


def test_rotation_while_a_server_verifies(tmp_path, database_url, clock):
    settings, store = key_file_store(tmp_path, database_url)
    key_file = settings.effective_key_file
    demo = seed_demo(store)
    plain = seed_tokens(store.engine, store.secrets, 300)
    [original] = keys_in(key_file)
    server = LiveServer(create_app(settings, clock=clock, store=store))
    out, err = tmp_path / "rotate.out", tmp_path / "rotate.err"
    try:
        service = zeep_service(server.url)

        def verify() -> int:
            clock.advance(30)  # a fresh code for every call
            return call(service, demo.account, demo.code(clock()))[0]

        assert [verify() for _ in range(3)] == [0, 0, 0]  # before

        with open(out, "w") as stdout, open(err, "w") as stderr:
            proc = subprocess.Popen(
                rotate_command("--batch-size", "20"),
                cwd=REPO,
                env=rotate_env(tmp_path, database_url),
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
            during = []
            try:
                deadline = time.monotonic() + 120
                while proc.poll() is None and time.monotonic() < deadline:
                    during.append(verify())
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(timeout=30)
        assert proc.returncode == 0, err.read_text()
        assert during and set(during) == {0}, during  # during: every valid code accepted

        assert [verify() for _ in range(3)] == [0, 0, 0]  # after
    finally:
        server.stop()

    [new] = keys_in(key_file)
    assert new != original
    plain[demo.serial] = demo.params.secret
    assert decrypt_all(store.engine, new) == plain  # every token, under the new key alone
    # The server's box, loaded before the rotation, found the new key in the file by itself.
    assert store.secrets.fingerprints[0] == fingerprint(new)

    stdout, stderr = out.read_text(), err.read_text()
    assert fingerprint(new) in stdout and fingerprint(original) in stdout
    assert "re-encrypted:  301" in stdout
    assert_no_key_in(stdout + stderr, [original, new])
    store.engine.dispose()


# -- (2) interrupted midway and run again ---------------------------------------------------------


def test_an_interrupted_rotation_finishes_when_run_again(tmp_path, database_url):
    settings, store = key_file_store(tmp_path, database_url)
    key_file = settings.effective_key_file
    plain = seed_tokens(store.engine, store.secrets, 2000)
    before = stored_secrets(store.engine)
    [old] = keys_in(key_file)
    worker = SecretBox.from_settings(settings)  # a server worker started before the rotation
    env = rotate_env(tmp_path, database_url)

    err = tmp_path / "rotate1.err"
    with open(err, "w") as stderr:
        proc = subprocess.Popen(
            rotate_command("--batch-size", "1"),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline, changed = time.monotonic() + 60, 0
            while time.monotonic() < deadline and proc.poll() is None:
                if len(keys_in(key_file)) == 2:
                    now = stored_secrets(store.engine)
                    changed = sum(now[s] != before[s] for s in before)
                    if changed:
                        break
                time.sleep(0.005)
            assert proc.poll() is None, (
                f"rotation ended before it was interrupted: {err.read_text()}"
            )
            proc.kill()  # SIGKILL: no cleanup of any kind
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    assert changed > 0

    # The state a crash leaves: two keys, the new one first, secrets under both.
    keys = keys_in(key_file)
    assert len(keys) == 2 and keys[1] == old
    new = keys[0]
    partly = under(store.engine, new)
    assert 0 < partly < len(plain), partly
    assert under(store.engine, old) == len(plain) - partly
    # Nothing is lost meanwhile: every secret opens with the file's keys, in a worker that
    # loaded only the old key.
    blobs = stored_secrets(store.engine)
    assert {s: worker.decrypt(blobs[s]) for s in plain} == plain

    status = CliRunner().invoke(
        main,
        ["--database-url", database_url, "keys", "status", "--json"],
        env={
            **{k: None for k in os.environ if k.startswith("GSPWS_")},
            "GSPWS_HOME": str(tmp_path),
            "GSPWS_SECRET_KEY": "",
        },
    )
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    assert report["mode"] == "file" and report["keys"] == [fingerprint(new), fingerprint(old)]
    assert report["tokens"] == {
        "total": 2000,
        "first_key": partly,
        "older_keys": 2000 - partly,
        "unreadable": 0,
    }
    assert_no_key_in(status.output, [old, new])

    again = run(rotate_command("--batch-size", "50"), env)
    assert again.returncode == 0, again.stderr
    assert f"continuing with key {fingerprint(new)}" in again.stderr
    assert f"skipped:       {partly} " in again.stdout
    assert keys_in(key_file) == [new]  # the same new key: no third key was added; old is gone
    assert decrypt_all(store.engine, new) == plain  # every token, and the original secrets
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(next(iter(stored_secrets(store.engine).values())))
    assert_no_key_in(again.stdout + again.stderr + err.read_text(), [old, new])
    store.engine.dispose()


# -- (3) GSPWS_SECRET_KEY ---------------------------------------------------------------------------


def cli(database_url: str, home: Path, secret_key: str, *args: str):
    env = {
        **{k: None for k in os.environ if k.startswith("GSPWS_")},
        "GSPWS_HOME": str(home),
        "GSPWS_SECRET_KEY": secret_key,
    }
    return CliRunner().invoke(main, ["--database-url", database_url, *args], env=env)


def test_environment_keys_rotate_to_the_first_key(tmp_path, database_url):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    settings = make_settings(tmp_path, database_url, secret_key=old.decode())
    store = build_store(settings)
    migrate.upgrade(store.engine)
    plain = seed_tokens(store.engine, store.secrets, 120)

    result = cli(
        database_url,
        tmp_path,
        f"{new.decode()},{old.decode()}",
        "keys",
        "rotate",
        "--batch-size",
        "25",
    )
    assert result.exit_code == 0, result.output
    assert decrypt_all(store.engine, new) == plain
    assert "re-encrypted:  120" in result.stdout
    assert fingerprint(new) in result.stdout and fingerprint(old) in result.stdout
    assert "GSPWS_SECRET_KEY" in result.stdout and "Remove the other keys" in result.stdout
    assert_no_key_in(result.output, [old, new])
    assert not (tmp_path / "secret.key").exists()  # the key file is not involved

    status = cli(
        database_url, tmp_path, f"{new.decode()},{old.decode()}", "keys", "status", "--json"
    )
    assert json.loads(status.stdout)["tokens"]["older_keys"] == 0

    again = cli(database_url, tmp_path, f"{new.decode()},{old.decode()}", "keys", "rotate")
    assert again.exit_code == 0 and "re-encrypted:  0" in again.stdout  # idempotent

    single = cli(database_url, tmp_path, new.decode(), "keys", "rotate")
    assert single.exit_code == 1
    assert "gspws keys generate" in single.output and "NEW,OLD" in single.output
    assert_no_key_in(single.output, [new])
    assert decrypt_all(store.engine, new) == plain  # untouched
    store.engine.dispose()


def test_keys_generate_prints_a_new_fernet_key():
    result = CliRunner().invoke(main, ["keys", "generate"])
    assert result.exit_code == 0
    Fernet(result.stdout.strip().encode())


# -- (4) a worker that started before the rotation ------------------------------------------------


def test_a_running_worker_follows_the_key_file(tmp_path, monkeypatch):
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", secret_key="")
    key_file = settings.effective_key_file
    now = [100.0]
    worker = SecretBox(read_key_file(key_file), key_file=key_file, monotonic=lambda: now[0])
    [old] = keys_in(key_file)
    reads = []
    real_read = secrets_module.read_key_file
    monkeypatch.setattr(
        secrets_module,
        "read_key_file",
        lambda path, create=True: reads.append(path) or real_read(path, create),
    )

    # Rotation started: [new, old] in the file; a secret re-encrypted under new.
    new = Fernet.generate_key()
    write_key_file(key_file, [new, old])
    assert worker.decrypt(Fernet(new).encrypt(b"JBSWY3DPEHPK3PXP")) == "JBSWY3DPEHPK3PXP"
    assert len(reads) == 1 and worker.fingerprints == [fingerprint(new), fingerprint(old)]

    # A secret no key opens (a corrupt row): no re-read while the file is unchanged, then at most
    # one per second.
    corrupt = Fernet(Fernet.generate_key()).encrypt(b"X")
    for _ in range(50):
        with pytest.raises(UnreadableSecret, match="cannot be decrypted"):
            worker.decrypt(corrupt)
    assert len(reads) == 1
    now[0] += 1.5
    for _ in range(50):
        with pytest.raises(UnreadableSecret):
            worker.decrypt(corrupt)
    assert len(reads) == 2

    # Retired: only new in the file. A secret encrypted by this long-running process now (after
    # the file changed) is under the file's first key, never under a retired one.
    newer = Fernet.generate_key()
    write_key_file(key_file, [newer, new])
    assert Fernet(newer).decrypt(worker.encrypt("NEWERSECRETXXXXX")) == b"NEWERSECRETXXXXX"
    assert stat_mode(key_file) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_environment_keys_are_never_reloaded(tmp_path):
    key = Fernet.generate_key()
    box = SecretBox.from_settings(make_settings(tmp_path, "sqlite://", secret_key=key.decode()))
    with pytest.raises(UnreadableSecret):
        box.decrypt(Fernet(Fernet.generate_key()).encrypt(b"X"))
    assert not (tmp_path / "secret.key").exists()


# -- refusals ---------------------------------------------------------------------------------------


def test_rotation_refuses_to_retire_keys_some_secrets_still_need(tmp_path, database_url):
    settings, store = key_file_store(tmp_path, database_url)
    key_file = settings.effective_key_file
    plain = seed_tokens(store.engine, store.secrets, 10)
    seed_tokens(store.engine, SecretBox([Fernet.generate_key()]), 1, prefix="LOST")
    [old] = keys_in(key_file)

    refused = cli(database_url, tmp_path, "", "keys", "rotate")
    assert refused.exit_code == 1
    assert "1 secrets cannot be decrypted" in refused.output and "LOST0000000000" in refused.output
    keys = keys_in(key_file)
    assert len(keys) == 2 and keys[1] == old  # old kept
    assert {s: v for s, v in decrypt_all_readable(store.engine, keys[0]).items()} == plain

    forced = cli(database_url, tmp_path, "", "keys", "rotate", "--allow-unreadable")
    assert forced.exit_code == 0, forced.output
    assert keys_in(key_file) == keys[:1]
    assert_no_key_in(refused.output + forced.output, keys)
    store.engine.dispose()


def decrypt_all_readable(engine, key: bytes) -> dict[str, str]:
    fernet, found = Fernet(key), {}
    for serial, blob in stored_secrets(engine).items():
        try:
            found[serial] = fernet.decrypt(blob).decode()
        except InvalidToken:
            pass
    return found


def test_two_rotations_at_once_and_a_missing_key_file_are_refused(tmp_path, sqlite_url):
    settings, store = key_file_store(tmp_path, sqlite_url)
    seed_tokens(store.engine, store.secrets, 3)
    key_file = settings.effective_key_file
    before = keys_in(key_file)
    fd = os.open(str(key_file) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        busy = cli(sqlite_url, tmp_path, "", "keys", "rotate")
    finally:
        os.close(fd)
    assert busy.exit_code == 1 and "another key rotation" in busy.output
    assert keys_in(key_file) == before

    elsewhere = tmp_path / "elsewhere"
    missing = cli(sqlite_url, elsewhere, "", "keys", "rotate")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not (elsewhere / "secret.key").exists()  # not created by the attempt
    store.engine.dispose()


def test_key_file_rewrites_keep_its_owner_group_read_and_symlink(tmp_path):
    real = tmp_path / "mounted" / "gspws.key"
    write_key_file(real, [Fernet.generate_key()])
    assert stat_mode(real) == 0o600
    link = tmp_path / "secret.key"
    link.symlink_to(real)
    os.chmod(real, 0o640)
    if os.geteuid() == 0:  # an operator rotating as root must not take the file from the server
        os.chown(real, 4321, 4321)
    keys = [Fernet.generate_key(), *keys_in(link)]
    write_key_file(link, keys)
    assert link.is_symlink() and keys_in(real) == keys
    assert stat_mode(real) == 0o640  # group-read kept; nothing more granted
    if os.geteuid() == 0:
        assert (real.stat().st_uid, real.stat().st_gid) == (4321, 4321)
    os.chmod(real, 0o644)  # world-readable before: the rewrite does not keep that
    write_key_file(link, keys[:1])
    assert stat_mode(real) == 0o640 and keys_in(link) == keys[:1]
    os.chmod(real, 0o604)
    write_key_file(link, keys)
    assert stat_mode(real) == 0o600
