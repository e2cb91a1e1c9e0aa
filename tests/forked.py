"""``gspws`` commands as processes forked from an interpreter that has already imported gspws.

Why: exec'ing the console script spends ~1.3 s of CPU importing gspws (SQLAlchemy, spyne, the
web doors) before the command runs, and the suite ran ~120 commands and ~85 servers: ~290 s of
its ~730 s of CPU (process accounting and /proc, 2 cores). Forked from multiprocessing's fork
server, which imports :data:`PRELOAD` once per test process, a command costs ~0.03 s of CPU
against ~1.35 s, and a ``gspws serve`` start and stop ~0.45 s against ~2.1 s (machine CPU,
idle, alternated).

What the child runs is what the console script runs: ``gspws.cli.main`` on the same argv, with
the caller's environment, working directory, umask and files for stdin, stdout and stderr, its
exit status the process's, its atexit hooks run at exit; signals reach it as they reach any
process. What it skips is the interpreter's start and the imports, so what an interpreter fixes
at start (stdio encoding, PYTHON* variables, the hash seed, TZ) is the fork server's. The tests
about those, or that need pipes or a terminal, exec the script with :mod:`subprocess`: ``db
upgrade`` as a real process (test_cli), the wheel check, the import's progress bar on a
terminal, the key rotations run beside a server or killed midway, and the outbox senders.
"""

import atexit
import io
import locale
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.processes import GSPWS

#: What ``gspws serve`` imports before it forks its workers (gspws.serving.run); nothing that
#: reads the environment when imported (prometheus_client is imported on first use, after
#: GSPWS' metrics directory is set: gspws.metrics).
PRELOAD = ["gspws.cli", "gspws.wsgi", "gspws.serving", __name__]

_SERVER = multiprocessing.get_context("forkserver")
_SERVER.set_forkserver_preload(PRELOAD)


def _main(argv: list[str], env: dict, cwd: str, umask: int, files: tuple[str, str, str]) -> None:
    """The child: become the process the console script would have started, then run it."""
    # A fresh interpreter's default start method (gspws serve's workers are forked with it), not
    # the fork server's, which this process inherited.
    multiprocessing.set_start_method(None, force=True)
    os.chdir(cwd)
    os.umask(umask)
    os.environ.clear()
    os.environ.update(env)
    stdin, stdout, stderr = files
    for fd, path, flags in (
        (0, stdin, os.O_RDONLY),
        (1, stdout, os.O_WRONLY | os.O_APPEND),
        (2, stderr, os.O_WRONLY | os.O_APPEND),
    ):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, closefd=False)  # multiprocessing gave the child /dev/null
    sys.argv = list(argv)
    from gspws.cli import main

    try:
        main()
    finally:
        atexit._run_exitfuncs()  # multiprocessing's children leave by os._exit, skipping them


class Forked:
    """The part of :class:`subprocess.Popen` the tests use, for a forked ``gspws`` command."""

    def __init__(self, args, env: dict | None, cwd, stdin: str, stdout: str, stderr: str) -> None:
        self.args = list(args)
        self._process = _SERVER.Process(
            target=_main,
            args=(
                self.args,
                dict(os.environ if env is None else env),
                str(cwd or os.getcwd()),
                _umask(),
                (stdin, stdout, stderr),
            ),
            name="gspws",  # not its argv: that may hold a database URL with its password
        )
        self._process.start()
        # Not a child multiprocessing waits for when the test process exits (it would wait for
        # ever on a server a failed test left running): a process started by exec is not either.
        multiprocessing.process._children.discard(self._process)
        self.pid = self._process.pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._process.exitcode
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self.poll() is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()


def _umask() -> int:
    """This process's umask, read without setting it (os.umask would, for every thread)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^Umask:\s+([0-7]+)", status, re.M)[1], 8)


def is_gspws(args) -> bool:
    return bool(args) and str(args[0]) == GSPWS


def popen(args, env: dict | None, cwd, log) -> Forked:
    """``gspws`` with stdin empty and stdout and stderr appended to the open file ``log``."""
    return Forked(args, env, cwd, os.devnull, log.name, log.name)


def run(
    args,
    *,
    env: dict | None = None,
    cwd=None,
    input: str | bytes | None = None,
    capture_output: bool = False,
    text: bool = False,
    timeout: float | None = None,
    check: bool = False,
    **popen_args,
) -> subprocess.CompletedProcess:
    """:func:`subprocess.run` for a ``gspws`` command (any other goes to subprocess itself):
    stdout and stderr captured (they always are), ``input`` (or nothing: ``stdin=DEVNULL``) on
    stdin, text decoded as a text-mode pipe would be."""
    if not is_gspws(args) or popen_args not in ({}, {"stdin": subprocess.DEVNULL}):
        return subprocess.run(
            args,
            env=env,
            cwd=cwd,
            input=input,
            capture_output=capture_output,
            text=text,
            timeout=timeout,
            check=check,
            **popen_args,
        )
    with tempfile.TemporaryDirectory(prefix="gspws-run-") as tmp:
        files = [Path(tmp, name) for name in ("stdin", "stdout", "stderr")]
        data = input.encode() if isinstance(input, str) else (input or b"")
        files[0].write_bytes(data)
        for path in files[1:]:
            path.touch()
        process = Forked(args, env, cwd, *map(str, files))
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        out, err = (_decoded(path.read_bytes(), text) for path in files[1:])
    done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    if check:
        done.check_returncode()
    return done


def _decoded(data: bytes, text: bool) -> str | bytes:
    if not text:
        return data
    encoding = locale.getpreferredencoding(False)
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding).read()  # newlines as a pipe's
