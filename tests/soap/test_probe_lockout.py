"""Security probe, binding and lockout (issue 17, item 12): an agency may bind a new device to a
locked account (the call is authenticated, and that is how a holder who lost a phone to a
guesser recovers), but the new device does not lift the lock of the others: they stay locked,
their failures counted, until an operator unlocks them (or the cool-down, the operator's
setting, passes)."""

from urllib.parse import parse_qs, urlsplit

from gspws.store.models import TokenStatus

from binding import code, grant_binding
from helpers import ACCOUNT, SERVICE_ID, call, outcome, wrong_code, zeep_service

HEADER = {"ServiceHeader": {"ServiceID": SERVICE_ID}}


def _token(store, serial: str):
    with store.unit() as repo:
        token = repo.get_token(serial)
        return token.status, token.failures, token.locked_at


def test_binding_a_new_device_keeps_the_lock_of_the_others(
    live_server, store, demo, clock, settings
):
    grant_binding(store)
    agency = zeep_service(live_server.url)
    for _ in range(settings.lockout_threshold):
        assert call(agency, ACCOUNT, wrong_code(demo.params, clock()))[0] == 9999
    locked = _token(store, demo.serial)
    assert locked[:2] == (TokenStatus.LOCKED, settings.lockout_threshold)

    began = agency.BeginTOTPBinding(account=ACCOUNT, deviceName="new phone", _soapheaders=HEADER)
    assert (began.Code, began.Message) == outcome(0)
    key = parse_qs(urlsplit(began.Result.OtpauthUri).query)["secret"][0]
    confirmed = agency.ConfirmTOTPBinding(
        account=ACCOUNT, TOTPCode=code(key, clock()), _soapheaders=HEADER
    )
    assert (confirmed.Code, confirmed.Message) == outcome(0)
    assert _token(store, demo.serial) == locked

    clock.advance(30)
    assert call(agency, ACCOUNT, code(key, clock())) == outcome(0)  # the new device verifies
    assert _token(store, demo.serial) == locked  # the old one stays locked
    clock.advance(30)
    assert call(agency, ACCOUNT, demo.code(clock())) == outcome(9999)
    assert _token(store, demo.serial) == locked
    devices = agency.GetTOTPStatus(account=ACCOUNT, _soapheaders=HEADER).Result.Devices.TOTPDevice
    assert [(d.DeviceName, d.Locked) for d in devices] == [(None, True), ("new phone", False)]
