"""The operator's message text (``GSPWS_OTP_TEXT``, ``GSPWS_OTP_MAIL_SUBJECT``): what a real SMTP
server and the spool receive after SendOTPCode; templates the start-up refuses, in one line."""

import dataclasses
import json

import pytest
import zeep
from test_end_to_end import HEADER, deliver

from gspws.config import Settings
from gspws.core.access import MOBILE_OTP_FUNCTIONS
from gspws.errors import ConfigError

from helpers import ACCOUNT, GSPWS, REPO, SERVICE_ID, gspws_env, run_gspws

TEXT = "Code {code}, valid {minutes} min. 驗證碼 {code}"
SUBJECT = "[Agency] {minutes}-minute code"


@pytest.fixture
def send(serve, store, demo):
    """SendOTPCodeTo on a server built from settings with the templates above (parsed as the
    start-up parses them); the code the caller read."""
    with store.unit() as repo:
        for function in MOBILE_OTP_FUNCTIONS:
            repo.grant(SERVICE_ID, function)
        repo.set_destinations(repo.get_account(ACCOUNT), "0912345678", "zoe@example.org", True)
    parsed = Settings.from_env(
        {"GSPWS_OTP_TEXT": TEXT, "GSPWS_OTP_MAIL_SUBJECT": SUBJECT, "GSPWS_OTP_TTL": "180"}
    )
    server = serve(
        otp_text=parsed.otp_text, otp_mail_subject=parsed.otp_mail_subject, otp_ttl=parsed.otp_ttl
    )
    url = f"{server.base}/gsp2ws/MobileOTP.asmx"

    def sent(channel: str) -> str:
        service = zeep.Client(f"{url}?WSDL").bind("MobileOTP", "MobileOTPSoap12")
        answer = service.SendOTPCodeTo(account=ACCOUNT, channel=channel, _soapheaders=HEADER)
        assert answer.Code == 0
        return answer.Message

    return sent


def test_a_real_smtp_server_receives_the_configured_text_and_subject(send, store, settings, inbox):
    code = send("email")
    deliver(store, dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=inbox.port))
    ((rcpt, message),) = inbox.messages
    assert rcpt == ["zoe@example.org"]
    assert message["Subject"] == "[Agency] 3-minute code"
    assert message.get_content().strip() == f"Code {code}, valid 3 min. 驗證碼 {code}"


def test_the_spool_receives_the_configured_text(send, store, settings, tmp_path):
    code = send("sms")
    deliver(store, dataclasses.replace(settings, sms_gateway=f"spool:{tmp_path / 'spool'}"))
    (written,) = (tmp_path / "spool").iterdir()
    record = json.loads(written.read_text(encoding="utf-8"))
    assert record["to"] == "0912345678" and record["subject"] is None
    assert record["text"] == f"Code {code}, valid 3 min. 驗證碼 {code}"


def test_the_defaults_are_zh_tw_and_name_the_validity():
    settings = Settings.from_env({})
    assert "{code}" in settings.otp_text and "{minutes} 分鐘內有效" in settings.otp_text
    assert "{minutes}" in settings.otp_mail_subject


BAD = {
    "no_code": ("GSPWS_OTP_TEXT", "您的驗證碼 {minutes} 分鐘內有效", "must contain {code}"),
    "unknown": ("GSPWS_OTP_TEXT", "{code} {minute}", "unknown placeholder {minute}"),
    "attribute": ("GSPWS_OTP_TEXT", "{code.__class__}", "unknown placeholder {code.__class__}"),
    "format_spec": ("GSPWS_OTP_TEXT", "{code:>999999999}", "unknown placeholder {code:>999999999}"),
    "positional": ("GSPWS_OTP_TEXT", "{} {code}", "unknown placeholder {}"),
    "unbalanced": ("GSPWS_OTP_TEXT", "{code", "is not a valid template"),
    "code_in_subject": ("GSPWS_OTP_MAIL_SUBJECT", "碼 {code}", "unknown placeholder {code}"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_template_is_a_config_error(name):
    env, value, said = BAD[name]
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({env: value})
    assert str(refused.value).startswith(f"{env}=") and said in str(refused.value)


def test_gspws_serve_refuses_a_bad_template_in_one_line(tmp_path):
    env = gspws_env(tmp_path, "", GSPWS_OTP_TEXT="您的驗證碼 {cod}")
    done = run_gspws(
        [GSPWS, "serve"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "Error: GSPWS_OTP_TEXT='您的驗證碼 {cod}': unknown placeholder {cod}: "
        "use {code}, {minutes}, nothing else"
    ]
