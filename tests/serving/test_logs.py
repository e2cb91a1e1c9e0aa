"""Structured logs from the production server: JSON lines carrying the request id."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from helpers import envelope, post

GSPWS = str(Path(sys.executable).with_name("gspws"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def json_logging_server(tmp_path, settings, store, demo):
    port, log_path = _free_port(), tmp_path / "server.log"
    env = {**os.environ, "GSPWS_SECRET_KEY": settings.secret_key, "GSPWS_HOME": str(tmp_path),
           "GSPWS_LOG_FORMAT": "json", "GSPWS_LOG_LEVEL": "DEBUG"}
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([GSPWS, "--database-url", settings.effective_database_url, "serve",
                                 "--port", str(port), "--workers", "1"],
                                env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/gsp2ws/TOTP.asmx"
    try:
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url, log_path
    finally:
        proc.terminate()
        proc.wait(10)


def test_json_lines_carry_the_request_id(json_logging_server, demo):
    url, log_path = json_logging_server
    answered = post(url, envelope(demo.account, "000000"), **{"X-Request-ID": "agency-req-42"})
    generated = post(url, envelope(demo.account, "000000"))
    assert answered.headers["X-Request-ID"] == "agency-req-42"
    assert len(generated.headers["X-Request-ID"]) == 16
    time.sleep(0.5)  # let the worker flush its log line
    entries = [json.loads(line) for line in log_path.read_text().splitlines()
               if line.startswith("{")]
    calls = [e for e in entries if e["logger"] == "gspws.core.verify"]
    assert {e["request_id"] for e in calls} == {"agency-req-42", generated.headers["X-Request-ID"]}
    assert all(e["level"] == "DEBUG" and "-> 9999" in e["message"] for e in calls)


def test_unsafe_request_ids_are_replaced(live_server, demo):
    response = post(live_server.url, envelope(demo.account, "000000"),
                    **{"X-Request-ID": "evil id\twith <spaces>"})
    assert response.headers["X-Request-ID"] != "evil id\twith <spaces>"
    assert len(response.headers["X-Request-ID"]) == 16
