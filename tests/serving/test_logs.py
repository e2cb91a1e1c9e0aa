"""Structured logs from the production server: JSON lines carrying the request id."""

import json
import time

import pytest

from helpers import ServerProcess, envelope, gspws_env, post


@pytest.fixture
def json_logging_server(tmp_path, settings, store, demo):
    env = gspws_env(tmp_path, settings.secret_key, GSPWS_LOG_FORMAT="json", GSPWS_LOG_LEVEL="DEBUG")
    with ServerProcess(
        settings.effective_database_url, env, tmp_path / "server.log", workers=1
    ) as server:
        yield server.url, server.log_path


def verify_lines(log_path) -> list[dict]:
    """The JSON log lines of gspws.core.verify, once two are written (the worker writes them
    after answering; bounded wait)."""
    calls = []
    for _ in range(100):
        entries = [
            json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")
        ]
        calls = [e for e in entries if e["logger"] == "gspws.core.verify"]
        if len(calls) >= 2:
            break
        time.sleep(0.1)
    return calls


def test_json_lines_carry_the_request_id(json_logging_server, demo):
    url, log_path = json_logging_server
    answered = post(url, envelope(demo.account, "000000"), **{"X-Request-ID": "agency-req-42"})
    generated = post(url, envelope(demo.account, "000000"))
    assert answered.headers["X-Request-ID"] == "agency-req-42"
    assert len(generated.headers["X-Request-ID"]) == 16
    calls = verify_lines(log_path)
    assert {e["request_id"] for e in calls} == {"agency-req-42", generated.headers["X-Request-ID"]}
    assert all(e["level"] == "DEBUG" and "-> 9999" in e["message"] for e in calls)


def test_unsafe_request_ids_are_replaced(live_server, demo):
    response = post(
        live_server.url,
        envelope(demo.account, "000000"),
        **{"X-Request-ID": "evil id\twith <spaces>"},
    )
    assert response.headers["X-Request-ID"] != "evil id\twith <spaces>"
    assert len(response.headers["X-Request-ID"]) == 16
