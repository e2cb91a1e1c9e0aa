"""What a tester reads: each difference where it occurs, a table at the end, JUnit XML for CI."""

import re
from pathlib import Path

from lxml import etree

from gspws.replay import soapxml
from gspws.replay.compare import normal_form
from gspws.replay.messages import HttpResponse
from gspws.replay.runner import Result


def details(result: Result) -> list[str]:
    """The lines shown under an envelope: the differences, or the answer when none was recorded."""
    if result.error:
        return [result.error]
    if result.verdict == "sent":
        assert result.actual is not None  # (it was sent)
        return [
            "no recorded answer to compare with; gspws answered:",
            f"HTTP {result.actual.status} {result.actual.mimetype}",
            *normal_form(result.actual),
        ]
    return list(result.differences)


def _answer(response: HttpResponse | None) -> str:
    if response is None:
        return "-"
    return f"{response.status} {soapxml.outcome(response.body, response.charset)}".strip()


def table(results: list[Result]) -> list[str]:
    rows = [("#", "ENVELOPE", "RECORDED", "REPLAYED", "RESULT")]
    rows += [
        (str(i), r.exchange.name, _answer(r.exchange.expected), _answer(r.actual), r.verdict)
        for i, r in enumerate(results, 1)
    ]
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return [*lines, summary(results)]


def summary(results: list[Result]) -> str:
    counts = {
        verdict: sum(r.verdict == verdict for r in results)
        for verdict in ("pass", "FAIL", "ERROR", "sent")
    }
    return (
        f"{len(results)} envelopes: {counts['pass']} passed, {counts['FAIL']} differ, "
        f"{counts['ERROR']} not sent, {counts['sent']} without a recorded answer"
    )


_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def write_junit(results: list[Result], path: Path, suite: str) -> None:
    """One testcase per envelope; a difference is a failure, an envelope that could not be sent
    an error, one without a recorded answer is skipped (its answer in system-out)."""
    counts = {v: sum(r.verdict == v for r in results) for v in ("FAIL", "ERROR", "sent")}
    root = etree.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(counts["FAIL"]),
        errors=str(counts["ERROR"]),
        skipped=str(counts["sent"]),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = etree.SubElement(
            root,
            "testcase",
            classname="gspws.replay",
            name=result.exchange.name,
            time=f"{result.seconds:.3f}",
        )
        text = _XML_UNSAFE.sub("\ufffd", "\n".join(details(result)))
        if result.verdict in ("FAIL", "ERROR"):
            kind = "failure" if result.verdict == "FAIL" else "error"
            etree.SubElement(case, kind, message=text.splitlines()[0]).text = text
        elif result.verdict == "sent":
            etree.SubElement(case, "skipped", message="no recorded answer to compare with")
            etree.SubElement(case, "system-out").text = text
    path.write_bytes(
        etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    )
