"""What the cases are built with: envelope pieces, and ``case``/``both``, which write a case's
file and add its manifest entry to CASES."""

from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # tests/corpus: the files and the manifest

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TNS = "http://cp.gov.tw/gsp2"
CT11 = "text/xml; charset=utf-8"
CT12 = "application/soap+xml; charset=utf-8"
DECL = '<?xml version="1.0" encoding="utf-8"?>'
SERVICE_ID = "APP0001931"
LIMIT = 65536  # GSPWS_MAX_REQUEST_BYTES's default

ACCOUNTS = {
    # The brief's Chinese account: every character is in Big5 proper.
    "測試帳號": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    # 許功蓋 are the classic Big5 characters whose second byte is 0x5C ('\\'); 碁銹恒 exist only
    # in Microsoft's cp950, which is what Windows (and so .NET callers) write when they say "big5".
    "許功蓋碁銹恒": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
}

CASES: list[dict] = []


def header(service_id=SERVICE_ID, prefix="soap"):
    return (
        f'<{prefix}:Header><ServiceHeader xmlns="{TNS}"><ServiceID>{service_id}</ServiceID>'
        f"</ServiceHeader></{prefix}:Header>"
    )


def verify(account="wederlin", code="{code}"):
    return (
        f'<VerifyTOTPCode xmlns="{TNS}"><account>{account}</account>'
        f"<TOTPCode>{code}</TOTPCode></VerifyTOTPCode>"
    )


def envelope(body=None, head=None, ns=SOAP11, prefix="soap", decl=DECL, pad=""):
    body = verify() if body is None else body
    head = header(prefix=prefix) if head is None else head
    return (
        f'{decl}<{prefix}:Envelope xmlns:{prefix}="{ns}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema">{pad}{head}<{prefix}:Body>{body}'
        f"</{prefix}:Body></{prefix}:Envelope>"
    )


def ns_of(soap):
    return SOAP12 if soap == "1.2" else SOAP11


def ct_of(soap):
    return CT12 if soap == "1.2" else CT11


def client(soap):
    return "fault:Sender" if soap == "1.2" else "fault:Client"


def case(
    name, data, expect, about, soap="1.1", content_type="default", account="wederlin", **extra
):
    """Adds one case; ``data`` is str (encoded UTF-8) or bytes (as is). Placeholders are found in
    UTF-8 (also Big5's ASCII part) or UTF-16; ``account`` is whose valid code ``{code}`` is."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    file = f"{name}.xml"
    (HERE / file).write_bytes(raw)
    entry = {
        "name": name,
        "file": file,
        "content_type": ct_of(soap) if content_type == "default" else content_type,
        "soap": soap,
        "expect": expect,
    }
    for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
        has_code = "{code}".encode(encoding) in raw
        if has_code or "{xxe_port}".encode(encoding) in raw:
            entry["template"] = {"encoding": encoding, **({"account": account} if has_code else {})}
            break
    entry.update(extra)
    entry["about"] = about
    CASES.append(entry)


def both(name, make, expect11, about, **extra):
    """The same case in SOAP 1.1 and 1.2 (``make(soap)`` builds the body; ``expect11`` is the 1.1
    outcome, faults mapped to Sender for 1.2)."""
    for soap in ("1.1", "1.2"):
        expect = expect11
        if expect11 == "fault:Client" and soap == "1.2":
            expect = "fault:Sender"
        case(f"{name}_{soap.replace('.', '')}", make(soap), expect, about, soap=soap, **extra)


def passwd_xxe(soap, system):
    ns = ns_of(soap)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE soap:Envelope [\n'
        f'  <!ENTITY xxe SYSTEM "{system}">\n]>\n'
        + envelope(verify(account="&xxe;"), ns=ns, decl="")
    )
