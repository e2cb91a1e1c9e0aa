"""QR-scan sign-in: GetAssertionId / GetAssertion (seed 003), approved on the phone (seed 001).

An agency's sign-in page calls GetAssertionId and shows the QR of an approval URL and a 2-digit
number. The person scans the QR; the approval page on the phone asks for the account and a
current code of its authenticator (proof of possession: the code is checked and spent exactly as
VerifyTOTPCode checks it, :func:`~gspws.core.verify.accept_code`), then offers three numbers of
which one is the desktop's, and 確認登入 or 拒絕. The agency polls GetAssertion(AssertionId):

* 12 (:data:`~gspws.core.codes.ASSERTION_PENDING`) while nobody has decided;
* 0 with the account in Message once approved, for the first GetAssertion only (one conditional
  UPDATE sets ``used_at``: of racing polls exactly one gets the account);
* 9999 with a message saying why otherwise: used, denied (拒絕, a wrong number, or too many wrong
  codes on the phone), expired, or unknown (also to another ServiceID than the one that started
  it, so one agency cannot learn about another's sign-ins).

Choosing a wrong number denies the sign-in: someone relaying a QR they did not start cannot try
the three numbers in turn. Approving gives the agency another ``assertion_ttl`` seconds to
collect the account. The AssertionId and the approval URL's token are two independent random
values of which only SHA-256 hashes are stored: the QR (seen by anyone near the screen) does not
reveal the AssertionId, and a copy of the database reveals neither. The browser that proved the
code is the only one that can decide (``approver``: the door's session nonce, stored hashed).
"""

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

from gspws.core import codes, names
from gspws.core.codes import ReturnCode
from gspws.core.enroll import Outcome, Person, link_hash
from gspws.core.verify import AuditedCalls, Caller, Calling, Policy, VerifyRepository, accept_code

PENDING, PROVEN, APPROVED, DENIED = "pending", "proven", "approved", "denied"
#: How many numbers the phone offers; one of them is the desktop's.
CHOICES = 3


@dataclass(frozen=True)
class AssertionPolicy(Policy):
    """Verification's code rules (a code means the same everywhere), plus the sign-in's."""

    assertion_ttl: int


@dataclass(frozen=True)
class Ticket:
    """What GetAssertionId answers: the agency keeps ``assertion_id`` to itself, shows the QR of
    ``approval_url`` and ``number``."""

    assertion_id: str
    number: str
    approval_url: str
    expires_at: float


@dataclass(frozen=True)
class AssertionState:
    """An assertion as the store holds it."""

    id: int
    service_id: str
    number: str
    choices: tuple[str, ...]
    status: str
    account: str | None
    approver_hash: str | None
    failures: int
    expires_at: float
    used: bool


@dataclass(frozen=True)
class Approval:
    """What the phone's page shows. ``stage``: ``pending`` (ask for the account and a code),
    ``proven`` (offer the three numbers), ``approved``, ``denied``, ``gone`` (expired, used,
    unknown, or proven in another browser) or ``error``; ``problem``: why the last step did not
    succeed."""

    stage: str
    choices: tuple[str, ...] = ()
    account: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class NewAssertion:
    """A sign-in GetAssertionId starts, as the store keeps it: pending, with only the hashes of
    the AssertionId and of the approval URL's token."""

    id_hash: str
    approval_hash: str
    service_id: str
    number: str
    choices: tuple[str, ...]
    created_at: float
    expires_at: float


class AssertionRepository(VerifyRepository, Protocol):
    """What QR-scan sign-in needs from the store, inside one transaction."""

    def add_assertion(self, assertion: NewAssertion) -> None: ...
    def assertion(
        self, id_hash: str | None = None, approval_hash: str | None = None
    ) -> AssertionState | None: ...
    def prove_assertion(self, row_id: int, account: str, approver_hash: str, now: float) -> bool:
        """pending → proven, only while pending and in time."""

    def fail_assertion(self, row_id: int, threshold: int, now: float) -> None:
        """One more wrong code; the ``threshold``-th denies a pending assertion."""

    def decide_assertion(
        self, row_id: int, approved: bool, now: float, collect_until: float
    ) -> bool:
        """proven → approved (collectable until ``collect_until``) or denied, only while
        proven and in time."""

    def use_assertion(self, row_id: int, now: float) -> bool:
        """Hand an approved assertion over: only if approved, unused and in time."""


def new_number() -> tuple[str, tuple[str, ...]]:
    """The desktop's 2-digit number (10–99: no leading zero to misread) and the phone's three
    choices, shuffled, of which it is one."""
    draw = secrets.SystemRandom()
    numbers = draw.sample(range(10, 100), CHOICES)
    shown = [str(n) for n in numbers]
    draw.shuffle(shown)
    return str(numbers[0]), tuple(shown)


class Assertions(AuditedCalls[AssertionRepository]):
    """The sign-in's use cases: GetAssertionId and GetAssertion for agency systems, and the
    approval page's steps for the person (a :class:`~gspws.core.enroll.Person`)."""

    _policy: AssertionPolicy  # (set by AuditedCalls)

    # -- the SOAP operations ----------------------------------------------------------------

    def start(self, caller: Caller, approve_prefix: str) -> Outcome[Ticket]:
        """GetAssertionId: a new pending sign-in bound to the caller's ServiceID. The approval
        URL is ``approve_prefix`` (the approval page's URL as the door knows it) + a token."""

        def decide(repo: AssertionRepository, now: float) -> Outcome[Ticket]:
            assert caller.service_id is not None  # admitted callers have one
            assertion_id, approval = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            number, choices = new_number()
            expires_at = now + self._policy.assertion_ttl
            repo.add_assertion(
                NewAssertion(
                    link_hash(assertion_id),
                    link_hash(approval),
                    caller.service_id,
                    number,
                    choices,
                    now,
                    expires_at,
                )
            )
            url = approve_prefix + approval
            return Outcome(codes.OK, Ticket(assertion_id, number, url, expires_at))

        return self._audited(
            caller, None, decide, code_of=lambda outcome: outcome.code, wrap=Outcome
        )

    def collect(self, caller: Caller, assertion_id: str | None) -> ReturnCode:
        """GetAssertion: 0 with the account (once), 12 pending, 9999 with why otherwise. The
        audit row names the account handed over."""
        started = time.perf_counter()
        written = False

        def decide(repo: AssertionRepository, now: float) -> ReturnCode:
            nonlocal written
            found = repo.assertion(id_hash=link_hash(assertion_id)) if assertion_id else None
            if found is None or found.service_id != caller.service_id:
                return codes.ASSERTION_UNKNOWN
            outcome = _collected(repo, found, now)
            elapsed_ms = (time.perf_counter() - started) * 1000
            repo.audit(caller, found.account, _audited_code(outcome), now, elapsed_ms)
            written = True
            return outcome

        return self._audited(
            caller,
            None,
            decide,
            code_of=_audited_code,
            wrap=_same,
            audited=lambda: written,
        )

    # -- the approval page --------------------------------------------------------------------

    def view(self, approval: str, approver: str | None) -> Approval:
        """Where the page stands (not audited: it changes nothing)."""
        with self._unit_of_work() as repo:
            found = repo.assertion(approval_hash=link_hash(approval))
        return _stage(found, self._clock(), approver)

    def prove(
        self, person: Person, approval: str, account: str | None, code: str | None, approver: str
    ) -> Approval:
        """The account and its current code: the code is checked and spent as VerifyTOTPCode
        does; wrong ones count against the account's lockout and the sign-in's own limit."""
        name = names.lookup(account)

        def decide(repo: AssertionRepository, now: float) -> Approval:
            found = repo.assertion(approval_hash=link_hash(approval))
            if found is None or found.status != PENDING or found.expires_at <= now:
                return _stage(found, now, approver)
            tokens = repo.verifiable_tokens(name) if name else []
            refused = not tokens or (name is not None and self._over_account_limit(person, name))
            token = None if refused else accept_code(repo, tokens, code, now, self._policy)
            if token is None or name is None:
                repo.fail_assertion(found.id, self._policy.lockout_threshold, now)
                if found.failures + 1 >= self._policy.lockout_threshold:
                    return Approval(DENIED, problem="too_many")
                return Approval(PENDING, problem="wrong_code")
            if not repo.prove_assertion(found.id, name, link_hash(approver), now):
                return Approval("gone")
            return Approval(PROVEN, found.choices, name)

        return self._audited(person, account, decide, code_of=_code_of, wrap=_failed)

    def decide(
        self, person: Person, approval: str, approver: str, number: str | None, approve: bool
    ) -> Approval:
        """確認登入 with the chosen ``number`` (a wrong one denies), or 拒絕."""

        def decide(repo: AssertionRepository, now: float) -> Approval:
            found = repo.assertion(approval_hash=link_hash(approval))
            stage = _stage(found, now, approver)
            if found is None or stage.stage != PROVEN:
                return stage
            matches = hmac.compare_digest((number or "").encode(), found.number.encode())
            approved = approve and matches
            if not repo.decide_assertion(found.id, approved, now, now + self._policy.assertion_ttl):
                return Approval("gone")
            problem = None if approved or not approve else "wrong_number"
            return Approval(
                APPROVED if approved else DENIED, account=found.account, problem=problem
            )

        account = self.view(approval, approver).account
        return self._audited(person, account, decide, code_of=_code_of, wrap=_failed)

    def _admit(self, caller: Calling) -> ReturnCode | None:
        """The person on the phone proves who they are with a code; agency systems pass the
        access rules (and the per-service rate limit)."""
        return None if isinstance(caller, Person) else super()._admit(caller)


def _collected(repo: AssertionRepository, found: AssertionState, now: float) -> ReturnCode:
    if found.used:
        return codes.ASSERTION_USED
    if found.status == DENIED:
        return codes.ASSERTION_DENIED
    if found.expires_at <= now:
        return codes.ASSERTION_EXPIRED
    if found.status != APPROVED:
        return codes.ASSERTION_PENDING
    if not repo.use_assertion(found.id, now):  # another poll took it first
        return codes.ASSERTION_USED
    assert found.account is not None  # approved assertions were proven for an account
    return ReturnCode(codes.OK.code, found.account)


def _stage(found: AssertionState | None, now: float, approver: str | None) -> Approval:
    """The page's stage for ``found`` as seen by the browser holding ``approver``."""
    if found is None or found.used or found.expires_at <= now:
        return Approval("gone")
    if found.status == PENDING:
        return Approval(PENDING)
    mine = found.approver_hash is not None and hmac.compare_digest(
        found.approver_hash, link_hash(approver or "")
    )
    if not mine:
        return Approval("gone")
    if found.status == PROVEN:
        return Approval(PROVEN, found.choices, found.account)
    return Approval(found.status, account=found.account)


def _code_of(approval: Approval) -> ReturnCode:
    """The audit row's outcome of a step on the approval page."""
    if approval.stage == "error":
        return codes.INTERNAL_ERROR
    if approval.problem or approval.stage in (DENIED, "gone"):
        return codes.REJECTED
    return codes.OK


def _failed(outcome: ReturnCode) -> Approval:
    return Approval("error")


def _audited_code(outcome: ReturnCode) -> ReturnCode:
    """0 with the account in its message is audited as plain 0."""
    return codes.OK if outcome.code == codes.OK.code else outcome


def _same(outcome: ReturnCode) -> ReturnCode:
    return outcome
