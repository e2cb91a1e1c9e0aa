"""``--profile``: py-spy's raw samples of the gspws workers, summed per function and package."""

import collections
import re
import shutil
import sys
from pathlib import Path


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


_PACKAGES = (
    ("gc.collect (spyne MethodContext.close)", ("MethodContext.close (spyne/context.py",)),
    (
        "server (granian, asyncio, asgiref)",
        ("granian/", "asyncio/", "asgiref/", "gspws/serving.py"),
    ),
    ("spyne", ("spyne/",)),
    ("lxml", ("lxml",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("DB driver", ("sqlite3", "psycopg")),
    ("cryptography (Fernet)", ("cryptography/",)),
    ("pyotp / hmac", ("pyotp/", "hmac.py")),
    ("limits (rate limiter)", ("limits/",)),
    ("logging", ("logging/", "gspws/logs.py")),
    ("gspws", ("gspws/",)),
)


_REQUEST = "BufferedWsgi.__call__ "  # where gspws.serving runs the app for a request


def _package(frames: list[str]) -> str:
    """The package of the innermost frame that belongs to a known one (the standard library's
    frames count for their caller: threading under limits is the rate limiter's)."""
    for frame in reversed(frames):
        for name, needles in _PACKAGES:
            if any(n in frame for n in needles):
                return name
    return "other"


def top_frames(raw_files: list[Path], n: int = 15) -> dict:
    """From py-spy's raw (collapsed) output, the samples within a request (frames below
    gspws.serving's ``BufferedWsgi.__call__``; the rest, such as the event loop waiting or the
    limits library's timers, is counted apart in "other_threads", relative to the requests'
    samples): the share of samples per function (self), per function within the request
    (inclusive), and per package."""
    own, inclusive, packages, total, others = (
        collections.Counter(),
        collections.Counter(),
        collections.Counter(),
        0,
        collections.Counter(),
    )
    for path in raw_files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if f]
            count = int(count)
            inside = [i for i, f in enumerate(frames) if f.startswith(_REQUEST)]
            if not inside:
                # py-spy counts a thread in a timed wait as active: the limits library's timers
                idle = frames[-1].startswith(("Condition.wait ", "Event.wait "))
                others["timed wait (not CPU)" if idle else _package(frames)] += count
                continue
            total += count
            own[frames[-1]] += count
            packages[_package(frames)] += count
            for frame in set(frames[inside[0] + 1 :]):
                inclusive[frame] += count
    share = lambda c, k: [(f, 100 * v / total) for f, v in c.most_common(k)]  # noqa: E731
    return {
        "samples": total,
        "self": share(own, n),
        "inclusive": share(inclusive, n),
        "packages": share(packages, n),
        "other_threads": share(others, n),
    }
