"""PSKC (RFC 6030) token files, read with python-pskc.

The XML is parsed here by a hardened lxml parser (no DTD, no entities, no network, no huge trees)
and only the parsed tree is handed to python-pskc (its own reader would parse with lxml's
defaults). Encrypted files are opened with a pre-shared key (``--key HEX``) or a PBKDF2 password
(``--password``); a file's MAC is checked by python-pskc for every encrypted value.

What is read: the serial (``DeviceInfo/SerialNo``, else the key's ``Id``), the secret, the type
from the key's ``Algorithm`` URI (``...:hotp``, ``...:totp``, ``...#OCRA-1`` or ``...:ocra``), the
OCRA suite (``AlgorithmParameters/Suite``; for HOTP/TOTP a Suite naming a hash, e.g.
``HMAC-SHA256``, sets the algorithm), the digits (``ResponseFormat Length``), the period
(``TimeInterval``), the counter (``Counter``: the next value to use), the drift (``TimeDrift``,
in time-steps) and the user (``UserId``). PIN keys (``...:pin``) are the device's own PIN, checked
by the device: not tokens, skipped. Validity dates in ``Policy`` are not enforced.
"""

from pathlib import Path

from lxml import etree
from pskc import PSKC
from pskc.exceptions import PSKCError
from pskc.key import Key
from pskc.parser import PSKCParser

from gspws.tokenfiles.records import BadTokenFile, TokenRecord, no_duplicates, token_record

_TYPES = {"hotp": "hotp", "totp": "totp", "ocra": "ocra", "ocra-1": "ocra"}
_PIN = "pin"
#: Files up to this size are read (100,000 tokens take about 60 MB of PSKC).
MAX_BYTES = 512 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_pskc(
    path: Path, key: bytes | None = None, password: str | None = None, users: bool = True
) -> list[TokenRecord]:
    """Every token of the PSKC file at ``path``; BadTokenFile for the first entry refused.
    ``users=False`` ignores the file's user ids (every token goes to the pool)."""
    container = _container(path)
    if key is not None:
        container.encryption.key = key
    elif password is not None:
        try:
            container.encryption.derive_key(password)
        except PSKCError as exc:
            raise BadTokenFile(
                str(path), f"cannot derive the key from the password: {exc}"
            ) from None
    if "rsa" in (container.encryption.algorithm or "").lower():
        raise BadTokenFile(
            str(path),
            "the secrets are encrypted to an RSA key: gspws opens files encrypted with a "
            "pre-shared key (--key) or a password (--password); ask the vendor for one",
        )
    records = []
    for pkey in container.keys:
        kind = _algorithm_name(pkey.algorithm)
        if kind == _PIN:
            continue
        entry = f"serial {pkey.serial}" if pkey.serial else f"key {pkey.id}"
        encrypted = key is not None or password is not None
        records.append(_record(entry, pkey, kind, encrypted, pkey.userid if users else None))
    if not records:
        raise BadTokenFile(str(path), "no token in the file")
    return no_duplicates(records)


def _container(path: Path) -> PSKC:
    if path.stat().st_size > MAX_BYTES:
        raise BadTokenFile(str(path), f"larger than {MAX_BYTES // 2**20} MiB")
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as exc:
        raise BadTokenFile(str(path), f"not well-formed XML ({exc})") from None
    if tree.docinfo.doctype:
        raise BadTokenFile(str(path), "a DOCTYPE is not allowed in a token file")
    container = PSKC()
    try:
        PSKCParser.parse_document(container, tree.getroot())
    except PSKCError as exc:
        raise BadTokenFile(str(path), f"not a PSKC file ({exc})") from None
    return container


def _algorithm_name(uri: str | None) -> str:
    """``hotp`` of ``urn:ietf:params:xml:ns:keyprov:pskc:hotp`` (and of ``...#hotp``)."""
    return (uri or "").replace("#", ":").rsplit(":", 1)[-1].lower()


def _record(entry: str, pkey: Key, kind: str, encrypted: bool, user: str | None) -> TokenRecord:
    if kind not in _TYPES:
        raise BadTokenFile(entry, f"algorithm {pkey.algorithm!r} is not HOTP, TOTP or OCRA")
    kind = _TYPES[kind]
    try:
        secret, counter = pkey.secret, pkey.counter
        period, drift, offset = pkey.time_interval, pkey.time_drift, pkey.time_offset
    except PSKCError as exc:
        hint = (
            " (wrong --key or --password?)"
            if encrypted
            else " (the file is encrypted: give --key HEX or --password)"
        )
        raise BadTokenFile(entry, f"cannot decrypt: {exc}{hint}") from None
    if pkey.response_encoding not in (None, "DECIMAL"):
        raise BadTokenFile(entry, f"response encoding {pkey.response_encoding}: only DECIMAL")
    if kind == "totp" and offset:
        raise BadTokenFile(entry, f"TOTP start time T0 = {offset}: gspws counts from 0")
    suite = pkey.algorithm_suite
    return token_record(
        entry,
        serial=pkey.serial or pkey.id,
        secret=secret,
        type=kind,
        algorithm=None if kind == "ocra" else suite,
        digits=pkey.response_length,
        period=period if kind == "totp" else None,
        counter=None if kind == "totp" else counter,
        drift=drift if kind == "totp" else None,
        ocra_suite=suite if kind == "ocra" else None,
        account=user,
    )
