"""The integration kit in ``clients/`` runs: each sample, as a real process, against a live server.

A valid code answers 0 (exit status 0), the same code again 9999 (exit status 1), over SOAP 1.1
and 1.2. A sample whose interpreter is missing is skipped, saying what to install (``.ci/run``
installs them all). The server runs on the fixed test clock, so the codes are computed, not
waited for.
"""

import shutil
import subprocess
import sys

import pytest

from helpers import REPO

CLIENTS = REPO / "clients"


def _php_with_soap() -> str | None:
    if shutil.which("php") is None:
        return "php is not installed (Debian: apt-get install php-cli php-soap)"
    modules = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=60).stdout
    if "soap" not in modules.lower().split():
        return "PHP's soap extension is missing (Debian: apt-get install php-soap)"
    return None


def _node_with_soap() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (CLIENTS / "node" / "node_modules" / "soap").is_dir():
        return "the soap package is missing: npm install --prefix clients/node"
    return None


def _curl() -> str | None:
    return None if shutil.which("curl") and shutil.which("sh") else "curl (or sh) is not installed"


def _soap12(soap12: bool) -> list[str]:
    return ["--soap12"] if soap12 else []


def zeep(url, service_id, account, code, soap12):
    return [
        sys.executable,
        str(CLIENTS / "verify_totp.py"),
        "--url",
        url,
        "--service-id",
        service_id,
        "--account",
        account,
        "--code",
        code,
        *_soap12(soap12),
    ]


def curl(url, service_id, account, code, soap12):
    script = CLIENTS / "curl" / ("verify_soap12.sh" if soap12 else "verify_soap11.sh")
    return [str(script), url, service_id, account, code]


def php(url, service_id, account, code, soap12):
    return [
        "php",
        str(CLIENTS / "php" / "verify_totp.php"),
        url,
        service_id,
        account,
        code,
        *_soap12(soap12),
    ]


def node(url, service_id, account, code, soap12):
    return [
        "node",
        str(CLIENTS / "node" / "verify_totp.js"),
        url,
        service_id,
        account,
        code,
        *_soap12(soap12),
    ]


#: name -> (the command line, why it cannot run here or None)
SAMPLES = {
    "zeep": (zeep, lambda: None),
    "curl": (curl, _curl),
    "php": (php, _php_with_soap),
    "node": (node, _node_with_soap),
}


def _runnable(name: str):
    command, missing = SAMPLES[name]
    reason = missing()
    if reason:
        pytest.skip(f"{name} sample not run: {reason}")
    return command


@pytest.fixture
def database_url(sqlite_url):
    """The samples test the wire, not the store: SQLite only."""
    return sqlite_url


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_verifies_a_code_then_refuses_its_replay(name, soap12, live_server, demo, clock):
    command = _runnable(name)(
        live_server.url, demo.service_id, demo.account, demo.code(clock()), soap12
    )
    first = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert (first.returncode, first.stdout) == (0, "Code: 0\nMessage: 動態密碼驗證通過\n"), (
        first.stderr
    )
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert (again.returncode, again.stdout) == (1, "Code: 9999\nMessage: 動態密碼驗證不通過\n"), (
        again.stderr
    )


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_exits_2_when_the_call_fails(name):
    command = _runnable(name)(
        "http://127.0.0.1:9/gsp2ws/TOTP.asmx", "APP0000001", "demo", "123456", False
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2 and "call failed" in done.stderr, done
