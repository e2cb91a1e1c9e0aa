"""A recording of MobileOTP.asmx calls made by a real `gspws serve --record` holds no live code:
SendOTPCode's answer is redacted, and so is the code of every VerifyOTPCode that was not accepted
(refused before it was checked, it is still live). The accepted one is kept (it is spent), and
replayed in-process against fixtures holding that code pending it is accepted again, once.
``--record-secrets`` keeps them all."""

import json

import pytest
import requests
from test_record_replay import Site, replay

from gspws.replay.redact import MARKER

from helpers import ACCOUNT, SERVICE_ID, public_caller_send

UNGRANTED = "APP0000108"
FIXTURES = {
    "services": [
        {"service_id": SERVICE_ID, "allow": ["127.0.0.1/32", "::1/128"]},
        {"service_id": UNGRANTED, "allow": ["127.0.0.1/32", "::1/128"], "grants": []},
    ],
    "accounts": [{"account": ACCOUNT, "mobile": "0912345678"}],
}
VERIFY = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
    '"http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><ServiceHeader xmlns='
    '"http://cp.gov.tw/gsp2"><ServiceID>{sid}</ServiceID></ServiceHeader></soap:Header>'
    '<soap:Body><VerifyOTPCode xmlns="http://cp.gov.tw/gsp2"><account>{account}</account>'
    "<OTPCode>{code}</OTPCode></VerifyOTPCode></soap:Body></soap:Envelope>"
)


def _session(url: str) -> tuple[str, list[int]]:
    """SendOTPCode (the code), then VerifyOTPCode: refused unchecked (8108), wrong, right, again."""
    s = requests.post(
        url,
        data=public_caller_send(SERVICE_ID, ACCOUNT),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        timeout=30,
    ).text
    code = s[s.index("<Message>") + 9 : s.index("</Message>")]
    answers = []
    for sid, typed in (
        (UNGRANTED, code),
        (SERVICE_ID, "000000"),
        (SERVICE_ID, code),
        (SERVICE_ID, code),
    ):
        body = VERIFY.format(sid=sid, account=ACCOUNT, code=typed).encode()
        answer = requests.post(
            url,
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"x"'},
            timeout=30,
        ).text
        answers.append(int(answer[answer.index("<Code>") + 6 : answer.index("</Code>")]))
    return code, answers


def _holding(directory, text: str) -> list[str]:
    return sorted(
        f"{exchange.name}/{file.name}"
        for exchange in directory.iterdir()
        for file in exchange.iterdir()
        if text.encode() in file.read_bytes()
    )


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(FIXTURES))
    site = Site(tmp_path / "site", path)
    return site


def test_a_recording_holds_no_live_code(tmp_path, site):
    recordings = tmp_path / "recordings"
    with site.server("--record", str(recordings)) as server:
        code, answers = _session(server.url.replace("TOTP.asmx", "MobileOTP.asmx"))
    assert answers == [8108, 9999, 0, 9999]
    names = sorted(p.name for p in recordings.iterdir())
    assert len(names) == 5
    # only the accepted VerifyOTPCode (the fourth exchange) holds it, and it is spent
    assert _holding(recordings, code) == [f"{names[3]}/request.http"]
    for name in (names[0], names[1], names[4]):
        assert MARKER.encode() in b"".join(f.read_bytes() for f in (recordings / name).iterdir())

    fixtures = {
        **FIXTURES,
        "accounts": [{**FIXTURES["accounts"][0], "otp_codes": [{"code": code}]}],
    }
    (tmp_path / "pending.json").write_text(json.dumps(fixtures))
    (recordings / names[0]).rename(
        tmp_path / "send"
    )  # its new code would supersede the pending one
    done = replay(str(recordings), "--fixtures", str(tmp_path / "pending.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed, 0 differ" in done.stdout


def test_record_secrets_keeps_the_codes(tmp_path, site):
    recordings = tmp_path / "recordings"
    with site.server("--record", str(recordings), "--record-secrets") as server:
        code, _ = _session(server.url.replace("TOTP.asmx", "MobileOTP.asmx"))
    assert len(_holding(recordings, code)) == 4  # the send's answer, three requests with it
