"""A server as a real process, for the tests (tests/helpers.py) and the benchmark alike.

One implementation of "start ``gspws serve`` (or the floor) on a free port, wait until it
answers, stop it", plus the /proc readings the benchmark takes of such a process.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO = Path(__file__).resolve().parents[1]
GSPWS = str(Path(sys.executable).parent / "gspws")  # the console script of the running venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Out of reach, so that the failure path measures verification, not locked tokens, and the
# load (one ServiceID from one address) is not throttled; the rate limiter still runs per call.
SERVER_ENV = {
    "GSPWS_LOCKOUT_THRESHOLD": "1000000000",
    "GSPWS_RATE_LIMIT_SERVICE": "1000000000/second",
    "GSPWS_RATE_LIMIT_ACCOUNT": "1000000000/minute",
}


def gspws_env(home, secret_key: str, **extra: str) -> dict:
    """This process's environment without any GSPWS_* setting, plus home, key and ``extra``.

    ``gspws serve`` gets no outbox sender beside its workers unless ``extra`` asks for one
    (``GSPWS_DELIVERY_SENDER=serve``): the tests and the benchmark take serve's children for its
    workers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")}
    env.update(GSPWS_HOME=str(home), GSPWS_SECRET_KEY=secret_key, GSPWS_DELIVERY_SENDER="separate")
    env.update(extra)
    return env


def help_page_answers(server: "ServerProcess") -> bool:
    """Ready when the service's help page answers (no call, so no audit row)."""
    page = requests.get(server.url, timeout=2)
    return page.status_code == 200 and "VerifyTOTPCode" in page.text


PORT_TAKEN = "Address already in use"
"""What a server started on a taken port says (gspws.serving.refuse_taken_port) before exiting."""


class ServerProcess:
    """``gspws serve`` (or ``command``) on a free loopback port, output to ``log_path``.

    ``start()`` returns once ``ready(self)`` holds (bounded), recording ``first_answer``, the
    seconds from spawn; ``stop()`` sends SIGTERM, waits (bounded) and returns the exit status."""

    def __init__(
        self,
        database_url: str | None,
        env: dict,
        log_path,
        workers: int = 2,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        command: Callable[[int], list[str]] | None = None,
    ) -> None:
        self._port_chosen = port is not None
        self.log_path = Path(log_path)
        self._command = command or (
            lambda p: [
                GSPWS,
                "--database-url",
                database_url,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(p),
                "--workers",
                str(workers),
                *extra_args,
            ]
        )
        self._use_port(port or free_port())
        self._env = env
        self.proc: subprocess.Popen | None = None
        self._log_start = 0
        self.first_answer: float | None = None

    def _use_port(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/gsp2ws/TOTP.asmx"
        self._args = self._command(port)

    def start(
        self, ready: Callable[["ServerProcess"], bool] = help_page_answers, limit: float = 60.0
    ) -> "ServerProcess":
        started = time.perf_counter()
        for _attempt in range(3):
            self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
            with open(self.log_path, "ab") as log:
                self.proc = self._spawn(log)
            if self._wait(ready, started, limit):
                return self
            # free_port() can hand two processes (parallel tests) the same port: take another
            self._use_port(free_port())
        raise RuntimeError(f"{self._args[0]} found no free port in 3 tries (log: {self.log_path})")

    def _spawn(self, log) -> subprocess.Popen:
        """The process, its stdout and stderr appended to the open file ``log``."""
        return subprocess.Popen(
            self._args,
            env=self._env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def _wait(self, ready: Callable[["ServerProcess"], bool], started: float, limit: float) -> bool:
        """True once ready; False if the server exited because its port was taken."""
        assert self.proc is not None
        while time.perf_counter() - started < limit:
            if self.proc.poll() is not None:
                with open(self.log_path, "rb") as log:
                    log.seek(self._log_start)
                    said = log.read().decode(errors="replace")
                if not self._port_chosen and PORT_TAKEN in said:
                    return False
                raise RuntimeError(
                    f"{self._args[0]} exited with {self.proc.returncode}:\n"
                    f"{self.log_path.read_text(errors='replace')[-3000:]}"
                )
            try:
                # A refused connect costs microseconds; ready() (an HTTP request) cost the waiting
                # test ~150 ms of CPU over a 1-s start polled every 10 ms, more on a loaded machine.
                if self._accepting() and ready(self):
                    self.first_answer = time.perf_counter() - started
                    return True
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.url} did not answer within {limit:.0f} s (log: {self.log_path})")

    def _accepting(self) -> bool:
        try:
            socket.create_connection((urlsplit(self.url).hostname, self.port), timeout=1).close()
        except OSError:
            return False
        return True

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


def pids_named(name: str) -> list[int]:
    """The processes whose command name (``/proc/PID/comm``) is ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    """CPU seconds (user and system) each of ``pids`` has used, for those still running."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return found


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)
