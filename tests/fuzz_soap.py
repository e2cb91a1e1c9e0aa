#!/usr/bin/env python
"""Coverage-guided fuzzing (atheris / libFuzzer) of the SOAP entry point, in process.

    .venv/bin/python tests/fuzz_soap.py [libFuzzer options] [CORPUS_DIR ...]
    make fuzz                       # FUZZ_SECONDS=600 by default; findings under var/fuzz/

The target is the whole WSGI app (``gspws.wsgi.create_app``) on a temporary SQLite store seeded
like the tests (helpers.seed_demo plus the corpus accounts), with a FixedClock. One input is one
POST to ``/gsp2ws/TOTP.asmx`` from 127.0.0.1. Its first byte chooses what the rest is:

* below 0x80, the raw body, with Content-Type ``CONTENT_TYPES[byte % len]``;
* 0x80 and above, the material of a well-formed envelope (SOAP 1.2 when the byte is odd) whose
  ServiceID, account and TOTPCode are strings taken from the rest (or left out), so that inputs
  get past the XML parser to the verification and the store.

The property, checked on every input (a violation is an AssertionError, which libFuzzer reports
as a crash and saves as ``crash-<sha1>`` under ``-artifact_prefix``):

* the app returns; it never raises;
* HTTP 200 carries a CP2Response whose Code is one of the contract's 11 codes with its exact
  message, and never 3000 (the store is healthy here, so 3000 means an unexpected exception);
* any other answer is 413, 415, 405 or 500 with a body that parses as a SOAP envelope holding
  exactly one Fault;
* no answer contains a stack trace, an exception name or a library name.

Seeds: every body in ``tests/corpus`` (placeholders filled in), prefixed with the selector byte
of its manifest Content-Type, written to a scratch directory that is appended to the corpus
directories. libFuzzer writes new interesting inputs to the first corpus directory given (the
scratch seed directory when none is).

A crash becomes a corpus case: ``.venv/bin/python tests/fuzz_soap.py --body crash-<sha1> >
body.xml`` writes the body it stands for (and prints its Content-Type); add it as a case in
``tests/corpus/generate.py`` with that Content-Type and the outcome the contract requires,
regenerate, and run ``tests/soap/test_bad_input.py``. Re-run one artifact through the property with
``.venv/bin/python tests/fuzz_soap.py crash-<sha1>``.

``FUZZ_WORKDIR`` (default: a new temporary directory) holds the store and the seeds.
"""

import json
import logging
import os
import re
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

with atheris.instrument_imports(include=["gspws", "spyne"]):
    from gspws.core.clock import FixedClock
    from gspws.core.otp import TotpParams
    from gspws.store import migrate
    from gspws.wsgi import build_store, create_app

from werkzeug.test import EnvironBuilder, run_wsgi_app  # noqa: E402

from helpers import (  # noqa: E402
    CONTRACT_CODES,
    SECRET,
    T0,
    TNS,
    add_token,
    assert_no_internals,
    envelope,
    make_settings,
    parse_xml,
    seed_demo,
    soap_fault,
)

PATH = "/gsp2ws/TOTP.asmx"
CORPUS = HERE / "corpus"

#: The first input byte picks one of these (None: no Content-Type header at all).
CONTENT_TYPES = (
    None,
    "text/xml; charset=utf-8",
    "application/soap+xml; charset=utf-8",
    "text/xml",
    "application/soap+xml",
    "text/xml; charset=big5",
    "text/xml; charset=utf-16",
    "application/xml",
)
FAULT_STATUSES = {405, 413, 415, 500}
SOAP_TYPES = ("text/xml", "application/soap+xml")


def _build_app(workdir: Path):
    for stale in workdir.glob("gspws.db*"):  # a fresh store on every run
        stale.unlink()
    settings = make_settings(workdir, f"sqlite:///{workdir / 'gspws.db'}")
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed_demo(store)
    for account, secret in _manifest()["accounts"].items():
        add_token(store, account, TotpParams(secret))
    return create_app(settings, clock=FixedClock(T0), store=store)


def _manifest() -> dict:
    return json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))


def _selector(content_type: str | None) -> int:
    if content_type in CONTENT_TYPES:
        return CONTENT_TYPES.index(content_type)
    mimetype = (content_type or "").split(";")[0].strip().lower()
    return {"text/xml": 1, "application/soap+xml": 2}.get(mimetype, 0)


def write_seeds(target: Path) -> int:
    """The corpus bodies as fuzz inputs (selector byte + body, placeholders filled in)."""
    manifest = _manifest()
    secrets = {"wederlin": SECRET, **manifest["accounts"]}
    target.mkdir(parents=True, exist_ok=True)
    for case in manifest["cases"]:
        body = (CORPUS / case["file"]).read_bytes()
        template = case.get("template")
        if template:
            values = {"xxe_port": "9"}
            if "account" in template:
                values["code"] = TotpParams(secrets[template["account"]]).code_at(T0)
            for name, value in values.items():
                body = body.replace(
                    f"{{{name}}}".encode(template["encoding"]), value.encode(template["encoding"])
                )
        (target / case["name"]).write_bytes(bytes([_selector(case["content_type"])]) + body)
    return len(manifest["cases"])


def check(status: int, headers: dict, body: bytes) -> None:
    """The property (see the module docstring); raises AssertionError when it does not hold."""
    assert b"Traceback" not in body, body[:2000]
    assert_no_internals(body)
    content_type = headers.get("Content-Type", "").split(";")[0].strip()
    if status == 200:
        assert content_type in SOAP_TYPES, (status, headers)
        result = parse_xml(body).find(f".//{{{TNS}}}VerifyTOTPCodeResult")
        assert result is not None, body[:2000]
        code = int(result.findtext(f"{{{TNS}}}Code"))
        assert code in CONTRACT_CODES, code
        assert result.findtext(f"{{{TNS}}}Message") == CONTRACT_CODES[code], body[:2000]
        assert code != 3000, "3000 with a healthy store: an unexpected exception in the server"
        return
    assert status in FAULT_STATUSES, (status, body[:2000])
    if status == 405:
        return  # a plain-text Allow answer; only POST is fuzzed, so this never comes
    assert content_type in SOAP_TYPES, (status, headers)
    soap_fault(body)  # parses as a SOAP envelope with exactly one Fault


APP = None


_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _structured(selector: int, rest: bytes) -> tuple[str, bytes]:
    """A well-formed envelope whose ServiceID, account and TOTPCode are fuzzed strings, so that
    inputs reach the verification and the store, not only the XML parser."""
    fdp = atheris.FuzzedDataProvider(rest)
    soap12 = bool(selector & 1)
    fields = []
    for _ in range(3):
        value = _NOT_XML_CHAR.sub("", fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 64)))
        fields.append(escape(value) if fdp.ConsumeBool() else None)
    service_id, account, code = fields
    return CONTENT_TYPES[2 if soap12 else 1], envelope(account, code, service_id, soap12)


def request_of(data: bytes) -> tuple[str | None, bytes]:
    """The Content-Type and body one fuzz input stands for."""
    if data[0] >= 0x80:
        return _structured(data[0], data[1:])
    return CONTENT_TYPES[data[0] % len(CONTENT_TYPES)], data[1:]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    content_type, body = request_of(data)
    builder = EnvironBuilder(
        path=PATH,
        method="POST",
        data=body,
        headers={"Content-Type": content_type} if content_type else {},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    app_iter, status, headers = run_wsgi_app(APP, builder.get_environ())
    try:
        body = b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    check(int(status.split()[0]), dict(headers), body)


def main(argv: list[str]) -> None:
    global APP
    if len(argv) == 3 and argv[1] == "--body":  # what an artifact stands for, for a corpus case
        content_type, body = request_of(Path(argv[2]).read_bytes())
        print(f"Content-Type: {content_type}", file=sys.stderr)
        sys.stdout.buffer.write(body)
        return
    workdir = Path(os.environ.get("FUZZ_WORKDIR") or tempfile.mkdtemp(prefix="gspws-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    logging.disable(logging.CRITICAL)  # the server logs every fault; the property is the check
    APP = _build_app(workdir)
    args = list(argv)
    if not any(a.startswith("-timeout=") for a in args):
        args.append("-timeout=10")
    inputs = [a for a in args[1:] if not a.startswith("-")]
    if not any(Path(a).is_file() for a in inputs):  # not reproducing artifacts: add the seeds
        seeds = workdir / "seeds"
        write_seeds(seeds)
        args.append(str(seeds))
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
