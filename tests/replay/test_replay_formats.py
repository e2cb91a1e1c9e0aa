"""What replay reads and how it judges: foreign captures, comparison on XML meaning, fixtures,
the command's exit statuses and its JUnit file. In-process (the app from create_app on a frozen
clock) except where a real curl writes a real trace."""

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from lxml import etree

from gspws.cli import main
from gspws.core.otp import TotpParams
from gspws.replay import capture, recording, runner
from gspws.replay.compare import differences
from gspws.replay.messages import HttpRequest, HttpResponse, MessageError, parse_request
from gspws.replay.recording import Exchange

from helpers import (
    ACCOUNT,
    CONTENT_TYPE,
    SECRET,
    SERVICE_ID,
    SOAP11_NS,
    SOAP12_NS,
    T0,
    TNS,
    code_at,
    envelope,
)

XML = "text/xml; charset=utf-8"
ANSWER = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><VerifyTOTPCodeResponse '
    'xmlns="http://cp.gov.tw/gsp2"><VerifyTOTPCodeResult><Code>{code}</Code><Message>'
    "{message}</Message></VerifyTOTPCodeResult></VerifyTOTPCodeResponse></soap:Body>"
    "</soap:Envelope>"
)
OK = ANSWER.format(ns=SOAP11_NS, code=0, message="動態密碼驗證通過")
FIXTURES = {
    "at": "2027-01-15T08:00:10Z",  # T0
    "services": [{"service_id": SERVICE_ID, "allow": ["127.0.0.1/32"]}],
    "accounts": [{"account": ACCOUNT, "tokens": [{"secret": SECRET}]}],
}


def response(body: str, status: int = 200, content_type: str = XML) -> HttpResponse:
    return HttpResponse((("Content-Type", content_type),), body.encode(), status)


# -- comparison ---------------------------------------------------------------------------------


def test_prefixes_declarations_whitespace_comments_and_attribute_order_do_not_matter():
    other = (
        "<?xml version='1.0'?>\n<S:Envelope xmlns:S='" + SOAP11_NS + "'>\n <S:Body>\n"
        "  <g:VerifyTOTPCodeResponse xmlns:g='http://cp.gov.tw/gsp2'><!-- hi -->\n"
        "   <g:VerifyTOTPCodeResult b='2' a='1'><g:Code>0</g:Code>\n"
        "    <g:Message>動態密碼驗證通過</g:Message></g:VerifyTOTPCodeResult>\n"
        "  </g:VerifyTOTPCodeResponse>\n </S:Body>\n</S:Envelope>\n"
    )
    assert (
        differences(
            response(OK.replace("<VerifyTOTPCodeResult>", "<VerifyTOTPCodeResult a='1' b='2'>")),
            response(other, content_type="text/xml"),
        )
        == []
    )


def test_a_different_answer_is_a_unified_diff_of_the_differing_element():
    found = differences(response(OK), response(OK.replace("<Code>0<", "<Code>9999<")))
    assert found[:2] == ["--- recorded", "+++ replayed"]
    assert [line for line in found if line[:1] in "+-" and line[:3] not in ("---", "+++")] == [
        "-        <gsp:Code>0</gsp:Code>",
        "+        <gsp:Code>9999</gsp:Code>",
    ]


def test_text_in_a_leaf_and_the_namespace_of_an_element_are_meaning():
    assert differences(response(OK), response(OK.replace("<Code>0<", "<Code> 0<")))
    assert differences(
        response(OK),
        response(OK.replace('xmlns="http://cp.gov.tw/gsp2"', 'xmlns="http://cp.gov.tw/gsp3"')),
    )


def test_status_and_content_type_family_are_compared_but_charset_parameters_are_not():
    soap12 = response(OK, content_type="application/soap+xml; charset=utf-8")
    assert differences(response(OK), response(OK, content_type="text/xml; charset=UTF-8")) == []
    assert differences(response(OK), soap12) == [
        "Content-Type: recorded text/xml, replayed application/soap+xml"
    ]
    assert differences(response(OK), response(OK, status=500)) == [
        "HTTP status: recorded 200, replayed 500"
    ]


def test_a_fault_code_is_compared_as_the_name_it_stands_for():
    fault = (
        '<{p}:Envelope xmlns:{p}="' + SOAP11_NS + '"><{p}:Body><{p}:Fault><faultcode>'
        "{p}:Client</faultcode><faultstring>x</faultstring></{p}:Fault></{p}:Body>"
        "</{p}:Envelope>"
    )
    assert (
        differences(
            response(fault.format(p="soap"), 500), response(fault.format(p="SOAP-ENV"), 500)
        )
        == []
    )
    assert differences(
        response(fault.format(p="soap"), 500),
        response(fault.format(p="soap").replace(":Client<", ":Server<"), 500),
    )


def test_bodies_that_are_not_xml_are_compared_as_text():
    assert (
        differences(
            response("Not found\n", 404, "text/plain"), response("Not found\n", 404, "text/plain")
        )
        == []
    )
    assert "+Gone" in differences(
        response("Not found", 404, "text/plain"), response("Gone", 404, "text/plain")
    )


# -- captures -----------------------------------------------------------------------------------


def test_http_messages_tolerate_what_tools_and_editors_do():
    fiddler = (
        b"POST http://www.cp.gov.tw/gsp2ws/TOTP.aspx?x=1 HTTP/1.1\r\n"
        b"Host: www.cp.gov.tw\r\nContent-Type: text/xml\r\nContent-Length: 4\r\n\r\n"
        b"<a/>\r\n"
    )
    request = parse_request(fiddler)
    assert (request.target, request.body, request.header("content-type")) == (
        "/gsp2ws/TOTP.aspx?x=1",
        b"<a/>",
        "text/xml",
    )
    edited = b"POST /x HTTP/1.1\nContent-Length: 3\n\n<longer/>"
    assert parse_request(edited).body == b"<longer/>"
    chunked = (
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n<a/\r\n1\r\n>\r\n0\r\n\r\n"
    )
    assert parse_request(chunked).body == b"<a/>"
    with pytest.raises(MessageError, match="request line"):
        parse_request(b"<soap:Envelope/>")


@pytest.mark.parametrize("length", ["²", "x"])
def test_a_content_length_that_is_not_ascii_digits_leaves_the_body_as_the_file_has_it(length):
    """``str.isdigit`` accepts ``²`` (byte B2, headers are read as Latin-1), which ``int``
    refuses: such a header is not a length."""
    raw = f"POST /x HTTP/1.1\nContent-Length: {length}\n\n<a/>\n".encode("latin-1")
    assert parse_request(raw).body == b"<a/>\n"


@pytest.mark.parametrize("length", ["²", "٣", "x"])
def test_a_truncated_body_whose_declared_length_is_not_ascii_digits_declares_its_own(length):
    request = HttpRequest((("Content-Length", length),), b"<a/>")
    exchange = Exchange("x", request, None, body_truncated=True)
    assert runner._declared_length(exchange) == len(b"<a/>")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_a_directory_mixes_recordings_bare_envelopes_and_raw_requests_in_name_order(tmp_path):
    soap11, soap12 = envelope(ACCOUNT, "1"), envelope(ACCOUNT, "2", soap12=True)
    recording.write(
        tmp_path,
        "a-recorded",
        HttpRequest((("Content-Type", XML),), soap11),
        response(OK),
        {"time": "2027-01-15T08:00:10Z", "client": "10.1.2.3"},
    )
    _write(tmp_path / "b-bare11.xml", soap11)
    _write(tmp_path / "c-bare12.xml", soap12)
    _write(
        tmp_path / "c-bare12.expected.xml", ANSWER.format(ns=SOAP12_NS, code=0, message="").encode()
    )
    _write(
        tmp_path / "d-fiddler.txt",
        b"POST /GSP2WS/TOTP.aspx HTTP/1.1\r\nContent-Type: " + XML.encode() + b"\r\n\r\n" + soap11,
    )
    _write(
        tmp_path / "d-fiddler.expected.http",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\n<a/>\n\r\n0\r\n\r\n",
    )
    _write(tmp_path / "fixtures.json", b"{}")
    _write(tmp_path / "notes.md", b"# ignored")
    (tmp_path / ".half-written.tmp").mkdir()

    loaded = capture.load(tmp_path)
    assert [e.name for e in loaded] == [
        "a-recorded",
        "b-bare11.xml",
        "c-bare12.xml",
        "d-fiddler.txt",
    ]
    recorded, bare11, bare12, fiddler = loaded
    assert (recorded.client, recorded.time) == ("10.1.2.3", 1800000010.0)
    assert bare11.request.header("Content-Type") == CONTENT_TYPE[False]
    assert bare11.request.header("SOAPAction") == f'"{TNS}/VerifyTOTPCode"'
    assert (bare11.expected, bare11.time, bare11.request.target) == (
        None,
        None,
        "/gsp2ws/TOTP.asmx",
    )
    assert bare12.request.header("Content-Type") == CONTENT_TYPE[True]
    assert bare12.request.header("SOAPAction") is None
    assert (bare12.expected.status, bare12.expected.mimetype) == (200, "application/soap+xml")
    assert fiddler.request.target == "/GSP2WS/TOTP.aspx"
    assert (fiddler.expected.status, fiddler.expected.body) == (200, b"<a/>\n")


def test_captures_that_cannot_be_replayed_are_refused_with_the_file_named(tmp_path):
    bad = _write(tmp_path / "not-soap.xml", b"<html/>")
    with pytest.raises(capture.CaptureError, match="not-soap.xml: not a SOAP 1.1 or 1.2"):
        capture.load(tmp_path)
    bad.unlink()
    _write(
        tmp_path / "trace.txt",
        b"== Info: Connected\n=> Send header, 10 bytes (0xa)\n"
        b"0000: POST /gsp2ws/TOTP.asmx HTTP/1.1\n",
    )
    with pytest.raises(capture.CaptureError, match="--trace-ascii"):
        capture.load(tmp_path)


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_curl_trace_carries_its_request_and_its_answer(tmp_path, live_server, demo, clock):
    trace = tmp_path / "captures" / "call.txt"
    trace.parent.mkdir()
    body = envelope("測試", "123456")
    subprocess.run(
        [
            "curl",
            "--silent",
            "--output",
            "/dev/null",
            "--trace",
            str(trace),
            "--header",
            f"Content-Type: {XML}",
            "--data-binary",
            "@-",
            live_server.url,
        ],
        input=body,
        check=True,
        timeout=60,
    )
    [exchange] = capture.load(trace.parent)
    assert exchange.request.body == body and exchange.request.target == "/gsp2ws/TOTP.asmx"
    assert b"<Code>3001</Code>" in exchange.expected.body


# -- fixtures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"at": "yesterday"}, "not an ISO-8601"),
        ({"settings": {"GSPWS_DATABASE_URL": "x"}}, "chosen by replay"),
        ({"settings": {"GSPWS_NOPE": "1"}}, "unknown setting"),
        ({"settings": {"GSPWS_TOTP_WINDOW": "wide"}}, "GSPWS_TOTP_WINDOW"),
        ({"services": [{"service_id": "APP1", "allow": []}]}, "not APP + 7 digits"),
        ({"services": [{"service_id": SERVICE_ID, "allow": ["10.0.0.300/8"]}]}, "allow"),
        ({"accounts": [{"account": "a", "tokens": [{"secret": "short"}]}]}, "secret"),
        ({"accounts": [{"account": "a", "tokens": [{"secret": SECRET, "digits": 7}]}]}, "digits"),
        ({"accounts": [{"account": "a"}, {"account": "a"}]}, "already exists"),
        ({"accounts": [{"account": "a", "mobile": "12345"}]}, "a mobile number is 09"),
        ({"accounts": [{"account": "a", "email": "nope"}]}, "accounts[0]"),
        (
            {"accounts": [{"account": "a", "mobile": "0912345678", "otp_codes": [{"code": "1"}]}]},
            "a code is 6 digits",
        ),
        ({"accounts": [{"account": "a", "otp_codes": [{"code": "123456"}]}]}, "no verified"),
        (
            {
                "accounts": [
                    {
                        "account": "a",
                        "mobile": "0912345678",
                        "mobile_verified": False,
                        "otp_codes": [{"code": "123456"}],
                    }
                ]
            },
            "no verified",
        ),
    ],
)
def test_fixtures_mistakes_are_named(tmp_path, change, message):
    path = _write(tmp_path / "f.json", json.dumps({**FIXTURES, **change}).encode())
    result = CliRunner().invoke(main, ["replay", str(tmp_path), "--fixtures", str(path)])
    assert result.exit_code == 2 and message in result.output, result.output


# -- the command --------------------------------------------------------------------------------


def test_captures_without_an_answer_are_sent_and_shown_not_judged(tmp_path):
    captures = tmp_path / "captures"
    captures.mkdir()
    code = code_at(TotpParams(SECRET), T0)
    _write(captures / "1-login.xml", envelope(ACCOUNT, code))
    _write(captures / "2-again.xml", envelope(ACCOUNT, code))
    _write(
        captures / "2-again.expected.xml",
        ANSWER.format(ns=SOAP11_NS, code=0, message="動態密碼驗證通過").encode(),
    )
    fixtures = _write(tmp_path / "fixtures.json", json.dumps(FIXTURES).encode())
    junit = tmp_path / "out.xml"
    result = CliRunner().invoke(
        main, ["replay", str(captures), "--fixtures", str(fixtures), "--junit", str(junit)]
    )
    assert result.exit_code == 1
    assert "sent  1-login.xml" in result.output and "<gsp:Code>0</gsp:Code>" in result.output
    assert (
        "FAIL  2-again.xml" in result.output
        and "+        <gsp:Code>9999</gsp:Code>" in result.output
    )
    assert (
        "2 envelopes: 0 passed, 1 differ, 0 not sent, 1 without a recorded answer" in result.output
    )
    suite = etree.parse(str(junit)).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "1")


def test_foreign_captures_need_an_instant_to_replay_at(tmp_path):
    _write(tmp_path / "call.xml", envelope(ACCOUNT, "123456"))
    timeless = {key: value for key, value in FIXTURES.items() if key != "at"}
    fixtures = _write(tmp_path / "f.json", json.dumps(timeless).encode())
    result = CliRunner().invoke(main, ["replay", str(tmp_path), "--fixtures", str(fixtures)])
    assert result.exit_code == 2 and "at: needed" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "exactly one of --url and --fixtures"),
        (["--url", "http://x", "--fixtures", "README.md"], "exactly one of --url and --fixtures"),
        (["--url", "ftp://host/"], "not an http:// or https:// URL"),
    ],
)
def test_replay_usage_errors_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(main, ["replay", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output


def test_an_unreachable_server_is_an_error_not_a_pass(tmp_path):
    _write(tmp_path / "call.xml", envelope(ACCOUNT, "123456"))
    _write(tmp_path / "call.expected.xml", OK.encode())
    junit = tmp_path / "out.xml"
    result = CliRunner().invoke(
        main, ["replay", str(tmp_path), "--url", "http://127.0.0.1:9", "--junit", str(junit)]
    )
    assert result.exit_code == 1 and "ERROR call.xml" in result.output
    assert "not sent: " in result.output
    assert etree.parse(str(junit)).getroot().get("errors") == "1"


def test_db_seed_loads_a_fixtures_file(tmp_path):
    fixtures = _write(tmp_path / "f.json", json.dumps(FIXTURES).encode())
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    env = {"GSPWS_HOME": str(tmp_path), "GSPWS_SECRET_KEY": Fernet.generate_key().decode()}
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "db", "upgrade"], env=env).exit_code == 0
    seeded = runner.invoke(main, ["--database-url", url, "db", "seed", str(fixtures)], env=env)
    assert seeded.exit_code == 0, seeded.output
    listed = json.loads(
        runner.invoke(main, ["--database-url", url, "service", "list", "--json"], env=env).output
    )
    assert [s["service_id"] for s in listed] == [SERVICE_ID]
    again = runner.invoke(main, ["--database-url", url, "db", "seed", str(fixtures)], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
