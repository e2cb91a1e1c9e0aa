"""gspws.store.pool against SQLite and PostgreSQL: the import's batches and progress, and the
lifecycle's conditional UPDATEs under races (of operators changing one token at once, exactly
one wins)."""

import threading

import pytest

from gspws.store import pool
from gspws.store.repo import StoreError
from gspws.tokenfiles.records import BadTokenFile, token_record

SECRET = b"12345678901234567890"


def records(n: int, account: str | None = None, prefix: str = "HW"):
    return [
        token_record(
            f"line {i + 2}",
            serial=f"{prefix}{i:05d}",
            secret=SECRET,
            type="totp" if i % 2 else "hotp",
            algorithm=None,
            digits=None,
            counter=None if i % 2 else i,
            account=account,
        )
        for i in range(n)
    ]


def test_import_in_batches_reports_progress_and_present(store, monkeypatch):
    monkeypatch.setattr(pool, "BATCH", 7)
    monkeypatch.setattr(pool, "LOOKUP", 5)
    done = []
    with store.unit() as repo:
        repo.add_account("alice")
        first = pool.import_tokens(repo, records(20, "alice"), progress=done.append)
    assert (len(first.imported), first.present, sum(done)) == (20, [], 20)
    done.clear()
    with store.unit() as repo:
        again = pool.import_tokens(repo, records(23), progress=done.append)
        tokens = pool.pool_tokens(repo)
    assert (again.imported, len(again.present), sum(done)) == (
        ["HW00020", "HW00021", "HW00022"],
        20,
        23,
    )
    assert [t.serial for t in tokens] == [f"HW{i:05d}" for i in range(23)]
    assert {t.account.account for t in tokens[:20]} == {"alice"}
    assert [t.account for t in tokens[20:]] == [None] * 3
    assert (tokens[4].last_step, tokens[0].last_step, tokens[1].last_step) == (3, None, None)


def test_import_of_an_unknown_account_stores_nothing(store):
    with pytest.raises(BadTokenFile, match="no account 'bob'"):
        with store.unit() as repo:
            pool.import_tokens(repo, records(3) + records(1, "bob", prefix="B"))
    with store.unit() as repo:
        assert pool.pool_tokens(repo) == []


def race(store, changes) -> list[str]:
    """Run each change in its own transaction at once; what each one said."""
    barrier = threading.Barrier(len(changes))
    outcomes: list[str] = [""] * len(changes)

    def run(i, change) -> None:
        barrier.wait()
        try:
            with store.unit() as repo:
                change(repo)
            outcomes[i] = "ok"
        except StoreError as exc:
            outcomes[i] = str(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(changes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize("trial", range(3))
def test_racing_assigns_one_wins(store, trial):
    names = [f"person{i}" for i in range(6)]
    with store.unit() as repo:
        for name in names:
            repo.add_account(name)
        pool.import_tokens(repo, records(1))
    outcomes = race(store, [lambda r, n=n: pool.assign(r, "HW00000", n) for n in names])
    assert outcomes.count("ok") == 1, outcomes
    winner = names[outcomes.index("ok")]
    with store.unit() as repo:
        assert repo.get_token("HW00000").account.account == winner
    assert all("is not in the pool" in o for o in outcomes if o != "ok")


def test_racing_lost_and_found_reports(store):
    with store.unit() as repo:
        pool.import_tokens(repo, records(1))
    assert race(store, [lambda r: pool.report_lost(r, "HW00000")] * 4).count("ok") == 1
    outcomes = race(store, [lambda r: pool.report_lost(r, "HW00000")] * 4)
    assert all("not in use" in o for o in outcomes)
    outcomes = race(store, [lambda r: pool.found(r, "HW00000")] * 4)
    assert outcomes.count("ok") == 1
