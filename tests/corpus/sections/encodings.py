"""Byte order marks, line ends, Big5/cp950, UTF-16, NUL and control characters."""

from sections.build import SOAP12, both, case, envelope, ns_of, verify


def add() -> None:
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
