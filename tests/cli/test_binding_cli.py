"""`gspws account link` and `gspws account invite` as an operator runs them (as processes:
tests/forked.py), with the link opened on a live server over the same store, and the invitation
read from an SMTP server on loopback (aiosmtpd): plain, and STARTTLS with a login."""

import datetime
import ipaddress
import re
import ssl
import subprocess
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gspws.core.clock import FixedClock
from gspws.wsgi import create_app

from binding import LINK_INVALID, Visitor, add_account
from helpers import GSPWS, LiveServer, free_port, gspws_env, run_gspws

DAVE = "dave"
EMAIL = "dave@example.org"
LINK = re.compile(r"http://public\.example:8000/owin/manage/Link/[A-Za-z0-9_-]+")


class Inbox:
    """An aiosmtpd handler keeping what arrives."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def server(settings, store):
    """gspws on a clock that starts at the real time (the CLI stamps links with the real time)."""
    add_account(store, DAVE, email=EMAIL)
    clock = FixedClock(time.time())
    live = LiveServer(create_app(settings, clock=clock, store=store))
    live.clock = clock
    yield live
    live.stop()


@pytest.fixture
def gspws(settings, tmp_path):
    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        environ = gspws_env(
            tmp_path,
            settings.secret_key,
            GSPWS_PUBLIC_URL="http://public.example:8000",
            GSPWS_DB_TIMEOUT="10",
            **env,
        )
        return run_gspws(
            [GSPWS, "--database-url", settings.database_url, *args],
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def test_account_link_prints_a_working_single_use_link(server, gspws):
    done = gspws("account", "link", DAVE)
    assert done.returncode == 0, done.stderr
    (url,) = LINK.findall(done.stdout)
    assert done.stdout == url + "\n" and "10 min" in done.stderr
    visitor = Visitor(server)
    assert visitor.sign_in(url).status_code == 200 and visitor.text("account") == DAVE
    assert Visitor(server).get(url).status_code == 410


def test_account_link_ttl(server, gspws):
    done = gspws("account", "link", DAVE, "--ttl", "60")
    assert done.returncode == 0, done.stderr
    url = LINK.search(done.stdout).group(0)
    assert Visitor(server).get(url).status_code == 200
    server.clock.advance(120)  # past 60 s (and the CLI's start-up), well within the default 600
    page = Visitor(server).get(url)
    assert page.status_code == 410 and LINK_INVALID in page.text


def test_account_link_of_an_unknown_account(gspws, server):
    done = gspws("account", "link", "nobody")
    assert done.returncode == 1 and done.stderr == "Error: no account 'nobody'\n"


def test_invitation_by_email_and_asking_again(server, gspws, inbox):
    controller, handler = inbox
    smtp = {
        "GSPWS_SMTP_HOST": "127.0.0.1",
        "GSPWS_SMTP_PORT": str(controller.port),
        "GSPWS_SMTP_SENDER": "gspws@agency.example",
    }
    done = gspws("account", "invite", DAVE, **smtp)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"invitation for {DAVE} sent to {EMAIL}\n"
    ((recipients, message),) = handler.messages
    assert recipients == [EMAIL] and message["To"] == EMAIL
    assert message["From"] == "gspws@agency.example" and "軟體式動態密碼" in message["Subject"]
    body = message.get_content()
    assert "60 分鐘" in body and "within 60 minutes" in body and "ignore this e-mail" in body
    (first,) = set(LINK.findall(body))

    assert gspws("account", "invite", DAVE, **smtp).returncode == 0
    second = LINK.search(handler.messages[1][1].get_content()).group(0)
    assert Visitor(server).get(first).status_code == 410  # asking again voids the earlier link
    server.clock.advance(3599)
    visitor = Visitor(server)
    assert visitor.sign_in(second).status_code == 200 and visitor.text("account") == DAVE


def test_invitation_needs_an_address_and_a_reachable_server(server, gspws, store):
    add_account(store, "erin")
    no_email = gspws("account", "invite", "erin")
    assert no_email.returncode == 1 and "has no e-mail address" in no_email.stderr
    down = gspws(
        "account", "invite", DAVE, GSPWS_SMTP_HOST="127.0.0.1", GSPWS_SMTP_PORT=str(free_port())
    )
    assert down.returncode == 1 and down.stderr.startswith("Error: cannot send the invitation")
    assert "Traceback" not in down.stderr


def _self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gspws test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_invitation_over_starttls_with_a_login(server, gspws, tmp_path):
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = []

    def authenticate(_server, _session, _envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"gspws",
            b"s3cret",
        )
        logins.append((mechanism, ok))
        # handled=False: aiosmtpd then answers a refusal (535); by default it leaves the
        # client waiting out its 10-s timeout.
        return AuthResult(success=ok, handled=False)

    handler = Inbox()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticate,
        auth_exclude_mechanism=["LOGIN"],  # PLAIN only: one try per login (smtplib tries all)
    )
    controller.start()
    try:
        smtp = {
            "GSPWS_SMTP_HOST": "127.0.0.1",
            "GSPWS_SMTP_PORT": str(controller.port),
            "GSPWS_SMTP_SECURITY": "starttls",
            "GSPWS_SMTP_USER": "gspws",
            "SSL_CERT_FILE": cert,
        }  # the client verifies the server against this CA only
        wrong = gspws("account", "invite", DAVE, GSPWS_SMTP_PASSWORD="wrong", **smtp)
        assert wrong.returncode == 1 and "s3cret" not in wrong.stderr + wrong.stdout
        done = gspws("account", "invite", DAVE, GSPWS_SMTP_PASSWORD="s3cret", **smtp)
        assert done.returncode == 0, done.stderr
    finally:
        controller.stop()
    assert [ok for _mechanism, ok in logins] == [False, True]
    ((_, message),) = handler.messages
    assert LINK.search(message.get_content())
