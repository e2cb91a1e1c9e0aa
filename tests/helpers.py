"""Test helpers: the standard fixture data, raw envelopes, zeep clients, computing codes."""

from dataclasses import dataclass

import requests
import zeep

from gspws.core.otp import TotpParams
from gspws.store.models import TokenStatus

SERVICE_ID = "APP0001931"
ACCOUNT = "wederlin"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPE = {False: "text/xml; charset=utf-8", True: "application/soap+xml; charset=utf-8"}


@dataclass
class Demo:
    service_id: str
    account: str
    params: TotpParams
    serial: str

    def code(self, at: float, steps: int = 0) -> str:
        return self.params.totp().generate_otp(self.params.step_at(at) + steps)


def seed_demo(store) -> Demo:
    """Service APP0001931 (127.0.0.1 and ::1, VerifyTOTPCode) and account wederlin with one
    active SHA1/6/30 token whose secret is SECRET."""
    params = TotpParams(SECRET)
    with store.unit() as repo:
        repo.add_service(SERVICE_ID, "Test agency", ["127.0.0.1/32", "::1/128"], ["VerifyTOTPCode"])
        account = repo.add_account(ACCOUNT)
        serial = repo.add_token(account, params, TokenStatus.ACTIVE).serial
    return Demo(SERVICE_ID, ACCOUNT, params, serial)


def envelope(account: str | None, code: str | None, service_id: str | None = SERVICE_ID,
             soap12: bool = False) -> bytes:
    """A request as a .NET caller writes it; None leaves the element (or header) out."""
    ns = SOAP12_NS if soap12 else SOAP11_NS
    header = ""
    if service_id is not None:
        header = (f'<soap:Header><ServiceHeader xmlns="http://cp.gov.tw/gsp2">'
                  f"<ServiceID>{service_id}</ServiceID></ServiceHeader></soap:Header>")
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in
                     (("account", account), ("TOTPCode", code)) if value is not None)
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xmlns:xsd="http://www.w3.org/2001/XMLSchema">{header}<soap:Body>'
            f'<VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">{fields}</VerifyTOTPCode>'
            f"</soap:Body></soap:Envelope>").encode()


def post(url: str, body: bytes, soap12: bool = False, **headers) -> requests.Response:
    headers = {"Content-Type": CONTENT_TYPE[soap12], **headers}
    if not soap12:
        headers.setdefault("SOAPAction", '"http://cp.gov.tw/gsp2/VerifyTOTPCode"')
    return requests.post(url, data=body, headers=headers, timeout=10)


def zeep_service(url: str, soap12: bool = False):
    """A zeep stub built from the served WSDL, bound to the SOAP 1.1 or 1.2 port."""
    client = zeep.Client(f"{url}?WSDL")
    return client.bind("TOTP", "TOTPSoap12" if soap12 else "TOTPSoap")


def call(service, account, code, service_id=SERVICE_ID):
    headers = {"ServiceHeader": {"ServiceID": service_id}} if service_id is not None else None
    result = service.VerifyTOTPCode(account=account, TOTPCode=code, _soapheaders=headers)
    return result.Code, result.Message
