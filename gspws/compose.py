"""The composition: settings → store, policies and use cases, in one place.

The WSGI app (:mod:`gspws.wsgi`) and the CLI are both built from here, so a use case is wired the
same way whichever door reaches it. The clock is a parameter everywhere: tests and envelope replay
inject one, production passes the system clock.
"""

from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

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
from gspws.core.pin import Passwords
from gspws.core.portal import Portal
from gspws.core.tokenauth import TokenAuth
from gspws.core.verify import AuditedCalls, Observer, Policy, Services, unobserved
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

C = TypeVar("C", bound=AuditedCalls)


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


def passwords_of(settings: Settings) -> Passwords:
    """argon2id at GSPWS_PASSWORD_HASHING's cost: PINs, activation and administrators'
    passwords."""
    return Passwords(settings.password_hashing)


def enroll_policy(settings: Settings) -> EnrollPolicy:
    return EnrollPolicy(
        **vars(policy_of(settings)),
        pending_ttl=settings.pending_ttl,
        link_ttl=settings.link_ttl,
        invite_ttl=settings.invite_ttl,
        issuer=settings.issuer,
        link_prefix=settings.public_url + LINK_PATH,
    )


@dataclass(frozen=True)
class Wiring:
    """What a door's use cases are built on: settings, store, clock, the agency callers'
    registry, the throttle and the metrics observer. The CLI's (no agency callers) keeps the
    defaults: no services, no limit, nothing observed."""

    settings: Settings
    store: Store
    clock: Clock = system_clock
    services: Services = dict
    throttle: Throttle | Unlimited = field(default_factory=Unlimited)
    observe: Observer = unobserved

    def use_case(self, kind: type[C], unit, policy: Policy, **extra) -> C:
        """A use case as every one is built (gspws.core.verify.AuditedCalls)."""
        return kind(
            unit, self.services, policy, self.clock, self.throttle, observe=self.observe, **extra
        )

    def enrollment(self) -> Enrollment:
        """The binding use cases."""
        return self.use_case(Enrollment, self.store.unit, enroll_policy(self.settings))

    def portal(self) -> Portal:
        """The portal's self-service on the binding page (gspws.core.portal), sharing the
        binding page's throttle: its tries count against the same per-account limit."""
        return self.use_case(Portal, partial(portal_unit, self.store), enroll_policy(self.settings))

    def oob(self) -> OutOfBandCodes:
        """MobileOTP.asmx's use cases (and the binding page's checks of a new destination)."""
        settings, store = self.settings, self.store
        oob = OobPolicy(
            ttl=settings.otp_ttl,
            attempts=settings.otp_attempts,
            resend=settings.otp_resend,
            daily=settings.otp_daily,
            message=settings.otp_message,
            text=settings.otp_text,
            subject=settings.otp_mail_subject,
        )
        return self.use_case(
            OutOfBandCodes,
            store.oob,
            policy_of(settings),
            reading=partial(store.oob, read_only=True) if store.locks_database else None,
            oob=oob,
            hasher=CodeHasher(code_key(store.secrets.encryption_key)),
        )

    def challenges(self) -> OcraChallenges:
        """OTP.asmx's OCRA operations: GetChallenge, GetSignChallenge, VerifyResponse."""
        challenge = ChallengePolicy(ttl=self.settings.challenge_ttl)
        return self.use_case(
            OcraChallenges, self.store.unit, policy_of(self.settings), challenge=challenge
        )

    def assertions(self) -> Assertions:
        """QR-scan sign-in (OTP.asmx GetAssertionId/GetAssertion and the approval page)."""
        policy = AssertionPolicy(
            **vars(policy_of(self.settings)), assertion_ttl=self.settings.assertion_ttl
        )
        return self.use_case(Assertions, self.store.unit, policy)

    def activations(self) -> Activations:
        """Offline distribution (the CLI) and activation (the /owin/activate page): no agency
        callers, so no services nor throttle, whatever this wiring has."""
        settings, store = self.settings, self.store
        activation = ActivationPolicy(
            days=settings.activation_days,
            retries=settings.activation_retries,
            default_password=settings.activation_password,
            issuer=settings.issuer,
            activate_url=settings.public_url + ACTIVATE_PATH,
        )
        hasher = CodeHasher(activation_key(store.secrets.encryption_key))
        unlimited = replace(self, services=dict, throttle=Unlimited())
        return unlimited.use_case(
            Activations,
            store.unit,
            policy_of(settings),
            activation=activation,
            hasher=hasher,
            passwords=passwords_of(settings),
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
    throttle = Throttle.from_settings(settings, clock)
    observe = metrics.call_observer(registry.last_loaded)
    wiring = Wiring(settings, store, clock, registry.current, throttle, observe)
    reading = partial(store.verification, read_only=True) if store.locks_database else None

    def code_checks(kind, **extra):
        """VerifyTOTPCode's or OTP.asmx's use cases: on the same prepared statements."""
        return wiring.use_case(
            kind, store.verification, policy_of(settings), reading=reading, **extra
        )

    enrollment = wiring.enrollment()
    sessions = Sessions(
        session_key(settings.session_secret, store.secrets.encryption_key),
        settings.session_ttl,
        clock,
        enrollment.session_epoch,
    )
    return UseCases(
        code_checks(TotpVerifier),
        enrollment,
        sessions,
        wiring.oob(),
        code_checks(TokenAuth, passwords=passwords_of(settings)),
        wiring.challenges(),
        wiring.assertions(),
        wiring.activations(),
        portal=wiring.portal(),
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
        partial(admin_unit, store),
        policy,
        clock,
        partial(admin_reading, store),
        passwords_of(settings),
        throttle,
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

    admins = administrators_of(settings, store, clock, Throttle.from_settings(settings, clock))
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
        activations or Wiring(settings, store, clock).activations(),
    )
    return AdminConsole(console, sessions)
