"""The token pool: imported (hardware) tokens, and their lifecycle.

Imported tokens are ``hardware`` rows, active from the start; one without an account
(``account_id IS NULL``) is in the pool, waiting to be handed out. Each state change here is one
conditional UPDATE, so two operators (or an operator and a verification) cannot both win: a
token is assigned only while it is in the pool, found only while it is lost, and so on. When the
UPDATE changes nothing, :func:`_refusal` reads the row to say why.

The import (:func:`import_tokens`) runs in the caller's one transaction: serials already stored
are reported and skipped (a re-import changes nothing), the others are inserted in batches with
``executemany``, each secret encrypted by the store's :class:`~gspws.store.secrets.SecretBox`
as every token's is. Any refusal raises before anything is written, or rolls the whole import
back.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, insert, select, true, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from gspws.store.models import Account, Token, TokenStatus, TokenType
from gspws.store.repo import Repository, StoreError
from gspws.tokenfiles.records import BadTokenFile, TokenRecord

#: Rows per INSERT executemany, and serials per ``IN (...)`` lookup (SQLite allows 32,766
#: parameters a statement; PostgreSQL's limit is 65,535).
BATCH = 1000
LOOKUP = 500


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do): serials imported, already present."""

    imported: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


def import_tokens(
    repo: Repository,
    records: Sequence[TokenRecord],
    assign: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Store ``records`` as active hardware tokens, each assigned to ``assign`` when given, else
    to the account its record names, else to none (the pool). Every named account must exist
    (an import never invents a person): BadTokenFile names the first entry whose does not.
    ``progress(n)`` is called as ``n`` more records are done."""
    accounts = _accounts(repo, records, assign)
    present = _present(repo, [r.serial for r in records])
    report = ImportReport(present=[r.serial for r in records if r.serial in present])
    new = [r for r in records if r.serial not in present]
    progress(len(records) - len(new))
    table = Token.__table__
    for start in range(0, len(new), BATCH):
        batch = new[start : start + BATCH]
        if not dry_run:
            rows = [_row(repo, r, accounts.get(assign or r.account or "")) for r in batch]
            try:
                repo.session.execute(insert(table), rows)
            except IntegrityError:
                raise StoreError(
                    "another import stored some of these serials meanwhile; nothing imported: "
                    "run the import again"
                ) from None
        report.imported.extend(r.serial for r in batch)
        progress(len(batch))
    return report


def _row(repo: Repository, record: TokenRecord, account_id: int | None) -> dict[str, Any]:
    return {
        "serial": record.serial,
        "account_id": account_id,
        "type": TokenType(record.type),
        "algorithm": record.algorithm,
        "digits": record.digits,
        "period": record.period,
        "secret": repo.secrets.encrypt(record.secret),
        "status": TokenStatus.ACTIVE,
        "failures": 0,
        "last_step": record.last_step,
        "drift": record.drift,
        "ocra_suite": record.ocra_suite,
        "hardware": True,
    }


def _accounts(
    repo: Repository, records: Sequence[TokenRecord], assign: str | None
) -> dict[str, int]:
    """Account ids by canonical name, for ``assign`` or every account the records name."""
    if assign is not None:
        return {assign: repo.get_account(assign).id}
    wanted = {r.account for r in records if r.account}
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(wanted), LOOKUP):
        query = select(Account.account, Account.id).where(Account.account.in_(chunk))
        found.update({name: id_ for name, id_ in repo.session.execute(query)})
    for record in records:
        if record.account and record.account not in found:
            raise BadTokenFile(
                record.entry,
                f"no account {record.account!r} (create it first: gspws account add, "
                "or import with --pool)",
            )
    return found


def _present(repo: Repository, serials: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(serials, LOOKUP):
        found.update(repo.session.scalars(select(Token.serial).where(Token.serial.in_(chunk))))
    return found


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the lifecycle -------------------------------------------------------------------------------


def assign(repo: Repository, serial: str, account: str) -> None:
    """Hand a pool token to ``account``: only while it is in the pool."""
    account_id = repo.get_account(account).id
    _change(
        repo,
        serial,
        Token.hardware.is_(True) & Token.account_id.is_(None),
        {"account_id": account_id},
        "is not in the pool",
        pool=True,
    )


def unassign(repo: Repository, serial: str) -> None:
    """Take a hardware token back into the pool; its PIN (the person's) goes with the person.
    Its status stays: a lost token stays lost in the pool."""
    _change(
        repo,
        serial,
        Token.hardware.is_(True) & Token.account_id.is_not(None),
        {"account_id": None, "pin_hash": None, "failures": 0},
        "is not assigned to anyone",
        pool=True,
    )


def report_lost(repo: Repository, serial: str) -> None:
    """掛失: the token answers nothing (every door refuses it) until :func:`found`."""
    _change(
        repo,
        serial,
        Token.status.in_((TokenStatus.ACTIVE, TokenStatus.LOCKED)),
        {"status": TokenStatus.LOST},
        "is not in use (only an active or locked token can be reported lost)",
    )


def found(repo: Repository, serial: str) -> None:
    """A lost token back in use, with its failures and lock cleared."""
    _change(
        repo,
        serial,
        Token.status == TokenStatus.LOST,
        {"status": TokenStatus.ACTIVE, "failures": 0, "locked_at": None},
        "is not reported lost",
    )


def set_pin(repo: Repository, serial: str, pin_hash: str | None) -> None:
    """Set (an argon2id hash from gspws.core.pin) or clear (None) the token's static PIN."""
    _change(repo, serial, true(), {"pin_hash": pin_hash}, "")


def _change(
    repo: Repository,
    serial: str,
    when: ColumnElement[bool],
    values: dict[str, Any],
    otherwise: str,
    pool: bool = False,
) -> None:
    result = cast(
        CursorResult[Any],
        repo.session.execute(update(Token).where(Token.serial == serial, when).values(**values)),
    )
    if result.rowcount != 1:
        raise _refusal(repo, serial, otherwise, pool)


def _refusal(repo: Repository, serial: str, otherwise: str, pool: bool) -> StoreError:
    token = repo.get_token(serial)  # raises "no token SERIAL"
    if pool and not token.hardware:
        return StoreError(
            f"token {serial} was not imported (a phone's, bound to its account): "
            "only imported tokens move in and out of the pool"
        )
    owner = f" (assigned to {token.account.account})" if token.account else ""
    return StoreError(f"token {serial} {otherwise}: it is {token.status.value}{owner}")


def pool_tokens(
    repo: Repository, account: str | None = None, unassigned: bool = False
) -> list[Token]:
    """Tokens (with their accounts loaded): of ``account``, or only the pool's, or all."""
    query = select(Token).options(selectinload(Token.account)).order_by(Token.id)
    if account is not None:
        query = query.where(Token.account_id == repo.get_account(account).id)
    if unassigned:
        query = query.where(Token.account_id.is_(None))
    return list(repo.session.scalars(query))
