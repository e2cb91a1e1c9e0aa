"""Real .NET and Java stubs call every operation of TOTP.asmx on a live server.

The kit's samples (``clients/dotnet/TotpClient.cs``, ``clients/java/TotpClient.java``) are
compiled with stubs generated from the served WSDL by the real toolchains, once per test session
(``clients/dotnet/build.sh``: Mono's ``wsdl`` and ``mcs``; ``clients/java/build.sh``: Axis 1.4's
``WSDL2Java`` and ``javac``). The .NET stub runs over SOAP 1.1 and, generated with
``/protocol:SOAP12``, over SOAP 1.2. Axis 1.4 speaks SOAP 1.1 only: its WSDL2Java generates no
port for the WSDL's SOAP 1.2 binding. A toolchain that is missing skips its tests, saying what
to install (``.ci/run`` installs them).

A byte relay in front of the server keeps each request exactly as the stub wrote it (header order
and spelling, HTTP version, body), which WSGI does not preserve. Every ``VerifyTOTPCode`` request
must be what ``tests/envelope_corpus.py`` writes for that stub's family: the replay corpus's .NET
and Axis envelopes are these captures, and this test keeps them true.
"""

import base64
import fcntl
import queue
import shutil
import socket
import socketserver
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gspws.core.otp import TotpParams
from gspws.replay import soapxml
from gspws.replay.messages import HttpRequest, parse_request

from binding import add_account, code, grant_binding
from envelope_corpus import FAMILIES, HOST, NO_HEADER, NO_SERVICE_ID
from helpers import CONTRACT_CODES, REPO, SOAP11_NS, SOAP12_NS, TNS, wrong_code

CLIENTS = REPO / "clients"
BOB = "bob"
DEVICE = "小明的手機"  # a device name beyond ASCII, through both stubs' XML and UTF-8 handling
TIMEOUT = 120  # seconds, for one answer of a stub and for one build


def _axis_classpath() -> str:
    return subprocess.run(
        [CLIENTS / "java" / "build.sh", "--classpath"],
        text=True,
        capture_output=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.strip()


def _mono_missing() -> str | None:
    if not all(shutil.which(tool) for tool in ("wsdl", "mcs", "mono")):
        return "Mono's wsdl, mcs and mono are not installed (Debian: apt-get install mono-devel)"
    return None


def _axis_missing() -> str | None:
    if not (shutil.which("java") and shutil.which("javac")):
        return "a JDK is not installed (Debian: apt-get install default-jdk-headless)"
    jars = [jar for jar in _axis_classpath().split(":") if "*" not in jar]
    if missing := [jar for jar in jars if not Path(jar).is_file()]:
        return f"Axis 1.4 is not installed (Debian: apt-get install libaxis-java): {missing}"
    return None


def _mono_run(out: Path) -> list[str]:
    return ["mono", str(out / "TotpClient.exe")]


def _java_run(out: Path) -> list[str]:
    return ["java", "-cp", f"{out}:{_axis_classpath()}", "TotpClient"]


@dataclass(frozen=True)
class Stack:
    """A stub toolchain; ``name`` is its family in tests/envelope_corpus.py."""

    name: str
    missing: Callable[[], str | None]  # why it cannot run here, or None
    build: tuple[str, ...]  # clients/DIR/build.sh, then its options after URL OUT_DIR
    run: Callable[[Path], list[str]]  # the client's command line, given the build directory
    soap12: bool = False

    def command(self, out: Path, *args: str) -> list[str]:
        return [*self.run(out), *args]

    @property
    def family(self):
        return next(family for family in FAMILIES if family.name == self.name)


STACKS = {
    stack.name: stack
    for stack in (
        Stack("dotnet", _mono_missing, ("dotnet/build.sh",), _mono_run),
        Stack("dotnet12", _mono_missing, ("dotnet/build.sh", "--soap12"), _mono_run, soap12=True),
        Stack("axis", _axis_missing, ("java/build.sh",), _java_run),
    )
}


@pytest.fixture
def database_url(sqlite_url):
    """The stubs test the wire, not the store: SQLite only."""
    return sqlite_url


@pytest.fixture(scope="session")
def builds(tmp_path_factory, worker_id):
    """``build(stack, url)``: the directory of the stack's compiled client, built once a session
    from the WSDL served at ``url`` (the first test's server; the stub's address is set at run
    time). Once for all of the session's pytest-xdist workers, in their shared temporary
    directory, the first to come building under a lock the others wait on: the three builds
    cost ~5 s of CPU (Axis's WSDL2Java and javac most), which each worker that ran a stub's test
    spent again."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base

    def build(stack: Stack, url: str) -> Path:
        out, failed = shared / f"stub-{stack.name}", shared / f"stub-{stack.name}.failed"
        with open(shared / f"stub-{stack.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
            if not out.exists() and not failed.exists():
                script, *options = stack.build
                (building := shared / f"stub-{stack.name}.building").mkdir(exist_ok=True)
                try:
                    result = subprocess.run(
                        [CLIENTS / script, url, building, *options],
                        capture_output=True,
                        text=True,
                        timeout=5 * TIMEOUT,
                    )
                except subprocess.TimeoutExpired as exc:
                    failed.write_text(str(exc))  # once: the other tests fail at once too
                    raise
                if result.returncode == 0:
                    building.rename(out)
                else:
                    failed.write_text(result.stderr)
        assert not failed.exists(), f"building {stack.name} failed:\n{failed.read_text()}"
        return out

    return build


@pytest.fixture(params=list(STACKS))
def stack(request) -> Stack:
    stack = STACKS[request.param]
    reason = stack.missing()
    if reason:
        pytest.skip(f"{stack.name} stub not run: {reason}")
    return stack


class Relay(socketserver.ThreadingTCPServer):
    """A TCP relay to ``upstream_port`` keeping every request as the client sent it, in the order
    they arrived. A request is kept before its last byte is passed on, so it is in ``requests``
    before the server can answer it.

    A socketserver, so that :meth:`close` stops accepting (``shutdown``) before the listening
    socket is closed and waits for the connections' threads: a socket closed under a thread
    still using it frees its descriptor number for the next test's sockets."""

    daemon_threads = False  # server_close() joins the connections' threads
    allow_reuse_address = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Connection)
        self.upstream = ("127.0.0.1", upstream_port)
        self.host = f"127.0.0.1:{self.server_address[1]}"
        self.requests: list[HttpRequest] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,))
        self._thread.start()

    def keep(self, pending: bytes) -> bytes:
        """Move each whole request at the start of ``pending`` to ``requests``; the rest."""
        while (end := pending.find(b"\r\n\r\n")) >= 0:
            head = parse_request(pending[: end + 4])
            assert head.header("Transfer-Encoding") is None, head  # the stubs send a length
            whole = end + 4 + int(head.header("Content-Length") or 0)
            if len(pending) < whole:
                break
            with self._lock:
                self.requests.append(replace(head, body=pending[end + 4 : whole]))
            pending = pending[whole:]
        return pending

    def close(self) -> None:
        self.shutdown()
        self._thread.join(TIMEOUT)
        self.server_close()


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: its bytes to the server (kept), the server's back."""

    def handle(self) -> None:
        with socket.create_connection(self.server.upstream, timeout=TIMEOUT) as upstream:
            back = threading.Thread(target=_pump, args=(upstream, self.request, None))
            back.start()
            _pump(self.request, upstream, self.server.keep)
            back.join(TIMEOUT)


def _pump(source: socket.socket, sink: socket.socket, keep) -> None:
    """Copy ``source`` to ``sink`` until the end of input, then end ``sink``'s output."""
    pending = b""
    try:
        while data := source.recv(65536):
            if keep:
                pending = keep(pending + data)
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class StubProcess:
    """A client in ``--calls`` mode: one call a line in, one answer a line out (bounded)."""

    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=REPO,
        )
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def call(self, *fields: str) -> dict:
        """Send one call; its answer as a dict: Code as int, Device as a list of tuples."""
        self.proc.stdin.write("\t".join(fields) + "\n")
        self.proc.stdin.flush()
        try:
            line = self._lines.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no answer to {fields} within {TIMEOUT} s") from None
        assert line is not None, f"the stub exited: {self.stop()}"
        answer: dict = {}
        for field in line.rstrip("\n").split("\t"):
            key, _, value = field.partition("=")
            if key == "Device":
                answer.setdefault("Device", []).append(tuple(value.split("|")))
            else:
                answer[key] = int(value) if key == "Code" else value
        return answer

    def stop(self) -> str:
        """Close its input, wait for it (killed when stuck); its error output."""
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return self.proc.stderr.read()


def answer(code: int, **result) -> dict:
    return {"Code": code, "Message": CONTRACT_CODES[code], **result}


def header_line(service_id) -> tuple[str, ...]:
    """The --calls line that makes the stub send ``service_id`` as envelope_corpus spells it."""
    if service_id is NO_HEADER:
        return ("NoServiceHeader",)
    return ("ServiceID",) if service_id is NO_SERVICE_ID else ("ServiceID", service_id)


@pytest.fixture
def agency(stack, builds, live_server, store, demo):
    """The stack's client in --calls mode behind a relay, as an agency granted every operation;
    account ``bob`` has no token. Yields (stub, relay); the stub is stopped afterwards."""
    grant_binding(store)
    add_account(store, BOB)
    out = builds(stack, live_server.url)
    relay = Relay(int(live_server.base.rsplit(":", 1)[1]))
    stub = StubProcess(
        stack.command(out, f"http://{relay.host}{stack.family.path}", demo.service_id, "--calls")
    )
    try:
        yield stub, relay
    finally:
        errors = stub.stop()
        relay.close()
    assert stub.proc.returncode == 0, errors


def test_every_operation_through_the_stub(stack, agency, demo, clock):
    stub, relay = agency
    verified = []  # (ServiceID as envelope_corpus spells it, account, code) of each Verify call

    def verify(account: str, totp: str, service_id=demo.service_id) -> dict:
        verified.append((service_id, account, totp))
        return stub.call("VerifyTOTPCode", account, totp)

    now = demo.code(clock())
    assert verify(demo.account, now) == answer(0)
    assert verify(demo.account, now) == answer(9999)
    assert stub.call("GetTOTPStatus", BOB) == answer(0, Enabled="false")

    began = stub.call("BeginTOTPBinding", BOB, DEVICE)
    assert answer(0).items() <= began.items()
    assert began["OtpauthUri"].startswith(f"otpauth://totp/gspws:{BOB}?")
    assert base64.b64decode(began["QrPng"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert began["Serial"].startswith("TOTP")
    key = parse_qs(urlsplit(began["OtpauthUri"]).query)["secret"][0]
    wrong = wrong_code(TotpParams(key), clock())
    assert stub.call("ConfirmTOTPBinding", BOB, wrong) == answer(9999)
    assert stub.call("ConfirmTOTPBinding", BOB, code(key, clock())) == answer(0)
    clock.advance(30)
    assert verify(BOB, code(key, clock())) == answer(0)
    assert stub.call("GetTOTPStatus", BOB) == answer(
        0, Enabled="true", Device=[(began["Serial"], DEVICE, "", "30", "false")]
    )

    clock.advance(30)
    assert stub.call("DisableTOTP", BOB, wrong) == answer(9999)
    assert stub.call("DisableTOTP", BOB, code(key, clock())) == answer(0)
    assert stub.call("GetTOTPStatus", BOB) == answer(0, Enabled="false")
    link = stub.call("CreateBindingLink", BOB)
    assert answer(0).items() <= link.items()
    assert link["Result"].startswith("http://127.0.0.1:8000/owin/manage/Link/")  # PUBLIC_URL

    for operation in ("GetTOTPStatus", "CreateBindingLink"):
        assert stub.call(operation, "nobody") == answer(3001)  # no Result with it
    assert stub.call("BeginTOTPBinding", BOB, "x" * 101) == answer(9999)
    assert stub.call("DisableTOTP", BOB, now) == answer(3001)  # no device left

    clock.advance(30)
    now = demo.code(clock())
    for service_id, expected in (
        ("APP12345", 1),
        ("APP9999999", 8101),
        ("", 8102),
        (NO_SERVICE_ID, 8102),
        (NO_HEADER, 8102),
    ):
        assert stub.call(*header_line(service_id))
        assert verify(demo.account, now, service_id) == answer(expected)
    assert stub.call(*header_line(demo.service_id))
    assert verify(demo.account, now) == answer(0)

    _assert_requests_are_the_corpus_shapes(stack, relay, verified)


def _assert_requests_are_the_corpus_shapes(stack: Stack, relay: Relay, verified: list) -> None:
    """Each request names its operation as its SOAP version does; each VerifyTOTPCode request is
    byte for byte what envelope_corpus writes for the stack's family (at the relay's address)."""
    family = stack.family
    envelope = SOAP12_NS if stack.soap12 else SOAP11_NS
    captured, expected = [], []
    verifications = iter(verified)
    for number, request in enumerate(relay.requests):
        root = soapxml.parse(request.body)
        operation = soapxml.operation(root)
        action = f'"{TNS}/{operation}"'
        if stack.soap12:
            assert request.header("Content-Type").endswith(f"; action={action}"), request
        else:
            assert request.header("SOAPAction") == action, request
        assert root.tag == f"{{{envelope}}}Envelope", request
        if operation != "VerifyTOTPCode":
            continue
        headers, body = family.write(*next(verifications))
        # The corpus holds a process's first requests: once a server has answered "Connection:
        # close" (werkzeug and gunicorn do), Mono stops writing "Connection: keep-alive".
        headers = tuple(
            (
                name,
                {"Host": relay.host, "Content-Length": str(len(body))}.get(name, value)
                if value in (HOST, "*")
                else value,
            )
            for name, value in headers
            if not (number > 0 and name == "Connection")
        )
        captured.append(request)
        expected.append(HttpRequest(headers, body, "POST", family.path, family.http))
    assert len(captured) == len(verified)
    for got, want in zip(captured, expected, strict=True):
        assert got.to_bytes() == want.to_bytes(), (
            "the stub sent (then the corpus writes):\n"
            f"{got.to_bytes().decode()}\n\n{want.to_bytes().decode()}"
        )


@pytest.mark.parametrize("replayed", [False, True], ids=["first", "replayed"])
def test_the_sample_verifies_from_the_command_line(
    stack, builds, live_server, demo, clock, replayed
):
    command = stack.command(
        builds(stack, live_server.url),
        live_server.url,
        demo.service_id,
        demo.account,
        demo.code(clock()),
    )
    run = [
        subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO)
        for _ in range(2 if replayed else 1)
    ][-1]
    expected = (
        (1, "Code: 9999\nMessage: 動態密碼驗證不通過\n")
        if replayed
        else (0, "Code: 0\nMessage: 動態密碼驗證通過\n")
    )
    assert (run.returncode, run.stdout) == expected, run.stderr


def test_the_sample_exits_2_when_the_call_fails(stack, builds, live_server):
    command = stack.command(
        builds(stack, live_server.url),
        "http://127.0.0.1:9/gsp2ws/TOTP.asmx",
        "APP0000001",
        "demo",
        "123456",
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO)
    assert done.returncode == 2 and "call failed" in done.stderr, done
