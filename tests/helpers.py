"""Test helpers: the standard fixture data, raw envelopes, zeep clients, computing codes, test
settings, PostgreSQL schemas and servers (in-process and as processes)."""

import os
import threading
import uuid
from dataclasses import dataclass

import pytest
import requests
import zeep
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.serving import make_server

from gspws.config import Settings
from gspws.core.otp import TotpParams
from gspws.core.pin import Passwords
from gspws.store.models import TokenStatus

SERVICE_ID = "APP0001931"
ACCOUNT = "wederlin"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPE = {False: "text/xml; charset=utf-8", True: "application/soap+xml; charset=utf-8"}


@dataclass
class Demo:
    service_id: str
    account: str
    params: TotpParams
    serial: str

    def code(self, at: float, steps: int = 0) -> str:
        return self.params.totp().generate_otp(self.params.step_at(at) + steps)


def seed_demo(store) -> Demo:
    """Service APP0001931 (127.0.0.1 and ::1, VerifyTOTPCode) and account wederlin with one
    active SHA1/6/30 token whose secret is SECRET."""
    params = TotpParams(SECRET)
    with store.unit() as repo:
        repo.add_service(SERVICE_ID, "Test agency", ["127.0.0.1/32", "::1/128"], ["VerifyTOTPCode"])
        account = repo.add_account(ACCOUNT)
        serial = repo.add_token(account, params, TokenStatus.ACTIVE).serial
    return Demo(SERVICE_ID, ACCOUNT, params, serial)


def envelope(
    account: str | None, code: str | None, service_id: str | None = SERVICE_ID, soap12: bool = False
) -> bytes:
    """A request as a .NET caller writes it; None leaves the element (or header) out."""
    ns = SOAP12_NS if soap12 else SOAP11_NS
    header = ""
    if service_id is not None:
        header = (
            f'<soap:Header><ServiceHeader xmlns="http://cp.gov.tw/gsp2">'
            f"<ServiceID>{service_id}</ServiceID></ServiceHeader></soap:Header>"
        )
    fields = "".join(
        f"<{name}>{value}</{name}>"
        for name, value in (("account", account), ("TOTPCode", code))
        if value is not None
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema">{header}<soap:Body>'
        f'<VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">{fields}</VerifyTOTPCode>'
        f"</soap:Body></soap:Envelope>"
    ).encode()


def public_caller_send(service_id: str, account: str) -> bytes:
    """SendOTPCode as the public agency caller of issue 12 posts it (SOAP 1.2, no SOAPAction),
    to be read back by substring."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">'
        '<soap12:Header><ServiceHeader xmlns="http://cp.gov.tw/gsp2">'
        f"<ServiceID>{service_id}</ServiceID></ServiceHeader></soap12:Header>"
        '<soap12:Body><SendOTPCode xmlns="http://cp.gov.tw/gsp2">'
        f"<account>{account}</account></SendOTPCode></soap12:Body></soap12:Envelope>"
    ).encode()


def post(url: str, body: bytes, soap12: bool = False, **headers) -> requests.Response:
    headers = {"Content-Type": CONTENT_TYPE[soap12], **headers}
    if not soap12:
        headers.setdefault("SOAPAction", '"http://cp.gov.tw/gsp2/VerifyTOTPCode"')
    return requests.post(url, data=body, headers=headers, timeout=10)


_ZEEP_CLIENTS: dict[str, zeep.Client] = {}


def zeep_service(url: str, soap12: bool = False):
    """A zeep stub built from the served WSDL, bound to the SOAP 1.1 or 1.2 port.

    The WSDL is fetched and parsed once per server, not per stub: the client is kept by URL until
    the server stops (:func:`forget_server`)."""
    client = _ZEEP_CLIENTS.get(url)
    if client is None:
        client = _ZEEP_CLIENTS[url] = zeep.Client(f"{url}?WSDL")
    return client.bind("TOTP", "TOTPSoap12" if soap12 else "TOTPSoap")


def forget_server(url: str) -> None:
    """Drop the zeep client of a stopped server (a later server may get its port)."""
    client = _ZEEP_CLIENTS.pop(url, None)
    if client is not None:
        client.transport.session.close()


def call(service, account, code, service_id=SERVICE_ID):
    headers = {"ServiceHeader": {"ServiceID": service_id}} if service_id is not None else None
    result = service.VerifyTOTPCode(account=account, TOTPCode=code, _soapheaders=headers)
    return result.Code, result.Message


# -- settings, PostgreSQL schemas and in-process servers (conftest's fixtures use these) -------

PG_URL = os.environ.get("GSPWS_TEST_PG_URL")

#: A fixed instant 10 s into a 30-second step (and 10 s into a 60-second one).
T0 = 1_800_000_010.0


def pg_database():
    """Yield the URL of an empty PostgreSQL schema of its own; drop it afterwards.

    A schema (selected through the URL's ``search_path`` option) instead of a database per test:
    creating a database costs about a second, a schema nothing."""
    if not PG_URL:
        pytest.skip(
            "PostgreSQL tests need GSPWS_TEST_PG_URL (e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"gspws_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


#: URLs of the migrated schemas (MigratedSchema): the ``store`` fixture does not upgrade them.
MIGRATED_URLS: set[str] = set()


class MigratedSchema:
    """A PostgreSQL schema of one test process, migrated to head once, handed to each test that
    wants a migrated store with its rows deleted (:meth:`emptied`).

    Why: migrating a fresh schema (0001 -> head) cost ~0.7 s of DDL per test on 2 loaded cores,
    the deletes ~0.03 s. Not TRUNCATE: it creates new files for every table, ~0.3 s for the 18
    tables (measured alike). A test that changed the schema (dropped a table, moved
    ``alembic_version``) leaves a different :meth:`_fingerprint`; the next test then gets a
    freshly migrated schema instead, as it does when rows stay locked by a lingering connection."""

    _FINGERPRINT = text(
        """
        SELECT md5(concat_ws('|',
          (SELECT string_agg(concat_ws(':', c.relname, c.relkind), ',' ORDER BY c.relname)
             FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace),
          (SELECT string_agg(concat_ws(':', c.relname, a.attname,
                                       format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                       a.atthasdef), ',' ORDER BY c.relname, a.attnum)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace = current_schema()::regnamespace
              AND a.attnum > 0 AND NOT a.attisdropped),
          (SELECT string_agg(concat_ws(':', conname, contype), ',' ORDER BY conname)
             FROM pg_constraint WHERE connamespace = current_schema()::regnamespace),
          (SELECT string_agg(t.tgname, ',' ORDER BY t.tgname) FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = current_schema()::regnamespace),
          (SELECT string_agg(version_num, ',') FROM alembic_version)))
        """
    )

    def __init__(self) -> None:
        self.url: str | None = None
        self._schema = None

    def emptied(self) -> str:
        """The schema's URL, its tables and sequences as the migrations left them (empty but for
        registry_state's row)."""
        if self.url is not None:
            try:
                if self._clean():
                    return self.url
            except DBAPIError:  # a row still locked (lock_timeout), or the schema gone
                pass
            self.drop()
        self._create()
        assert self.url is not None
        return self.url

    def _create(self) -> None:
        from gspws.store import migrate

        schema = pg_database()
        self.url = next(schema)  # skips the test when no PostgreSQL is configured
        self._engine = create_engine(self.url)
        self._schema = schema  # from here on, drop() has a schema and an engine to close
        migrate.upgrade(self._engine)
        MIGRATED_URLS.add(self.url)
        metadata = MetaData()
        with self._engine.connect() as conn:
            metadata.reflect(conn)
            self._fingerprint = conn.scalar(self._FINGERPRINT)
            sequences = conn.execute(
                text(
                    "SELECT sequencename, start_value FROM pg_sequences "
                    "WHERE schemaname = current_schema()"
                )
            ).all()
            tables = [t.name for t in metadata.sorted_tables if t.name != "alembic_version"]
            # the rows the migrations insert (registry_state's), put back after the deletes
            seeded = {
                name: rows
                for name in tables
                if (rows := conn.scalar(text(f'SELECT json_agg(t)::text FROM "{name}" t')))
            }
        self._empty = ";".join(
            ["SET LOCAL lock_timeout = '5s'"]
            + [f'DELETE FROM "{name}"' for name in reversed(tables)]
            + [
                f'INSERT INTO "{name}" SELECT * FROM json_populate_recordset(NULL::"{name}", '
                + sql_string(rows)
                + ")"
                for name, rows in seeded.items()
            ]
            # setval, not ALTER SEQUENCE ... RESTART: that writes a new file per sequence too
            + [f"SELECT setval('\"{name}\"', {start}, false)" for name, start in sequences]
        )

    def _clean(self) -> bool:
        """Empty the tables; False when the schema is no longer the one migrated."""
        with self._engine.begin() as conn:
            if conn.scalar(self._FINGERPRINT) != self._fingerprint:
                return False
            conn.exec_driver_sql(self._empty)
        return True

    def drop(self) -> None:
        MIGRATED_URLS.discard(self.url)
        if self._schema is not None:
            self._engine.dispose()
            self._schema.close()  # pg_database's finally: DROP SCHEMA ... CASCADE
        self.url = self._schema = None


#: argon2's cost in the tests: production's (GSPWS_PASSWORD_HASHING's default) costs ~0.4 s a
#: hash on 2 cores; tests/core/test_pin.py checks that default, and that hashes made at either
#: cost are checked at the other.
TEST_HASHING = "cheapest"
TEST_PASSWORDS = Passwords(TEST_HASHING)


def make_settings(home, database_url, **overrides) -> Settings:
    """Test settings. Services are re-read on every call (``GSPWS_REGISTRY_REFRESH=0``) so a test
    can change one and call at once, and there are no rate limits, so tests can call one account
    often; test_registry and test_throttle cover those behaviours with their own settings.
    PINs and passwords are hashed at argon2's cheapest cost (:data:`TEST_HASHING`)."""
    environ = {
        "GSPWS_PASSWORD_HASHING": TEST_HASHING,
        "GSPWS_SECRET_KEY": Fernet.generate_key().decode(),
        "GSPWS_REGISTRY_REFRESH": "0",
        "GSPWS_RATE_LIMIT_SERVICE": "",
        "GSPWS_RATE_LIMIT_ACCOUNT": "",
        "GSPWS_RATE_LIMIT_REFUSED": "",
        "GSPWS_RATE_LIMIT_ADMIN_SIGNIN": "",
    }
    return Settings.from_env(environ, home=home, database_url=database_url, **overrides)


class LiveServer:
    """A gspws app on a loopback port, served by werkzeug in a thread."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self.url = f"{self.base}/gsp2ws/TOTP.asmx"
        # stop() waits for the loop to notice, up to one poll: at 50 ms, ~30 ms a server on
        # average (measured), ~25 s over the suite's ~800; 5 ms costs ~200 idle wake-ups a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.005,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        forget_server(self.url)


# -- processes started together ----------------------------------------------------------------


def run_together(processes: list, results, timeout: float = 120) -> list:
    """Start ``processes`` (multiprocessing), take one item each from the ``results`` queue, and
    make sure all have ended: joined, or killed when stuck, whatever happened meanwhile."""
    for process in processes:
        process.start()
    try:
        return [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)


# -- `gspws serve` as a real process (the process-level tests; shared with bench/) -------------

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ of this checkout

from bench.processes import GSPWS, REPO, free_port, gspws_env  # noqa: E402,F401
from bench.processes import ServerProcess as _ServerProcess  # noqa: E402

TESTS = (
    Path(__file__).resolve().parent
)  # conftest, helpers and the data: corpus/, envelopes/, fixtures/


import forked  # noqa: E402

#: ``subprocess.run`` for ``gspws`` commands, forked from a warm interpreter (tests/forked.py).
run_gspws = forked.run


class ServerProcess(_ServerProcess):
    """bench's server process, ``gspws serve`` forked from a warm interpreter (tests/forked.py),
    forgetting the zeep client cached for its URL when it stops."""

    def _spawn(self, log):
        if forked.is_gspws(self._args):
            return forked.popen(self._args, self._env, REPO, log)
        return super()._spawn(log)

    def stop(self) -> int | None:
        forget_server(self.url)
        return super().stop()


# -- wire tests: codes at chosen steps, extra tokens, raw answers, audit rows --------------------

import re  # noqa: E402

from lxml import etree  # noqa: E402

TNS = "http://cp.gov.tw/gsp2"

#: The contract's return-code table (gsp-soap.md), spelled here and not imported from gspws, so a
#: reworded message in the server is caught.
CONTRACT_CODES = {
    0: "動態密碼驗證通過",
    9999: "動態密碼驗證不通過",
    1: "ServiceID格式錯誤",
    8100: "認證錯誤：其它",
    8101: "認證錯誤：查無認證資訊",
    8102: "認證錯誤：認證資訊不齊全",
    8104: "認證錯誤：存取位置未被授權",
    8108: "認證錯誤：功能未被授權",
    8109: "認證錯誤：功能停用",
    3000: "系統內部錯誤",
    3001: "查無使用者帳號或使用者未啟用動態密碼功能",
}


def outcome(code: int) -> tuple[int, str]:
    """``(code, message)`` as the contract spells it, comparable with :func:`call`'s result."""
    return code, CONTRACT_CODES[code]


def code_at(params: TotpParams, at: float, steps: int = 0) -> str:
    """The code of the time-step ``steps`` away from the one containing ``at``."""
    return params.totp().generate_otp(params.step_at(at) + steps)


def wrong_code(params: TotpParams, at: float, spread: int = 3) -> str:
    """A well-formed code that is not the code of any step within ``±spread`` of ``at``. A first
    code (confirming a binding) is looked for in the whole sync window: pass
    ``spread=settings.sync_window`` there (±240 steps: "000000" was once one of them)."""
    near = {code_at(params, at, s) for s in range(-spread, spread + 1)}
    for digit in "0123456789":
        candidate = digit * params.digits
        if candidate not in near:
            return candidate
    raise AssertionError(f"every repeated digit is the code of a step within ±{spread}")


def add_token(
    store,
    account: str | None,
    params: TotpParams,
    status: TokenStatus = TokenStatus.ACTIVE,
    *,
    kind: str = "totp",
    hardware: bool = False,
    serial: str | None = None,
    pin: str | None = None,
    drift: int = 0,
) -> str:
    """A token for ``account`` (created when missing; None: unassigned, in the pool), TOTP or
    (``kind="hotp"``) HOTP, app or ``hardware``, with an optional PIN and drift (steps); returns
    the token's serial."""
    from gspws.store.models import TokenType
    from gspws.store.repo import StoreError

    with store.unit() as repo:
        row = None
        if account is not None:
            try:
                row = repo.get_account(account)
            except StoreError:
                row = repo.add_account(account)
        token = repo.add_token(
            row, params, status, serial=serial, kind=TokenType(kind), hardware=hardware
        )
        token.pin_hash = TEST_PASSWORDS.hash(pin) if pin else None
        token.drift = drift
        return token.serial


def zeep_service_with_headers(url: str, headers: dict, soap12: bool = False):
    """Like :func:`zeep_service`, but every HTTP request (WSDL and calls) carries ``headers``."""
    session = requests.Session()
    session.headers.update(headers)
    client = zeep.Client(f"{url}?WSDL", transport=zeep.Transport(session=session))
    return client.bind("TOTP", "TOTPSoap12" if soap12 else "TOTPSoap")


def envelope_ns(soap12: bool) -> str:
    return SOAP12_NS if soap12 else SOAP11_NS


def parse_xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser)


def soap_result(body: bytes) -> tuple[int, str]:
    """``(Code, Message)`` of a raw VerifyTOTPCode response."""
    result = parse_xml(body).find(f".//{{{TNS}}}VerifyTOTPCodeResult")
    assert result is not None, body
    return int(result.findtext(f"{{{TNS}}}Code")), result.findtext(f"{{{TNS}}}Message")


@dataclass
class SoapFault:
    envelope_ns: str
    code: str  # the faultcode / Code/Value QName, resolved: "{ns}local"
    reason: str


def soap_fault(body: bytes) -> SoapFault:
    """The fault of a raw response of either SOAP version (asserts there is exactly one)."""
    root = parse_xml(body)
    ns = etree.QName(root).namespace
    assert etree.QName(root).localname == "Envelope" and ns in (SOAP11_NS, SOAP12_NS), body
    faults = root.findall(f"{{{ns}}}Body/{{{ns}}}Fault")
    assert len(faults) == 1, body
    fault = faults[0]
    if ns == SOAP11_NS:
        code_el, reason = fault.find("faultcode"), fault.findtext("faultstring")
    else:
        code_el = fault.find(f"{{{ns}}}Code/{{{ns}}}Value")
        reason = fault.findtext(f"{{{ns}}}Reason/{{{ns}}}Text")
    prefix, _, local = code_el.text.strip().rpartition(":")
    return SoapFault(ns, f"{{{code_el.nsmap.get(prefix or None)}}}{local}", reason or "")


_INTERNALS = (
    "Traceback",
    'File "',
    "lxml",
    "spyne",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "werkzeug",
    "site-packages",
)
_EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b")


def assert_no_internals(text: str | bytes) -> None:
    """No stack trace, Python exception name or library name leaks to the caller."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for word in _INTERNALS:
        assert word not in text, f"{word!r} in response: {text[:2000]}"
    assert not _EXCEPTION_NAME.search(text), f"exception name in response: {text[:2000]}"


def audit_rows(store) -> list:
    """Every audit event, oldest first, detached from the session."""
    from sqlalchemy import select

    from gspws.store.models import AuditEvent

    with store.unit() as repo:
        rows = list(repo.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        repo.session.expunge_all()
    return rows


# -- the same call from many processes at once (single-use races) --------------------------------

import multiprocessing  # noqa: E402

RACE_CLIENTS = 16
_MP = multiprocessing.get_context("fork")
_RACE_CODE = re.compile(r"<Code>(\d+)</Code>")


def soap12_call(url: str, body: str, service_id: str = SERVICE_ID) -> str:
    """The response text of ``body`` (an operation element) posted in a SOAP 1.2 envelope with
    the ServiceHeader, as an agency's hand-written client does."""
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?><soap12:Envelope '
        'xmlns:soap12="http://www.w3.org/2003/05/soap-envelope"><soap12:Header>'
        '<ServiceHeader xmlns="http://cp.gov.tw/gsp2"><ServiceID>'
        f"{service_id}</ServiceID></ServiceHeader></soap12:Header><soap12:Body>{body}"
        "</soap12:Body></soap12:Envelope>"
    )
    headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
    return requests.post(url, data=envelope.encode(), headers=headers, timeout=30).text


def _fire(url: str, body: str, barrier, results, index: int) -> None:
    try:
        barrier.wait(timeout=60)
        found = _RACE_CODE.search(soap12_call(url, body))
        results.put((index, int(found.group(1)) if found else None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((index, repr(exc)))


def fire_at_once(url: str, body: str, clients: int = RACE_CLIENTS) -> list:
    """``body`` posted by ``clients`` processes released together; their Codes, sorted."""
    barrier, results = _MP.Barrier(clients), _MP.Queue()
    processes = [
        _MP.Process(target=_fire, args=(url, body, barrier, results, i)) for i in range(clients)
    ]
    return sorted(answer for _index, answer in run_together(processes, results))
