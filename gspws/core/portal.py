"""The user portal's self-service (seed 003's 使用者入口網站), on the binding page: a person
signed in by a binding link acts on their own account's tokens.

* **Bind a hardware token** they hold (serial + two consecutive codes): the pool's unassigned,
  in-use hardware token of that serial is checked by the Sync rule (gspws.core.tokenauth
  :func:`~gspws.core.tokenauth.sync_judge`: its counter or drift is set by the codes, which are
  spent), then assigned to the account (gspws.store.pool ``assign``, a conditional UPDATE). An
  unknown, assigned or lost serial and wrong codes get the one answer
  :attr:`~gspws.core.enroll.Problem.BIND_REFUSED`, so the page does not tell which serials exist.
* **掛失 and found**: a device of the account reported lost (it answers nothing anywhere) and
  back in use, by the pool's rules, restricted to the account's own tokens.
* **Test a code (令牌認證測試)**: pass or fail, written nowhere: no ``last_step`` moves (the
  code still signs in through VerifyTOTPCode afterwards), no failure counts towards the lockout,
  no token unlocks. The windows are the ones a sign-in uses (:meth:`TokenState.match`).
* **Sync** a device with two consecutive codes: the Sync rule, as OTP.asmx Sync.
* **申請綁定**: an unassigned soft (``hardware`` false) TOTP pool token becomes the account's;
  its key is returned once, for the page to show as a QR.

Every action counts against the account's rate limit (the one the page's code checks spend), so
guessing serials or codes, testing codes, and emptying the pool are all bounded; the code-taking
actions that write (bind, sync) also count failures as any code check does. Each is audited as
``web:<operation>``; binding writes two rows (the code check, then the assignment).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gspws.core import codes, names, otp
from gspws.core.codecheck import CodeChecks
from gspws.core.enroll import (
    AnyCaller,
    Device,
    EnrollPolicy,
    EnrollRepository,
    Holder,
    Outcome,
    PeopleCalls,
    Problem,
    has_room,
)
from gspws.core.otp import TotpParams
from gspws.core.tokenauth import TokenAuthRepository, sync_judge
from gspws.core.verify import TokenState


@dataclass(frozen=True)
class Issued:
    """A soft token taken from the pool: shown once (QR and key), never again."""

    serial: str
    params: TotpParams = field(repr=False)
    otpauth_uri: str = field(repr=False)


class PortalRepository(TokenAuthRepository, EnrollRepository, Protocol):
    """What the portal needs from the store (gspws.store.portal), inside one transaction."""

    def assign_pool_token(self, serial: str, account: str) -> bool: ...
    def report_device_lost(self, account_id: int, serial: str) -> bool: ...
    def report_device_found(self, account_id: int, serial: str) -> bool: ...
    def lost_devices(self, account_id: int) -> list[Device]: ...
    def event_devices(self, account_id: int) -> list[Device]: ...
    def take_soft_token(self, account: str) -> tuple[str, TotpParams] | None: ...


def _refuse(problem: Problem) -> Callable[[PortalRepository, Holder, float], Outcome[None]]:
    return lambda _repo, _holder, _now: Outcome.refused(problem)


class Portal(PeopleCalls[PortalRepository], CodeChecks[PortalRepository]):
    """The self-service use cases (see the module doc). Each returns an Outcome."""

    _policy: EnrollPolicy  # (set by AuditedCalls)

    def devices(self, account: str) -> tuple[list[Device], list[Device]]:
        """The account's event (HOTP) devices in use, and its devices reported lost: what the
        page shows besides its list of time-based devices (a read, not audited)."""
        with self._unit_of_work() as repo:
            account_id = repo.account_id(account)
            if account_id is None:
                return [], []
            return repo.event_devices(account_id), repo.lost_devices(account_id)

    def bind_hardware(
        self,
        caller: AnyCaller,
        account: str | None,
        serial: str | None,
        first: str | None,
        second: str | None,
    ) -> Outcome[str]:
        name = names.lookup(account)
        if name is None:
            return Outcome.refused(Problem.UNKNOWN_ACCOUNT)
        with self._unit_of_work() as repo:  # before any code is spent
            account_id = repo.account_id(name)
            room = account_id is not None and has_room(repo, account_id)
        if account_id is None:
            return Outcome.refused(Problem.UNKNOWN_ACCOUNT)
        if not room:
            return Outcome.refused(Problem.TOO_MANY_DEVICES)
        over = self._over_account_limit(caller, name)

        def pool_token(repo: PortalRepository) -> list[TokenState]:
            if over or not serial:  # refused as an unknown serial is: one answer
                return []
            return [t for t in repo.serial_tokens(serial) if t.account is None and t.in_use]

        judge = sync_judge(self._policy, first, second)
        checked = self._check_code(caller, account, pool_token, judge, limit=lambda _: None)
        if checked is codes.INTERNAL_ERROR:
            return Outcome(checked)
        if checked is not codes.OK:
            return Outcome.refused(Problem.BIND_REFUSED)
        assert serial is not None  # a token was read by it

        def assign(repo: PortalRepository, holder: Holder, _now: float) -> Outcome[str]:
            if repo.assign_pool_token(serial, holder.name):
                return Outcome(codes.OK, serial)
            return Outcome.refused(Problem.BIND_REFUSED)  # not a hardware token, or taken

        return self._for_account(caller, account, assign)

    def report_lost(self, caller: AnyCaller, account: str | None, serial: str) -> Outcome[str]:
        return self._own_device(caller, account, serial, lambda r, *a: r.report_device_lost(*a))

    def report_found(self, caller: AnyCaller, account: str | None, serial: str) -> Outcome[str]:
        return self._own_device(caller, account, serial, lambda r, *a: r.report_device_found(*a))

    def _own_device(
        self,
        caller: AnyCaller,
        account: str | None,
        serial: str,
        change: Callable[[PortalRepository, int, str], bool],
    ) -> Outcome[str]:
        """``change`` on one of the account's own devices (掛失 or found): NOT_BOUND otherwise.
        (A lambda, not ``PortalRepository.report_device_lost``: that is the Protocol's stub.)"""

        def action(repo: PortalRepository, holder: Holder, _now: float) -> Outcome[str]:
            if change(repo, holder.id, serial):
                return Outcome(codes.OK, serial)
            return Outcome.refused(Problem.NOT_BOUND)

        return self._for_account(caller, account, action)

    def test_code(
        self, caller: AnyCaller, account: str | None, code: str | None, serial: str | None = None
    ) -> Outcome[str]:
        """Whether ``code`` is one a device of the account (only ``serial``, if given) would
        accept now; the value is that device's serial. Nothing is written but the audit row."""

        def action(repo: PortalRepository, holder: Holder, now: float) -> Outcome[str]:
            if self._over_account_limit(caller, holder.name):
                return Outcome.refused(Problem.TRY_LATER)
            for token in repo.code_tokens(holder.name):
                if serial is not None and token.serial != serial:
                    continue
                usable = token.usable(now, self._policy.lockout_cooldown)
                if usable and token.match(code or "", now, self._policy) is not None:
                    return Outcome(codes.OK, token.serial)
            return Outcome.refused(Problem.WRONG_CODE)

        return self._for_account(caller, account, action)

    def sync(
        self,
        caller: AnyCaller,
        account: str | None,
        serial: str | None,
        first: str | None,
        second: str | None,
    ) -> Outcome[None]:
        """Two consecutive codes of the account's device (``serial``, or any): the Sync rule."""
        name = names.lookup(account)
        if name is None:
            return Outcome.refused(Problem.UNKNOWN_ACCOUNT)
        over = self._over_account_limit(caller, name)

        def devices(repo: PortalRepository) -> list[TokenState]:
            tokens = repo.code_tokens(name)
            return [t for t in tokens if serial is None or t.serial == serial]

        if over:  # refused, and audited as the page's other refusals are
            return self._for_account(caller, account, _refuse(Problem.TRY_LATER))
        judge = sync_judge(self._policy, first, second)
        checked = self._check_code(caller, account, devices, judge, limit=lambda _: None)
        if checked is codes.OK or checked is codes.INTERNAL_ERROR:
            return Outcome(checked)
        if checked is codes.NO_ACTIVE_TOKEN:
            return Outcome.refused(Problem.NOT_BOUND)
        return Outcome.refused(Problem.WRONG_CODE)

    def request_token(self, caller: AnyCaller, account: str | None) -> Outcome[Issued]:
        """申請綁定: a soft pool token assigned to the account, its key returned (once)."""

        def action(repo: PortalRepository, holder: Holder, _now: float) -> Outcome[Issued]:
            if self._over_account_limit(caller, holder.name):
                return Outcome.refused(Problem.TRY_LATER)
            if not has_room(repo, holder.id):
                return Outcome.refused(Problem.TOO_MANY_DEVICES)
            taken = repo.take_soft_token(holder.name)
            if taken is None:
                return Outcome.refused(Problem.POOL_EMPTY)
            serial, params = taken
            uri = otp.provisioning_uri(params, holder.name, self._policy.issuer)
            return Outcome(codes.OK, Issued(serial, params, uri))

        return self._for_account(caller, account, action)
