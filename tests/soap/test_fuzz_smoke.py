"""A few seconds of the atheris fuzz target (tests/fuzz_soap.py) on every test run.

The target runs in a subprocess (libFuzzer takes over the process and exits it), seeded with the
whole bad-input corpus, for at most FUZZ_SMOKE_SECONDS seconds or FUZZ_SMOKE_RUNS inputs. Any
crash (the app raising, or an answer breaking the property in fuzz_soap.py) fails the test and is
shown with the input libFuzzer saved. `make fuzz` runs the same target for longer.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from helpers import TESTS

TARGET = TESTS / "fuzz_soap.py"
SECONDS = int(os.environ.get("FUZZ_SMOKE_SECONDS", "5"))
RUNS = int(os.environ.get("FUZZ_SMOKE_RUNS", "20000"))


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (pip install atheris; wheels exist for "
    "CPython 3.11-3.13 on Linux x86_64)",
)
def test_fuzz_target_survives_a_short_run(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")},
        "FUZZ_WORKDIR": str(tmp_path / "work"),
    }
    done = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={SECONDS}",
            f"-runs={RUNS}",
            "-timeout=10",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
    )
    output = "\n".join(
        line
        for line in (done.stdout + done.stderr).splitlines()
        if not line.startswith("INFO: Instrumenting")
    )
    crashes = sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-"))
    )
    assert done.returncode == 0 and not crashes, (
        f"fuzz target failed (exit {done.returncode}); artifacts {crashes}; the input's first "
        f"byte selects the Content-Type (fuzz_soap.CONTENT_TYPES):\n{output[-6000:]}"
    )
    assert "Done" in output, output[-3000:]
