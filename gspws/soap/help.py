"""ASP.NET-style service help pages for an asmx service (``TOTP.asmx``, and those to come).

Why: integrators of the legacy GSP service open ``TOTP.asmx`` and
``TOTP.asmx?op=VerifyTOTPCode`` in a browser first, copy the sample SOAP 1.1 /
1.2 requests from there, and look up the return codes. So these pages follow
the layout and the placeholders ASP.NET's ``DefaultWsdlHelpGenerator.aspx``
produces (``string``, ``int``, ``Content-Length: length``, ``POST <path>
HTTP/1.1``, ``Host: <host>``), with the request path and host taken from the
URL the page was requested at.

Nothing about the service is written here: the operations, their SOAPActions,
parameters, header and result shapes come from the service's WSDL
(gspws.soap.contract), each operation's description from its docstring in the
service's definitions (gspws.soap.service), the codes from gspws.core.codes and
the envelopes from gspws.soap.shape. A new service gets its pages from its own
WSDL and definitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from spyne import Application

from gspws.core.codes import RETURN_CODES
from gspws.soap import shape
from gspws.soap.contract import Contract, read_contract
from gspws.soap.service import DEFINITIONS
from gspws.soap.wsdl import WsdlDocument, load_wsdl
from gspws.web.pages import environment

_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class _Protocol:
    """What differs between the SOAP 1.1 and SOAP 1.2 samples."""

    title: str
    prefix: str
    envelope_ns: str
    content_type: str
    sends_soap_action: bool

    @classmethod
    def of(cls, version: shape.SoapVersion, prefix: str) -> _Protocol:
        return cls(
            f"SOAP {version.name}",
            prefix,
            version.envelope_ns,
            version.content_type,
            sends_soap_action=version is shape.SOAP11,
        )


#: ASP.NET writes SOAP 1.2 samples with the prefix ``soap12``.
_PROTOCOLS = (_Protocol.of(shape.SOAP11, "soap"), _Protocol.of(shape.SOAP12, "soap12"))


@dataclass(frozen=True)
class _Endpoint:
    """Path, Host header and link base derived from the service URL."""

    path: str
    host: str
    base: str  # last path segment, for relative links like ASP.NET's "TOTP.asmx?WSDL"

    @classmethod
    def from_url(cls, service_url: str) -> _Endpoint:
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


def _descriptions(definitions: Application) -> dict[str, str]:
    """Each operation's docstring, on one line."""
    return {
        method.name: " ".join((method.doc or "").split())
        for service in definitions.services
        for method in service.public_methods.values()
    }


class HelpPages:
    """Renders the service page and the per-operation pages of one service.

    ``wsdl`` and ``definitions`` default to the TOTP service's; ``return_codes`` (objects
    with ``.code`` and ``.message``) to :data:`gspws.core.codes.RETURN_CODES`, injectable for
    tests.
    """

    def __init__(
        self,
        return_codes: Iterable | None = None,
        wsdl: WsdlDocument | None = None,
        definitions: Application = DEFINITIONS,
    ) -> None:
        self._contract: Contract = read_contract(wsdl or load_wsdl())
        self._descriptions = _descriptions(definitions)
        self._return_codes = tuple(
            (int(rc.code), str(rc.message)) for rc in (return_codes or RETURN_CODES)
        )
        env = environment(_TEMPLATE_DIR, keep_trailing_newline=True)
        # Compile once; rendering then only fills in the URL-derived values.
        self._service_tpl = env.get_template("service.html")
        self._operation_tpl = env.get_template("operation.html")
        self._common = {
            "service_name": self._contract.service,
            "namespace": self._contract.namespace,
            "operations": [
                (op.name, self._descriptions.get(op.name, "")) for op in self._contract.operations
            ],
        }

    def service_page(self, service_url: str) -> str:
        """The page for ``GET TOTP.asmx``: operation list and WSDL link."""
        return self._service_tpl.render(endpoint=_Endpoint.from_url(service_url), **self._common)

    def operation_page(self, operation: str, service_url: str) -> str | None:
        """The page for ``GET TOTP.asmx?op=NAME``; ``None`` if NAME is unknown.

        The name is matched case-insensitively (IIS-style leniency); the page
        always shows the canonical spelling.
        """
        op = self._contract.operation(operation) if operation else None
        if op is None:
            return None
        return self._operation_tpl.render(
            endpoint=_Endpoint.from_url(service_url),
            operation=op.name,
            description=self._descriptions.get(op.name, ""),
            soap_action=op.soap_action,
            parameters=op.parameter_names,
            result_lines=_sample_lines(op.result, depth=4),
            header_blocks=op.header,
            protocols=_PROTOCOLS,
            return_codes=self._return_codes,
            **self._common,
        )


#: The TOTP service's operations (by name) and their parameters, as its WSDL declares them.
_TOTP = read_contract(load_wsdl())
OPERATIONS: tuple[str, ...] = tuple(op.name for op in _TOTP.operations)
PARAMETERS: dict[str, tuple[str, ...]] = {op.name: op.parameter_names for op in _TOTP.operations}
