"""ASP.NET-style service help pages for ``/gsp2ws/TOTP.asmx``.

Why: integrators of the legacy GSP service open ``TOTP.asmx`` and
``TOTP.asmx?op=VerifyTOTPCode`` in a browser first, copy the sample SOAP 1.1 /
1.2 requests from there, and look up the return codes. So these pages follow
the layout and the placeholders ASP.NET's ``DefaultWsdlHelpGenerator.aspx``
produces (``string``, ``int``, ``Content-Length: length``, ``POST <path>
HTTP/1.1``, ``Host: <host>``), with the request path and host taken from the
URL the page was requested at.

Everything that describes an operation lives in the tables below, so adding an
operation is one entry in each; the templates are generic over them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

__all__ = [
    "DESCRIPTIONS",
    "HelpPages",
    "NAMESPACE",
    "OPERATIONS",
    "PARAMETERS",
    "RESULT_FIELDS",
    "SERVICE_NAME",
]

SERVICE_NAME = "TOTP"
NAMESPACE = "http://cp.gov.tw/gsp2"

#: The web methods, in the order the service page lists them (alphabetical, as ASP.NET does).
OPERATIONS: tuple[str, ...] = ("BeginTOTPBinding", "ConfirmTOTPBinding", "CreateBindingLink",
                               "DisableTOTP", "GetTOTPStatus", "VerifyTOTPCode")

#: One-line description of each operation (shown on both pages).
DESCRIPTIONS: dict[str, str] = {
    "VerifyTOTPCode": "驗證使用者帳號之軟體式動態密碼 (TOTP)。"
    " Verifies the time-based one-time password of a GSP account.",
    "GetTOTPStatus": "查詢帳號是否已啟用軟體式動態密碼及其綁定裝置。"
    " Whether the account has an authenticator, and its devices; 3001 for an unknown account"
    " (an account without devices answers 0 with Enabled false).",
    "BeginTOTPBinding": "開始綁定驗證器：回傳 otpauth URI 與 QR Code (PNG)。"
    " Starts binding an authenticator: the otpauth URI and its QR code (PNG, base64); confirm"
    " with ConfirmTOTPBinding before it lapses. 9999 for a device name over 100 characters or"
    " an account with 10 devices.",
    "ConfirmTOTPBinding": "以驗證器產生的驗證碼完成綁定。"
    " Activates the pending authenticator with a code from it: 9999 for a wrong code, 3001"
    " when nothing is pending (never begun, or lapsed).",
    "DisableTOTP": "以該裝置目前的驗證碼停用 (移除) 綁定。"
    " Removes the device whose current code is given: 9999 for a wrong code, 3001 when the"
    " account has no device.",
    "CreateBindingLink": "產生一次性的綁定頁面連結，交付使用者自行設定。"
    " A single-use link to the binding page for the account's owner, valid a few minutes.",
}

#: Request parameters of each operation, in wire order. All GSP parameters are
#: ``s:string``, which ASP.NET renders as the placeholder ``string``.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "VerifyTOTPCode": ("account", "TOTPCode"),
    "GetTOTPStatus": ("account",),
    "BeginTOTPBinding": ("account", "deviceName"),
    "ConfirmTOTPBinding": ("account", "TOTPCode"),
    "DisableTOTP": ("account", "TOTPCode"),
    "CreateBindingLink": ("account",),
}

_CP2_RESPONSE = (("Code", "int"), ("Message", "string"))
_DEVICE = (("Serial", "string"), ("DeviceName", "string"), ("Phone", "string"),
           ("Period", "int"), ("Locked", "boolean"))

#: The fields of each operation's result with their ASP.NET placeholders: ``CP2Response``'s
#: ``{Code, Message}``, and a ``Result`` where data comes back (``CP2ResponseOfX``). A field is
#: ``(name, placeholder)`` or ``(name, fields)``; a repeated element is shown twice, as ASP.NET's
#: samples show arrays.
RESULT_FIELDS: dict[str, tuple] = {
    "VerifyTOTPCode": _CP2_RESPONSE,
    "GetTOTPStatus": _CP2_RESPONSE + (("Result", (
        ("Enabled", "boolean"), ("Devices", (("TOTPDevice", _DEVICE), ("TOTPDevice", _DEVICE))))),),
    "BeginTOTPBinding": _CP2_RESPONSE + (("Result", (
        ("OtpauthUri", "string"), ("QrPng", "base64Binary"), ("Serial", "string"))),),
    "ConfirmTOTPBinding": _CP2_RESPONSE,
    "DisableTOTP": _CP2_RESPONSE,
    "CreateBindingLink": _CP2_RESPONSE + (("Result", "string"),),
}

#: The SOAP header every operation takes (``[SoapHeader("ServiceHeader")]``).
HEADER_ELEMENT = "ServiceHeader"
HEADER_FIELDS: tuple[tuple[str, str], ...] = (("ServiceID", "string"),)

_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class _Protocol:
    """What differs between the SOAP 1.1 and SOAP 1.2 samples."""

    title: str
    prefix: str
    envelope_ns: str
    content_type: str
    sends_soap_action: bool


_PROTOCOLS = (
    _Protocol("SOAP 1.1", "soap", "http://schemas.xmlsoap.org/soap/envelope/",
              "text/xml; charset=utf-8", True),
    _Protocol("SOAP 1.2", "soap12", "http://www.w3.org/2003/05/soap-envelope",
              "application/soap+xml; charset=utf-8", False),
)


@dataclass(frozen=True)
class _Endpoint:
    """Path, Host header and link base derived from the service URL."""

    path: str
    host: str
    base: str  # last path segment, for relative links like ASP.NET's "TOTP.asmx?WSDL"

    @classmethod
    def from_url(cls, service_url: str) -> "_Endpoint":
        parts = urlsplit(service_url)
        path = parts.path or "/"
        base = path.rsplit("/", 1)[-1] or "./"
        return cls(path=path, host=parts.netloc, base=base)


def _sample_lines(fields: tuple, depth: int) -> list[str]:
    """The XML lines of a sample result, indented two spaces a level."""
    pad, lines = "  " * depth, []
    for name, value in fields:
        if isinstance(value, str):
            lines.append(f"{pad}<{name}>{value}</{name}>")
        else:
            lines += [f"{pad}<{name}>", *_sample_lines(value, depth + 1), f"{pad}</{name}>"]
    return lines


class HelpPages:
    """Renders the service page and the per-operation pages.

    ``return_codes`` (objects with ``.code`` and ``.message``) defaults to
    :data:`gspws.core.codes.RETURN_CODES`; it is injectable for tests.
    """

    def __init__(self, return_codes: Iterable | None = None) -> None:
        if return_codes is None:
            from gspws.core.codes import RETURN_CODES as return_codes
        self._return_codes = tuple((int(rc.code), str(rc.message)) for rc in return_codes)
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(_TEMPLATE_DIR)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        # Compile once; rendering then only fills in the URL-derived values.
        self._service_tpl = self._env.get_template("service.html")
        self._operation_tpl = self._env.get_template("operation.html")
        self._by_lower = {name.lower(): name for name in OPERATIONS}
        self._common = {
            "service_name": SERVICE_NAME,
            "namespace": NAMESPACE,
            "operations": [(name, DESCRIPTIONS.get(name, "")) for name in OPERATIONS],
        }

    def service_page(self, service_url: str) -> str:
        """The page for ``GET TOTP.asmx``: operation list and WSDL link."""
        return self._service_tpl.render(
            endpoint=_Endpoint.from_url(service_url), **self._common
        )

    def operation_page(self, operation: str, service_url: str) -> str | None:
        """The page for ``GET TOTP.asmx?op=NAME``; ``None`` if NAME is unknown.

        The name is matched case-insensitively (IIS-style leniency); the page
        always shows the canonical spelling.
        """
        name = self._by_lower.get(operation.lower()) if operation else None
        if name is None:
            return None
        return self._operation_tpl.render(
            endpoint=_Endpoint.from_url(service_url),
            operation=name,
            description=DESCRIPTIONS.get(name, ""),
            soap_action=f"{NAMESPACE}/{name}",
            parameters=PARAMETERS.get(name, ()),
            result_lines=_sample_lines(RESULT_FIELDS[name], depth=4),
            header_element=HEADER_ELEMENT,
            header_fields=HEADER_FIELDS,
            protocols=_PROTOCOLS,
            return_codes=self._return_codes,
            **self._common,
        )
