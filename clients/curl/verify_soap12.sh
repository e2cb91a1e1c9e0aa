#!/bin/sh
# VerifyTOTPCode over SOAP 1.2 with curl, no SOAP library:
#   clients/curl/verify_soap12.sh URL SERVICE_ID ACCOUNT CODE
# Prints Code and Message. Exit status: 0 for Code 0, 1 for another return code, 2 on failure.
# SOAP 1.2 has no SOAPAction header; the action may ride on the Content-Type instead.
set -eu
. "$(dirname "$0")/common.sh"

post --header 'Content-Type: application/soap+xml; charset=utf-8; action="http://cp.gov.tw/gsp2/VerifyTOTPCode"' <<ENVELOPE
<?xml version="1.0" encoding="utf-8"?>
<soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">
  <soap12:Header>
    <ServiceHeader xmlns="http://cp.gov.tw/gsp2">
      <ServiceID>$SERVICE_ID</ServiceID>
    </ServiceHeader>
  </soap12:Header>
  <soap12:Body>
    <VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">
      <account>$ACCOUNT</account>
      <TOTPCode>$CODE</TOTPCode>
    </VerifyTOTPCode>
  </soap12:Body>
</soap12:Envelope>
ENVELOPE
print_result
