"""The replay corpus (``tests/envelopes/``): every return code as each caller family sends it.

In-process, the corpus replays byte for byte at the fixtures' instant. Against a live server
(a real ``gspws serve`` on a store seeded from the same fixtures), the server's clock is real.
Only two envelopes per family have an answer that depends on the time: the valid code
(``*-01-0-ok``) and its replay (``*-02-9999-replayed-code``). Their ``TOTPCode`` is the account's
code at the fixtures' instant, and so is that of the family's envelopes refused before any code is
checked (1, 8100 … 8109): all of these get the account's code for now, the same bytes otherwise.
The rest (3000, 3001, the fault) carry other accounts' codes and are sent unchanged. The
fixtures' 20-step window keeps the rewritten codes valid for longer than the test may run.
"""

import filecmp
import json
from dataclasses import replace
from datetime import datetime

import envelope_corpus_mobile as mobile
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from gspws.cli import main
from gspws.core.clock import system_clock
from gspws.replay import capture, recording, soapxml
from gspws.replay import fixtures as fixtures_file
from gspws.replay.runner import InProcess, replay

from envelope_corpus import AT, CORPUS, FAMILIES, FIXTURES, valid_code, write_corpus
from helpers import GSPWS, REPO, TNS, ServerProcess, gspws_env, run_gspws

FIXTURES_PATH = CORPUS / "fixtures.json"
CODES = (0, 9999, 1, 8100, 8101, 8102, 8104, 8108, 8109, 3000, 3001)
#: every family's codes, the SOAP 1.1-as-1.2 fault, MobileOTP.asmx's cases
EXCHANGES = len(FAMILIES) * len(CODES) + 1 + len(mobile.cases("", ""))


def test_corpus_is_what_envelope_corpus_writes(tmp_path):
    write_corpus(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")
    for name in written:
        files = (
            [name]
            if (tmp_path / name).is_file()
            else [f"{name}/{f}" for f in (recording.RECORD, recording.REQUEST, recording.RESPONSE)]
        )
        for file in files:
            assert filecmp.cmp(tmp_path / file, CORPUS / file, shallow=False), (
                f"{file} differs: run .venv/bin/python tests/envelope_corpus.py"
            )


def test_corpus_covers_every_return_code_for_every_family():
    recorded = {
        (
            e.name.split("-")[0],
            e.expected.status,
            json.loads((CORPUS / e.name / recording.RECORD).read_text())["code"],
        )
        for e in capture.load(CORPUS)
    }
    for family in FAMILIES:
        assert {code for name, _, code in recorded if name == family.name} >= set(CODES)


def test_corpus_replays_in_process():
    exchanges = capture.load(CORPUS)
    with InProcess(fixtures_file.load(FIXTURES_PATH), exchanges) as target:
        results = list(replay(exchanges, target))
    assert [(r.exchange.name, r.verdict) for r in results if r.verdict != "pass"] == []
    assert len(results) == EXCHANGES


def test_corpus_replays_with_the_cli(tmp_path):
    junit = tmp_path / "corpus.xml"
    result = CliRunner().invoke(
        main, ["replay", str(CORPUS), "--fixtures", str(FIXTURES_PATH), "--junit", str(junit)]
    )
    assert result.exit_code == 0, result.output
    assert f"{EXCHANGES} passed, 0 differ" in result.output
    assert 'failures="0"' in junit.read_text()


def _retimed(directory, now: float) -> None:
    """The corpus in ``directory``, its codes valid at AT made valid at ``now`` (module doc)."""
    at = datetime.fromisoformat(AT.replace("Z", "+00:00")).timestamp()
    users = {f"{family.name}.user" for family in FAMILIES}
    changed = 0
    for exchange in capture.load(CORPUS):
        request = exchange.request
        root = soapxml.parse(request.body)
        account, code = (root.findtext(f".//{{{TNS}}}{name}") for name in ("account", "TOTPCode"))
        if account in users and code == valid_code(account, at):
            new = valid_code(account, now)
            body = request.body.replace(f">{code}<".encode(), f">{new}<".encode())
            request = replace(
                request,
                body=body,
                headers=tuple(
                    (k, str(len(body)) if k.lower() == "content-length" else v)
                    for k, v in request.headers
                ),
            )
            changed += 1
        record = json.loads((CORPUS / exchange.name / recording.RECORD).read_text())
        del record["format"]
        recording.write(directory, exchange.name, request, exchange.expected, record)
    assert changed == 9 * len(FAMILIES)  # 0, 9999, 1, 8100, 8101, 8102, 8104, 8108, 8109


@pytest.fixture
def corpus_server(tmp_path):
    home = tmp_path / "server"
    home.mkdir()
    database_url = f"sqlite:///{home / 'gspws.db'}"
    env = gspws_env(
        home,
        Fernet.generate_key().decode(),
        **FIXTURES["settings"],
        GSPWS_RATE_LIMIT_SERVICE="",
        GSPWS_RATE_LIMIT_ACCOUNT="",
    )
    for args in (["db", "upgrade"], ["db", "seed", str(FIXTURES_PATH)]):
        run_gspws(
            [GSPWS, "--database-url", database_url, *args],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=120,
        )
    with ServerProcess(database_url, env, home / "serve.log") as server:
        yield server


def test_corpus_replays_against_a_live_server(tmp_path, corpus_server):
    retimed = tmp_path / "retimed"
    retimed.mkdir()
    _retimed(retimed, system_clock())
    done = run_gspws(
        [GSPWS, "replay", str(retimed), "--url", corpus_server.url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{EXCHANGES} passed, 0 differ" in done.stdout
