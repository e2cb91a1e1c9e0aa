#!/bin/sh
# VerifyTOTPCode over SOAP 1.1 with curl, no SOAP library:
#   clients/curl/verify_soap11.sh URL SERVICE_ID ACCOUNT CODE
# Prints Code and Message. Exit status: 0 for Code 0, 1 for another return code, 2 on failure.
set -eu
. "$(dirname "$0")/common.sh"

post --header 'Content-Type: text/xml; charset=utf-8' \
     --header 'SOAPAction: "http://cp.gov.tw/gsp2/VerifyTOTPCode"' <<ENVELOPE
<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <ServiceHeader xmlns="http://cp.gov.tw/gsp2">
      <ServiceID>$SERVICE_ID</ServiceID>
    </ServiceHeader>
  </soap:Header>
  <soap:Body>
    <VerifyTOTPCode xmlns="http://cp.gov.tw/gsp2">
      <account>$ACCOUNT</account>
      <TOTPCode>$CODE</TOTPCode>
    </VerifyTOTPCode>
  </soap:Body>
</soap:Envelope>
ENVELOPE
print_result
