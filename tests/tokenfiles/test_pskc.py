"""PSKC token files: RFC 6030's published examples, and files python-pskc's writer makes
(plain, encrypted with a pre-shared key, encrypted under a password), read into checked records.
No database here (tests/cli/test_token_import.py stores them)."""

import base64
from pathlib import Path

import pskc
import pytest

from gspws.tokenfiles import BadTokenFile, read_token_file

DATA = Path(__file__).parents[1] / "data" / "pskc"
RFC_KEY = bytes.fromhex("12345678901234567890123456789012")  # RFC 6030 Figure 6's
RFC_SECRET = b"12345678901234567890"  # every RFC 6030 example's HOTP secret (RFC 4226's)
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"


def figure(n: int) -> Path:
    return DATA / f"rfc6030-figure{n}.pskcxml"


def b32(secret: bytes) -> str:
    return base64.b32encode(secret).decode().rstrip("=")


def refused(path: Path, **options) -> BadTokenFile:
    with pytest.raises(BadTokenFile) as caught:
        read_token_file(path, **options)
    assert str(caught.value).endswith("; nothing imported")
    return caught.value


@pytest.mark.parametrize(
    "number, options",
    [
        (3, {"users": False}),
        (5, {}),
        (6, {"key": RFC_KEY}),
        (7, {"password": "qwerty"}),
    ],
    ids=["figure3", "figure5-pin", "figure6-preshared-key", "figure7-pbkdf2"],
)
def test_rfc6030_examples_give_the_rfc4226_token(number, options):
    [record] = read_token_file(figure(number), **options)
    assert (record.serial, record.secret, record.type) == ("987654321", b32(RFC_SECRET), "hotp")
    assert (record.algorithm, record.digits, record.last_step) == ("SHA1", 8, None)
    assert record.account is None


def test_figure5_pin_key_is_the_devices_not_a_token():
    # Both key packages carry serial 987654321: the second is the device's PIN (algorithm pin).
    assert [r.serial for r in read_token_file(figure(5))] == ["987654321"]


def test_figure3_user_id_is_not_an_account_name():
    error = refused(figure(3))
    assert error.entry == "serial 987654321"
    assert "UID=jsmith,DC=example-bank,DC=net" in error.reason


def test_figure2_secret_is_too_short():
    error = refused(figure(2))
    assert (error.entry, error.reason) == (
        "key 12345678",
        "the secret has 32 bits; gspws needs at least 112",
    )


@pytest.mark.parametrize("number", [6, 7], ids=["figure6", "figure7"])
def test_encrypted_examples_without_key_say_how_to_open_them(number):
    assert "give --key HEX or --password" in refused(figure(number)).reason


@pytest.mark.parametrize(
    "number, options",
    [(6, {"key": bytes(16)}), (7, {"password": "qwertz"})],
    ids=["figure6-wrong-key", "figure7-wrong-password"],
)
def test_encrypted_examples_with_the_wrong_key_are_refused(number, options):
    assert "wrong --key or --password" in refused(figure(number), **options).reason


def test_figure8_rsa_encryption_is_refused_with_the_reason():
    assert "RSA" in refused(figure(8)).reason


def test_figure10_bulk_file_repeats_a_serial():
    # Device 9999999 carries two keys (two validity periods); a serial is one token here.
    error = refused(figure(10))
    assert error.entry == "serial 9999999"
    assert "appears twice" in error.reason


def written(tmp_path, *keys: dict, key: bytes | None = None, password: str | None = None) -> Path:
    container = pskc.PSKC()
    for fields in keys:
        container.add_key(**fields)
    if key is not None:
        container.encryption.setup_preshared_key(key=key)
    if password is not None:
        container.encryption.setup_pbkdf2(password, iterations=1000)
    path = tmp_path / "tokens.pskc"
    container.write(str(path))
    return path


SECRET_A, SECRET_B = bytes(range(20)), bytes(range(32))
KEYS = (
    {"serial": "HW-TOTP-1", "secret": SECRET_A, "algorithm": TOTP, "response_length": 6},
    {
        "serial": "HW-TOTP-2",
        "secret": SECRET_B,
        "algorithm": TOTP,
        "algorithm_suite": "HMAC-SHA256",
        "response_length": 8,
        "time_interval": 60,
        "time_drift": -2,
        "key_userid": "Alice",
    },
    {"serial": "HW-HOTP-1", "secret": SECRET_A, "algorithm": HOTP, "counter": 42},
    {
        "serial": "HW-OCRA-1",
        "secret": SECRET_B,
        "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1",
        "algorithm_suite": "OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
    },
)


@pytest.mark.parametrize(
    "options",
    [{}, {"key": bytes(range(16))}, {"password": "correct horse"}],
    ids=["plain", "preshared-key", "pbkdf2"],
)
def test_written_files_read_back(tmp_path, options):
    path = written(tmp_path, *KEYS, **options)
    opening = {"key": options.get("key"), "password": options.get("password")}
    totp1, totp2, hotp, ocra = read_token_file(path, **opening)
    assert (totp1.type, totp1.algorithm, totp1.digits, totp1.period) == ("totp", "SHA1", 6, 30)
    assert totp1.secret == b32(SECRET_A)
    assert (totp2.algorithm, totp2.digits, totp2.period, totp2.drift) == ("SHA256", 8, 60, -2)
    assert totp2.account == "alice"  # the canonical form of the file's user id
    assert (hotp.type, hotp.last_step) == ("hotp", 41)  # PSKC's Counter is the next to use
    assert (ocra.type, ocra.ocra_suite, ocra.algorithm, ocra.digits) == (
        "ocra",
        "OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
        "SHA256",
        8,
    )
    assert ocra.secret == b32(SECRET_B)


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"response_length": 7}, "7 digits"),
        ({"time_interval": 45}, "period 45"),
        ({"algorithm_suite": "HMAC-MD5"}, "algorithm 'MD5'"),
        ({"secret": bytes(10)}, "80 bits"),
        ({"serial": "bad serial"}, "serial 'bad serial'"),
        ({"algorithm": "urn:example:securid"}, "not HOTP, TOTP or OCRA"),
        ({"secret": None}, "no secret"),
        ({"time_offset": 1000}, "T0 = 1000"),
    ],
    ids=["digits", "period", "hash", "short-secret", "serial", "algorithm", "no-secret", "t0"],
)
def test_written_files_with_a_bad_entry_are_refused(tmp_path, fields, reason):
    good = dict(KEYS[0], serial="GOOD-1")
    bad = dict(KEYS[0], serial="BAD-1") | fields
    error = refused(written(tmp_path, good, bad))
    assert (error.entry, reason in error.reason) == (f"serial {bad['serial']}", True)


def test_a_file_of_pins_only_has_no_token(tmp_path):
    pin = dict(KEYS[0], algorithm="urn:ietf:params:xml:ns:keyprov:pskc:pin")
    assert refused(written(tmp_path, pin)).reason == "no token in the file"


def test_ocra_suite_must_be_one(tmp_path):
    bad = dict(KEYS[3], algorithm_suite="HOTP-SHA1-6")
    assert "OCRA suite" in refused(written(tmp_path, bad)).reason


def test_doctype_and_entities_are_refused(tmp_path):
    text = figure(3).read_text()
    path = tmp_path / "entity.pskc"
    path.write_text(
        text.replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE KeyContainer [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        ).replace("Issuer</Issuer>", "&x;</Issuer>")
    )
    assert "DOCTYPE" in refused(path).reason


def test_not_xml_pskc(tmp_path):
    path = tmp_path / "broken.pskc"
    path.write_text("<KeyContainer><KeyPackage>")
    assert "not well-formed" in refused(path).reason
    path.write_text('<Other xmlns="urn:example"/>')
    assert "not a PSKC file" in refused(path).reason
