"""The console's times in GSPWS_ADMIN_TIMEZONE (default Asia/Taipei), the zone named on the page:
the audit rows and the dashboard show them so, and the audit filter reads a time without an
offset in that zone (the CSV export stays UTC, as `gspws audit export`'s). SQLite and
PostgreSQL."""

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_console import signed_in

from gspws.config import Settings
from gspws.errors import ConfigError
from gspws.wsgi import create_app

from helpers import envelope, soap_result

TAIPEI = ZoneInfo("Asia/Taipei")


def _verify(browser, demo, clock) -> float:
    clock.advance(30)
    response = browser.client.post(
        "/gsp2ws/TOTP.asmx",
        data=envelope(demo.account, demo.code(clock()), demo.service_id),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://cp.gov.tw/gsp2/VerifyTOTPCode"',
        },
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert soap_result(response.data)[0] == 0
    return clock()


def _local(ts: float, zone=TAIPEI, **delta) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(zone) + timedelta(**delta)


def _rows(browser) -> int:
    return browser.text.count("<td>VerifyTOTPCode</td>")


def test_the_default_zone_is_taipei():
    assert Settings.from_env({}).admin_timezone == TAIPEI
    with pytest.raises(ConfigError, match="GSPWS_ADMIN_TIMEZONE"):
        Settings.from_env({"GSPWS_ADMIN_TIMEZONE": "Mars/Olympus"})


def test_audit_times_shown_and_read_in_taipei(settings, store, clock, demo):
    alice = signed_in(create_app(settings, clock=clock, store=store), settings, store, clock)
    at = _verify(alice, demo, clock)
    alice.get("/admin/audit", since="1d", operation="VerifyTOTPCode")
    assert "Asia/Taipei" in alice.by_id("time-heading") and "Asia/Taipei" in alice.by_id(
        "time-hint"
    )
    assert _local(at).strftime("%Y-%m-%d %H:%M:%S") in alice.text and _rows(alice) == 1
    # A minute before the call, written as a Taipei wall-clock time (read as UTC it would be
    # eight hours later, after the call): the row is found; a minute after it, it is not.
    before = _local(at, minutes=-1).strftime("%Y-%m-%dT%H:%M")
    after = _local(at, minutes=1).strftime("%Y-%m-%dT%H:%M")
    alice.get("/admin/audit", since=before, operation="VerifyTOTPCode")
    assert alice.page.status_code == 200 and _rows(alice) == 1
    alice.get("/admin/audit", since=after, operation="VerifyTOTPCode")
    assert _rows(alice) == 0
    alice.get("/admin/audit", since="1d", until=before, operation="VerifyTOTPCode")
    assert _rows(alice) == 0
    # An explicit offset still wins.
    utc = datetime.fromtimestamp(at, UTC) - timedelta(minutes=1)
    alice.get("/admin/audit", since=utc.strftime("%Y-%m-%dT%H:%MZ"), operation="VerifyTOTPCode")
    assert _rows(alice) == 1
    # The export keeps UTC.
    export = alice.get("/admin/audit/export", since=before, operation="VerifyTOTPCode")
    lines = export.get_data(as_text=True).splitlines()
    assert (
        len(lines) == 2
        and datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S") in lines[1]
    )


def test_another_zone_and_the_dashboard(settings, store, clock, demo):
    utc_settings = dataclasses.replace(settings, admin_timezone=ZoneInfo("UTC"))
    app = create_app(utc_settings, clock=clock, store=store)
    alice = signed_in(app, utc_settings, store, clock)
    alice.get("/admin/")
    assert "UTC" in alice.by_id("as-of")
    assert _local(clock(), ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M") in alice.by_id("as-of")
    taipei = signed_in(
        create_app(settings, clock=clock, store=store), settings, store, clock, "bob"
    )
    taipei.get("/admin/")
    as_of = taipei.by_id("as-of")
    assert "Asia/Taipei" in as_of and _local(clock()).strftime("%Y-%m-%d %H:%M") in as_of
