"""A server as a real process, for the tests (tests/helpers.py) and the benchmark alike.

One implementation of "start ``gspws serve`` (or the floor) on a free port, wait until it
answers, stop it", plus the /proc readings the benchmark takes of such a process.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
GSPWS = str(Path(sys.executable).parent / "gspws")  # the console script of the running venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gspws_env(home, secret_key: str, **extra: str) -> dict:
    """This process's environment without any GSPWS_* setting, plus home, key and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")}
    env.update(GSPWS_HOME=str(home), GSPWS_SECRET_KEY=secret_key, **extra)
    return env


def help_page_answers(server: "ServerProcess") -> bool:
    """Ready when the service's help page answers (no call, so no audit row)."""
    page = requests.get(server.url, timeout=2)
    return page.status_code == 200 and "VerifyTOTPCode" in page.text


class ServerProcess:
    """``gspws serve`` (or ``command``) on a free loopback port, output to ``log_path``.

    ``start()`` returns once ``ready(self)`` holds (bounded), recording ``first_answer``, the
    seconds from spawn; ``stop()`` sends SIGTERM, waits (bounded) and returns the exit status."""

    def __init__(self, database_url: str | None, env: dict, log_path, workers: int = 2,
                 port: int | None = None, extra_args: tuple[str, ...] = (),
                 command: Callable[[int], list[str]] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/gsp2ws/TOTP.asmx"
        self.log_path = Path(log_path)
        self._args = command(self.port) if command else [
            GSPWS, "--database-url", database_url, "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(workers), *extra_args]
        self._env = env
        self.proc: subprocess.Popen | None = None
        self.first_answer: float | None = None

    def start(self, ready: Callable[["ServerProcess"], bool] = help_page_answers,
              limit: float = 60.0) -> "ServerProcess":
        started = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self._args, env=self._env, cwd=REPO, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        while time.perf_counter() - started < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self._args[0]} exited with {self.proc.returncode}:\n"
                                   f"{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if ready(self):
                    self.first_answer = time.perf_counter() - started
                    return self
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.url} did not answer within {limit:.0f} s (log: "
                           f"{self.log_path})")

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- /proc readings -----------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)
