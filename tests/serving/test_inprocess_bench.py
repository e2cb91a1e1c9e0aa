"""bench/inprocess.py, the in-process measurement of a verification, still runs and checks what
it measures: every call answered as its path expects (it stops at the first that is not)."""

import re

from bench import inprocess


def test_the_in_process_bench_answers_every_call(capsys):
    inprocess.main(["--path", "success", "--calls", "30"])
    inprocess.main(["--calls", "30", "--profile", "5"])
    out = capsys.readouterr().out
    assert re.search(r"sqlite, success path, 30 calls: gspws CPU [\d.]+ ms/call", out)
    assert re.search(r"sqlite, failure path, 30 calls: gspws CPU [\d.]+ ms/call", out)
    assert "Ordered by: internal time" in out  # the profile of a second round
