"""The agency binding operations on /gsp2ws/TOTP.asmx, through real HTTP with zeep stubs built
from the served WSDL: grants, the whole flow, return codes, the ASP.NET byte shape, the audit, and
an old stub generated from the one-operation WSDL still verifying against the new server."""

import io
import logging
import struct
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import segno
import zeep

from binding import BINDING_FUNCTIONS, Visitor, add_account, code, grant_binding
from helpers import (
    SERVICE_ID,
    TESTS,
    TNS,
    assert_no_internals,
    audit_rows,
    call,
    outcome,
    wrong_code,
    zeep_service,
)

OLD_WSDL = TESTS / "fixtures" / "TOTP-v1.wsdl"
HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}
BOB = "bob"


@pytest.fixture
def agency(live_server, store):
    """A zeep stub of an agency granted the binding operations; account ``bob`` has no token."""
    grant_binding(store)
    add_account(store, BOB)
    return zeep_service(live_server.url)


def answer(result) -> tuple[int, str]:
    return result.Code, result.Message


def test_binding_operations_are_refused_unless_granted(live_server, store):
    service = zeep_service(live_server.url)
    calls = {
        "GetTOTPStatus": lambda: service.GetTOTPStatus(account=BOB, _soapheaders=HEADER),
        "BeginTOTPBinding": lambda: service.BeginTOTPBinding(
            account=BOB, deviceName="x", _soapheaders=HEADER
        ),
        "ConfirmTOTPBinding": lambda: service.ConfirmTOTPBinding(
            account=BOB, TOTPCode="123456", _soapheaders=HEADER
        ),
        "DisableTOTP": lambda: service.DisableTOTP(
            account=BOB, TOTPCode="123456", _soapheaders=HEADER
        ),
        "CreateBindingLink": lambda: service.CreateBindingLink(account=BOB, _soapheaders=HEADER),
    }
    assert set(calls) == set(BINDING_FUNCTIONS)
    assert {name: answer(c()) for name, c in calls.items()} == dict.fromkeys(calls, outcome(8108))
    grant_binding(store)
    with store.unit() as repo:
        repo.set_suspended(SERVICE_ID, "CreateBindingLink", True)
    assert answer(calls["CreateBindingLink"]()) == outcome(8109)
    assert answer(calls["GetTOTPStatus"]()) == outcome(3001)  # granted now; bob does not exist
    no_header = service.GetTOTPStatus(account=BOB)
    assert answer(no_header) == outcome(8102)


def test_an_agency_binds_verifies_and_disables(agency, clock, settings):
    status = agency.GetTOTPStatus(account=BOB, _soapheaders=HEADER)
    assert answer(status) == outcome(0)
    assert status.Result.Enabled is False

    began = agency.BeginTOTPBinding(account=BOB, deviceName="Bob's phone", _soapheaders=HEADER)
    assert answer(began) == outcome(0)
    uri = began.Result.OtpauthUri
    assert uri.startswith("otpauth://totp/gspws:bob?")
    key = parse_qs(urlsplit(uri).query)["secret"][0]
    assert began.Result.QrPng.startswith(b"\x89PNG\r\n\x1a\n")
    assert began.Result.Serial.startswith("TOTP")
    assert call(agency, BOB, code(key, clock()))[0] == 3001  # pending: verifies nothing

    from gspws.core.otp import TotpParams

    wrong = wrong_code(TotpParams(key), clock(), settings.sync_window)
    assert answer(
        agency.ConfirmTOTPBinding(account=BOB, TOTPCode=wrong, _soapheaders=HEADER)
    ) == outcome(9999)
    assert answer(
        agency.ConfirmTOTPBinding(account=BOB, TOTPCode=code(key, clock()), _soapheaders=HEADER)
    ) == outcome(0)
    clock.advance(30)
    assert call(agency, BOB, code(key, clock())) == outcome(0)

    status = agency.GetTOTPStatus(account=BOB, _soapheaders=HEADER)
    assert status.Result.Enabled is True
    (device,) = status.Result.Devices.TOTPDevice
    assert (device.Serial, device.DeviceName, device.Phone, device.Period, device.Locked) == (
        began.Result.Serial,
        "Bob's phone",
        None,
        30,
        False,
    )

    clock.advance(30)
    assert answer(agency.DisableTOTP(account=BOB, TOTPCode=wrong, _soapheaders=HEADER)) == outcome(
        9999
    )
    assert answer(
        agency.DisableTOTP(account=BOB, TOTPCode=code(key, clock()), _soapheaders=HEADER)
    ) == outcome(0)
    clock.advance(30)
    assert call(agency, BOB, code(key, clock())) == outcome(3001)
    assert agency.GetTOTPStatus(account=BOB, _soapheaders=HEADER).Result.Enabled is False


def test_outcomes_without_data(agency):
    for account in ("nobody", ""):
        assert answer(agency.GetTOTPStatus(account=account, _soapheaders=HEADER)) == outcome(3001)
        began = agency.BeginTOTPBinding(account=account, deviceName="x", _soapheaders=HEADER)
        assert answer(began) == outcome(3001) and began.Result is None
        assert answer(
            agency.DisableTOTP(account=account, TOTPCode="123456", _soapheaders=HEADER)
        ) == outcome(3001)
        link = agency.CreateBindingLink(account=account, _soapheaders=HEADER)
        assert answer(link) == outcome(3001) and link.Result is None
    assert answer(
        agency.ConfirmTOTPBinding(account=BOB, TOTPCode="123456", _soapheaders=HEADER)
    ) == outcome(3001)
    assert answer(
        agency.DisableTOTP(account=BOB, TOTPCode="123456", _soapheaders=HEADER)
    ) == outcome(3001)
    too_long = agency.BeginTOTPBinding(account=BOB, deviceName="x" * 101, _soapheaders=HEADER)
    assert answer(too_long) == outcome(9999) and too_long.Result is None


def test_soap12_binding_and_a_link_that_works(live_server, agency):
    service12 = zeep_service(live_server.url, soap12=True)
    link = service12.CreateBindingLink(account=BOB, _soapheaders=HEADER)
    assert answer(link) == outcome(0)
    assert link.Result.startswith("http://127.0.0.1:8000/owin/manage/Link/")  # GSPWS_PUBLIC_URL
    visitor = Visitor(live_server)
    page = visitor.sign_in(link.Result)
    assert page.status_code == 200 and visitor.text("account") == BOB


def test_responses_have_the_asp_net_shape(live_server, agency):
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.'
        f'xmlsoap.org/soap/envelope/"><soap:Header><ServiceHeader xmlns="{TNS}"><ServiceID>'
        f"{SERVICE_ID}</ServiceID></ServiceHeader></soap:Header><soap:Body><GetTOTPStatus "
        f'xmlns="{TNS}"><account>{BOB}</account></GetTOTPStatus></soap:Body></soap:Envelope>'
    )
    reply = requests.post(
        live_server.url,
        data=body.encode(),
        timeout=10,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://cp.gov.tw/gsp2/GetTOTPStatus"',
        },
    )
    assert reply.status_code == 200
    assert (
        reply.content
        == (
            '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.'
            'org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd='
            '"http://www.w3.org/2001/XMLSchema"><soap:Body><GetTOTPStatusResponse xmlns="http://cp.'
            'gov.tw/gsp2"><GetTOTPStatusResult><Code>0</Code><Message>動態密碼驗證通過</Message>'
            "<Result><Enabled>false</Enabled><Devices/></Result></GetTOTPStatusResult>"
            "</GetTOTPStatusResponse></soap:Body></soap:Envelope>"
        ).encode()
    )


def test_calls_are_audited_without_codes_secrets_or_links(
    live_server, agency, store, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    began = agency.BeginTOTPBinding(account=BOB, deviceName="phone", _soapheaders=HEADER)
    key = parse_qs(urlsplit(began.Result.OtpauthUri).query)["secret"][0]
    totp_code = code(key, clock())
    agency.ConfirmTOTPBinding(account=BOB, TOTPCode=totp_code, _soapheaders=HEADER)
    link = agency.CreateBindingLink(account=BOB, _soapheaders=HEADER).Result
    agency.GetTOTPStatus(account=BOB, _soapheaders=HEADER)
    rows = audit_rows(store)
    assert [(r.operation, r.account, r.code, r.service_id, r.client_addr) for r in rows] == [
        (op, BOB, 0, SERVICE_ID, "127.0.0.1")
        for op in ("BeginTOTPBinding", "ConfirmTOTPBinding", "CreateBindingLink", "GetTOTPStatus")
    ]
    server_logs = [r.getMessage() for r in caplog.records if r.name.startswith("gspws")]
    recorded = repr([vars(r) for r in rows]) + repr(server_logs)
    token = link.rsplit("/", 1)[1]
    for secret in (key, totp_code, token, began.Result.OtpauthUri):
        assert secret not in recorded


def test_help_pages_list_the_binding_operations(live_server):
    page = requests.get(live_server.url, timeout=10).text
    for name in BINDING_FUNCTIONS:
        assert f'href="TOTP.asmx?op={name}"' in page
        op_page = requests.get(f"{live_server.url}?op={name}", timeout=10)
        assert op_page.status_code == 200 and f"<h2>{name}</h2>" in op_page.text
        assert_no_internals(op_page.content)


def test_a_stub_of_the_original_contract_still_verifies(live_server, demo, clock):
    """An agency's stub generated from the one-operation WSDL, pointed at the new server."""
    client = zeep.Client(str(OLD_WSDL))
    for binding in ("TOTPSoap", "TOTPSoap12"):
        old_stub = client.create_service(f"{{{TNS}}}{binding}", live_server.url)
        result = old_stub.VerifyTOTPCode(
            account=demo.account, TOTPCode=demo.code(clock()), _soapheaders=HEADER
        )
        assert answer(result) == outcome(0)
        clock.advance(30)
    assert "GetTOTPStatus" not in OLD_WSDL.read_text()


def test_qr_png_is_the_qr_code_of_the_uri(agency):
    result = agency.BeginTOTPBinding(account=BOB, deviceName="a", _soapheaders=HEADER).Result
    expected = io.BytesIO()
    segno.make(result.OtpauthUri, error="m").save(expected, kind="png", scale=5)
    assert result.QrPng == expected.getvalue()  # zeep decoded s:base64Binary to these bytes
    width, height = struct.unpack(">II", result.QrPng[16:24])  # the IHDR chunk
    assert width == height >= 150
