"""Security probe, recording (issue 17, items 2 and 7): `gspws serve --record` keeps no working
credential unless told to, and answers an over-long declared body at once, as without recording.

Real ``gspws serve`` processes on a SQLite store seeded by ``gspws db seed`` (see
test_record_replay, whose Site and fixtures these reuse).
"""

import base64
import json
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from test_record_replay import FIXTURES, Site, replay

from helpers import ACCOUNT, SERVICE_ID, zeep_service

HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}


@pytest.fixture
def fixtures_path(tmp_path):
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(FIXTURES))  # the service is granted every function
    return path


def _bind_and_link(url: str) -> tuple[str, str, str]:
    """BeginTOTPBinding and CreateBindingLink for ACCOUNT: (secret, QR PNG base64, link)."""
    service = zeep_service(url)
    began = service.BeginTOTPBinding(account=ACCOUNT, deviceName="phone", _soapheaders=HEADER)
    linked = service.CreateBindingLink(account=ACCOUNT, _soapheaders=HEADER)
    assert (began.Code, linked.Code) == (0, 0)
    secret = parse_qs(urlsplit(began.Result.OtpauthUri).query)["secret"][0]
    return secret, base64.b64encode(began.Result.QrPng).decode(), linked.Result


def _recorded_bytes(recordings: Path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(recordings.rglob("*")) if f.is_file())


def test_recordings_redact_new_secrets_qr_codes_and_links(tmp_path, fixtures_path):
    recordings = tmp_path / "recordings"
    site = Site(tmp_path / "site", fixtures_path)
    with site.server("--record", str(recordings)) as server:
        secret, qr_png, link = _bind_and_link(server.url)
    kept = _recorded_bytes(recordings)
    assert len(list(recordings.iterdir())) == 2
    for credential in (secret, qr_png[:40], link, "otpauth://", urlsplit(link).path):
        assert credential.encode() not in kept, credential
    assert kept.count(b"(redacted)") == 3  # OtpauthUri, QrPng, the link
    log = (site.home / "serve.log").read_text()
    assert "binding secrets, otpauth URIs, QR images and binding links are redacted" in log

    # Replayed, a new binding and a new link answer where the recording has the marker: they
    # compare as redacted. (The new token's serial is random too, and not a credential.)
    again = replay(str(recordings), "--fixtures", str(fixtures_path))
    assert "2 envelopes: 1 passed, 1 differ" in again.stdout, again.stdout + again.stderr
    changed = [
        line
        for line in again.stdout.splitlines()
        if line.strip()[:1] in ("+", "-") and line.strip()[:3] not in ("---", "+++")
    ]
    assert len(changed) == 2 and all("<gsp:Serial>" in line for line in changed), changed


def test_record_secrets_keeps_them_and_says_so(tmp_path, fixtures_path):
    recordings = tmp_path / "recordings"
    site = Site(tmp_path / "site", fixtures_path)
    with site.server("--record", str(recordings), "--record-secrets") as server:
        secret, _qr, link = _bind_and_link(server.url)
    kept = _recorded_bytes(recordings)
    assert secret.encode() in kept and link.encode() in kept and b"(redacted)" not in kept
    log = (site.home / "serve.log").read_text()
    assert "new tokens' secrets, otpauth URIs, QR images and working binding links" in log
    refused = site.run("serve", "--record-secrets", check=False)
    assert refused.returncode == 2 and "--record" in refused.stderr, refused


def _raw_post(url: str, declared: int, body: bytes) -> bytes:
    """A SOAP POST declaring ``declared`` body bytes but sending only ``body``; the answer's
    head (the socket's timeout stands for "hangs": a worker would wait for the rest)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=15) as sock:
        sock.sendall(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: text/xml; charset=utf-8\r\nContent-Length: {declared}\r\n"
            f"\r\n".encode()
            + body
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.parametrize("declared", [70_000, 10**12])
def test_a_declared_oversized_body_is_refused_at_once_while_recording(
    tmp_path, fixtures_path, declared
):
    recordings = tmp_path / "recordings"
    site = Site(tmp_path / "site", fixtures_path)
    with site.server("--record", str(recordings)) as server:
        answer = _raw_post(server.url, declared, b"<x/>")
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    [exchange] = list(recordings.iterdir())
    record = json.loads((exchange / "exchange.json").read_text())
    assert (record["status"], record["body_truncated"]) == (413, True)
    assert f"Content-Length: {declared}".encode() in (exchange / "request.http").read_bytes()

    again = replay(str(recordings), "--fixtures", str(fixtures_path))
    assert again.returncode == 0 and "1 passed" in again.stdout, again.stdout + again.stderr
