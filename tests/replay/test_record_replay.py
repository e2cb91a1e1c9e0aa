"""Record a session against a real `gspws serve --record`, replay it, break it: the tester's flow.

Every server here is a real ``gspws serve`` process (gunicorn, two workers) on a SQLite store
seeded by ``gspws db seed`` from the same fixtures file that in-process replay reads.

Time: the live servers run on the real clock. All of them, and the in-process replay, use a
TOTP window of 20 steps (±10 minutes, set in the fixtures), longer than this test may run (the
suite's timeout is 300 s); so a code recorded on the first server still verifies on a fresh one,
however slow the machine, and the outcome never depends on when a step boundary falls.
"""

import concurrent.futures
import json
import logging
import os
import re
import stat
import subprocess

import pytest
import requests
from click.testing import CliRunner
from cryptography.fernet import Fernet
from lxml import etree

from gspws.cli import main
from gspws.config import Settings
from gspws.core.clock import system_clock
from gspws.core.otp import TotpParams
from gspws.replay import capture
from gspws.serving import _gspws_app

from helpers import (
    ACCOUNT,
    GSPWS,
    REPO,
    SECRET,
    SERVICE_ID,
    ServerProcess,
    call,
    code_at,
    envelope,
    gspws_env,
    post,
    run_gspws,
    soap_result,
    zeep_service,
)

FIXTURES = {
    "settings": {"GSPWS_TOTP_WINDOW": "20"},
    "services": [
        {
            "service_id": SERVICE_ID,
            "name": "Agency under test",
            "allow": ["127.0.0.1/32", "::1/128"],
        }
    ],
    "accounts": [{"account": ACCOUNT, "tokens": [{"secret": SECRET}]}],
}
#: What a server gets besides the fixtures' settings: no rate limits (the suite calls often).
UNLIMITED = {"GSPWS_RATE_LIMIT_SERVICE": "", "GSPWS_RATE_LIMIT_ACCOUNT": ""}


class Site:
    """A store seeded from a fixtures file, and `gspws` commands against it as real processes."""

    def __init__(self, home, fixtures_path, **settings: str) -> None:
        home.mkdir()
        self.home = home
        self.database_url = f"sqlite:///{home / 'gspws.db'}"
        fixtures = json.loads(fixtures_path.read_text())
        self.env = gspws_env(
            home,
            Fernet.generate_key().decode(),
            **{**UNLIMITED, **fixtures.get("settings", {}), **settings},
        )
        self.run("db", "upgrade")
        self.run("db", "seed", str(fixtures_path))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = run_gspws(
            [GSPWS, "--database-url", self.database_url, *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert not check or done.returncode == 0, done
        return done

    def server(self, *extra_args: str) -> ServerProcess:
        return ServerProcess(
            self.database_url, self.env, self.home / "serve.log", extra_args=extra_args
        )


def replay(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GSPWS_")}
    return run_gspws(
        [GSPWS, "replay", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def fixtures_path(tmp_path):
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(FIXTURES))
    return path


def test_record_then_replay_in_process_and_live_then_spot_a_changed_answer(tmp_path, fixtures_path):
    recordings = tmp_path / "recordings"
    site = Site(tmp_path / "recorded", fixtures_path)
    params = TotpParams(SECRET)
    with site.server("--record", str(recordings)) as server:
        assert requests.get(f"{server.url}?WSDL", timeout=10).status_code == 200  # not recorded
        service = zeep_service(server.url)
        code = code_at(params, system_clock())
        assert call(service, ACCOUNT, code) == (0, "動態密碼驗證通過")
        assert call(service, ACCOUNT, code) == (9999, "動態密碼驗證不通過")
        unknown = post(server.url, envelope("nobody", "123456", soap12=True), soap12=True)
        assert soap_result(unknown.content)[0] == 3001
        assert soap_result(post(server.url, envelope(ACCOUNT, code, "APP1")).content)[0] == 1
    log = (site.home / "serve.log").read_text()
    assert "Recordings contain live TOTP codes" in log and str(recordings) in log

    names = sorted(p.name for p in recordings.iterdir())
    assert len(names) == 4 and not [n for n in names if n.startswith(".")]
    assert stat.S_IMODE(recordings.stat().st_mode) == 0o700
    for name in names:
        for file in (recordings / name).iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600
    records = [json.loads((recordings / n / "exchange.json").read_text()) for n in names]
    assert [(r["soap_version"], r["operation"], r["status"], r["code"]) for r in records] == [
        ("1.1", "VerifyTOTPCode", 200, 0),
        ("1.1", "VerifyTOTPCode", 200, 9999),
        ("1.2", "VerifyTOTPCode", 200, 3001),
        ("1.1", "VerifyTOTPCode", 200, 1),
    ]
    assert {r["client"] for r in records} == {"127.0.0.1"}

    in_process = replay(str(recordings), "--fixtures", str(fixtures_path))
    assert in_process.returncode == 0, in_process.stdout + in_process.stderr
    assert "4 envelopes: 4 passed, 0 differ" in in_process.stdout

    # The recorded codes are spent on the recording server; a fresh one from the same fixtures
    # has not seen them, and its ±10-minute window still holds their time-step.
    with Site(tmp_path / "fresh", fixtures_path).server() as fresh:
        live = replay(str(recordings), "--url", fresh.url)
    assert live.returncode == 0, live.stdout + live.stderr
    assert "4 envelopes: 4 passed, 0 differ" in live.stdout

    answer = recordings / names[0] / "response.http"
    answer.write_bytes(
        answer.read_bytes().replace(
            "<Code>0</Code><Message>動態密碼驗證通過".encode(),
            "<Code>9999</Code><Message>動態密碼驗證不通過".encode(),
        )
    )
    junit = tmp_path / "replay.xml"
    changed = replay(str(recordings), "--fixtures", str(fixtures_path), "--junit", str(junit))
    assert changed.returncode == 1
    out = changed.stdout
    assert f"FAIL  {names[0]}" in out
    assert "--- recorded" in out and "+++ replayed" in out
    changed = [
        " ".join(line.split())
        for line in out.splitlines()
        if line.strip()[:1] in ("-", "+") and line.strip()[:3] not in ("---", "+++")
    ]
    assert changed == [
        "- <gsp:Code>9999</gsp:Code>",
        "- <gsp:Message>動態密碼驗證不通過</gsp:Message>",
        "+ <gsp:Code>0</gsp:Code>",
        "+ <gsp:Message>動態密碼驗證通過</gsp:Message>",
    ]
    assert "4 envelopes: 3 passed, 1 differ" in out
    suite = etree.parse(str(junit)).getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        "testsuite",
        "4",
        "1",
        "0",
    )
    failed = [
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    ]
    assert failed == [names[0]]


def test_workers_record_every_exchange_whole_and_as_the_caller_received_it(tmp_path, fixtures_path):
    recordings = tmp_path / "recordings"
    site = Site(tmp_path / "site", fixtures_path, GSPWS_MAX_REQUEST_BYTES="2000")
    calls = [
        envelope(f"user{i}", "123456", service_id=sid)
        for i in range(12)
        for sid in (SERVICE_ID, "APP0000000", "APP12")
    ]
    with site.server("--record", str(recordings)) as server:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda body: post(server.url, body), calls))
        too_big = post(server.url, envelope("x" * 3000, "123456"))
        streamed = requests.post(
            server.url,
            data=iter([envelope("y" * 3000, "123456")]),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=10,
        )
    received = {a.headers["X-Request-ID"]: a for a in [*answers, too_big, streamed]}
    exchanges = capture.load(recordings)
    assert len(exchanges) == len(received) == len(calls) + 2
    for exchange in exchanges:
        answer = received[exchange.expected.header("X-Request-ID")]
        assert (exchange.expected.status, exchange.expected.body) == (
            answer.status_code,
            answer.content,
        )
    assert (too_big.status_code, streamed.status_code) == (413, 413)
    truncated = [
        json.loads((recordings / e.name / "exchange.json").read_text())
        for e in exchanges
        if e.expected.status == 413
    ]
    assert [r["body_truncated"] for r in truncated] == [True, True]
    # Refused from its Content-Length unread (issue 17 item 7), or read up to the limit + 1.
    assert sorted(len(e.request.body) for e in exchanges if e.expected.status == 413) == [0, 2001]

    fixtures = {**FIXTURES, "settings": {"GSPWS_MAX_REQUEST_BYTES": "2000"}}
    fixtures_path.write_text(json.dumps(fixtures))
    again = replay(str(recordings), "--fixtures", str(fixtures_path))
    assert again.returncode == 0, again.stdout
    assert f"{len(calls) + 2} passed" in again.stdout


@pytest.fixture
def logging_restored():
    """Building a worker's app may configure logging; give the test process its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_serve_cannot_freeze_time_and_serves_on_the_system_clock(tmp_path, logging_restored):
    frozen = re.compile(r"clock|time|now|instant|freeze|fixture|^at$", re.I)
    assert not [p.name for p in main.commands["serve"].params if frozen.search(p.name)]
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert not re.search(r"clock|fixture|--at\b|--time|--now", help_text, re.I), help_text
    settings = Settings.from_env(
        {"GSPWS_SECRET_KEY": Fernet.generate_key().decode()},
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )
    assert _gspws_app(settings, None).clock is system_clock
    recorded = _gspws_app(settings, tmp_path / "rec")
    assert recorded.app.clock is system_clock


def test_serve_refuses_a_record_directory_it_cannot_create(tmp_path, fixtures_path):
    site = Site(tmp_path / "site", fixtures_path)
    (tmp_path / "file").write_text("")
    refused = site.run("serve", "--record", str(tmp_path / "file" / "recordings"), check=False)
    assert refused.returncode == 2 and "--record" in refused.stderr, refused
