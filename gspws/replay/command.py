"""``gspws replay DIR (--url URL | --fixtures FILE) [--junit FILE]``, minus the option parsing."""

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from gspws.replay import capture, report
from gspws.replay import fixtures as fixtures_file
from gspws.replay.runner import InProcess, Live, Target, replay

Echo = Callable[[str], None]


def run(
    directory: Path, url: str | None, fixtures: Path | None, junit: Path | None, echo: Echo
) -> int:
    """Replay, print as it goes and a table at the end; 1 when any answer differs or was not
    sent, else 0. Raises CaptureError, FixturesError or UrlError before sending anything."""
    exchanges = capture.load(directory)
    results = []
    with ExitStack() as stack:
        target: Target
        if fixtures is not None:
            target = stack.enter_context(InProcess(fixtures_file.load(fixtures), exchanges))
        else:
            assert url is not None  # the command takes --url or --fixtures
            target = Live(url)
        for result in replay(exchanges, target):
            results.append(result)
            lines = report.details(result)
            if lines:
                echo(f"{result.verdict:5} {result.exchange.name}")
                for line in lines:
                    echo(f"      {line}")
    echo("")
    for line in report.table(results):
        echo(line)
    if junit is not None:
        report.write_junit(results, junit, f"gspws replay {directory}")
    return 1 if any(r.verdict in ("FAIL", "ERROR") for r in results) else 0
