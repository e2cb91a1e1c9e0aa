"""A new device whose clock is off (issue 13, seed 002): its first code is accepted on the
binding page with a warning to set the phone's time automatically, the drift is recorded, later
codes are checked around it, and GetTOTPStatus reports it in seconds. Hardware tokens are listed
beside apps."""

import pytest

from gspws.core.otp import TotpParams
from gspws.web.i18n import TEXT

from binding import Visitor, add_account, code, grant_binding, new_link
from helpers import SERVICE_ID, add_token, call, zeep_service

STATUS = "/owin/manage/TOTPStatus"
HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}


@pytest.fixture
def visitor(settings, store, clock, live_server):
    add_account(store, "dora")
    visitor = Visitor(live_server)
    assert visitor.sign_in(new_link(settings, store, clock, "dora")).status_code == 200
    assert 'id="qr"' in visitor.post(f"{STATUS}/Enable").text
    return visitor


@pytest.mark.parametrize("steps", [10, -8], ids=["ahead", "behind"])
def test_first_code_from_a_phone_off_by_minutes(visitor, live_server, store, clock, steps):
    key = visitor.key
    page = visitor.post(f"{STATUS}/Confirm", code=code(key, clock(), steps=steps))
    assert page.status_code == 200
    assert TEXT["zh-TW"]["notice_enabled_clock_off"] in page.text
    grant_binding(store)
    status = zeep_service(live_server.url).GetTOTPStatus(account="dora", _soapheaders=HEADER)
    (device,) = status.Result.Devices.TOTPDevice
    assert device.DriftSeconds == steps * 30
    # later codes of the same phone pass where its clock is
    clock.advance(30)
    totp = zeep_service(live_server.url)
    assert call(totp, "dora", code(key, clock(), steps=steps))[0] == 0


def test_first_code_on_time_no_warning_and_no_drift(visitor, live_server, store, clock):
    page = visitor.post(f"{STATUS}/Confirm", code=code(visitor.key, clock(), steps=1))
    assert TEXT["zh-TW"]["notice_enabled"] in page.text
    assert TEXT["zh-TW"]["notice_enabled_clock_off"] not in page.text
    grant_binding(store)
    status = zeep_service(live_server.url).GetTOTPStatus(account="dora", _soapheaders=HEADER)
    assert status.Result.Devices.TOTPDevice[0].DriftSeconds == 0


def test_a_code_beyond_the_sync_window_is_wrong(visitor, clock):
    page = visitor.post(f"{STATUS}/Confirm", code=code(visitor.key, clock(), steps=300))
    assert page.status_code == 400
    assert TEXT["zh-TW"]["problem_wrong_code"] in page.text


def test_hardware_tokens_are_listed_beside_apps(settings, store, clock, live_server):
    """A hardware TOTP token assigned to the account (gspws token assign) is on the page with
    its serial, next to the app bound there."""
    add_account(store, "erin")
    add_token(
        store, "erin", TotpParams("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"), hardware=True, serial="FT-77"
    )
    visitor = Visitor(live_server)
    page = visitor.sign_in(new_link(settings, store, clock, "erin"))
    assert f"{TEXT['zh-TW']['hardware_token']} FT-77" in page.text
