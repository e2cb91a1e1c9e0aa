"""Each gateway against a real peer on loopback: Mitake's SmSend (its success answer, its refusals
retried or not as documented, a hang bounded by the timeout), the signed webhook, the SMTP
server, the spool directory."""

import json
import os
import stat
from datetime import UTC, datetime

import pytest
from delivery_peers import HANG

from gspws.delivery import mitake, webhook
from gspws.delivery.mitake import MitakeGateway
from gspws.delivery.port import Message, Permanent, Temporary
from gspws.delivery.smtp import EmailGateway
from gspws.delivery.spool import SpoolGateway
from gspws.delivery.webhook import WebhookGateway

from helpers import make_settings

NOT_AFTER = datetime(2027, 1, 15, 8, 5, tzinfo=UTC)
SMS = Message(
    7, "sms", "0912345678", None, "您的驗證碼為 816276，5 分鐘內有效。\n第二行", NOT_AFTER, "k7abc"
)
ACCEPTED = "[1]\r\nmsgid=1234567890\r\nstatuscode=1\r\nAccountPoint=98\r\n"


def test_mitake_sends_the_documented_request_and_keeps_the_msgid(peer):
    peer.script = [(200, ACCEPTED)]
    gateway = MitakeGateway(peer.url, "acct", "pw")
    assert gateway.deliver(SMS, timeout=5) == "1234567890"
    assert peer.requests[0]["query"] == {"CharsetURL": "UTF-8"}
    assert peer.requests[0]["path"].startswith("/api/mtk/SmSend?")
    assert peer.form() == {
        "username": "acct",
        "password": "pw",
        "dstaddr": "0912345678",
        "smbody": "您的驗證碼為 816276，5 分鐘內有效。\x06第二行",
        "clientid": "k7abc",
        "vldtime": "20270115160500",
    }


def test_mitake_duplicate_answer_is_a_success(peer):
    peer.script = [
        (200, "[1]\r\nmsgid=1234567890\r\nstatuscode=1\r\nAccountPoint=98\r\nDuplicate=Y\r\n")
    ]
    assert MitakeGateway(peer.url, "a", "p").deliver(SMS, timeout=5) == "1234567890"


@pytest.mark.parametrize(
    "code, error",
    [
        ("*", Temporary),
        ("a", Temporary),
        ("b", Temporary),
        ("r", Temporary),
        ("e", Permanent),
        ("k", Permanent),
        ("s", Permanent),
        ("v", Permanent),
        ("u", Permanent),
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_mitake_refusals_are_retried_or_not_as_documented(peer, code, error):
    peer.script = [(200, f"[1]\r\nstatuscode={code}\r\nError=refused\r\n")]
    with pytest.raises(error) as raised:
        MitakeGateway(peer.url, "a", "p").deliver(SMS, timeout=5)
    assert str(raised.value) == f"mitake statuscode={code}: refused"
    assert "816276" not in str(raised.value)


@pytest.mark.parametrize("answer", [(500, "oops"), (200, "garbage")], ids=["http500", "garbage"])
def test_mitake_unreadable_answers_are_retried(peer, answer):
    peer.script = [answer]
    with pytest.raises(Temporary):
        MitakeGateway(peer.url, "a", "p").deliver(SMS, timeout=5)


def test_a_hung_mitake_is_bounded_by_the_timeout(peer):
    peer.script = [HANG]
    with pytest.raises(Temporary, match="ReadTimeout"):
        MitakeGateway(peer.url, "a", "p").deliver(SMS, timeout=0.3)


def test_mitake_answer_fields_ignore_sections_and_blank_lines():
    assert mitake.fields("[1]\r\n\r\nstatuscode=e\r\n\r\nError=x=y\r\n") == {
        "statuscode": "e",
        "Error": "x=y",
    }


def test_webhook_posts_signed_json_that_verifies(peer):
    peer.script = [(200, '{"id": "gw-42"}')]
    gateway = WebhookGateway(peer.url, "s3cret", lambda: 1_800_000_000)
    assert gateway.deliver(SMS, timeout=5) == "gw-42"
    request = peer.requests[0]
    assert request["headers"]["X-Gspws-Timestamp"] == "1800000000"
    assert webhook.verify(
        "s3cret", "1800000000", request["body"], request["headers"]["X-Gspws-Signature"]
    )
    assert not webhook.verify(
        "other", "1800000000", request["body"], request["headers"]["X-Gspws-Signature"]
    )
    assert json.loads(request["body"]) == {
        "id": 7,
        "key": "k7abc",
        "channel": "sms",
        "to": "0912345678",
        "text": SMS.text,
        "not_after": "2027-01-15T08:05:00+00:00",
    }


@pytest.mark.parametrize(
    "status, error",
    [(503, Temporary), (429, Temporary), (400, Permanent)],
    ids=["503", "429", "400"],
)
def test_webhook_statuses(peer, status, error):
    peer.script = [(status, "")]
    with pytest.raises(error):
        WebhookGateway(peer.url, "s", lambda: 0).deliver(SMS, timeout=5)


def test_email_goes_through_the_smtp_settings(inbox, tmp_path):
    settings = make_settings(
        tmp_path,
        "sqlite://",
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_sender="otp@gspws.example",
    )
    mail = Message(8, "email", "z@example.org", "驗證碼", "您的驗證碼為 816276。", NOT_AFTER, "k8")
    ref = EmailGateway(settings).deliver(mail, timeout=5)
    ((rcpt, received),) = inbox.messages
    assert rcpt == ["z@example.org"] and received["Message-ID"] == ref == "<k8@gspws.example>"
    assert received["Subject"] == "驗證碼" and "816276" in received.get_content()


def test_spool_writes_one_private_file_per_message(tmp_path):
    spool = SpoolGateway(tmp_path / "spool")
    name = spool.deliver(SMS, timeout=1)
    spool.deliver(SMS, timeout=1)  # again after a crash: the same file
    assert os.listdir(tmp_path / "spool") == [name]
    assert stat.S_IMODE(os.stat(tmp_path / "spool").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "spool" / name).st_mode) == 0o600
    record = json.loads((tmp_path / "spool" / name).read_text(encoding="utf-8"))
    assert record["to"] == "0912345678" and "816276" in record["text"]
