"""The WSGI app: the doors over the use cases :mod:`gspws.compose` builds, and the entry point.

``create_app`` is the only place a clock can be injected (tests and envelope replay); the
production entry point :func:`application` always uses the system clock.
"""

from collections.abc import Callable, Iterable

from gspws.compose import admin_console, build_store, server_use_cases
from gspws.config import Settings
from gspws.core.clock import Clock, system_clock
from gspws.logs import REQUEST_ID_HEADER, begin_request, configure_logging
from gspws.probes import Probes
from gspws.proxies import ORIGIN_KEY, ProxyPolicy
from gspws.soap.app import mobile_otp_endpoint, otp_endpoint, totp_endpoint
from gspws.store.repo import Store
from gspws.web.activate import ActivatePages
from gspws.web.app import ManagePages
from gspws.web.approve import ApprovePages


class GspwsApp:
    """Routes the legacy TOTP, MobileOTP and OTP paths to their SOAP endpoints, ``/owin/manage/`` to
    the binding page, ``/admin/`` to the operator console and ``/metrics``, ``/healthz``,
    ``/readyz`` to the probes; everything else is 404."""

    def __init__(
        self, settings: Settings, store: Store, clock: Clock, fast_path: bool = True
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock  # exposed so a test can prove `gspws serve` runs on system_clock
        cases = server_use_cases(settings, store, clock)
        self.proxies = ProxyPolicy(settings.trusted_proxies, settings.public_url)
        self.mobile_otp = mobile_otp_endpoint(
            cases.oob, settings.max_request_bytes, fast_path=fast_path
        )
        self.otp = otp_endpoint(
            {
                "tokens": cases.tokens,
                "challenges": cases.challenges,
                "assertions": cases.assertions,
            },
            settings.max_request_bytes,
            fast_path=fast_path,
        )
        self.totp = totp_endpoint(
            cases.verifier, cases.enrollment, settings.max_request_bytes, fast_path=fast_path
        )
        self.manage = ManagePages(cases.enrollment, cases.sessions, clock, cases.oob, cases.portal)
        self.probes = Probes(settings, store)
        self.admin = admin_console(settings, store, clock, cases.enrollment, cases.activations)
        #: The HTML doors after the binding page, each under its own path.
        self.pages = (
            ApprovePages(cases.assertions, cases.sessions),
            ActivatePages(cases.activations, cases.sessions),
            self.admin,
        )

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = begin_request(environ)
        environ[ORIGIN_KEY] = self.proxies.resolve(environ)  # caller and URL, for every door

        def start_with_id(status, headers, exc_info=None):
            return start_response(status, [*headers, (REQUEST_ID_HEADER, request_id)], exc_info)

        if self.totp.handles(environ.get("PATH_INFO", "")):
            return self.totp(environ, start_with_id)
        if self.mobile_otp.handles(environ.get("PATH_INFO", "")):
            return self.mobile_otp(environ, start_with_id)
        if self.otp.handles(environ.get("PATH_INFO", "")):
            return self.otp(environ, start_with_id)
        if self.manage.handles(environ.get("PATH_INFO", "")):
            return self.manage(environ, start_with_id)
        for pages in self.pages:
            if pages.handles(environ.get("PATH_INFO", "")):
                return pages(environ, start_with_id)
        if self.probes.handles(environ.get("PATH_INFO", "")):
            return self.probes(environ, start_with_id)
        body = b"Not found. The TOTP web service is at /gsp2ws/TOTP.asmx\n"
        start_with_id(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]


def create_app(
    settings: Settings | None = None,
    clock: Clock = system_clock,
    store: Store | None = None,
    fast_path: bool = True,
) -> GspwsApp:
    """``fast_path=False``: VerifyTOTPCode and MobileOTP.asmx's calls through spyne as well
    (gspws.soap.fastpath)."""
    settings = settings or Settings.from_env()
    return GspwsApp(settings, store or build_store(settings), clock, fast_path)


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """WSGI entry point for servers configured by module path (``gspws.wsgi:application``)."""
    global _app
    if _app is None:
        settings = Settings.from_env()
        configure_logging(settings.log_level, settings.log_format)
        _app = create_app(settings)
    return _app(environ, start_response)


_app: GspwsApp | None = None
