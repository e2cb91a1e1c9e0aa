"""The console's import under a real `gspws serve --workers 2`: the upload goes to one worker,
the status page is reloaded on a new connection each time (so the two workers share the
answering), and every reload finds the job (its status file in GSPWS_HOME), up to the report.
SQLite and PostgreSQL."""

import re
import time

import pyotp
import requests
from cryptography.fernet import Fernet

from helpers import GSPWS, REPO, ServerProcess, gspws_env, run_gspws

PASSWORD = "correct horse battery staple"
SECRET_HEX = b"12345678901234567890".hex()
CLOSE = {"Connection": "close"}  # a new connection each request: either worker may answer


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', text).group(1)


def test_import_progress_across_two_workers(database_url, tmp_path):
    env = gspws_env(tmp_path / "home", Fernet.generate_key().decode())

    def gspws(*args: str) -> str:
        done = run_gspws(
            [GSPWS, "--database-url", database_url, *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    gspws("db", "upgrade")
    link = re.search(r"/admin/enrol/\S+", gspws("admin", "add", "alice", "--role", "operator"))
    server = ServerProcess(database_url, env, tmp_path / "server.log", workers=2).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        web = requests.Session()
        page = web.get(base + link.group(0), headers=CLOSE, timeout=30)
        key = re.search(r'id="secret-key">([^<]*)<', page.text).group(1).replace(" ", "")
        authenticator = pyotp.TOTP(key)
        now = time.time()
        page = web.post(
            base + link.group(0),
            {
                "csrf": _csrf(page.text),
                "password": PASSWORD,
                "password2": PASSWORD,
                "code": authenticator.at(now),
            },
            headers=CLOSE,
            timeout=30,
        )
        assert page.status_code == 200, page.text  # (redirected to the sign-in page)
        page = web.post(
            base + "/admin/signin",
            {
                "csrf": _csrf(page.text),
                "name": "alice",
                "password": PASSWORD,
                "code": authenticator.at(now + 30),  # the next step: within the window
            },
            headers=CLOSE,
            timeout=30,
        )
        assert page.status_code == 200 and 'id="admin-name"' in page.text, page.text
        page = web.get(base + "/admin/tokens/import", headers=CLOSE, timeout=30)
        lines = ["serial,secret,type,algorithm,digits,period_or_counter,account"] + [
            f"HW-S{i:05d},{SECRET_HEX},totp,SHA1,6,30," for i in range(5000)
        ]
        page = web.post(
            base + "/admin/tokens/import",
            {"csrf": _csrf(page.text), "target": "pool"},
            files={"file": ("seeds.csv", "\n".join(lines).encode())},
            headers=CLOSE,
            allow_redirects=False,
            timeout=60,
        )
        assert page.status_code == 303, page.text
        status = page.headers["Location"]
        states = []
        deadline = time.monotonic() + 120
        while not states or states[-1] in ("reading", "storing"):
            assert time.monotonic() < deadline, states
            page = web.get(base + status, headers=CLOSE, timeout=30)
            assert page.status_code == 200, page.text
            states.append(re.search(r'data-state="(\w+)"', page.text).group(1))
            time.sleep(0.1)
        assert states[-1] == "done", page.text
        assert re.search(r'id="imported">5000<', page.text)
    finally:
        assert server.stop() == 0
