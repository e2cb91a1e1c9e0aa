"""Very long strings and values shaped like SQL, XPath or LDAP injection."""

from sections.build import LIMIT, case, envelope, header, verify


def add() -> None:
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
