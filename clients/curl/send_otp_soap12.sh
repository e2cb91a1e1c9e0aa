#!/bin/sh
# MobileOTP.asmx SendOTPCode over SOAP 1.2 with curl, as GSP's public callers send it:
#   clients/curl/send_otp_soap12.sh URL SERVICE_ID ACCOUNT
#   e.g. clients/curl/send_otp_soap12.sh http://127.0.0.1:8000/gsp2ws/MobileOTP.asmx APP0001931 demo
# Prints Code and Message; with Code 0, Message is the code just sent (read by substring, as
# s.substring(s.indexOf("<Message>")+9, s.indexOf("</Message>")) does). Exit status: 0 for
# Code 0, 1 for another return code, 2 on failure.
set -eu
SENDS_CODE=1
. "$(dirname "$0")/common.sh"

post --header 'Content-Type: application/soap+xml; charset=utf-8' <<ENVELOPE
<?xml version="1.0" encoding="utf-8"?>
<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">
  <soap12:Header>
    <ServiceHeader xmlns="http://cp.gov.tw/gsp2">
      <ServiceID>$SERVICE_ID</ServiceID>
    </ServiceHeader>
  </soap12:Header>
  <soap12:Body><SendOTPCode xmlns="http://cp.gov.tw/gsp2"><account>$ACCOUNT</account></SendOTPCode></soap12:Body>
</soap12:Envelope>
ENVELOPE
print_result
