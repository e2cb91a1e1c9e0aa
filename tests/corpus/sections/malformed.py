"""Malformed, cut and otherwise not-XML bodies, after the valid call they vary."""

from sections.build import DECL, TNS, both, envelope, ns_of, verify


def add() -> None:
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
