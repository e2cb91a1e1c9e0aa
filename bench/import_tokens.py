"""Token import rate: ``python bench/import_tokens.py [--tokens N] [--format csv|pskc]``.

Writes a file of N (default 100,000) TOTP/HOTP tokens, then times ``gspws token import FILE`` as
a process on a fresh SQLite store (``db upgrade`` first, not timed), and prints the tokens per
second and the ratio of the time taken to the 60 s goal (issue 13: 100,000 tokens in at most
60 s; a ratio below 1 meets it). Also times, in this process, the parts of an import: reading the
file, and the Fernet encryption of each secret (``SecretBox.encrypt``), so a slow run says where
its time went. A second import of the same file (everything already present) is timed too.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # gspws of this checkout

from cryptography.fernet import Fernet  # noqa: E402

from gspws.store.secrets import SecretBox  # noqa: E402
from gspws.tokenfiles import read_token_file  # noqa: E402

GOAL_TOKENS, GOAL_SECONDS = 100_000, 60.0
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"


def write_csv(path: Path, n: int) -> None:
    with open(path, "w") as f:
        f.write("serial,secret,type,algorithm,digits,period_or_counter\n")
        for i in range(n):
            kind, number = ("totp", 30) if i % 2 else ("hotp", 0)
            f.write(f"BENCH{i:08d},{os.urandom(20).hex()},{kind},SHA1,6,{number}\n")


def write_pskc(path: Path, n: int) -> None:
    import pskc

    container = pskc.PSKC()
    for i in range(n):
        if i % 2:
            extra: dict = {"algorithm": TOTP, "time_interval": 30}
        else:
            extra = {"algorithm": HOTP, "counter": 0}
        container.add_key(serial=f"BENCH{i:08d}", secret=os.urandom(20), response_length=6, **extra)
    container.write(str(path))


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: on a loaded machine, what
    the import itself cost, beside the wall-clock time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=GOAL_TOKENS, help="tokens in the file")
    parser.add_argument("--format", choices=("csv", "pskc"), default="csv")
    args = parser.parse_args()
    gspws = Path(sys.executable).with_name("gspws")
    with tempfile.TemporaryDirectory(prefix="gspws-import-") as tmp:
        home = Path(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")},
            "GSPWS_HOME": str(home),
            "GSPWS_SECRET_KEY": Fernet.generate_key().decode(),
        }
        file = home / f"tokens.{args.format}"
        started = time.perf_counter()
        (write_csv if args.format == "csv" else write_pskc)(file, args.tokens)
        print(
            f"wrote {args.tokens} tokens as {args.format} in {time.perf_counter() - started:.1f} s"
        )
        subprocess.run([str(gspws), "db", "upgrade"], env=env, check=True, capture_output=True)

        started = time.perf_counter()
        records = read_token_file(file)
        reading = time.perf_counter() - started
        box = SecretBox([env["GSPWS_SECRET_KEY"].encode()])
        sample = records[: min(len(records), 20_000)]
        started = time.perf_counter()
        for record in sample:
            box.encrypt(record.secret)
        per_token = (time.perf_counter() - started) / len(sample)
        print(f"reading the file: {reading:.2f} s ({len(records) / reading:,.0f} tokens/s)")
        print(
            f"Fernet encryption: {per_token * 1e6:.1f} µs a token ({per_token * len(records):.2f} s for all)"
        )

        for run in ("first import", "re-import (all present)"):
            cpu_before = _children_cpu()
            started = time.perf_counter()
            done = subprocess.run(
                [str(gspws), "token", "import", str(file)], env=env, capture_output=True, text=True
            )
            took = time.perf_counter() - started
            cpu = _children_cpu() - cpu_before
            if done.returncode:
                sys.exit(f"gspws token import failed: {done.stderr.strip()}")
            summary = " / ".join(done.stdout.strip().splitlines())
            print(
                f"{run}: {took:.2f} s ({cpu:.2f} s of CPU), {args.tokens / took:,.0f} tokens/s"
                f" ({summary})"
            )
            if run == "first import":
                goal = took * GOAL_TOKENS / args.tokens / GOAL_SECONDS
                print(
                    f"goal: {GOAL_TOKENS:,} tokens in {GOAL_SECONDS:.0f} s; this rate takes "
                    f"{goal:.2f} of it ({'met' if goal <= 1 else 'NOT met'})"
                )


if __name__ == "__main__":
    main()
