"""The app factory: composes the store, the core and the doors into one WSGI app.

``create_app`` is the only place a clock can be injected (tests and envelope replay); the
production entry point :func:`application` always uses the system clock.
"""

from functools import partial
from typing import Callable, Iterable

from gspws.config import Settings
from gspws.core.clock import Clock, system_clock
from gspws.core.enroll import EnrollPolicy, Enrollment
from gspws.core.verify import Policy, Services, TotpVerifier
from gspws.logs import REQUEST_ID_HEADER, begin_request, configure_logging
from gspws.proxies import ProxyPolicy
from gspws.soap.app import TotpEndpoint
from gspws.store.db import make_engine
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox
from gspws.throttle import Throttle, Unlimited
from gspws.web.app import LINK_PATH, ManagePages
from gspws.web.session import Sessions, session_key


def build_store(settings: Settings) -> Store:
    return Store(make_engine(settings), SecretBox.from_settings(settings))


def policy_of(settings: Settings) -> Policy:
    return Policy(window=settings.totp_window, lockout_threshold=settings.lockout_threshold,
                  lockout_cooldown=settings.lockout_cooldown)


def enrollment_of(settings: Settings, store: Store, clock: Clock = system_clock,
                  services: Services = dict, throttle=None) -> Enrollment:
    """The binding use cases; the CLI's (no agency callers) needs no services nor throttle."""
    policy = EnrollPolicy(**vars(policy_of(settings)), pending_ttl=settings.pending_ttl,
                          link_ttl=settings.link_ttl, invite_ttl=settings.invite_ttl,
                          issuer=settings.issuer, link_prefix=settings.public_url + LINK_PATH)
    return Enrollment(store.unit, services, policy, clock, throttle or Unlimited())


class GspwsApp:
    """Routes the legacy TOTP paths to the SOAP endpoint and ``/owin/manage/`` to the binding
    page; everything else is 404."""

    def __init__(self, settings: Settings, store: Store, clock: Clock,
                 fast_path: bool = True) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock  # exposed so a test can prove `gspws serve` runs on system_clock
        services = store.service_registry(settings.registry_refresh).current
        throttle = Throttle.from_settings(settings)
        proxies = ProxyPolicy(settings.trusted_proxies)
        reading = partial(store.verification, read_only=True) if store.locks_database else None
        verifier = TotpVerifier(store.verification, services, policy_of(settings), clock, throttle,
                                reading=reading)
        enrollment = enrollment_of(settings, store, clock, services, throttle)
        self.totp = TotpEndpoint(verifier, enrollment, proxies, settings.max_request_bytes,
                                 fast_path=fast_path)
        sessions = Sessions(session_key(settings), settings.session_ttl, clock,
                            enrollment.session_epoch)
        self.manage = ManagePages(enrollment, sessions, proxies, clock)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = begin_request(environ)

        def start_with_id(status, headers, exc_info=None):
            return start_response(status, [*headers, (REQUEST_ID_HEADER, request_id)], exc_info)

        if self.totp.handles(environ.get("PATH_INFO", "")):
            return self.totp(environ, start_with_id)
        if self.manage.handles(environ.get("PATH_INFO", "")):
            return self.manage(environ, start_with_id)
        body = b"Not found. The TOTP web service is at /gsp2ws/TOTP.asmx\n"
        start_with_id("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]


def create_app(settings: Settings | None = None, clock: Clock = system_clock,
               store: Store | None = None, fast_path: bool = True) -> GspwsApp:
    """``fast_path=False``: VerifyTOTPCode through spyne as well (gspws.soap.fastpath)."""
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
