# Shared by verify_soap11.sh, verify_soap12.sh and send_otp_soap12.sh (sourced): arguments, XML
# escaping, the answer. CODE is left out by send_otp_soap12.sh.

usage() {
    echo "usage: $0 URL SERVICE_ID ACCOUNT CODE" >&2
    echo "  e.g. $0 http://127.0.0.1:8000/gsp2ws/TOTP.asmx APP0000001 demo 123456" >&2
    exit 2
}

# The text of $1 with the five XML special characters escaped, for use inside an element.
xml_escape() {
    printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
                           -e 's/"/\&quot;/g' -e "s/'/\&apos;/g"
}

[ "$#" -eq 4 ] || { [ "$#" -eq 3 ] && [ "${SENDS_CODE:-}" ]; } || usage
URL=$1
SERVICE_ID=$(xml_escape "$2")
ACCOUNT=$(xml_escape "$3")
CODE=$(xml_escape "${4:-}")
ANSWER=$(mktemp)
trap 'rm -f "$ANSWER"' EXIT

# POST the envelope on stdin with the Content-Type (and SOAPAction) given as curl arguments;
# the answer goes to $ANSWER.
post() {
    if ! STATUS=$(curl --silent --show-error --output "$ANSWER" --write-out '%{http_code}' \
                       --data-binary @- "$@" "$URL"); then
        echo "call failed: curl could not reach $URL" >&2
        exit 2
    fi
}

# Print Code and Message as a caller reading the answer with indexOf("<Code>") would find them:
# gspws answers in ASP.NET's shape, on one line and with no prefix below the response element.
# Exit 0 for Code 0, 1 for any other return code, 2 when there is no return code (a SOAP Fault).
print_result() {
    code=$(sed -n 's:.*<Code>\([^<]*\)</Code>.*:\1:p' "$ANSWER")
    message=$(sed -n 's:.*<Message>\([^<]*\)</Message>.*:\1:p' "$ANSWER")
    if [ -z "$code" ]; then
        echo "call failed: HTTP $STATUS without a return code:" >&2
        cat "$ANSWER" >&2
        echo >&2
        exit 2
    fi
    echo "Code: $code"
    echo "Message: $message"
    [ "$code" = 0 ]
}
