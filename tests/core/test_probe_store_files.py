"""Security probe, store files (issue 17, item 9): the SQLite store, its WAL and SHM, the key
file and a GSPWS_HOME that gspws creates are private to the owner whatever the umask: they hold
e-mail addresses, phone numbers, the audit trail and the keys."""

import os
import stat

import pytest

from helpers import GSPWS, REPO, ServerProcess, envelope, gspws_env, post, run_gspws


@pytest.fixture
def umask_022():
    """The usual umask, which grants everyone read access to new files; inherited by the
    processes the test starts."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_and_store_are_private_under_umask_022(tmp_path, umask_022):
    home = tmp_path / "new" / "home"
    env = {k: v for k, v in gspws_env(home, "").items() if k != "GSPWS_SECRET_KEY"}
    database_url = f"sqlite:///{home / 'gspws.db'}"
    done = run_gspws(
        [GSPWS, "--database-url", database_url, "db", "upgrade"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done
    assert (_mode(home), _mode(home / "gspws.db"), _mode(home / "secret.key")) == (
        0o700,
        0o600,
        0o600,
    )

    with ServerProcess(database_url, env, tmp_path / "serve.log") as server:
        assert post(server.url, envelope("nobody", "123456")).status_code == 200
        files = {path.name: _mode(path) for path in home.iterdir()}
    assert files["gspws.db-wal"] == files["gspws.db-shm"] == 0o600, files
