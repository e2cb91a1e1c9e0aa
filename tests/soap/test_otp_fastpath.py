"""OTP.asmx's Auth, AuthToken, Sync and SyncToken on the fast path (gspws.soap.fastpath) answer
exactly as spyne's full path does: two apps on two identically seeded stores (test_fastpath's),
one with the fast path and one without, get the same calls in the same order over SOAP 1.1 and
1.2 (0, a replay, 13, a sync, a PIN, 3001, 8101, and shapes the fast path leaves to spyne);
status, Content-Type, body and what each store recorded must be equal, on SQLite and
PostgreSQL."""

from test_fastpath import LOOPBACK, XSI, _app, _store_state, two_stores  # noqa: F401
from werkzeug.test import Client

from gspws.core.access import OTP_FUNCTIONS
from gspws.core.otp import TotpParams
from gspws.proxies import ORIGIN_KEY, Origin
from gspws.soap import shape
from gspws.soap.envelope import Envelope

from helpers import SERVICE_ID, TNS, add_token

HOTP = TotpParams("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")  # RFC 4226's "12345678901234567890"
PIN = "4711"


def body(
    version: shape.SoapVersion, operation: str, service_id: str = SERVICE_ID, **fields
) -> bytes:
    inner = "".join(
        f"<{k} xsi:nil='true'/>" if v is None else f"<{k}>{v}</{k}>" for k, v in fields.items()
    )
    return (
        f"<soap:Envelope xmlns:soap='{version.envelope_ns}' xmlns:xsi='{XSI}'><soap:Header>"
        f"<ServiceHeader xmlns='{TNS}'><ServiceID>{service_id}</ServiceID></ServiceHeader>"
        f"</soap:Header><soap:Body><{operation} xmlns='{TNS}'>{inner}</{operation}>"
        "</soap:Body></soap:Envelope>"
    ).encode()


SERIALS = {shape.SOAP11: "FT-11", shape.SOAP12: "FT-12"}


def calls():
    c = HOTP.totp().generate_otp
    for version, serial in SERIALS.items():
        yield version, body(version, "AuthToken", tokenSN=serial, otp=c(0))
        yield version, body(version, "AuthToken", tokenSN=serial, otp=c(0))  # replay
        yield version, body(version, "AuthToken", tokenSN=serial, otp=c(40))  # 13
        yield version, body(version, "SyncToken", tokenSN=serial, otp1=c(40), otp2=c(41))
        yield version, body(version, "AuthToken", tokenSN=serial, otp=c(42))
        yield version, body(version, "Auth", account=f"pin-{serial}", password=PIN + c(0))
        yield version, body(version, "Auth", account=f"pin-{serial}", password=c(1))
        yield version, body(version, "Sync", account="nobody", otp1="1", otp2="2")
        yield version, body(version, "Auth", "APP9999999", account="x", password="1")
        yield version, body(version, "Auth", account=None, password="1")  # spyne's


def test_both_paths_answer_otp_calls_alike(tmp_path, two_stores):  # noqa: F811
    apps = [
        _app(tmp_path, url, fast_path)
        for url, fast_path in zip(two_stores, (True, False), strict=True)
    ]
    for app in apps:
        with app.store.unit() as repo:
            for function in OTP_FUNCTIONS:
                repo.grant(SERVICE_ID, function)
        for serial in SERIALS.values():
            add_token(app.store, None, HOTP, kind="hotp", hardware=True, serial=serial)
            add_token(app.store, f"pin-{serial}", HOTP, kind="hotp", pin=PIN)
    clients = [Client(app) for app in apps]
    seen = set()
    for version, request in calls():
        fast, full = (
            (a.status, a.content_type, a.data)
            for a in (
                client.post(
                    "/gsp2ws/OTP.asmx",
                    data=request,
                    environ_base=LOOPBACK,
                    headers={"Content-Type": version.content_type},
                )
                for client in clients
            )
        )
        assert fast == full, request
        seen.add(int(fast[2].split(b"<Code>")[1].split(b"</Code>")[0]))
    assert seen == {0, 9999, 13, 3001, 8101}
    assert _store_state(apps[0]) == _store_state(apps[1])
    # and the fast path did take the plain calls (else this compared spyne with itself)
    environ = {ORIGIN_KEY: Origin(None, "http", "http://localhost")}
    plain = body(shape.SOAP11, "AuthToken", tokenSN="FT-11", otp="123456")
    taken = apps[0].otp._fast.answer(shape.SOAP11, Envelope.read(shape.SOAP11, plain), environ)
    assert taken is not None and b"<Code>8100</Code>" in taken
    nil = body(shape.SOAP11, "Auth", account=None, password="1")
    assert apps[0].otp._fast.answer(shape.SOAP11, Envelope.read(shape.SOAP11, nil), environ) is None
