"""DTDs, external entities, expansion bombs, deep nesting and the size limit."""

from sections.build import (
    LIMIT,
    SERVICE_ID,
    TNS,
    both,
    case,
    client,
    envelope,
    ns_of,
    passwd_xxe,
    verify,
)


def add() -> None:
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
