"""Bad input over HTTP: every case of ``tests/corpus`` against real servers.

Each case (``tests/corpus/cases.json``; the files are raw request bodies, made by
``tests/corpus/generate.py``) is POSTed to a server on a loopback port, and the test checks:

* the answer is the manifest's: a SOAP Fault of the request's version with the expected code (and
  HTTP status), or a normal 200 CP2Response with the expected return code and its exact message;
  no stack trace or library name in it;
* nothing was written to the store for a fault (audit_events count and every token row compared
  before and after), and exactly one audit row for a return code;
* no connection reached the loopback port that the external-entity cases point at;
* the server keeps serving: a valid call right after answers 0.

Servers (module-scoped, so the corpus runs against one server of each kind):
``werkzeug-sqlite`` and ``werkzeug-postgresql`` are the conftest ``LiveServer`` (the
``live_server`` fixture's server) with the FixedClock; ``gunicorn-sqlite`` is the real
``gspws serve`` process (gunicorn parses requests differently), on the system clock: there a
fresh valid code is had by clearing the tokens' last accepted step in the store before a call,
where the werkzeug servers advance their FixedClock by 30 s.

Transport-level cases (a Content-Length far over the limit with little body sent, chunked bodies,
a body cut short by the client, the unread rest of a refused body) are separate tests below, on
the same servers.

No test here measures how long an answer took (a loaded machine makes such limits flaky): the
tests assert what is answered; a refusal that waited for a body the client never sends would not
be answered within the sockets' generous deadlines and fails that way.
"""

import dataclasses
import json
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select, update

from gspws.core.clock import FixedClock
from gspws.core.otp import TotpParams
from gspws.store import migrate
from gspws.store.models import AuditEvent, Token
from gspws.wsgi import build_store, create_app

from helpers import (
    ACCOUNT,
    SECRET,
    SOAP11_NS,
    SOAP12_NS,
    T0,
    TESTS,
    LiveServer,
    ServerProcess,
    add_token,
    assert_no_internals,
    code_at,
    envelope,
    gspws_env,
    make_settings,
    outcome,
    pg_database,
    post,
    seed_demo,
    soap_fault,
    soap_result,
)

CORPUS = TESTS / "corpus"
MANIFEST = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]
SECRETS = {ACCOUNT: SECRET, **MANIFEST["accounts"]}
VERSION = {"1.1": (SOAP11_NS, "text/xml"), "1.2": (SOAP12_NS, "application/soap+xml")}
DEFAULT_STATUS = {"fault": 500, "code": 200}


def seed(store) -> None:
    """helpers.seed_demo (APP0001931 from loopback, wederlin) plus the corpus's accounts."""
    seed_demo(store)
    for account, secret in MANIFEST["accounts"].items():
        add_token(store, account, TotpParams(secret))


@dataclasses.dataclass
class Target:
    """One server kind under test: its store, its clock and how to get a server per settings."""

    name: str
    store: object
    now: Callable[[], float]
    fresh: Callable[[], None]  # after this, the code of the current step is unused
    start: Callable[[dict], str]  # settings overrides -> URL of a server with them
    _urls: dict = dataclasses.field(default_factory=dict)

    def url(self, overrides: dict | None = None) -> str:
        key = json.dumps(overrides or {}, sort_keys=True)
        if key not in self._urls:
            self._urls[key] = self.start(overrides or {})
        return self._urls[key]


def _werkzeug_target(name, tmp, database_url):
    settings = make_settings(tmp, database_url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed(store)
    clock = FixedClock(T0)
    servers = []

    def start(overrides: dict) -> str:
        app = create_app(dataclasses.replace(settings, **overrides), clock=clock, store=store)
        servers.append(LiveServer(app))
        return servers[-1].url

    yield Target(name, store, clock, lambda: clock.advance(30), start)
    for server in servers:
        server.stop()
    store.engine.dispose()


def _reset_steps(store) -> None:
    with store.unit() as repo:
        repo.session.execute(update(Token).values(last_step=None, failures=0))


_ENV = {"max_request_bytes": "GSPWS_MAX_REQUEST_BYTES"}


def _gunicorn_target(name, tmp):
    database_url = f"sqlite:///{tmp / 'gspws.db'}"
    settings = make_settings(tmp, database_url)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed(store)
    servers = []

    def start(overrides: dict) -> str:
        extra = {_ENV[key]: str(value) for key, value in overrides.items()}
        env = gspws_env(
            tmp,
            settings.secret_key,
            GSPWS_REGISTRY_REFRESH="0",
            GSPWS_RATE_LIMIT_SERVICE="",
            GSPWS_RATE_LIMIT_ACCOUNT="",
            **extra,
        )
        servers.append(ServerProcess(database_url, env, tmp / f"server{len(servers)}.log"))
        return servers[-1].start().url

    yield Target(name, store, time.time, lambda: _reset_steps(store), start)
    for server in servers:
        assert server.stop() == 0, server.log_path.read_text(errors="replace")[-3000:]
    store.engine.dispose()


@pytest.fixture(
    scope="module", params=["werkzeug-sqlite", "werkzeug-postgresql", "gunicorn-sqlite"]
)
def target(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "werkzeug-sqlite":
        yield from _werkzeug_target(request.param, tmp, f"sqlite:///{tmp / 'gspws.db'}")
    elif request.param == "werkzeug-postgresql":
        for url in pg_database():
            yield from _werkzeug_target(request.param, tmp, url)
    else:
        yield from _gunicorn_target(request.param, tmp)


class Listener:
    """A loopback port nothing should connect to (the external-entity cases point at it)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        count = 0
        for _ in range(100):
            try:
                conn, _addr = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1
        return count


@pytest.fixture(scope="module")
def listener():
    watched = Listener()
    yield watched
    watched.sock.close()


def render(case: dict, now: float, xxe_port: int) -> bytes:
    body = (CORPUS / case["file"]).read_bytes()
    template = case.get("template")
    if template:
        encoding = template["encoding"]
        values = {"xxe_port": str(xxe_port)}
        if "account" in template:
            values["code"] = code_at(TotpParams(SECRETS[template["account"]]), now)
        for name, value in values.items():
            body = body.replace(f"{{{name}}}".encode(encoding), value.encode(encoding))
    return body


def store_state(store) -> tuple:
    """What a fault must not change: the audit row count and every token's mutable state."""
    with store.unit() as repo:
        audits = repo.session.scalar(select(func.count()).select_from(AuditEvent))
        tokens = repo.session.execute(
            select(
                Token.id, Token.status, Token.failures, Token.last_step, Token.locked_at
            ).order_by(Token.id)
        ).all()
    return audits, [tuple(row) for row in tokens]


def check_answer(case: dict, response: requests.Response) -> None:
    """The response is the case's expected outcome, in the request's SOAP version."""
    kind, _, value = case["expect"].partition(":")
    status = case.get("status", DEFAULT_STATUS[kind])
    namespace, mimetype = VERSION[case["soap"]]
    where = f"{case['name']}: HTTP {response.status_code} {response.content[:1500]!r}"
    assert response.status_code == status, where
    assert response.headers.get("Content-Type", "").split(";")[0].strip() == mimetype, where
    assert_no_internals(response.content)
    for forbidden in case.get("forbidden", []):
        assert forbidden.encode() not in response.content, where
    if kind == "fault":
        fault = soap_fault(response.content)
        assert fault.envelope_ns == namespace, where
        assert fault.code == f"{{{namespace}}}{value}", where
        assert fault.reason.strip(), where
    else:
        assert soap_result(response.content) == outcome(int(value)), where
        assert f"<Code>{value}</Code>".encode() in response.content, where


def check_keeps_serving(target: Target, url: str) -> None:
    target.fresh()
    code = code_at(TotpParams(SECRET), target.now())
    response = post(url, envelope(ACCOUNT, code))
    assert response.status_code == 200, response.content[:1000]
    assert soap_result(response.content) == outcome(0)


def send(url: str, case: dict, body: bytes) -> requests.Response:
    headers = {}
    if case["content_type"] is not None:
        headers["Content-Type"] = case["content_type"]
    if case["soap"] == "1.1":
        headers["SOAPAction"] = '"http://cp.gov.tw/gsp2/VerifyTOTPCode"'
    return requests.post(url, data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(target, listener, case):
    """Every check runs even when an earlier one fails (a wrong answer must not hide a server
    that stopped serving, or a store write); the test then fails with all of them."""
    url = target.url(case.get("settings"))
    target.fresh()
    body = render(case, target.now(), listener.port)
    before = store_state(target.store)
    problems = []

    def check(what: str, condition: Callable[[], None]) -> None:
        try:
            condition()
        except (AssertionError, requests.RequestException) as exc:
            problems.append(f"{what}: {exc}")

    response = None
    try:
        response = send(url, case, body)
    except requests.RequestException as exc:
        problems.append(f"no HTTP answer: {exc!r}")
    if response is not None:
        check("answer", lambda: check_answer(case, response))
    after = store_state(target.store)
    if case["expect"].startswith("fault:"):
        check("store", lambda: _same(after, before, "a fault wrote to the store"))
    elif response is not None and response.status_code == 200:
        check("audit", lambda: _same(after[0], before[0] + 1, "not audited exactly once"))
    check(
        "network",
        lambda: _same(listener.connections(), 0, "the server connected to the external-entity URL"),
    )
    check("keeps serving", lambda: check_keeps_serving(target, url))
    assert not problems, f"{case['name']}:\n" + "\n".join(problems)


def _same(found, expected, message: str) -> None:
    assert found == expected, f"{message}: {found!r} != {expected!r}"


def test_corpus_manifest_is_complete():
    """Every corpus body is in the manifest and every manifest entry has its file."""
    files = {p.name for p in CORPUS.iterdir() if p.suffix == ".xml"}
    listed = [c["file"] for c in CASES]
    assert len(listed) == len(set(listed))
    assert files == set(listed)
    for case in CASES:
        assert case["soap"] in VERSION
        kind, _, value = case["expect"].partition(":")
        assert kind in DEFAULT_STATUS and value, case
    for soap in ("1.1", "1.2"):
        outcomes = {c["expect"] for c in CASES if c["soap"] == soap}
        assert {"code:0", "fault:VersionMismatch"} <= outcomes


# -- transport level ---------------------------------------------------------------------------


def _address(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname, parts.port, parts.path


def _read_response(sock: socket.socket, deadline: float) -> tuple[int, dict, bytes]:
    """Status, headers and body of one HTTP response (Content-Length framed), bounded in time."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a full response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the full response body"
        body += chunk
    return status, headers, body[:length]


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
def test_oversize_is_answered_before_the_body_is_read(target, soap12):
    """Content-Length: 10,000,000 and only 1 KiB sent: the 413 Fault arrives without the
    rest of the body (the client never sends it)."""
    url = target.url()
    host, port, path = _address(url)
    body_start = envelope(ACCOUNT, "000000", soap12=soap12)[:1024]
    content_type = "application/soap+xml" if soap12 else "text/xml"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: {content_type}; charset=utf-8\r\nContent-Length: 10000000\r\n\r\n"
    )
    before = store_state(target.store)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(head.encode() + body_start)
        status, headers, body = _read_response(sock, time.monotonic() + 10)
    assert status == 413, body
    assert headers["content-type"].startswith(content_type)
    namespace = SOAP12_NS if soap12 else SOAP11_NS
    assert soap_fault(body).code == f"{{{namespace}}}{'Sender' if soap12 else 'Client'}"
    assert_no_internals(body)
    assert store_state(target.store) == before
    check_keeps_serving(target, url)


def test_chunked_body_over_the_limit_is_refused(target):
    """No Content-Length (chunked transfer): the limit still holds, read up to limit + 1 bytes."""
    url = target.url()
    piece = b" " * 8192
    chunks = [envelope(ACCOUNT, "000000")[:200]] + [piece] * 10  # ~82 KB in all
    before = store_state(target.store)
    response = requests.post(
        url, data=iter(chunks), timeout=10, headers={"Content-Type": "text/xml; charset=utf-8"}
    )
    assert response.status_code == 413, response.content[:1000]
    assert soap_fault(response.content).code == f"{{{SOAP11_NS}}}Client"
    assert store_state(target.store) == before
    check_keeps_serving(target, url)


def test_chunked_body_within_the_limit_is_served(target):
    url = target.url()
    target.fresh()
    body = envelope(ACCOUNT, code_at(TotpParams(SECRET), target.now()))
    chunks = [body[i : i + 100] for i in range(0, len(body), 100)]
    response = requests.post(
        url, data=iter(chunks), timeout=10, headers={"Content-Type": "text/xml; charset=utf-8"}
    )
    assert response.status_code == 200, response.content[:1000]
    assert soap_result(response.content) == outcome(0)


def test_body_cut_short_by_the_client(target):
    """Content-Length announces a whole envelope; the client sends half and half-closes: an
    answer (a SOAP Fault, or a plain 400 from the HTTP server), no store write, and the server
    serves on."""
    url = target.url()
    host, port, path = _address(url)
    whole = envelope(ACCOUNT, "000000")
    body = whole[: len(whole) // 2]
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml; "
        f"charset=utf-8\r\nContent-Length: {len(whole)}\r\nConnection: close\r\n\r\n"
    )
    before = store_state(target.store)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        status, headers, answer = _read_response(sock, time.monotonic() + 10)
    assert_no_internals(answer)
    if status == 500:
        assert soap_fault(answer).code == f"{{{SOAP11_NS}}}Client"
    else:
        assert status == 400, answer
    assert store_state(target.store) == before
    check_keeps_serving(target, url)


def test_unread_oversize_body_is_not_parsed_as_a_request(target):
    """A 413 is answered without reading the body; the unread bytes (here a complete, valid HTTP
    request of their own) must never be taken for the next request on the connection."""
    url = target.url()
    host, port, path = _address(url)
    target.fresh()
    inner = envelope("smuggled", code_at(TotpParams(SECRET), target.now()))
    smuggled = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(inner)}\r\n\r\n"
    ).encode() + inner
    body = smuggled + b" " * (70000 - len(smuggled))
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = store_state(target.store)
    answers = b""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(head + body)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            answers += chunk
    status_lines = [line for line in answers.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    assert status_lines and status_lines[0].split()[1] == b"413", answers[:2000]
    assert len(status_lines) == 1, f"the unread body was served as a request: {status_lines}"
    assert store_state(target.store) == before
    check_keeps_serving(target, url)
