"""The envelope's namespace and SOAP version, Content-Types, unknown operations and duplicated
elements."""

from sections.build import SOAP11, SOAP12, TNS, both, case, envelope, header, ns_of, verify


def add() -> None:
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
