"""The composition: settings → store, policies and use cases, in one place.

The WSGI app (:mod:`gspws.wsgi`) and the CLI are both built from here, so a use case is wired the
same way whichever door reaches it. The clock is a parameter everywhere: tests and envelope replay
inject one, production passes the system clock.
"""

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from gspws import metrics
from gspws.config import Settings
from gspws.core.activation import ActivationPolicy, Activations
from gspws.core.admins import Administrators, AdminPolicy
from gspws.core.assertion import AssertionPolicy, Assertions
from gspws.core.challenge import ChallengePolicy, OcraChallenges
from gspws.core.clock import Clock, system_clock
from gspws.core.codecheck import TotpVerifier
from gspws.core.enroll import Enrollment, EnrollPolicy
from gspws.core.oob import CodeHasher, OobPolicy, OutOfBandCodes
from gspws.core.portal import Portal
from gspws.core.tokenauth import TokenAuth
from gspws.core.verify import Observer, Policy, Services, unobserved
from gspws.store.activation import activation_key
from gspws.store.db import make_engine, verification_engine
from gspws.store.oob import code_key
from gspws.store.portal import portal_unit
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox
from gspws.throttle import Throttle, Unlimited
from gspws.web.activate import ACTIVATE_PATH
from gspws.web.app import LINK_PATH
from gspws.web.session import Sessions, session_key

if TYPE_CHECKING:
    from gspws.admin.app import AdminConsole


def build_store(settings: Settings) -> Store:
    engine = make_engine(settings)
    verifying = verification_engine(settings, engine)
    for watched in {engine, verifying}:
        metrics.watch_database(watched)
    return Store(engine, SecretBox.from_settings(settings), verifying)


def policy_of(settings: Settings) -> Policy:
    return Policy(
        window=settings.totp_window,
        lockout_threshold=settings.lockout_threshold,
        lockout_cooldown=settings.lockout_cooldown,
        hotp_window=settings.hotp_window,
        sync_window=settings.sync_window,
        hotp_sync_window=settings.hotp_sync_window,
    )


def enrollment_of(
    settings: Settings,
    store: Store,
    clock: Clock = system_clock,
    services: Services = dict,
    throttle=None,
    observe: Observer = unobserved,
) -> Enrollment:
    """The binding use cases; the CLI's (no agency callers) needs no services nor throttle."""
    policy = enroll_policy(settings)
    return Enrollment(store.unit, services, policy, clock, throttle or Unlimited(), observe=observe)


def enroll_policy(settings: Settings) -> EnrollPolicy:
    return EnrollPolicy(
        **vars(policy_of(settings)),
        pending_ttl=settings.pending_ttl,
        link_ttl=settings.link_ttl,
        invite_ttl=settings.invite_ttl,
        issuer=settings.issuer,
        link_prefix=settings.public_url + LINK_PATH,
    )


def portal_of(
    settings: Settings,
    store: Store,
    clock: Clock = system_clock,
    services: Services = dict,
    throttle=None,
    observe: Observer = unobserved,
) -> Portal:
    """The portal's self-service on the binding page (gspws.core.portal), sharing the binding
    page's throttle: its tries count against the same per-account limit."""
    unit = partial(portal_unit, store)
    policy = enroll_policy(settings)
    return Portal(unit, services, policy, clock, throttle or Unlimited(), observe=observe)


def oob_of(
    settings: Settings,
    store: Store,
    clock: Clock = system_clock,
    services: Services = dict,
    throttle=None,
    observe: Observer = unobserved,
) -> OutOfBandCodes:
    """MobileOTP.asmx's use cases (and the binding page's checks of a new destination)."""
    oob = OobPolicy(
        ttl=settings.otp_ttl,
        attempts=settings.otp_attempts,
        resend=settings.otp_resend,
        daily=settings.otp_daily,
        message=settings.otp_message,
        text=settings.otp_text,
        subject=settings.otp_mail_subject,
    )
    return OutOfBandCodes(
        store.oob,
        services,
        policy_of(settings),
        clock,
        throttle or Unlimited(),
        reading=partial(store.oob, read_only=True) if store.locks_database else None,
        observe=observe,
        oob=oob,
        hasher=CodeHasher(code_key(store.secrets.encryption_key)),
    )


def challenges_of(
    settings: Settings,
    store: Store,
    clock: Clock = system_clock,
    services: Services = dict,
    throttle=None,
    observe: Observer = unobserved,
) -> OcraChallenges:
    """OTP.asmx's OCRA operations: GetChallenge, GetSignChallenge, VerifyResponse."""
    return OcraChallenges(
        store.unit,
        services,
        policy_of(settings),
        clock,
        throttle or Unlimited(),
        observe=observe,
        challenge=ChallengePolicy(ttl=settings.challenge_ttl),
    )


def assertions_of(
    settings: Settings,
    store: Store,
    clock: Clock = system_clock,
    services: Services = dict,
    throttle=None,
    observe: Observer = unobserved,
) -> Assertions:
    """QR-scan sign-in (OTP.asmx GetAssertionId/GetAssertion and the approval page)."""
    policy = AssertionPolicy(**vars(policy_of(settings)), assertion_ttl=settings.assertion_ttl)
    return Assertions(store.unit, services, policy, clock, throttle or Unlimited(), observe=observe)


def activations_of(
    settings: Settings, store: Store, clock: Clock = system_clock, observe: Observer = unobserved
) -> Activations:
    """Offline distribution (the CLI) and activation (the /owin/activate page): no agency
    callers, so no services nor throttle."""
    policy = ActivationPolicy(
        days=settings.activation_days,
        retries=settings.activation_retries,
        default_password=settings.activation_password,
        issuer=settings.issuer,
        activate_url=settings.public_url + ACTIVATE_PATH,
    )
    return Activations(
        store.unit,
        dict,
        policy_of(settings),
        clock,
        Unlimited(),
        observe=observe,
        activation=policy,
        hasher=CodeHasher(activation_key(store.secrets.encryption_key)),
    )


@dataclass(frozen=True)
class UseCases:
    """What the doors of the server are given."""

    verifier: TotpVerifier
    enrollment: Enrollment
    sessions: Sessions
    oob: OutOfBandCodes
    tokens: TokenAuth  # OTP.asmx Auth, AuthToken, Sync, SyncToken
    challenges: OcraChallenges  # OTP.asmx GetChallenge, GetSignChallenge, VerifyResponse
    assertions: Assertions  # OTP.asmx GetAssertionId, GetAssertion; the approval page
    activations: Activations  # the activation page (offline distribution)
    portal: Portal | None = None  # the binding page's self-service (gspws.web.portal)


def server_use_cases(settings: Settings, store: Store, clock: Clock) -> UseCases:
    """The use cases of a server process: one service registry and one throttle shared by
    verification and binding, the binding page's sessions keyed from the store's first key."""
    registry = store.service_registry(settings.registry_refresh)
    services = registry.current
    throttle = Throttle.from_settings(settings)
    reading = partial(store.verification, read_only=True) if store.locks_database else None
    observe = metrics.call_observer(registry.last_loaded)

    def code_checks(kind):
        """VerifyTOTPCode's or OTP.asmx's use cases: on the same prepared statements."""
        return kind(
            store.verification,
            services,
            policy_of(settings),
            clock,
            throttle,
            reading=reading,
            observe=observe,
        )

    verifier = code_checks(TotpVerifier)
    enrollment = enrollment_of(settings, store, clock, services, throttle, observe=observe)
    sessions = Sessions(
        session_key(settings.session_secret, store.secrets.encryption_key),
        settings.session_ttl,
        clock,
        enrollment.session_epoch,
    )
    oob = oob_of(settings, store, clock, services, throttle, observe=observe)
    challenges = challenges_of(settings, store, clock, services, throttle, observe=observe)
    assertions = assertions_of(settings, store, clock, services, throttle, observe=observe)
    activations = activations_of(settings, store, clock, observe=observe)
    portal = portal_of(settings, store, clock, services, throttle, observe=observe)
    return UseCases(
        verifier,
        enrollment,
        sessions,
        oob,
        code_checks(TokenAuth),
        challenges,
        assertions,
        activations,
        portal=portal,
    )


def administrators_of(
    settings: Settings, store: Store, clock: Clock = system_clock, throttle=None
) -> Administrators:
    """The operator console's administrators (also `gspws admin ...`): the token lockout's
    threshold and cool-down apply to them too; the console's also ``throttle``'s per-address
    sign-in limit."""
    from gspws.store.admins import admin_reading, admin_unit

    policy = AdminPolicy(
        lockout_threshold=settings.lockout_threshold,
        lockout_cooldown=settings.lockout_cooldown,
        enrol_ttl=settings.admin_enrol_ttl,
        issuer=f"{settings.issuer} admin",
        window=settings.totp_window,
    )
    return Administrators(
        partial(admin_unit, store), policy, clock, partial(admin_reading, store), throttle
    )


def admin_console(
    settings: Settings,
    store: Store,
    clock: Clock,
    enrollment: Enrollment,
    activations: Activations | None = None,
) -> "AdminConsole":
    """``/admin/``: its sessions keyed apart from the binding page's (gspws.admin.app)."""
    from gspws.admin.app import SESSION_INFO, AdminConsole, Console
    from gspws.admin.import_jobs import ImportJobs

    admins = administrators_of(settings, store, clock, Throttle.from_settings(settings))
    sessions = Sessions(
        session_key(settings.session_secret, store.secrets.encryption_key, SESSION_INFO),
        settings.admin_session_ttl,
        clock,
        admins.session_epoch,
    )
    imports = ImportJobs(settings.home / "imports")
    console = Console(
        admins,
        enrollment,
        store,
        settings,
        clock,
        imports,
        activations or activations_of(settings, store, clock),
    )
    return AdminConsole(console, sessions)
