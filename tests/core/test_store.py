"""The store: migrations, schema versus models, and token secrets at rest (encryption, key
rotation, the key file and its concurrent creation).

Database tests run on SQLite (a real file) and PostgreSQL; the key-file tests need no database.
"""

import base64
import multiprocessing
import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.exc import OperationalError

from gspws.config import ConfigError, Settings
from gspws.core import otp
from gspws.core.otp import TotpParams
from gspws.store import migrate
from gspws.store.db import make_engine
from gspws.store.models import Base, TokenStatus
from gspws.store.repo import Store
from gspws.store.secrets import SecretBox, UnreadableSecret

from helpers import make_settings, run_together

MODEL_TABLES = set(Base.metadata.tables)


def _alembic_config(connection) -> Config:
    """As gspws.store.migrate builds it: no ini file, the migrations directory, our connection."""
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _head() -> str:
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.fixture
def engine(settings):
    engine = make_engine(settings)
    yield engine
    engine.dispose()


# -- migrations ---------------------------------------------------------------------------------


def test_upgrade_downgrade_upgrade(engine, settings):
    assert _tables(engine) == set()
    assert migrate.pending(engine)

    migrate.upgrade(engine)
    assert _tables(engine) == MODEL_TABLES | {"alembic_version"}
    assert _revision(engine) == _head()
    assert not migrate.pending(engine)
    migrate.upgrade(engine)  # a second upgrade is a no-op
    assert _revision(engine) == _head()

    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "base")
    assert _tables(engine) <= {"alembic_version"}
    assert _revision(engine) is None
    assert migrate.pending(engine)

    migrate.upgrade(engine)
    assert _tables(engine) == MODEL_TABLES | {"alembic_version"}
    assert _revision(engine) == _head()
    # The re-created schema is usable: a token round-trips through it.
    store = Store(engine, SecretBox.from_settings(settings))
    with store.unit() as repo:
        serial = repo.add_token(
            repo.add_account("after"), TotpParams(otp.new_secret()), TokenStatus.ACTIVE
        ).serial
    with store.unit() as repo:
        assert repo.list_tokens("after")[0].serial == serial


def test_a_migration_may_outlast_the_stores_statement_timeout(pg_url, tmp_path, monkeypatch):
    """GSPWS_DB_TIMEOUT bounds the store's statements, not a migration's: a statement longer
    than it completes inside ``migrate.upgrade`` (as an index over a large table may), and the
    same engine's statements are still cancelled at it afterwards."""
    engine = make_engine(make_settings(tmp_path, pg_url, db_timeout=1))
    upgrade = command.upgrade

    def upgrade_after_a_long_statement(config, revision):
        config.attributes["connection"].exec_driver_sql("SELECT pg_sleep(1.5)")
        upgrade(config, revision)

    monkeypatch.setattr(migrate.command, "upgrade", upgrade_after_a_long_statement)
    try:
        migrate.upgrade(engine)
        assert _revision(engine) == _head()
        with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as c:
            c.exec_driver_sql("SELECT pg_sleep(1.5)")
    finally:
        engine.dispose()


def _schema_differences(engine, metadata) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, metadata)


def test_models_match_the_migrated_schema(engine):
    migrate.upgrade(engine)
    # No difference at all, including column types: UTCDateTime is a TypeDecorator over
    # DateTime(timezone=True), and alembic compares a decorator by its implementation type.
    assert _schema_differences(engine, Base.metadata) == []


def test_schema_comparison_does_see_differences(engine):
    """Control for the test above: a model the migrations do not have is reported."""
    migrate.upgrade(engine)
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["tokens"].append_column(Column("extra", Integer))
    differences = _schema_differences(engine, metadata)
    assert [d[0] for d in differences] == ["add_column"]


# -- secrets at rest ----------------------------------------------------------------------------


def _add_token(store: Store, secret: str, account: str = "alice") -> str:
    with store.unit() as repo:
        return repo.add_token(
            repo.add_account(account), TotpParams(secret), TokenStatus.ACTIVE
        ).serial


def test_token_secret_is_not_stored_in_clear(store, settings):
    secret = otp.new_secret()
    raw = base64.b32decode(secret)
    serial = _add_token(store, secret)

    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM tokens")).all()
        as_text = []
        if connection.dialect.name == "postgresql":
            as_text = connection.scalars(text("SELECT t::text FROM tokens t")).all()
    assert len(rows) == 1
    for value in rows[0]:
        if isinstance(value, (bytes, memoryview)):
            assert secret.encode() not in bytes(value) and raw not in bytes(value)
        else:
            assert secret not in str(value)
    for row in as_text:  # bytea is rendered as hex there
        assert secret not in row
        assert secret.encode().hex() not in row and raw.hex() not in row

    if store.engine.dialect.name == "sqlite":
        store.engine.dispose()
        database = Path(settings.effective_database_url.removeprefix("sqlite:///"))
        contents = {p.name: p.read_bytes() for p in database.parent.glob(f"{database.name}*")}
        for name, content in contents.items():  # the database, its WAL and shared memory
            assert secret.encode() not in content and raw not in content, name
        # Control: the files read are where the token lives (its ciphertext is in one of them).
        [blob] = [bytes(v) for v in rows[0] if isinstance(v, (bytes, memoryview))]
        assert any(blob in content for content in contents.values())

    # Control: the row examined is the token, and its key opens it.
    with store.unit() as repo:
        assert repo.token_params(repo.get_token(serial)).secret == secret


def test_a_different_key_cannot_decrypt(store):
    serial = _add_token(store, otp.new_secret())
    stranger = Store(store.engine, SecretBox([Fernet.generate_key()]))
    with stranger.unit() as repo:
        with pytest.raises(UnreadableSecret, match="cannot be decrypted"):
            repo.token_params(repo.get_token(serial))
        with pytest.raises(UnreadableSecret, match="cannot be decrypted"):
            repo.verifiable_tokens("alice")


def _settings_with_key(settings: Settings, secret_key: str) -> Settings:
    return Settings.from_env(
        {"GSPWS_SECRET_KEY": secret_key}, home=settings.home, database_url=settings.database_url
    )


def test_rotated_keys_decrypt_old_tokens_and_encrypt_with_the_new_key(store, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_secret, new_secret = otp.new_secret(), otp.new_secret()
    _add_token(
        Store(store.engine, SecretBox.from_settings(_settings_with_key(settings, old))),
        old_secret,
        "before",
    )

    rotated = Store(
        store.engine, SecretBox.from_settings(_settings_with_key(settings, f" {new} , {old} "))
    )
    with rotated.unit() as repo:
        assert repo.token_params(repo.list_tokens("before")[0]).secret == old_secret
    _add_token(rotated, new_secret, "after")

    only_new = Store(store.engine, SecretBox([new.encode()]))
    only_old = Store(store.engine, SecretBox([old.encode()]))
    with only_new.unit() as repo:
        assert repo.token_params(repo.list_tokens("after")[0]).secret == new_secret
    with only_old.unit() as repo:
        with pytest.raises(UnreadableSecret):
            repo.token_params(repo.list_tokens("after")[0])


@pytest.mark.parametrize(
    "secret_key",
    ["not-a-key", "a,b", Fernet.generate_key().decode()[:-2]],
    ids=["not-a-key", "two-bad-keys", "truncated-key"],
)  # same ids in each worker
def test_unusable_keys_are_a_config_error(secret_key, tmp_path):
    settings = Settings.from_env({"GSPWS_SECRET_KEY": secret_key, "GSPWS_HOME": str(tmp_path)})
    with pytest.raises(ConfigError, match="invalid Fernet key"):
        SecretBox.from_settings(settings)


# -- the key file -------------------------------------------------------------------------------


def _keyless_settings(home: Path, **environ: str) -> Settings:
    return Settings.from_env({"GSPWS_HOME": str(home), **environ})


def _key_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def test_key_file_is_created_private_and_reused(tmp_path):
    home = tmp_path / "home"  # does not exist yet
    first = SecretBox.from_settings(_keyless_settings(home))
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    [key] = _key_lines(key_file)
    Fernet(key)  # a usable Fernet key
    blob = first.encrypt("JBSWY3DPEHPK3PXP")

    second = SecretBox.from_settings(_keyless_settings(home))
    assert _key_lines(key_file) == [key]
    assert second.decrypt(blob) == "JBSWY3DPEHPK3PXP"
    assert sorted(p.name for p in home.iterdir()) == ["secret.key"]  # no temporary left


def test_key_file_setting_and_no_creation(tmp_path):
    key_file = tmp_path / "keys" / "gspws.key"
    settings = _keyless_settings(tmp_path / "home", GSPWS_KEY_FILE=str(key_file))
    with pytest.raises(ConfigError, match="does not exist"):
        SecretBox.from_settings(settings, create=False)
    assert not key_file.exists()
    blob = SecretBox.from_settings(settings).encrypt("X" * 16)
    assert key_file.exists() and not (tmp_path / "home" / "secret.key").exists()
    assert SecretBox.from_settings(settings, create=False).decrypt(blob) == "X" * 16


def test_a_key_file_of_several_keys_decrypts_with_each(tmp_path):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    (tmp_path / "secret.key").write_bytes(new + b"\n\n" + old + b"\n")
    box = SecretBox.from_settings(_keyless_settings(tmp_path))
    assert box.decrypt(Fernet(old).encrypt(b"OLDSECRET")) == "OLDSECRET"
    assert Fernet(new).decrypt(box.encrypt("NEWSECRET")) == b"NEWSECRET"


PROCESSES = 6
MP = multiprocessing.get_context("fork")


def _first_start(home: str, index: int, start, written, results) -> None:
    """One worker's first start: open the key file at the same instant as the others, encrypt,
    then decrypt what every other worker encrypted."""
    try:
        start.wait(timeout=60)
        box = SecretBox.from_settings(_keyless_settings(Path(home)))
        blobs = Path(home).parent / "blobs"
        (blobs / f"{index}").write_bytes(box.encrypt(f"SECRET{index}"))
        written.wait(timeout=60)
        results.put(
            (index, sorted(box.decrypt((blobs / f"{i}").read_bytes()) for i in range(PROCESSES)))
        )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((index, repr(exc)))


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_first_starts_agree_on_one_key(tmp_path, attempt):
    home = tmp_path / "home"
    (tmp_path / "blobs").mkdir()
    start, written, results = MP.Barrier(PROCESSES), MP.Barrier(PROCESSES), MP.Queue()
    workers = [
        MP.Process(target=_first_start, args=(str(home), i, start, written, results))
        for i in range(PROCESSES)
    ]
    outcomes = dict(run_together(workers, results))
    everyone = sorted(f"SECRET{i}" for i in range(PROCESSES))
    assert outcomes == {i: everyone for i in range(PROCESSES)}
    assert len(_key_lines(home / "secret.key")) == 1
    assert stat.S_IMODE((home / "secret.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in home.iterdir()) == ["secret.key"]
