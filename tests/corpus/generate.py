"""Writes the bad-input corpus: one file of raw request-body bytes per case, and ``cases.json``.

The files are committed; this script is how they were made, so a case can be changed or added
readably (``python tests/corpus/generate.py`` rewrites every file and the manifest). Each manifest
entry says:

``file``          the body, byte for byte as it goes on the wire (after the placeholders below)
``content_type``  the request's Content-Type header, or null for none
``soap``          "1.1" or "1.2": the version the answer must have (the Content-Type's version;
                  SOAP 1.1 for a Content-Type that is neither, as the 415 fault is)
``expect``        "fault:Client" / "fault:Sender" / "fault:VersionMismatch" (a SOAP Fault with that
                  code), or "code:NNNN" (a normal 200 CP2Response with that return code)
``status``        the HTTP status (500 for faults and 200 for codes unless given)
``template``      optional {"encoding": E, "account": A}: the file contains the placeholders
                  ``{code}`` (the code of A's token valid at the server's current time-step) and/or
                  ``{xxe_port}`` (a loopback port the test listens on, to see that nothing connects),
                  spelled in encoding E; the test substitutes them before sending
``settings``      optional setting overrides for the server the case needs (say why in ``about``)
``forbidden``     optional strings that must not appear in the answer
``about``         what the case is

``accounts`` (top level) are the extra accounts the tests and the fuzz target add to the store,
each with one active SHA1/6/30 TOTP token of the given base32 secret.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

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


def generate() -> None:
    for old in HERE.iterdir():
        if old.name not in ("generate.py", ".gitattributes") and old.is_file():
            old.unlink()

    # -- sanity: the valid call every other case is a variation of -----------------------------
    both(
        "valid",
        lambda s: envelope(ns=ns_of(s)),
        "code:0",
        "A valid call (the code of wederlin's token at the server's time): answered 0.",
    )

    # -- malformed XML -------------------------------------------------------------------------
    both(
        "malformed_mismatched_tag",
        lambda s: envelope(verify().replace("</account>", "</acount>"), ns=ns_of(s)),
        "fault:Client",
        "An end tag that does not match its start tag.",
    )
    both(
        "malformed_unquoted_attribute",
        lambda s: envelope(ns=ns_of(s)).replace(f'xmlns="{TNS}"', f"xmlns={TNS}", 1),
        "fault:Client",
        "An attribute value without quotes.",
    )
    both(
        "malformed_not_xml",
        lambda s: "this is not XML at all\n",
        "fault:Client",
        "Plain text instead of XML.",
    )
    both(
        "malformed_json",
        lambda s: '{"account": "wederlin", "TOTPCode": "123456"}',
        "fault:Client",
        "A JSON body with a SOAP Content-Type.",
    )
    both(
        "malformed_html",
        lambda s: "<html><body><p>Hello<br></body></html>",
        "fault:Client",
        "An HTML page (not even well-formed XML).",
    )
    both("malformed_empty", lambda s: b"", "fault:Client", "An empty body (Content-Length: 0).")
    both(
        "malformed_whitespace_only",
        lambda s: " \r\n\t \r\n",
        "fault:Client",
        "A body of whitespace only.",
    )
    both(
        "malformed_declaration_only",
        lambda s: DECL,
        "fault:Client",
        "Only the XML declaration, no element.",
    )
    both(
        "malformed_two_roots",
        lambda s: envelope(ns=ns_of(s)) + envelope(ns=ns_of(s), decl=""),
        "fault:Client",
        "Two envelopes one after the other (two root elements).",
    )
    both(
        "malformed_trailing_garbage",
        lambda s: envelope(ns=ns_of(s)) + "garbage",
        "fault:Client",
        "Text after the root element.",
    )
    both(
        "malformed_undeclared_prefix",
        lambda s: envelope(ns=ns_of(s)).replace("xmlns:soap=", "xmlns:soapx=", 1),
        "fault:Client",
        "The envelope's prefix is never declared (namespace error).",
    )
    both(
        "malformed_lt_in_text",
        lambda s: envelope(verify(account="a<b"), ns=ns_of(s)),
        "fault:Client",
        "A raw '<' inside the account text.",
    )
    both(
        "malformed_bad_entity_ref",
        lambda s: envelope(verify(account="&nosuch;"), ns=ns_of(s)),
        "fault:Client",
        "A reference to an undefined entity.",
    )

    # -- truncated bodies ----------------------------------------------------------------------
    full = envelope()
    both(
        "truncated_half",
        lambda s: envelope(ns=ns_of(s))[: len(full) // 2],
        "fault:Client",
        "The first half of a valid envelope.",
    )
    both(
        "truncated_in_start_tag",
        lambda s: envelope(ns=ns_of(s)).split("<TOTPCode")[0] + "<TOTPCo",
        "fault:Client",
        "Cut inside a start tag.",
    )
    both(
        "truncated_before_last_byte",
        lambda s: envelope(ns=ns_of(s))[:-1],
        "fault:Client",
        "All but the last byte (the final '>').",
    )

    def cut_mid_char(soap):
        text = envelope(verify(account="測試帳號"), ns=ns_of(soap)).encode()
        return text[: text.index("測".encode()) + 2]

    both(
        "truncated_mid_utf8_char",
        cut_mid_char,
        "fault:Client",
        "UTF-8 cut in the middle of a multi-byte character of the account.",
    )
    both(
        "truncated_odd_utf16",
        lambda s: envelope(
            verify(account="測試帳號"), ns=ns_of(s), decl='<?xml version="1.0" encoding="utf-16"?>'
        ).encode("utf-16")[:-1],
        "fault:Client",
        "UTF-16 (with BOM) with an odd number of bytes: the last unit is cut.",
    )

    # -- external entities ---------------------------------------------------------------------
    for s in ("1.1", "1.2"):
        v = s.replace(".", "")
        case(
            f"xxe_file_passwd_{v}",
            passwd_xxe(s, "file:///etc/passwd"),
            client(s),
            "An external entity reading /etc/passwd, used as the account.",
            soap=s,
            forbidden=["root:", "/bin/"],
        )
        case(
            f"xxe_http_{v}",
            passwd_xxe(s, "http://127.0.0.1:{xxe_port}/xxe"),
            client(s),
            "An external entity fetched over HTTP (from a loopback port the test watches).",
            soap=s,
        )
    case(
        "xxe_parameter_entity",
        '<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope [\n'
        '  <!ENTITY % remote SYSTEM "http://127.0.0.1:{xxe_port}/evil.dtd">\n  %remote;\n]>\n'
        + envelope(decl=""),
        "fault:Client",
        "A parameter entity pulling an external DTD over HTTP.",
    )
    case(
        "xxe_external_dtd",
        '<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope SYSTEM '
        '"http://127.0.0.1:{xxe_port}/soap.dtd">\n' + envelope(decl=""),
        "fault:Client",
        "An external DTD subset by URL.",
    )
    case(
        "xxe_file_utf16",
        passwd_xxe("1.1", "file:///etc/passwd")
        .replace('encoding="utf-8"', 'encoding="utf-16"')
        .encode("utf-16"),
        "fault:Client",
        "The /etc/passwd external entity, in UTF-16 (a filter on ASCII bytes would miss it).",
        forbidden=["root:"],
    )
    case(
        "xxe_expect_scheme",
        passwd_xxe("1.1", "expect://id"),
        "fault:Client",
        "An external entity with PHP's expect:// scheme.",
    )
    case(
        "xinclude_passwd",
        envelope(
            verify(
                account='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                'href="file:///etc/passwd" parse="text"/>'
            )
        ),
        "code:3001",
        "An XInclude of /etc/passwd as the account: it must not be processed, so "
        "the account is empty (3001).",
        forbidden=["root:"],
    )
    case(
        "internal_dtd_harmless",
        '<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope>\n' + envelope(decl=""),
        "fault:Client",
        "A harmless DOCTYPE without entities: SOAP forbids any DTD, so it is refused all the same.",
    )

    # -- entity expansion bombs ----------------------------------------------------------------
    lol = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    lol += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    for s in ("1.1", "1.2"):
        case(
            f"bomb_billion_laughs_{s.replace('.', '')}",
            '<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope [\n  '
            + "\n  ".join(lol)
            + "\n]>\n"
            + envelope(verify(account="&lol9;"), ns=ns_of(s), decl=""),
            client(s),
            "Billion laughs: 10^9 'lol's from a 1 KB body.",
            soap=s,
        )
    big = "A" * 30000
    case(
        "bomb_quadratic_blowup",
        f'<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope [<!ENTITY a "{big}">]>\n'
        + envelope(verify(account="&a;" * 8000), decl=""),
        "fault:Client",
        "Quadratic blowup: one 30 KB entity referenced 8,000 times (240 MB), body under 64 KiB.",
    )
    case(
        "bomb_recursive_entity",
        '<?xml version="1.0"?>\n<!DOCTYPE soap:Envelope [<!ENTITY a "&b;"><!ENTITY b "&a;">]>\n'
        + envelope(verify(account="&a;"), decl=""),
        "fault:Client",
        "Entities referring to each other (infinite recursion).",
    )

    # -- deep nesting --------------------------------------------------------------------------
    deep = "<a>" * 10000 + "</a>" * 10000
    case(
        "nesting_10000_deep",
        envelope(verify(account=deep)),
        "fault:Client",
        "10,000 nested elements inside the account (well-formed). The body is 70 KB, over the "
        "default 64 KiB limit, so this case runs on a server whose limit is raised to 128 KiB "
        "(GSPWS_MAX_REQUEST_BYTES=131072): the XML parser, not the size check, must refuse it.",
        settings={"max_request_bytes": 131072},
    )
    case(
        "nesting_10000_unclosed",
        envelope(verify(account="<a>" * 10000)),
        "fault:Client",
        "10,000 nested start tags never closed (30 KB: under the default limit).",
    )
    case(
        "nesting_10000_in_header",
        envelope(
            head=f'<soap:Header><ServiceHeader xmlns="{TNS}"><ServiceID>{SERVICE_ID}'
            f'</ServiceID></ServiceHeader><x:h xmlns:x="urn:x">'
            + "<a>" * 8000
            + "</a>" * 8000
            + "</x:h></soap:Header>"
        ),
        "fault:Client",
        "8,000 nested elements in an extra header block (56 KB, under the default limit).",
    )
    both(
        "nesting_300_deep",
        lambda s: envelope(verify(account="<a>" * 300 + "</a>" * 300), ns=ns_of(s)),
        "fault:Client",
        "300 nested elements, just past libxml2's default depth limit (256).",
    )

    # -- size limit ----------------------------------------------------------------------------
    def sized(total, soap):
        base = envelope(ns=ns_of(soap))
        pad = " " * (total - len(base.encode()))
        return envelope(ns=ns_of(soap), pad=pad)

    for s in ("1.1", "1.2"):
        v = s.replace(".", "")
        case(
            f"size_at_limit_{v}",
            sized(LIMIT, s),
            "code:0",
            "A valid call padded with whitespace to exactly 65,536 bytes (the default limit): "
            "accepted.",
            soap=s,
        )
        case(
            f"size_limit_plus_one_{v}",
            sized(LIMIT + 1, s),
            client(s),
            "One byte over the default limit: HTTP 413 with a SOAP Fault.",
            soap=s,
            status=413,
        )
        case(
            f"size_70k_{v}",
            sized(70000, s),
            client(s),
            "A 70,000-byte valid call: HTTP 413 with a SOAP Fault.",
            soap=s,
            status=413,
        )

    # -- envelope namespace and SOAP version ---------------------------------------------------
    both(
        "ns_wrong_envelope",
        lambda s: envelope(ns="http://example.invalid/soap-envelope"),
        "fault:VersionMismatch",
        "An Envelope in an unknown namespace: VersionMismatch.",
    )
    both(
        "ns_missing_envelope",
        lambda s: (
            envelope(ns=ns_of(s)).replace(f' xmlns:soap="{ns_of(s)}"', "").replace("soap:", "")
        ),
        "fault:Client",
        "Envelope, Header and Body in no namespace at all: not a SOAP message (README: 'a "
        "non-SOAP body' is soap:Client / soap:Sender).",
    )
    both(
        "ns_not_envelope_root",
        lambda s: verify(),
        "fault:Client",
        "The operation element alone, without any envelope.",
    )
    both(
        "ns_envelope_without_body",
        lambda s: envelope(ns=ns_of(s)).split("<soap:Body>")[0] + "</soap:Envelope>",
        "fault:Client",
        "An envelope with a Header and no Body.",
    )
    case(
        "ns_soap11_body_soap12_content_type",
        envelope(ns=SOAP11),
        "fault:VersionMismatch",
        "A SOAP 1.1 envelope sent as application/soap+xml: VersionMismatch, answered in SOAP 1.2 "
        "(the Content-Type's version).",
        soap="1.2",
    )
    case(
        "ns_soap12_body_soap11_content_type",
        envelope(ns=SOAP12),
        "fault:VersionMismatch",
        "A SOAP 1.2 envelope sent as text/xml: VersionMismatch, answered in SOAP 1.1.",
        soap="1.1",
    )
    both(
        "ns_operation_wrong_namespace",
        lambda s: envelope(verify().replace(TNS, "http://tempuri.org/"), ns=ns_of(s)),
        "fault:Client",
        "VerifyTOTPCode in another namespace (tempuri.org): not an operation of this service.",
    )
    both(
        "ns_header_service_id_wrong_namespace",
        lambda s: envelope(head=header().replace(TNS, "http://tempuri.org/"), ns=ns_of(s)),
        "code:8102",
        "The ServiceHeader in another namespace is not this service's header: "
        "no ServiceHeader (8102).",
    )

    # -- content types -------------------------------------------------------------------------
    case(
        "ct_missing",
        envelope(),
        "fault:Client",
        "No Content-Type at all: 415.",
        content_type=None,
        status=415,
    )
    case(
        "ct_application_xml",
        envelope(),
        "fault:Client",
        "application/xml: 415.",
        content_type="application/xml; charset=utf-8",
        status=415,
    )
    case(
        "ct_text_plain",
        envelope(),
        "fault:Client",
        "text/plain: 415.",
        content_type="text/plain",
        status=415,
    )
    case(
        "ct_multipart_related",
        envelope(),
        "fault:Client",
        "An MTOM-looking multipart type: 415.",
        content_type='multipart/related; type="application/xop+xml"; boundary=x',
        status=415,
    )
    case(
        "ct_form_urlencoded",
        "account=wederlin&TOTPCode=123456",
        "fault:Client",
        "An HTML form post: 415.",
        content_type="application/x-www-form-urlencoded",
        status=415,
    )
    case(
        "ct_soap12_action_parameter",
        envelope(ns=SOAP12),
        "code:0",
        "SOAP 1.2 with an action= parameter, as WCF sends it: accepted.",
        soap="1.2",
        content_type=f'application/soap+xml; charset=utf-8; action="{TNS}/VerifyTOTPCode"',
    )
    case(
        "ct_uppercase",
        envelope(),
        "code:0",
        "TEXT/XML in capitals: media types are case-insensitive.",
        content_type="TEXT/XML; charset=UTF-8",
    )
    case(
        "ct_unknown_charset",
        envelope(),
        "fault:Client",
        "A charset parameter naming no known encoding.",
        content_type="text/xml; charset=x-no-such-charset",
    )

    # -- unknown operations --------------------------------------------------------------------
    both(
        "op_unknown",
        lambda s: envelope(
            f'<GetTOTPSecret xmlns="{TNS}"><account>wederlin</account></GetTOTPSecret>', ns=ns_of(s)
        ),
        "fault:Client",
        "An operation this service does not have (GetTOTPSecret).",
    )
    both(
        "op_response_element_as_request",
        lambda s: envelope(
            f'<VerifyTOTPCodeResponse xmlns="{TNS}"><VerifyTOTPCodeResult>'
            f"<Code>0</Code></VerifyTOTPCodeResult></VerifyTOTPCodeResponse>",
            ns=ns_of(s),
        ),
        "fault:Client",
        "The response element sent as a request.",
    )
    both(
        "op_empty_body", lambda s: envelope("", ns=ns_of(s)), "fault:Client", "An empty soap:Body."
    )
    both(
        "op_body_is_fault",
        lambda s: envelope(
            "<soap:Fault><faultcode>soap:Server</faultcode>"
            "<faultstring>x</faultstring></soap:Fault>",
            ns=ns_of(s),
        ),
        "fault:Client",
        "A soap:Fault sent as the request body.",
    )
    both(
        "op_text_only_body",
        lambda s: envelope("VerifyTOTPCode", ns=ns_of(s)),
        "fault:Client",
        "soap:Body with text and no element.",
    )

    # -- duplicated elements -------------------------------------------------------------------
    both(
        "dup_account",
        lambda s: envelope(
            verify().replace("</account>", "</account><account>other</account>"), ns=ns_of(s)
        ),
        "fault:Client",
        "account twice.",
    )
    both(
        "dup_totpcode",
        lambda s: envelope(
            verify().replace("</TOTPCode>", "</TOTPCode><TOTPCode>000000</TOTPCode>"), ns=ns_of(s)
        ),
        "fault:Client",
        "TOTPCode twice.",
    )
    both(
        "dup_service_id",
        lambda s: envelope(
            head=header().replace("</ServiceID>", "</ServiceID><ServiceID>APP0000002</ServiceID>"),
            ns=ns_of(s),
        ),
        "fault:Client",
        "ServiceID twice in one ServiceHeader.",
    )
    both(
        "dup_service_header",
        lambda s: envelope(
            head=header().replace(
                "</soap:Header>",
                f'<ServiceHeader xmlns="{TNS}"><ServiceID>APP0000002</ServiceID>'
                f"</ServiceHeader></soap:Header>",
            ),
            ns=ns_of(s),
        ),
        "fault:Client",
        "ServiceHeader twice.",
    )
    both(
        "dup_operation",
        lambda s: envelope(verify() + verify(account="other"), ns=ns_of(s)),
        "fault:Client",
        "VerifyTOTPCode twice in the Body.",
    )
    both(
        "dup_soap_header",
        lambda s: envelope(head=header(service_id="APP0000002") + header(), ns=ns_of(s)),
        "fault:Client",
        "Two soap:Header elements (the first names another ServiceID): which "
        "one counts must not be the caller's choice.",
    )
    both(
        "dup_soap_body",
        lambda s: envelope(ns=ns_of(s)).replace(
            "</soap:Body>", f"</soap:Body><soap:Body>{verify(account='other')}</soap:Body>"
        ),
        "fault:Client",
        "Two soap:Body elements.",
    )

    # -- BOM, line ends, Big5, UTF-16 ----------------------------------------------------------
    both(
        "utf8_bom",
        lambda s: b"\xef\xbb\xbf" + envelope(ns=ns_of(s)).encode(),
        "code:0",
        "A UTF-8 byte order mark before the declaration (what .NET's Encoding.UTF8 writes).",
    )
    both(
        "crlf_line_ends",
        lambda s: (
            envelope(ns=ns_of(s))
            .replace("><", ">\r\n<")
            .replace("<account>\r\n", "<account>")
            .replace("\r\n</account>", "</account>")
            + "\r\n"
        ),
        "code:0",
        "CRLF line ends between every element (Windows pretty-printing).",
    )
    chinese = envelope(verify(account="測試帳號"), decl="")

    case(
        "big5_declared_in_xml_only",
        envelope(verify(account="測試帳號"), decl='<?xml version="1.0" encoding="big5"?>').encode(
            "big5"
        ),
        "code:0",
        "Big5 body declared only in the XML declaration (Content-Type has no charset); the "
        "account 測試帳號 must be decoded and found: 0.",
        content_type="text/xml",
        account="測試帳號",
    )
    case(
        "big5_declared_in_content_type_only",
        ('<?xml version="1.0"?>' + chinese).encode("big5"),
        "code:0",
        "Big5 body declared only by the Content-Type charset (the XML declaration names no "
        "encoding): 0.",
        content_type="text/xml; charset=big5",
        account="測試帳號",
    )
    case(
        "big5_declared_in_content_type_only_12",
        ('<?xml version="1.0"?>' + envelope(verify(account="測試帳號"), ns=SOAP12, decl="")).encode(
            "big5"
        ),
        "code:0",
        "The same in SOAP 1.2.",
        soap="1.2",
        content_type="application/soap+xml; charset=Big5",
        account="測試帳號",
    )
    case(
        "big5_no_declaration_at_all",
        chinese.encode("big5"),
        "fault:Client",
        "Big5 bytes declared nowhere: read as UTF-8 they are invalid, so a fault (not a "
        "mangled account).",
        content_type="text/xml",
    )
    case(
        "big5_backslash_and_cp950",
        envelope(
            verify(account="許功蓋碁銹恒"), decl='<?xml version="1.0" encoding="big5"?>'
        ).encode("cp950"),
        "code:0",
        "Declared big5, written by Windows (cp950): 許功蓋 have 0x5C as second byte and 碁銹恒 "
        "are cp950-only. The account must be decoded exactly: 0.",
        content_type="text/xml",
        account="許功蓋碁銹恒",
    )
    case(
        "big5_declared_uppercase",
        envelope(verify(account="測試帳號"), decl='<?xml version="1.0" encoding="BIG5"?>').encode(
            "big5"
        ),
        "code:0",
        "Encoding name in capitals (BIG5).",
        content_type="text/xml",
        account="測試帳號",
    )

    decl16 = '<?xml version="1.0" encoding="utf-16"?>'
    case(
        "utf16le_bom_declared",
        b"\xff\xfe" + envelope(verify(account="測試帳號"), decl=decl16).encode("utf-16-le"),
        "code:0",
        "UTF-16LE with BOM, declared utf-16 (.NET's Encoding.Unicode): 0.",
        content_type="text/xml; charset=utf-16",
        account="測試帳號",
    )
    case(
        "utf16be_bom_declared",
        b"\xfe\xff" + envelope(verify(account="測試帳號"), decl=decl16).encode("utf-16-be"),
        "code:0",
        "UTF-16BE with BOM, declared in the XML declaration only: 0.",
        content_type="text/xml",
        account="測試帳號",
    )
    case(
        "utf16le_bom_declared_12",
        b"\xff\xfe"
        + envelope(verify(account="測試帳號"), ns=SOAP12, decl=decl16).encode("utf-16-le"),
        "code:0",
        "UTF-16LE with BOM in SOAP 1.2: 0.",
        soap="1.2",
        content_type="application/soap+xml; charset=utf-16",
        account="測試帳號",
    )
    case(
        "utf16le_no_bom_declared",
        envelope(
            verify(account="測試帳號"), decl='<?xml version="1.0" encoding="utf-16le"?>'
        ).encode("utf-16-le"),
        "code:0",
        "UTF-16LE without a BOM, declared utf-16le: 0.",
        content_type="text/xml",
        account="測試帳號",
    )
    case(
        "utf16_bom_with_utf8_content_type",
        b"\xff\xfe" + envelope(verify(account="測試帳號"), decl=decl16).encode("utf-16-le"),
        "code:0",
        "UTF-16LE with BOM but Content-Type charset=utf-8 (a stale default header): "
        "the BOM wins (RFC 7303): 0.",
        account="測試帳號",
    )
    case(
        "charref_chinese_account",
        envelope(verify(account="".join(f"&#{ord(c)};" for c in "測試帳號"))),
        "code:0",
        "The account as numeric character references: 0.",
        account="測試帳號",
    )
    case(
        "cdata_account",
        envelope(verify(account="<![CDATA[wederlin]]>")),
        "code:0",
        "The account in a CDATA section: 0.",
    )
    case(
        "invalid_utf8_bytes",
        envelope(verify(account="w\xe9derlin")).encode("latin-1"),
        "fault:Client",
        "Declared UTF-8, but a Latin-1 byte (0xE9) in the account.",
    )
    case(
        "unknown_declared_encoding",
        envelope(decl='<?xml version="1.0" encoding="x-no-such-encoding"?>'),
        "fault:Client",
        "An XML declaration naming no known encoding.",
        content_type="text/xml",
    )

    # -- NUL and control characters ------------------------------------------------------------
    both(
        "ctrl_nul_in_account",
        lambda s: envelope(verify(account="weder\x00lin"), ns=ns_of(s)),
        "fault:Client",
        "A raw NUL byte inside the account.",
    )
    case(
        "ctrl_nul_charref",
        envelope(verify(account="weder&#0;lin")),
        "fault:Client",
        "&#0; (NUL is not an XML character).",
    )
    case(
        "ctrl_raw_control_chars",
        envelope(verify(account="weder\x01\x07\x1blin")),
        "fault:Client",
        "Raw C0 control characters (SOH, BEL, ESC) in the account.",
    )
    case(
        "ctrl_escape_charref",
        envelope(verify(account="&#x1B;[31mwederlin")),
        "fault:Client",
        "An ANSI escape sequence as &#x1B; (not an XML 1.0 character).",
    )
    case(
        "ctrl_fffe_charref",
        envelope(verify(account="weder&#xFFFE;lin")),
        "fault:Client",
        "&#xFFFE; (a non-character, not allowed in XML).",
    )
    case(
        "ctrl_surrogate_charref",
        envelope(verify(account="weder&#xD800;lin")),
        "fault:Client",
        "A lone surrogate as a character reference.",
    )
    case(
        "ctrl_nul_in_utf16",
        b"\xff\xfe" + envelope(verify(account="weder\x00lin"), decl=decl16).encode("utf-16-le"),
        "fault:Client",
        "A NUL character in a UTF-16 body.",
        content_type="text/xml",
    )
    case(
        "ctrl_nul_after_envelope",
        envelope().encode() + b"\x00",
        "fault:Client",
        "A NUL byte after the envelope (C-string terminator).",
    )
    case(
        "ctrl_c1_control_in_account",
        envelope(verify(account="weder\u0085lin")),
        "code:3001",
        "U+0085 (NEL) is a legal XML character: an unknown account, 3001.",
    )
    case(
        "ctrl_tab_newline_in_code",
        envelope(verify(code="\t{code}\n")),
        "code:9999",
        "Tab and newline around a valid code: not exactly six ASCII digits, so 9999.",
    )
    case(
        "ctrl_bidi_override_account",
        envelope(verify(account="\u202ewederlin")),
        "code:3001",
        "A right-to-left override before the account name: another account, 3001.",
    )

    # -- very long strings ---------------------------------------------------------------------
    room = LIMIT - len(envelope(verify(account="", code="")).encode()) - 200
    case(
        "long_account_ascii",
        envelope(verify(account="w" * room)),
        "code:3001",
        f"A {room}-character account (just under the size limit): 3001.",
    )
    case(
        "long_account_chinese",
        envelope(verify(account="測" * (room // 3))),
        "code:3001",
        f"A {room // 3}-character Chinese account ({room} bytes of UTF-8): 3001.",
    )
    case(
        "long_code",
        envelope(verify(code="1" * room)),
        "code:9999",
        f"A {room}-digit TOTPCode: 9999.",
    )
    case(
        "long_code_with_valid_prefix",
        envelope(verify(code="{code}" + "0" * (room - 6))),
        "code:9999",
        "A valid code followed by thousands of digits: 9999, not 0.",
    )
    case(
        "long_service_id",
        envelope(head=header(service_id="APP" + "1" * room)),
        "code:1",
        f"A {room}-character ServiceID: malformed, 1.",
    )
    case(
        "long_unknown_header_block",
        envelope(
            head=header().replace(
                "</soap:Header>", '<x:pad xmlns:x="urn:x">' + "x" * room + "</x:pad></soap:Header>"
            )
        ),
        "code:0",
        "A large unknown header block beside the ServiceHeader is ignored: 0.",
    )

    # -- injection-shaped values ---------------------------------------------------------------
    injections = {
        "sql_or_true": "' OR '1'='1",
        "sql_comment": "wederlin'--",
        "sql_comment_hash": "wederlin'#",
        "sql_drop_table": "wederlin'; DROP TABLE tokens; --",
        "sql_union": "x' UNION SELECT secret FROM tokens --",
        "sql_double_quote": '" OR ""="',
        "sql_like_percent": "%",
        "sql_like_underscore": "wederli_",
        "sql_backslash": "wederlin\\' OR 1=1 -- ",
        "sql_stacked_sleep": "wederlin'; SELECT pg_sleep(5); --",
        "xpath_or_true": "' or 1=1 or ''='",
        "xpath_union": "wederlin'] | //* | //*['",
        "xpath_wildcard": "*",
        "ldap_wildcard": "wederlin*)(|(uid=*)",
    }
    for name, value in injections.items():
        escaped = value.replace("&", "&amp;").replace("<", "&lt;")
        case(
            f"inject_account_{name}",
            envelope(verify(account=escaped)),
            "code:3001",
            f"account {value!r} with a valid code of wederlin's: an unknown account, 3001 "
            "(never 0, never 3000).",
        )
    case(
        "inject_code_sql",
        envelope(verify(code="' OR '1'='1")),
        "code:9999",
        "TOTPCode shaped like SQL injection: 9999.",
    )
    case(
        "inject_service_id_sql",
        envelope(head=header(service_id="APP0001931' OR '1'='1")),
        "code:1",
        "ServiceID shaped like SQL injection: malformed, 1.",
    )
    case(
        "inject_service_id_like",
        envelope(head=header(service_id="APP000193%")),
        "code:1",
        "ServiceID with a LIKE wildcard: malformed, 1.",
    )

    manifest = {
        "about": "Bad-input corpus; see generate.py for the fields.",
        "accounts": ACCOUNTS,
        "cases": CASES,
    }
    (HERE / "cases.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    generate()
    print(f"{len(CASES)} cases written to {HERE}")
