"""CSV token files: the columns, hex secrets, and every refusal naming its line."""

import base64

import pytest

from gspws.tokenfiles import BadTokenFile, read_token_file

HEADER = "serial,secret,type,algorithm,digits,period_or_counter,account"
RFC4226_HEX = b"12345678901234567890".hex()  # RFC 4226's test secret
GOOD = f"HW1,{RFC4226_HEX},totp,SHA1,6,30,"


def csv_file(tmp_path, *lines: str, header: str = HEADER):
    path = tmp_path / "tokens.csv"
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8")
    return path


def refused(path) -> BadTokenFile:
    with pytest.raises(BadTokenFile) as caught:
        read_token_file(path)
    return caught.value


def test_each_type_reads_with_its_columns(tmp_path):
    path = csv_file(
        tmp_path,
        f"T-1,{RFC4226_HEX},totp,SHA256,8,60,Alice",
        f"H-1,0x{RFC4226_HEX},HOTP,,,5,",
        f"O-1,{'31' * 32},ocra,OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1,,0,",
        f"T-2,{' '.join(RFC4226_HEX[i : i + 4] for i in range(0, 40, 4))},totp,,,,",
    )
    totp, hotp, ocra, spaced = read_token_file(path)
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert (totp.secret, totp.algorithm, totp.digits, totp.period) == (secret, "SHA256", 8, 60)
    assert totp.account == "alice"
    assert (hotp.type, hotp.algorithm, hotp.digits, hotp.last_step) == ("hotp", "SHA1", 6, 4)
    assert (ocra.ocra_suite, ocra.algorithm, ocra.digits, ocra.last_step) == (
        "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
        "SHA256",
        8,
        None,
    )
    assert (spaced.secret, spaced.period, spaced.account) == (secret, 30, None)


def test_account_column_is_optional_and_ignored_for_the_pool(tmp_path):
    no_account = csv_file(tmp_path, f"HW1,{RFC4226_HEX},totp,SHA1,6,30", header=HEADER[:-8])
    assert read_token_file(no_account)[0].account is None
    path = csv_file(tmp_path, f"HW1,{RFC4226_HEX},totp,SHA1,6,30,bob")
    assert read_token_file(path, users=False)[0].account is None


@pytest.mark.parametrize(
    "line, reason",
    [
        (f"HW2,{RFC4226_HEX[:-1]},totp,SHA1,6,30,", "not hex"),
        (f"HW2,{'zz' * 20},totp,SHA1,6,30,", "not hex"),
        (f"HW2,{'ab' * 10},totp,SHA1,6,30,", "80 bits"),
        (f"HW2,{RFC4226_HEX},totp,SHA1,7,30,", "7 digits"),
        (f"HW2,{RFC4226_HEX},totp,SHA1,six,30,", "digits 'six' is not a whole number"),
        (f"HW2,{RFC4226_HEX},totp,SHA1,6,45,", "period 45"),
        (f"HW2,{RFC4226_HEX},totp,MD5,6,30,", "algorithm 'MD5'"),
        (f"HW2,{RFC4226_HEX},sms,SHA1,6,30,", "type 'sms'"),
        (f"HW2,{RFC4226_HEX},ocra,SHA1,6,0,", "OCRA suite 'SHA1'"),
        (f"HW2,{RFC4226_HEX},ocra,OCRA-1:HOTP-SHA1-6:QN08,8,0,", "8 digits contradict"),
        (f"HW 2,{RFC4226_HEX},totp,SHA1,6,30,", "serial 'HW 2'"),
        (f",{RFC4226_HEX},totp,SHA1,6,30,", "serial ''"),
        (f"HW2,{RFC4226_HEX},totp,SHA1,6,30,no/such", "user 'no/such'"),
        (f"HW2,{RFC4226_HEX},totp,SHA1,6,30", "6 fields, the header has 7"),
        (f"HW1,{RFC4226_HEX},hotp,SHA1,6,0,", "serial HW1 appears twice (also line 2)"),
    ],
    ids=[
        "odd-hex",
        "not-hex",
        "short-secret",
        "digits",
        "digits-word",
        "period",
        "algorithm",
        "type",
        "ocra-suite",
        "ocra-digits",
        "serial-space",
        "serial-empty",
        "account-name",
        "short-line",
        "duplicate-serial",
    ],
)
def test_bad_line_refuses_the_file_naming_the_line(tmp_path, line, reason):
    error = refused(csv_file(tmp_path, GOOD, "", line))  # (an empty line is skipped, counted)
    assert error.entry == "line 4"
    assert reason in error.reason
    assert str(error).startswith("line 4: ") and str(error).endswith("; nothing imported")


@pytest.mark.parametrize(
    "header, reason",
    [
        ("serial,secret,type,algorithm,digits", "missing period_or_counter"),
        (HEADER + ",acount", "unknown acount"),
        ("serial,secret,type,algorithm,digits,period_or_counter,serial", "the header must name"),
    ],
    ids=["missing-column", "unknown-column", "repeated-column"],
)
def test_bad_header_is_refused(tmp_path, header, reason):
    error = refused(csv_file(tmp_path, GOOD, header=header))
    assert (error.entry, reason in error.reason) == ("line 1", True)


def test_empty_and_header_only_files_are_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "empty file" in str(refused(path))
    assert "no token in the file" in str(refused(csv_file(tmp_path)))


def test_csv_takes_no_key(tmp_path):
    with pytest.raises(BadTokenFile, match="a CSV file is not encrypted"):
        read_token_file(csv_file(tmp_path, GOOD), password="x")


def test_byte_order_mark_and_crlf_are_fine(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + GOOD + "\r\n").encode())
    assert [r.serial for r in read_token_file(path)] == ["HW1"]
