"""The wheel as an operator gets it: built from the tree, installed into a fresh venv outside it
(core dependencies only), then `gspws --version`, `gspws db upgrade`, `gspws serve`, one SOAP
call and its count in /metrics, run from a directory that is not the checkout. `make test-wheel`
runs this; it exits non-zero on the first failure and removes everything it made.

It builds from a copy of the files git knows (tracked or new, not ignored), as a fresh clone
would, so a file missing from git or from the package data fails here, not on a server.
"""

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The Makefile's uv builds and installs (the same setuptools build and the same wheel as the
#: README's pip commands; the check takes 15 s this way, 31 s with pip).
UV = Path(sys.executable).parent / "uv"
sys.path.insert(0, str(REPO / "tests"))
from helpers import envelope  # noqa: E402  (the request as a .NET caller sends it)


def run(*args, **kwargs) -> str:
    print("+", " ".join(map(str, args)), flush=True)
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_tree(target: Path) -> None:
    listed = run("git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def check(tmp: Path) -> None:
    source, venv, home = tmp / "src", tmp / "venv", tmp / "home"
    copy_tree(source)
    run(UV, "build", "--quiet", "--wheel", "--out-dir", tmp / "dist", source)
    (wheel,) = (tmp / "dist").glob("gspws-*.whl")
    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    run(
        UV,
        "pip",
        "install",
        "--quiet",
        "--compile-bytecode",
        "--python",
        venv / "bin/python",
        wheel,
    )
    gspws = venv / "bin/gspws"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "GSPWS_HOME": str(home)}
    cwd = dict(cwd=tmp, env=env)

    version = run(gspws, "--version", **cwd)
    expected = re.search(r'__version__ = "(.+)"', (REPO / "gspws/__init__.py").read_text())[1]
    assert expected in version, version
    run(gspws, "db", "upgrade", **cwd)
    missing = subprocess.run(
        [gspws, "--database-url", "postgresql+psycopg://gspws@127.0.0.1:1/x", "db", "upgrade"],
        capture_output=True,
        text=True,
        **cwd,
    )
    assert missing.returncode != 0 and "gspws[postgresql]" in missing.stderr, missing.stderr
    demo = run(gspws, "demo", **cwd)
    secret = re.search(r"secret=([A-Z2-7]+)", demo)[1]

    port = free_port()
    url = f"http://127.0.0.1:{port}/gsp2ws/TOTP.asmx"
    log = open(tmp / "serve.log", "wb")
    server = subprocess.Popen(
        [gspws, "serve", "--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        **cwd,
    )
    try:
        wsdl = wait_for(f"{url}?WSDL", server, tmp / "serve.log")
        assert wsdl.startswith(b"<?xml") and f'location="{url}"'.encode() in wsdl, wsdl[:300]
        code = run(
            venv / "bin/python", "-c", f"import pyotp; print(pyotp.TOTP('{secret}').now())", **cwd
        ).strip()
        request = urllib.request.Request(
            url,
            envelope("demo", code, service_id="APP0000001"),
            {
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
            },
        )
        answer = urllib.request.urlopen(request, timeout=10).read()
        assert b"<Code>0</Code>" in answer, answer
        ready = urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10).read()
        scrape = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        assert ready == b"ready\n" and b'code="0"' in scrape, (ready, scrape)
        # the operator console's templates and stylesheet are package data too
        console = urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/signin", timeout=10)
        style = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/admin/static/admin.css", timeout=10
        )
        assert b'id="sign-in-form"' in console.read() and style.status == 200
        print(
            "wheel check: VerifyTOTPCode answered 0 from the installed wheel, counted in /metrics"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def wait_for(url: str, server: subprocess.Popen, log: Path) -> bytes:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"gspws serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise SystemExit(f"gspws serve did not answer on {url}:\n{log.read_text()}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="gspws-wheel-") as directory:
        check(Path(directory))
