"""Who the caller is: IPv6 allowlists, and ``X-Forwarded-*`` believed only from trusted proxies.

Servers listen on ``::1`` or ``127.0.0.1`` (werkzeug in a thread, like conftest's LiveServer; one
test runs the real ``gspws serve`` on ``[::1]``). Addresses from the documentation ranges
(203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32) appear only as header values and allowlist
entries: nothing is ever sent to them.

Verdicts are checked on the wire (0 / 8104 / 8100) and in the audit row, whose ``client_addr``
must be the address the decision was made on.
"""

import dataclasses
import http.client
import ipaddress
import re
import socket
import threading
import time

import pytest
import requests
from sqlalchemy import update
from werkzeug.serving import make_server

from gspws.config import Settings
from gspws.core.clock import FixedClock
from gspws.core.otp import TotpParams
from gspws.store import migrate
from gspws.store.models import Token
from gspws.wsgi import build_store, create_app

from helpers import (
    ACCOUNT,
    SECRET,
    T0,
    ServerProcess,
    audit_rows,
    code_at,
    envelope,
    gspws_env,
    make_settings,
    outcome,
    post,
    seed_demo,
    soap_result,
)

V6_ONLY = "APP0000061"  # allowed from ::1/128 only
V4_ONLY = "APP0000041"  # allowed from 127.0.0.1/32 only
REMOTE = "APP0000077"  # allowed from 203.0.113.0/24 and 2001:db8::/48 only
ALLOWED_V4 = "203.0.113.7"
DENIED_V4 = "198.51.100.9"
ALLOWED_V6 = "2001:db8:0:1::7"
DENIED_V6 = "2001:db8:ffff::9"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1) here")


def trusting(value: str) -> tuple:
    """``GSPWS_TRUSTED_PROXIES=value`` parsed as the server parses it."""
    return Settings.from_env({"GSPWS_TRUSTED_PROXIES": value}).trusted_proxies


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A seeded store (helpers.seed_demo plus the three services above) and a FixedClock, shared
    by the module's tests (each call moves the clock on a step, so codes are always fresh)."""
    tmp = tmp_path_factory.mktemp("addresses")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'gspws.db'}")
    store = build_store(settings)
    migrate.upgrade(store.engine)
    seed_demo(store)
    with store.unit() as repo:
        repo.add_service(V6_ONLY, "IPv6 only", ["::1/128"], ["VerifyTOTPCode"])
        repo.add_service(V4_ONLY, "IPv4 only", ["127.0.0.1/32"], ["VerifyTOTPCode"])
        repo.add_service(
            REMOTE, "Behind a proxy", ["203.0.113.0/24", "2001:db8::/48"], ["VerifyTOTPCode"]
        )
    yield settings, store, FixedClock(T0)
    store.engine.dispose()


class Server:
    """The app on ``host`` (``::1`` or ``127.0.0.1``), werkzeug in a thread."""

    def __init__(self, app, host: str) -> None:
        self._server = make_server(host, 0, app, threaded=True)
        port = self._server.server_port
        # An IPv4-mapped bind (::ffff:127.0.0.1) is reached at 127.0.0.1.
        host = host.removeprefix("::ffff:")
        self.host, self.port = host, port
        self.base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self.url = f"{self.base}/gsp2ws/TOTP.asmx"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture(scope="module")
def serve(world):
    """``serve(host, trusted)``: a server on ``host`` with ``GSPWS_TRUSTED_PROXIES=trusted``
    (one per combination, kept for the module)."""
    settings, store, clock = world
    started: dict[tuple, Server] = {}

    def start(host: str, trusted: str = "") -> Server:
        if (host, trusted) not in started:
            app = create_app(
                dataclasses.replace(settings, trusted_proxies=trusting(trusted)),
                clock=clock,
                store=store,
            )
            started[host, trusted] = Server(app, host)
        return started[host, trusted]

    yield start
    for server in started.values():
        server.stop()


def verify(world, url: str, service_id: str, **headers) -> int:
    """wederlin's valid code (fresh: the clock moves on a step first) from ``service_id``."""
    _settings, store, clock = world
    clock.advance(30)
    response = post(
        url,
        envelope(ACCOUNT, code_at(TotpParams(SECRET), clock()), service_id=service_id),
        **headers,
    )
    assert response.status_code == 200, response.content[:1000]
    code, message = soap_result(response.content)
    assert (code, message) == outcome(code)
    return code


def last_audit(world):
    return audit_rows(world[1])[-1]


# -- IPv6 allowlists -----------------------------------------------------------------------------


@needs_ipv6
def test_ipv6_allowlist_admits_ipv6_caller(world, serve):
    server = serve("::1")
    assert verify(world, server.url, V6_ONLY) == 0
    assert last_audit(world).client_addr == "::1"


@needs_ipv6
def test_ipv4_allowlist_refuses_ipv6_caller(world, serve):
    server = serve("::1")
    assert verify(world, server.url, V4_ONLY) == 8104
    assert last_audit(world).client_addr == "::1"


def test_ipv6_allowlist_refuses_ipv4_caller(world, serve):
    server = serve("127.0.0.1")
    assert verify(world, server.url, V6_ONLY) == 8104
    assert verify(world, server.url, V4_ONLY) == 0


# -- spoofed headers from untrusted peers ------------------------------------------------------


@pytest.mark.parametrize(
    "forwarded",
    [
        ALLOWED_V4,
        ALLOWED_V6,
        f"{ALLOWED_V4}, {ALLOWED_V4}",
        f"{DENIED_V4}, {ALLOWED_V4}",
        "not-an-ip",
    ],
)
def test_untrusted_peer_is_judged_by_its_own_address(world, serve, forwarded):
    """No trusted proxies: X-Forwarded-For (even an allowed or a malformed one) is ignored; the
    peer 127.0.0.1 is outside REMOTE's networks (8104), inside V4_ONLY's (0)."""
    server = serve("127.0.0.1")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": forwarded}) == 8104
    assert last_audit(world).client_addr == "127.0.0.1"
    assert verify(world, server.url, V4_ONLY, **{"X-Forwarded-For": DENIED_V4}) == 0


@needs_ipv6
def test_untrusted_ipv6_peer_is_judged_by_its_own_address(world, serve):
    """127.0.0.1 is trusted, but the peer is ::1: its X-Forwarded-For is ignored."""
    server = serve("::1", trusted="127.0.0.1")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": ALLOWED_V4}) == 8104
    assert last_audit(world).client_addr == "::1"


def test_proxy_trusted_elsewhere_is_not_trusted_here(world, serve):
    server = serve("127.0.0.1", trusted="10.0.0.0/8, 2001:db8:eeee::/48")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": ALLOWED_V4}) == 8104


# -- trusted proxies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forwarded, expected, judged",
    [
        (ALLOWED_V4, 0, ALLOWED_V4),
        (DENIED_V4, 8104, DENIED_V4),
        (ALLOWED_V6, 0, ALLOWED_V6),
        (DENIED_V6, 8104, DENIED_V6),
        (f"::ffff:{ALLOWED_V4}", 0, ALLOWED_V4),  # IPv4-mapped IPv6, recorded as the IPv4 it is
    ],
)
def test_trusted_proxy_forwarded_address_is_used(world, serve, forwarded, expected, judged):
    server = serve("127.0.0.1", trusted="127.0.0.1")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": forwarded}) == expected
    assert ipaddress.ip_address(last_audit(world).client_addr) == ipaddress.ip_address(judged)


def test_trusted_proxy_without_forwarded_header_is_the_caller(world, serve):
    server = serve("127.0.0.1", trusted="127.0.0.1")
    assert verify(world, server.url, V4_ONLY) == 0
    assert verify(world, server.url, REMOTE) == 8104


@pytest.mark.parametrize(
    "chain, expected",
    [
        (f"{ALLOWED_V4}, {DENIED_V4}", 8104),  # spoofed allowed first, real last: refused
        (f"{DENIED_V4}, {ALLOWED_V4}", 0),  # the right-most untrusted entry counts
        (f"{ALLOWED_V4},{DENIED_V4}", 8104),  # no space after the comma
        (f"{ALLOWED_V6}, {DENIED_V6}", 8104),
        (f"{DENIED_V4}, {ALLOWED_V4}, 10.1.2.3", 0),  # a second, trusted proxy hop is skipped
        (f"{ALLOWED_V4}, {DENIED_V4}, 10.1.2.3", 8104),
    ],
)
def test_trusted_proxy_chain_uses_rightmost_untrusted_entry(world, serve, chain, expected):
    server = serve("127.0.0.1", trusted="127.0.0.1, 10.0.0.0/8")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": chain}) == expected


@needs_ipv6
def test_trusted_ipv6_proxy(world, serve):
    server = serve("::1", trusted="::1")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": ALLOWED_V6}) == 0
    assert (
        verify(world, server.url, REMOTE, **{"X-Forwarded-For": f"{ALLOWED_V6}, {DENIED_V4}"})
        == 8104
    )


@needs_ipv6
def test_ipv4_mapped_peer_is_judged_as_ipv4(world, serve):
    """A dual-stack server (``gspws serve --host ::``) sees IPv4 peers as ::ffff:a.b.c.d. Such a
    peer is the IPv4 address for the allowlists (this server is bound to ::ffff:127.0.0.1, so the
    peer 127.0.0.1 arrives as ::ffff:127.0.0.1)."""
    server = serve("::ffff:127.0.0.1")
    assert verify(world, server.url, V4_ONLY) == 0
    assert verify(world, server.url, V6_ONLY) == 8104


@needs_ipv6
def test_trusted_proxy_seen_as_ipv4_mapped_address_is_trusted(world, serve):
    """The same peer must also be the IPv4 address for GSPWS_TRUSTED_PROXIES: a proxy at
    127.0.0.1 in front of a dual-stack gspws is trusted, so its X-Forwarded-For counts."""
    server = serve("::ffff:127.0.0.1", trusted="127.0.0.1")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": ALLOWED_V4}) == 0
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": DENIED_V4}) == 8104


@pytest.mark.parametrize(
    "forwarded",
    [
        "not-an-ip",
        f"{ALLOWED_V4}, garbage",
        "unknown",
        f"{ALLOWED_V4}:4711",
        f"[{ALLOWED_V6}]",
        "300.1.2.3",
        f"{ALLOWED_V4},",
        f"{ALLOWED_V4};{DENIED_V4}",
    ],
)
def test_trusted_proxy_malformed_forwarded_value_is_8100(world, serve, forwarded):
    """The caller's address cannot be established: 8100 (README), before any token is looked at,
    even for a service the proxy itself would be allowed for."""
    server = serve("127.0.0.1", trusted="127.0.0.1")
    assert verify(world, server.url, REMOTE, **{"X-Forwarded-For": forwarded}) == 8100
    assert verify(world, server.url, V4_ONLY, **{"X-Forwarded-For": forwarded}) == 8100


def _raw_post(server: Server, headers: list[tuple[str, str]], service_id: str, code: str) -> int:
    """POST with header lines exactly as given (repeats and odd names included)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        body = envelope(ACCOUNT, code, service_id=service_id)
        conn.putrequest("POST", "/gsp2ws/TOTP.asmx")
        for name, value in [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *headers,
        ]:
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        answer = response.read()
        assert response.status == 200, answer[:1000]
        return soap_result(answer)[0]
    finally:
        conn.close()


def test_repeated_forwarded_headers_from_trusted_proxy(world, serve):
    """A client's own X-Forwarded-For line plus the proxy's: the lines are one list, and the
    proxy's (last) entry is the one that counts."""
    settings, store, clock = world
    server = serve("127.0.0.1", trusted="127.0.0.1")
    clock.advance(30)
    code = code_at(TotpParams(SECRET), clock())
    assert (
        _raw_post(
            server, [("X-Forwarded-For", ALLOWED_V4), ("X-Forwarded-For", DENIED_V4)], REMOTE, code
        )
        == 8104
    )
    clock.advance(30)
    code = code_at(TotpParams(SECRET), clock())
    assert (
        _raw_post(
            server, [("X-Forwarded-For", DENIED_V4), ("X-Forwarded-For", ALLOWED_V4)], REMOTE, code
        )
        == 0
    )


def test_underscore_header_cannot_stand_in_for_x_forwarded_for(world, serve):
    """``X_Forwarded_For`` maps to the same WSGI key as ``X-Forwarded-For``; a server that let it
    through would let a client override what the proxy wrote. It must not count."""
    settings, store, clock = world
    server = serve("127.0.0.1", trusted="127.0.0.1")
    clock.advance(30)
    code = code_at(TotpParams(SECRET), clock())
    assert (
        _raw_post(
            server, [("X_Forwarded_For", ALLOWED_V4), ("X-Forwarded-For", DENIED_V4)], REMOTE, code
        )
        == 8104
    )


# -- X-Forwarded-Proto / -Host in the WSDL -------------------------------------------------------

ADDRESS = re.compile(r'<soap12?:address location="([^"]+)"')
SPOOF = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


def _wsdl_addresses(url: str, **headers) -> set[str]:
    response = requests.get(f"{url}?WSDL", headers=headers, timeout=10)
    assert response.status_code == 200
    found = set(ADDRESS.findall(response.text))
    assert len(found) == 1, found
    return found


def test_wsdl_address_ignores_forwarded_host_from_untrusted_peer(world, serve):
    server = serve("127.0.0.1")
    assert _wsdl_addresses(server.url, **SPOOF) == {server.url}


def test_wsdl_address_uses_forwarded_host_from_trusted_proxy(world, serve):
    server = serve("127.0.0.1", trusted="127.0.0.1")
    assert _wsdl_addresses(server.url, **SPOOF) == {"https://evil.example/gsp2ws/TOTP.asmx"}


# -- the production server on [::1] --------------------------------------------------------------


class ServerOn(ServerProcess):
    """helpers.ServerProcess bound to another address (it binds 127.0.0.1)."""

    def __init__(self, host: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._args[self._args.index("--host") + 1] = host
        self.url = f"http://[{host}]:{self.port}/gsp2ws/TOTP.asmx"


@pytest.fixture(scope="module")
def gunicorn_v6(world, tmp_path_factory):
    """The real ``gspws serve`` (gunicorn fills in REMOTE_ADDR its own way) on [::1], on the
    module's store, no trusted proxies."""
    if not _ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1) here")
    settings, store, clock = world
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = gspws_env(
        tmp,
        settings.secret_key,
        GSPWS_RATE_LIMIT_SERVICE="",
        GSPWS_RATE_LIMIT_ACCOUNT="",
        GSPWS_REGISTRY_REFRESH="0",
    )
    with ServerOn("::1", settings.effective_database_url, env, tmp / "server.log") as server:
        yield server


def real_time_call(store, url: str, service_id: str, **headers) -> int:
    """wederlin's current code by the system clock (the production server's only clock), made
    unused first."""
    with store.unit() as repo:
        repo.session.execute(update(Token).values(last_step=None, failures=0))
    response = post(
        url,
        envelope(ACCOUNT, code_at(TotpParams(SECRET), time.time()), service_id=service_id),
        **headers,
    )
    assert response.status_code == 200, response.content[:1000]
    return soap_result(response.content)[0]


def test_gunicorn_on_ipv6_honours_allowlists(world, gunicorn_v6):
    store = world[1]
    assert real_time_call(store, gunicorn_v6.url, V6_ONLY) == 0
    assert last_audit(world).client_addr == "::1"
    assert real_time_call(store, gunicorn_v6.url, V4_ONLY) == 8104
    assert real_time_call(store, gunicorn_v6.url, REMOTE, **{"X-Forwarded-For": ALLOWED_V6}) == 8104


def test_gunicorn_wsdl_address_ignores_forwarded_proto_from_untrusted_peer(gunicorn_v6):
    """gunicorn by itself believes X-Forwarded-Proto from loopback (its forwarded_allow_ips
    default) and sets wsgi.url_scheme; the contract says X-Forwarded-* count only from
    GSPWS_TRUSTED_PROXIES, which is empty here."""
    assert _wsdl_addresses(gunicorn_v6.url, **SPOOF) == {gunicorn_v6.url}
